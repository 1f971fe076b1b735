"""Which source a live view gets for a location: a reconnecting stream for a URL, a file
paced to real time otherwise."""

from __future__ import annotations

import os
from typing import Any

from ...core.errors import ParameterError
from ..locations import is_network
from .base import Source
from .file import VideoSource
from .network import ReconnectingSource
from .pacing import Pacer


def open_source(
    location: str | os.PathLike[str],
    *,
    queue_size: int = 8,
    drop: bool = True,
    **network: Any,
) -> Source:
    """A source for live display, in drop mode unless ``drop=False``.

    A network URL → :class:`ReconnectingSource`; a WebRTC location (whip://, whep(s)://,
    livekit+ws(s)://) → :func:`chromakey.io.sources.webrtc.open_webrtc` (``network`` then holds its
    options: tokens, ICE servers, ``stall_timeout``); a local file → a VideoSource without
    audio, paced to real time by a :class:`Pacer`, so that it plays as a live stream would
    arrive. (With ``drop=False`` a file is not paced: its decoder waits on the bounded queue
    and the consumer paces it.)
    """
    text = os.fspath(location)
    from .webrtc.urls import is_webrtc

    if is_webrtc(text):  # whip:// whep(s):// livekit+ws(s)://: chromakey.io.sources.webrtc
        from .webrtc import open_webrtc

        return open_webrtc(text, once=False, queue_size=queue_size, audio=False, **network)
    if is_network(text):
        return ReconnectingSource(text, queue_size=queue_size, drop=drop, **network)
    if network:
        raise ParameterError(
            f"{', '.join(sorted(network))}: network options do not apply to the file {text}"
        )
    gate = Pacer() if drop else None
    return VideoSource(text, queue_size=queue_size, drop=drop, audio=False, gate=gate)
