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
from .base import Sink
from .formats import video_format
from .partial import Warn
from .png import PngSequenceSink
from .video import VideoFileSink

__all__ = ["open_sink", "output_kind", "same_file"]


def output_kind(output: str | os.PathLike[str], output_format: str | None = None) -> str:
    """``png`` for a %d pattern, ``video`` for a known video extension, standard output or a
    name given a ``--format``."""
    text = os.fspath(output)
    if "%" in text:
        if output_format is not None:
            raise ParameterError(
                f"{shown(text)}: a numbered pattern is a PNG sequence; --format {output_format} "
                "takes one file name or -"
            )
        if not text.lower().endswith(".png"):
            raise ParameterError(f"{shown(text)}: a numbered sequence must be PNG, like out/%05d.png")
        return "png"
    video_format(Path(text), False, output_format)  # raises on an unknown type
    return "video"


def open_sink(
    output: str | os.PathLike[str],
    info: SourceInfo,
    transparent: bool,
    output_format: str | None = None,
    *,
    audio_stream: Any = None,
    warn: Warn | None = None,
) -> Sink:
    """The sink for ``output``, sized and timed as the source ``info`` says."""
    if output_kind(output, output_format) == "png":
        return PngSequenceSink(output, alpha=transparent, warn=warn)
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
