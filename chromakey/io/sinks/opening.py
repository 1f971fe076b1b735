"""Which sink an output name asks for: a %d pattern is a PNG sequence, anything else a video
file (or standard output) in the format its extension or ``--format`` names."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...core.errors import ParameterError
from ...core.quote import shown
from ..safety import same_file
from ..sources.base import SourceInfo
from ..sources.webrtc.urls import is_room, is_webrtc_output, parse_location, parse_output
from .base import Sink
from .formats import video_format
from .packed import PackedAlphaSink
from .partial import Warn
from .png import PngSequenceSink
from .srt import SrtSink, check_srt
from .stream import StreamSink, is_push
from .video import VideoFileSink

__all__ = ["open_sink", "output_kind", "same_file"]


def output_kind(output: str | os.PathLike[str], output_format: str | None = None) -> str:
    """``png`` for a %d pattern, ``video`` for a known video extension, standard output or a
    name given a ``--format``."""
    text = os.fspath(output)
    if is_push(text):
        if text.lower().startswith("srt://"):
            check_srt(text)
        return "stream"
    if is_webrtc_output(text):
        parse_output(text)  # raises on a malformed location
        return "whep"
    if is_room(text):
        parse_location(text)
        return "livekit"
    if "%" in text:
        if output_format is not None:
            raise ParameterError(
                f"{shown(text)}: a numbered pattern is a PNG sequence; --format {output_format} "
                "takes one file name or -"
            )
        if not text.lower().endswith(".png"):
            raise ParameterError(
                f"{shown(text)}: a numbered sequence must be PNG, like out/%05d.png"
            )
        return "png"
    video_format(Path(text), False, output_format)  # raises on an unknown type
    return "video"


def check_packing(
    output: str | os.PathLike[str], kind: str, transparent: bool, pack_alpha: bool
) -> None:
    """Packed alpha needs a transparent composite and a video output (before any input opens)."""
    if not pack_alpha:
        return
    if not transparent:
        raise ParameterError(
            "--pack-alpha packs a transparent composite; give -b transparent (or a "
            "background with transparent parts)"
        )
    if kind == "png":
        raise ParameterError(f"{output}: PNG keeps alpha as it is; --pack-alpha is for video")
    # (a stream or WHEP output packs a transparent composite by itself)


def open_sink(
    output: str | os.PathLike[str],
    info: SourceInfo,
    transparent: bool,
    output_format: str | None = None,
    *,
    audio_stream: Any = None,
    warn: Warn | None = None,
    pack_alpha: bool = False,
    live: dict[str, Any] | None = None,
) -> Sink:
    """The sink for ``output``, sized and timed as the source ``info`` says. With
    ``pack_alpha`` a transparent composite goes into an opaque video file packed (colour left,
    alpha right as grey: :mod:`chromakey.io.sinks.packed`). ``live``: a live output's
    options (:class:`chromakey.io.sinks.whep.WhepSink`: ``token``, ``max_viewers``,
    ``wait_first``; :class:`chromakey.io.sinks.livekit.LiveKitSink`: ``token``)."""
    kind = output_kind(output, output_format)
    check_packing(output, kind, transparent, pack_alpha)
    if kind == "png":
        return PngSequenceSink(output, alpha=transparent, warn=warn)
    if kind == "stream":
        # A stream carries no alpha: a transparent composite goes packed, twice as wide.
        width = 2 * info.width if transparent else info.width
        url = os.fspath(output)
        kind_of = SrtSink if url.lower().startswith("srt://") else StreamSink
        push = kind_of(url, width, info.height, rate=info.rate, audio_stream=audio_stream)
        return PackedAlphaSink(push) if transparent else push
    if kind == "whep":
        from .whep import WhepSink  # aiortc, only when used

        width = 2 * info.width if transparent else info.width
        served = WhepSink(
            os.fspath(output), width, info.height, audio_stream=audio_stream, **(live or {})
        )
        return PackedAlphaSink(served) if transparent else served
    if kind == "livekit":
        from .livekit import LiveKitSink  # the LiveKit SDK, only when used

        width = 2 * info.width if transparent else info.width
        room = LiveKitSink(
            os.fspath(output), width, info.height, audio_stream=audio_stream, **(live or {})
        )
        return PackedAlphaSink(room) if transparent else room
    if pack_alpha:
        inner = VideoFileSink(
            output,
            2 * info.width,
            info.height,
            rate=info.rate,
            time_base=info.time_base,
            audio_stream=audio_stream,
            output_format=output_format,
            warn=warn,
        )
        return PackedAlphaSink(inner)
    return VideoFileSink(
        output,
        info.width,
        info.height,
        alpha=transparent,
        rate=info.rate,
        time_base=info.time_base,
        audio_stream=audio_stream,
        output_format=output_format,
        warn=warn,
    )
