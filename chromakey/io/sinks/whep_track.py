"""A WHEP viewer's tracks: what aiortc's sender pulls frames from (imported with aiortc).

Each viewer has its own bounded queue, so that a slow viewer never holds a frame back from
the others or from the keyer: when its queue is full the oldest frame goes, and is counted.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

__all__ = ["FeedTrack"]


class FeedTrack(MediaStreamTrack):
    """Frames handed in by :meth:`offer` (on the loop's thread), handed out by ``recv``."""

    def __init__(self, kind: str, depth: int) -> None:
        super().__init__()
        self.kind = kind
        self.dropped = 0
        self.sent = 0
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, depth))

    def offer(self, frame: Any) -> None:
        """Queue ``frame``; the oldest goes when the queue is full (a slow viewer)."""
        if self.readyState != "live":
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(frame)

    def end(self) -> None:
        """No more frames: ``recv`` ends the track once the queue is drained."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            self.stop()
            raise MediaStreamError
        self.sent += 1
        return frame
