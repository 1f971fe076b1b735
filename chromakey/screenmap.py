"""The screen map: a screen colour per block of the frame, and the global colour.

Made by :mod:`chromakey.calibration`, read by both keyers (:func:`chromakey.cpu.screen_at`
and its GLSL twin), which is why it lives in a module of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F32 = np.float32


@dataclass(frozen=True, eq=False)
class ScreenMap:
    """Screen colour per block: ``colors`` is a float32 (rows, cols, 3) array of RGB 0–1.

    Block (i, j) is centred on pixel coordinates ((j + 0.5)·cell, (i + 0.5)·cell); the keyers
    interpolate bilinearly between block centres and clamp at the edges
    (:func:`chromakey.cpu.screen_at`). ``mean`` is the global screen colour, for code that
    needs one colour; ``np.asarray(screen_map)`` gives it too, so a ScreenMap can stand in
    wherever a (3,) colour was used.
    """

    colors: np.ndarray
    cell: int
    mean: np.ndarray

    def __post_init__(self) -> None:
        colors = np.ascontiguousarray(np.asarray(self.colors, F32))
        if colors.ndim != 3 or colors.shape[2] != 3 or colors.shape[0] < 1 or colors.shape[1] < 1:
            raise ValueError(f"a screen map is a (rows, cols, 3) array, got shape {colors.shape}")
        if int(self.cell) < 1:
            raise ValueError(f"a screen map's cell is at least 1 pixel, got {self.cell}")
        object.__setattr__(self, "colors", colors)
        object.__setattr__(self, "cell", int(self.cell))
        object.__setattr__(self, "mean", np.asarray(self.mean, F32).reshape(3))

    @classmethod
    def constant(cls, color: np.ndarray | tuple[float, float, float], cell: int = 1) -> ScreenMap:
        """One colour everywhere: a 1×1 map."""
        c = np.asarray(color, F32).reshape(3)
        return cls(c.reshape(1, 1, 3), cell, c)

    @classmethod
    def of(cls, screen: ScreenMap | np.ndarray | tuple[float, float, float]) -> ScreenMap:
        """A map as it is, or a (3,) colour as a constant map."""
        return screen if isinstance(screen, ScreenMap) else cls.constant(screen)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        return self.colors.shape[0], self.colors.shape[1]

    @property
    def is_constant(self) -> bool:
        return self.colors.shape[:2] == (1, 1)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:  # noqa: ANN001
        return self.mean if dtype is None else self.mean.astype(dtype)
