"""What a keyer composites over, as types: nothing (``Clear``), one colour (``Solid``) or a
picture of exactly the output size (``Picture``). Backgrounds make them and keyers ``match``
on them, so that no one tells a colour from an image by an array's shape. They live here, in
``core``, because both the backgrounds and the keyers take them and neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import ParameterError


@dataclass(frozen=True, eq=False)
class Clear:
    """No background: the output keeps the subject's alpha (straight RGBA)."""


@dataclass(frozen=True, eq=False)
class Solid:
    """One opaque colour: (3,) float32 RGB in 0–1 (any three numbers are taken as such)."""

    rgb: np.ndarray

    def __post_init__(self) -> None:
        rgb = np.asarray(self.rgb, np.float32)
        if rgb.shape != (3,) or not np.all(np.isfinite(rgb)):
            raise ParameterError(
                f"a Solid background is 3 numbers in 0–1 (R, G, B), got {np.shape(self.rgb)}"
            )
        object.__setattr__(self, "rgb", rgb)


@dataclass(frozen=True, eq=False)
class Picture:
    """H×W×3 (opaque) or H×W×4 (straight alpha) uint8 of exactly the output size. Usually
    read-only and shared between frames: a keyer may take the same read-only array as the
    same picture (the GPU keyer then skips its upload)."""

    pixels: np.ndarray

    def __post_init__(self) -> None:
        px = self.pixels
        if not isinstance(px, np.ndarray) or px.dtype != np.uint8 or px.ndim != 3:
            raise ParameterError(
                "a Picture background is an H×W×3 or H×W×4 uint8 array, got "
                f"{getattr(px, 'dtype', type(px).__name__)} of shape {np.shape(px)}"
            )
        if px.shape[2] not in (3, 4):
            raise ParameterError(
                f"a Picture background has 3 (RGB) or 4 (RGBA) channels, got {px.shape[2]}"
            )

    @property
    def has_alpha(self) -> bool:
        return bool(self.pixels.shape[2] == 4)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.pixels.shape[1], self.pixels.shape[0]


Layer = Clear | Solid | Picture
CLEAR = Clear()


def check_layer(layer: Layer, width: int, height: int) -> None:
    """What a keyer checks first: a Layer (an array or None from older code is refused with
    what to pass instead), and a Picture exactly the frame's size (read pixel for pixel)."""
    if not isinstance(layer, Clear | Solid | Picture):
        raise ParameterError(
            f"the background must be a chromakey.core.layers Layer (CLEAR, Solid(rgb) or "
            f"Picture(pixels)), got {type(layer).__name__}"
        )
    if isinstance(layer, Picture) and layer.size != (width, height):
        w, h = layer.size
        raise ParameterError(
            f"the background picture is {w}×{h}, not the frame's size {width}×{height}; "
            "fit it to the output first (chromakey.backgrounds does)"
        )


def out_channels(layer: Layer) -> int:
    """The composite's channels over ``layer``: RGBA where alpha is left (nothing under the
    subject, or a picture with its own alpha), else opaque RGB."""
    match layer:
        case Clear():
            return 4
        case Solid():
            return 3
        case Picture():
            return 4 if layer.has_alpha else 3
