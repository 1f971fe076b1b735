"""The CPU path's keying thread: one frame at a time keyed off the render loop's thread, its
result held until the loop shows it, and the keying time measured (how far ahead to start)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import numpy as np

from ..core.frames import Frame


class Job(NamedTuple):
    """A frame handed to the keying thread (or keyed there already)."""

    frame: Frame
    dequeued: float  # when it left the source's queue
    show_at: float  # clock time at which it is due
    new: bool  # a new frame (counted as shown), not a re-keying of the one on show
    future: Future[tuple[np.ndarray, float]]


class KeyingThread:
    """``key(frame, scene)`` on a thread of its own, one job at a time (``job``); ``on_keyed``
    is called on that thread when a result is ready. ``key_s`` smooths the keying seconds."""

    def __init__(
        self,
        key: Callable[[Frame, float], np.ndarray],
        on_keyed: Callable[[], Any] | None = None,
    ) -> None:
        self._key = key
        self.on_keyed = on_keyed
        self._worker: ThreadPoolExecutor | None = None
        self.job: Job | None = None  # on the keying thread, or keyed and held until due
        self.key_s: float | None = None  # keying time, smoothed

    def _timed_key(self, frame: Frame, scene: float) -> tuple[np.ndarray, float]:
        t0 = time.perf_counter()
        rgba = self._key(frame, scene)
        return rgba, time.perf_counter() - t0

    def submit(
        self, frame: Frame, scene: float, dequeued: float, show_at: float, new: bool
    ) -> None:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="chromakey-live")
        future = self._worker.submit(self._timed_key, frame, scene)
        on_keyed = self.on_keyed
        if on_keyed is not None:
            # Once the future is done, so that the loop it wakes finds the frame ready.
            future.add_done_callback(lambda _: on_keyed())
        self.job = Job(frame, dequeued, show_at, new, future)

    def take(self, now: float) -> tuple[Job, np.ndarray, float] | None:
        """The job, its RGBA and keying seconds, once keyed and due by ``now`` (re-raises the
        keyer's error); None until then."""
        job = self.job
        if job is None or not job.future.done() or job.show_at > now:
            return None
        self.job = None
        rgba, seconds = job.future.result()
        self.key_s = seconds if self.key_s is None else 0.8 * self.key_s + 0.2 * seconds
        return job, rgba, seconds

    def lead(self, interval: float | None) -> float:
        """How long before a frame is due its keying starts: the keying time measured so far,
        at most one frame (``interval``, the last between timestamps)."""
        if self.key_s is None or interval is None:
            return 0.0
        return min(self.key_s, interval)

    def drain(self) -> Job | None:
        """Wait for the job in hand and drop it (its error too: it will not be shown)."""
        job, self.job = self.job, None
        if job is None:
            return None
        try:
            job.future.result()
        except Exception:  # noqa: BLE001 - a frame that will not be shown: its error neither
            pass
        return job

    def close(self) -> None:
        self.drain()
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
