"""Where composited frames go: video files and raw streams (``video``, in the ``formats``
table), PNG (``png``), a Python callback (``callback``); every file under a partial name
until complete (``partial``)."""

from .base import Sink
from .callback import CallbackSink
from .formats import RAW_FORMATS, VIDEO_FORMATS, VideoFormat, video_format
from .opening import open_sink, output_kind, same_file
from .packed import PackedAlphaSink, pack_alpha, unpack_alpha
from .partial import create_partial, publish
from .png import PngSequenceSink, write_png
from .video import VideoFileSink

__all__ = [
    "RAW_FORMATS",
    "VIDEO_FORMATS",
    "CallbackSink",
    "PackedAlphaSink",
    "PngSequenceSink",
    "Sink",
    "VideoFileSink",
    "VideoFormat",
    "create_partial",
    "open_sink",
    "pack_alpha",
    "unpack_alpha",
    "output_kind",
    "publish",
    "same_file",
    "video_format",
    "write_png",
]
