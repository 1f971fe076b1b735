"""A sink's writing on a thread of its own, so that writing or encoding frame N overlaps
keying frame N+1.

At most ``depth`` frames wait (bounded memory; a slow reader or disk holds the keyer back
rather than piling frames up). Each image handed over belongs to the writer until it is
written: the keyers return a new image every frame (glibc keeps the freed ones for reuse,
``core.memory``), so none is overwritten while it waits. Audio packets and frames are
written in the order they came. An error on the writer thread (a broken pipe, a full disk)
is raised, as the same exception, by the next call on the render thread, so the command
line reports it as before: one line and the same exit status. ``close`` and ``abort`` run
on the render thread once the writer has stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

import numpy as np

from ...core import signals
from ...core.frames import YuvImage
from .base import Sink

log = logging.getLogger(__name__)

DEPTH = 2  # frames waiting for the writer: one being written, one queued
ABORT_WAIT = 10.0  # seconds abort waits for a write in progress (a stalled pipe never ends)

_STOP = object()


class ThreadedSink(Sink):
    """``inner``'s ``write`` and ``write_audio`` on a writer thread; ``busy`` sums the
    writer's seconds (its share of the run, beside the render thread's)."""

    def __init__(self, inner: Sink, *, depth: int = DEPTH) -> None:
        self.inner = inner
        self.pixel_format = inner.pixel_format
        self.busy = 0.0
        self._items: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._slots = threading.Semaphore(max(1, depth))
        self._error: BaseException | None = None
        self._discard = False
        self._thread = threading.Thread(target=self._run, name="chromakey-writer", daemon=True)
        self._thread.start()

    # --- the render thread -------------------------------------------------------------------

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        self._raise_error()
        # A free slot: the writer took an earlier frame (a stalled reader may never take one).
        while not self._slots.acquire(timeout=signals.POLL):
            signals.checkpoint()
        self._raise_error()
        self._items.put(("frame", image, time))

    def write_audio(self, packet: Any) -> None:
        self._raise_error()
        self._items.put(("audio", packet, None))

    def close(self) -> None:
        """Write what waits, then finish the output (its errors raised here)."""
        self._stop()
        self._thread.join()
        try:
            self._raise_error()
        except BaseException:
            self.inner.abort()
            raise
        self.inner.close()

    def abort(self) -> None:
        """Drop what waits, stop the writer, leave nothing behind."""
        self._discard = True
        self._stop()
        self._thread.join(ABORT_WAIT)
        if self._thread.is_alive():  # a write that never returns (a reader that stopped reading)
            log.warning("the writer is stuck in a write; its output is left as it is")
            return
        self.inner.abort()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._items.put(_STOP)

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    # --- the writer thread -------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._items.get()
            if item is _STOP:
                return
            kind, payload, at = item
            try:
                if self._error is None and not self._discard:
                    t0 = time.perf_counter()
                    if kind == "frame":
                        self.inner.write(payload, at)
                    else:
                        self.inner.write_audio(payload)
                    self.busy += time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001 - handed to the render thread as it is
                self._error = exc
            finally:
                if kind == "frame":
                    self._slots.release()
