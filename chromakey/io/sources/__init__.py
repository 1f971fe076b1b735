"""Foreground sources: a file or pipe (``file``), a network stream that re-opens itself
(``network``, opened as ``streams`` says), real-time pacing for files (``pacing``), and what they share (``base``,
``decode``)."""

from .base import Item, Source, SourceInfo
from .file import VideoSource, open_container
from .network import ReconnectingSource
from .opening import open_source
from .pacing import FrameGate, Pacer
from .streams import NetworkStatus, stream_options

__all__ = [
    "FrameGate",
    "Item",
    "NetworkStatus",
    "Pacer",
    "ReconnectingSource",
    "Source",
    "SourceInfo",
    "VideoSource",
    "open_container",
    "open_source",
    "stream_options",
]
