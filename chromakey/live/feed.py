"""The hand-over for a host that decodes by itself: frames fed from any thread, taken by the
render loop."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

from ..core.frames import Frame
from ..core.queues import bounded_put


class FrameFeed:
    """A bounded, thread-safe hand-over for a host that decodes by itself (``feed``).

    Has the ``get(timeout)``/``dropped`` side of a VideoSource; when full, the oldest frame
    is dropped and counted.
    """

    def __init__(self, size: int = 4) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, size))
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        if frame.decoded_at is None:
            frame.decoded_at = time.perf_counter()
        with self._lock:
            self.dropped += bounded_put(self._queue, ("video", frame), drop=True, wait=0)[1]

    def end(self) -> None:
        with self._lock:
            try:
                self._queue.put_nowait(("end", None))
            except queue.Full:
                self._queue.get_nowait()
                self._queue.put_nowait(("end", None))

    def get(self, timeout: float | None = None) -> tuple[str, Any] | None:
        try:
            return self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    @property
    def queued(self) -> int:
        """Frames waiting to be taken."""
        return self._queue.qsize()

    def close(self) -> None:
        pass
