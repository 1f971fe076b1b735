"""What the subject is composited over: a background gives a ``Layer`` for each output time,
one of the three types of ``core.layers`` — nothing (``Clear``), one colour (``Solid``) or a
picture of exactly the output size (``Picture``) — on which the keyers ``match``.
"""

from __future__ import annotations

import numpy as np

from ..core.color import format_color
from ..core.layers import CLEAR, Clear, Layer, Picture, Solid

__all__ = [
    "CLEAR",
    "Background",
    "Clear",
    "ColorBackground",
    "Layer",
    "Picture",
    "Solid",
    "TransparentBackground",
]


class Background:
    """A layer under the subject; ``frame_at`` gives it for one output time.

    ``frame_at(time, width, height)`` returns a :data:`Layer` (a Picture is exactly
    ``width``×``height``). ``time`` is the output time in seconds (0 = the first foreground
    frame).
    """

    transparent = False
    play_style: str | None = None  # a video's HeyGen play style; None for stills

    def frame_at(self, time: float, width: int, height: int) -> Layer:
        raise NotImplementedError

    @property
    def duration(self) -> float | None:
        """Seconds of material: None for still layers, the video's duration for videos."""
        return None

    def bind(self, scene_duration: float | None) -> None:
        """Told the foreground's duration (None when unknown) before the first frame."""

    def close(self) -> None:
        pass

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ColorBackground(Background):
    def __init__(self, rgb: tuple[float, float, float]) -> None:
        self.rgb = np.asarray(rgb, np.float32)
        self._layer = Solid(self.rgb)

    def frame_at(self, time: float, width: int, height: int) -> Solid:
        return self._layer

    def __repr__(self) -> str:
        return f"ColorBackground({format_color(tuple(self.rgb))!r})"


class TransparentBackground(Background):
    transparent = True

    def frame_at(self, time: float, width: int, height: int) -> Clear:
        return CLEAR

    def __repr__(self) -> str:
        return "TransparentBackground()"
