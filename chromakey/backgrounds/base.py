"""What the subject is composited over, as types: a background gives a ``Layer`` for each
output time, and a layer is one of three small types — nothing (``Clear``), one colour
(``Solid``) or a picture of exactly the output size (``Picture``) — so that whoever
composites dispatches on the type, never on an array's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..color import format_color


@dataclass(frozen=True, eq=False)
class Clear:
    """No background: the output keeps the subject's alpha."""


@dataclass(frozen=True, eq=False)
class Solid:
    """One colour, (3,) float32 RGB in 0–1."""

    rgb: np.ndarray


@dataclass(frozen=True, eq=False)
class Picture:
    """H×W×3 (opaque) or H×W×4 (straight alpha) uint8 of exactly the output size; read-only
    and possibly shared between frames."""

    pixels: np.ndarray

    @property
    def has_alpha(self) -> bool:
        return self.pixels.shape[2] == 4


Layer = Clear | Solid | Picture
CLEAR = Clear()


def keyer_input(layer: Layer) -> np.ndarray | None:
    """The layer as the keyers take a background today (None, a colour or an image)."""
    if isinstance(layer, Clear):
        return None
    if isinstance(layer, Solid):
        return layer.rgb
    return layer.pixels


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
