"""Real-time pacing of a file source: a gate its decode thread passes each frame through.

A file decodes far faster than it plays; in drop mode its decoder would race ahead and drop
nearly everything. A :class:`Pacer` given to ``VideoSource(gate=…)`` holds each frame in the
decode thread until shortly before it is due, so the file arrives as a live stream would.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

from ...core.frames import Frame


class FrameGate(Protocol):
    """Holds a decoded frame in the decode thread until it may go to the queue."""

    def hold(self, frame: Frame, stop: threading.Event) -> bool:
        """Wait until ``frame`` may be queued; False once ``stop`` is set."""
        ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def align(self, stream_time: float, wall: float) -> None: ...


class Pacer:
    """Keeps a decode thread to real time.

    Each frame is released ``lead`` seconds, at most one frame (its interval to the frame
    before), before it is due (by its timestamp, against the time the first frame was
    released), so a consumer that is slower than real time loses the oldest frames
    (``dropped``) instead of falling behind, and one that keeps up gets every frame; a
    decoder that lags (short of CPU) releases its late frames at once, so the file keeps
    strict real time. A jump in the timestamps (``jump`` seconds forwards, half a second
    back) re-anchors. ``pause()`` holds the next frames (a paused file keeps its place).
    """

    def __init__(self, lead: float = 0.1, jump: float = 3.0) -> None:
        self.lead = lead
        self.jump = jump
        self._anchor: tuple[float, float] | None = None  # (wall, stream time) of the origin
        self._running = threading.Event()
        self._running.set()
        self._paused_at: float | None = None
        self._last: float | None = None  # the last frame's time

    def pause(self) -> None:
        if self._paused_at is None:
            self._paused_at = time.perf_counter()
            self._running.clear()

    def resume(self) -> None:
        if self._paused_at is not None:
            if self._anchor is not None:
                held = time.perf_counter() - self._paused_at
                self._anchor = (self._anchor[0] + held, self._anchor[1])
            self._paused_at = None
            self._running.set()

    def align(self, stream_time: float, wall: float) -> None:
        """The consumer shows ``stream_time`` at ``wall`` (``time.perf_counter``): later frames
        are released by its clock. Without this, a consumer that starts late (a window and a
        first frame to set up) finds every frame waiting that much longer in the queue."""
        self._anchor = (wall, stream_time)

    def release_at(self, t: float, previous: float | None = None) -> float | None:
        """When a frame at stream time ``t`` (after one at ``previous``) is released: ``lead``
        seconds, at most the interval between them, before it is due; None before the
        first frame fixed the clock."""
        if self._anchor is None:
            return None
        wall, origin = self._anchor
        lead = self.lead
        if previous is not None and t > previous:
            lead = min(lead, t - previous)
        return wall + (t - origin) - lead

    def hold(self, frame: Frame, stop: threading.Event) -> bool:
        t = frame.time
        while not stop.is_set():
            if not self._running.is_set():
                self._running.wait(0.05)
                continue
            if self._anchor is None:
                self._anchor = (time.perf_counter(), t)
                break
            if self._last is not None and t < self._last - 0.5:
                self._anchor = None  # a jump back in the timestamps
                continue
            # At most one frame ahead: a frame handed over earlier only waits in the queue,
            # and that wait is latency (the consumer takes the frame when it is due).
            release = self.release_at(t, self._last)
            if release is None:  # aligned away meanwhile: cannot happen, but never spin
                continue
            ahead = release - time.perf_counter()
            if ahead <= 0:
                break  # due, or late (a decoder short of CPU): release it at once
            if ahead > self.jump:
                self._anchor = None  # a jump forwards in the timestamps
                continue
            stop.wait(min(ahead, 0.05))
        self._last = t
        return not stop.is_set()
