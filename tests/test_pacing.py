"""A file paced to real time releases its frames by the clock of the view that shows them:
the view anchors its clock when its first frame goes on show, and tells the source, so a
view that starts late (a window, a first frame to set up) does not leave every later frame
waiting that much longer in the queue."""

from __future__ import annotations

import threading
import time

import numpy as np

from chromakey.core.frames import Frame
from chromakey.io.sources import open_source
from chromakey.io.sources.pacing import Pacer
from chromakey.live.schedule import Schedule
from chromakey.live.stats import LiveStats

from media import write_clip

DEADLINE = 60.0  # s for the decode thread to queue a first frame (a loaded machine)


def _frame(t: float) -> Frame:
    f = Frame.from_rgb(np.zeros((4, 4, 3), np.uint8))
    f.time = t
    return f


def test_align_moves_the_release_of_later_frames_to_the_consumers_clock():
    pacer = Pacer(lead=0.1)
    assert pacer.release_at(0.5) is None  # no clock before a first frame
    assert pacer.hold(_frame(0.0), threading.Event())  # the first frame goes at once
    decoded = pacer.release_at(1.0, 1.0 - 1 / 30)
    assert decoded is not None
    pacer.align(0.0, decoded + 5.0)  # the view showed frame 0 five seconds later
    assert pacer.release_at(1.0, 1.0 - 1 / 30) == decoded + 5.0 + 1.0 - 1 / 30
    wall = 1000.0
    pacer.align(2.0, wall)
    assert pacer.release_at(3.0, 3.0 - 1 / 30) == wall + 1.0 - 1 / 30
    assert pacer.release_at(3.0, 2.5) == wall + 1.0 - 0.1  # the lead, when the gap is larger


def test_a_view_aligns_a_paced_file_when_its_first_frame_goes_on_show(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", frames=30, width=64, height=48)
    source = open_source(clip)  # a file for live display: paced by a Pacer
    schedule = Schedule(LiveStats(), resync_after=1.0, max_ahead=5.0)
    schedule.reset(source, True)
    try:
        deadline = time.monotonic() + DEADLINE
        picked = None
        while picked is None:
            assert time.monotonic() < deadline, "no frame from the source"
            before = time.perf_counter()
            picked = schedule.pick(before, None, None, False)
            after = time.perf_counter()
            time.sleep(0.01)
        frame = picked[0]
        gate = source.gate
        assert isinstance(gate, Pacer)
        # The source's clock is now the view's: the next frame is released one interval
        # before it is due, that is when the view showed this one (between the two readings).
        released = gate.release_at(frame.time + 1 / 30, frame.time)
        assert released is not None
        assert before <= released <= after
    finally:
        source.close()
