"""Picture sizes as users write them: ``720p``-style names or ``WIDTHxHEIGHT``; one parser for
the CLI and the benchmarks."""

from __future__ import annotations

import re

from .errors import ParameterError
from .quote import quoted

SIZES = {
    "360p": (640, 360),
    "540p": (960, 540),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "2160p": (3840, 2160),
    "4k": (3840, 2160),  # what size_name never answers: 2160p comes first
}


def parse_size(text: str, *, option: str = "size") -> tuple[int, int]:
    """``720p``-style names or ``WIDTHxHEIGHT`` (positive); ParameterError (a ValueError)
    naming ``option`` otherwise."""
    t = text.strip().lower()
    if t in SIZES:
        return SIZES[t]
    m = re.fullmatch(r"(\d+)x(\d+)", t)
    if not m:
        raise ParameterError(
            f"{option} {quoted(text)}: use WIDTHxHEIGHT, like 1280x720, or one of {', '.join(SIZES)}"
        )
    w, h = int(m[1]), int(m[2])
    if w < 1 or h < 1:
        raise ParameterError(f"{option} {quoted(text)}: give a positive width and height")
    return w, h


def size_name(w: int, h: int) -> str:
    """The name of a size when it has one (``720p``), else ``WxH``."""
    for name, wh in SIZES.items():
        if wh == (w, h):
            return name
    return f"{w}x{h}"
