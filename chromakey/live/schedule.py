"""Which frame of a source is due at a clock time: the live view's clock.

The first frame fixes the mapping of stream time to the clock (``anchor``); after that a
frame is due at ``anchor + frame.time``, so a variable frame rate plays as timed. Of several
frames due together only the newest is taken (the others are dropped and counted); one
frame not yet due is held. A stall of a live source, a jump in the timestamps or a frame too
far ahead re-anchors the clock (``stats.resyncs``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..core.frames import Frame
from ..io.sources import Source
from .feed import FrameFeed
from .stats import LiveStats


class Schedule:
    """The held frame, the anchor and what the source said last, for one attached source."""

    def __init__(self, stats: LiveStats, resync_after: float, max_ahead: float) -> None:
        self.stats = stats
        self.resync_after = resync_after
        self.max_ahead = max_ahead
        self.reset(None, True)

    def reset(self, source: Source | FrameFeed | None, stall_resync: bool) -> None:
        """Start over with ``source`` (``stall_resync``: a stall re-anchors the clock)."""
        self.source = source
        self.stall_resync = stall_resync
        self.held: tuple[Frame, float] | None = None  # taken, not yet due: (frame, dequeued)
        self.anchor: float | None = None  # clock time of stream time 0
        self.empty_since: float | None = None  # clock time the source was first found empty
        self.interval: float | None = None  # the last interval between frames' timestamps
        self.last_taken: float | None = None  # stream time of the last frame taken
        self.ended = False  # the source said "end" (or failed)

    def restart(self) -> None:
        """After a pause: the next frame re-anchors the clock."""
        self.anchor = None
        self.empty_since = None

    def set_anchor(self, now: float, stream_time: float) -> float:
        """Stream time ``stream_time`` is due at ``now``. A paced file then releases its frames
        by this clock, not by the time its first frame was decoded (before the view and the
        keyer were ready): its frames would otherwise wait that much longer in the queue."""
        self.anchor = now - stream_time
        if isinstance(self.source, Source):
            self.source.align(stream_time, time.perf_counter())
        return self.anchor

    def take(self) -> tuple[Frame, float] | None:
        """The next video frame from the source without waiting, or None."""
        while self.source is not None and not self.ended:
            item = self.source.get(timeout=0)
            if item is None:
                return None
            kind, payload = item
            if kind == "video":
                if self.last_taken is not None and 0 < payload.time - self.last_taken < 1.0:
                    self.interval = payload.time - self.last_taken
                self.last_taken = payload.time
                return payload, time.perf_counter()
            if kind == "end":
                self.ended = True
            elif kind == "error":
                self.ended = True
                raise payload
        return None

    def pick(
        self,
        now: float,
        lead: Callable[[], float] | None,
        current: Frame | None,
        paused: bool,
    ) -> tuple[Frame, float] | None:
        """The newest frame due by now (with ``lead``: by now plus the lead, as measured for
        that frame), or None; ``current`` is the frame on show. Frames due with it are
        dropped and counted; the clock re-anchors after a stall or a jump in the timestamps."""
        chosen: tuple[Frame, float] | None = None
        while not paused:
            if self.held is None:
                self.held = self.take()
                if self.held is None:
                    if self.empty_since is None:
                        self.empty_since = now
                    break
                frame = self.held[0]
                if self.empty_since is not None:
                    # Asked and found nothing since then: the source stalled (a loop busy
                    # rendering does not ask, so a slow render is no stall). A frame late by
                    # more than the stall re-anchors the clock, before the frames queued
                    # behind it are judged: play on from here.
                    starved, self.empty_since = now - self.empty_since, None
                    if (
                        self.anchor is not None
                        and self.stall_resync
                        and starved > self.resync_after
                        and now - (self.anchor + frame.time) > self.resync_after
                    ):
                        self.anchor = now - frame.time
                        self.stats.resyncs += 1
            frame = self.held[0]
            last = chosen[0] if chosen is not None else current
            if last is not None and frame.time < last.time - self.resync_after:
                self.anchor = None  # a jump back in the timestamps (a loop, a restart)
                self.stats.resyncs += 1
            anchor = self.anchor if self.anchor is not None else self.set_anchor(now, frame.time)
            due = anchor + frame.time
            if due > now + (lead() if lead is not None else 0.0):
                if due - now <= self.max_ahead:
                    break  # not yet: hold it
                self.anchor = now - frame.time  # a jump forwards in the timestamps
                self.stats.resyncs += 1
            if chosen is not None:
                self.stats.dropped_late += 1
            chosen, self.held = self.held, None
        return chosen
