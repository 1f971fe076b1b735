"""aiortc plumbing shared by the WHIP endpoint and the WHEP client.

aiortc is asyncio; the keyer is not. Each WebRTC source runs one event loop on its own
thread (:class:`LoopThread`) and hands frames to the consumer through the bounded queue of
:class:`chromakey.io.sources.webrtc.track.LiveTrackSource`.

ICE servers are empty unless the user gives some: aiortc would otherwise ask Google's STUN
server (``RTCIceGatherer.getDefaultIceServers``), and nothing but the peers may be contacted.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from typing import Any

from ....core.errors import BackendUnavailableError

__all__ = ["LoopThread", "new_peer", "require_aiortc"]


def require_aiortc() -> None:
    """aiortc importable, or a one-line error saying how to install it."""
    try:
        import aiortc  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(
            f"WebRTC needs aiortc ({exc}); install it with: pip install 'chromakey[webrtc]'"
        ) from exc


class LoopThread:
    """An asyncio event loop on a daemon thread; coroutines are submitted from any thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()
        # Whatever is left (a pump blocked in recv) is cancelled before the loop closes.
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()

    def submit(self, coro: Coroutine[Any, Any, Any]) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        """Run ``coro`` on the loop and wait for its result (exceptions are re-raised here)."""
        return self.submit(coro).result(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)


def new_peer(ice_servers: Sequence[str] = ()) -> Any:
    """An RTCPeerConnection whose ICE servers are exactly ``ice_servers`` (none by default)."""
    from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection

    config = RTCConfiguration(iceServers=[RTCIceServer(urls=url) for url in ice_servers])
    return RTCPeerConnection(configuration=config)
