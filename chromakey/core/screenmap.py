"""The screen map: a screen colour per block of the frame, and the global colour.

Made by :mod:`chromakey.keying.calibration`, read by every keyer
(:func:`chromakey.keying.reference.screen_at` and its GLSL twin), which is why it lives in core.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .params import KeyerParams

F32 = np.float32


@dataclass(frozen=True)
class ScreenWindow:
    """Which colours count as this screen, measured from the frames (calibration).

    The keyers key with the user's settings and these in place of the nominal window: a
    studio green at 146° or a pale yellowish muslin is then keyed like #008000 is.
    """

    hue_center: float
    hue_width: float
    sat_min: float
    sat_max: float
    dark_guard: float
    # The screen's grain (KeyerParams.screen_noise), measured; 0 for a colour given.
    noise: float = 0.0

    def apply(self, p: KeyerParams) -> KeyerParams:
        """``p`` with the measured window, where ``p`` lets calibration set it."""
        return _applied(p, self)


@lru_cache(maxsize=16)
def _applied(p: KeyerParams, w: ScreenWindow) -> KeyerParams:
    # Cached: the same window gives the very same KeyerParams object, which keyers that
    # re-upload their settings only on a new object (the GPU's uniforms) rely on.
    changes: dict[str, float] = {}
    if p.auto_hue:
        changes["hue_min"] = (w.hue_center - 0.5 * w.hue_width) % 360.0
        changes["hue_max"] = (w.hue_center + 0.5 * w.hue_width) % 360.0
    if p.auto_sat:
        changes["sat_min"] = min(p.sat_min, w.sat_min)
        changes["sat_max"] = max(min(p.sat_max, w.sat_max), changes["sat_min"])
        changes["dark_guard"] = min(p.dark_guard, w.dark_guard)
    if w.noise > p.screen_noise:  # a measurement of the footage, whatever the window's flags
        changes["screen_noise"] = w.noise
    return p.replace(**changes) if changes else p


def keyed_params(p: KeyerParams, screen: ScreenMap) -> KeyerParams:
    """The settings a keyer keys ``screen``'s frame with: ``p`` and the measured window."""
    return p if screen.window is None else screen.window.apply(p)


@dataclass(frozen=True, eq=False)
class ScreenMap:
    """Screen colour per block: ``colors`` is a float32 (rows, cols, 3) array of RGB 0–1.

    Block (i, j) is centred on pixel coordinates ((j + 0.5)·cell, (i + 0.5)·cell); the keyers
    interpolate bilinearly between block centres and clamp at the edges
    (:func:`chromakey.keying.reference.screen_at`). ``mean`` is the global screen colour, for
    code that needs one colour; a map is never read as that colour implicitly (it is no array).
    """

    colors: np.ndarray
    cell: int
    mean: np.ndarray
    window: ScreenWindow | None = None

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
    def constant(
        cls,
        color: np.ndarray | tuple[float, float, float],
        cell: int = 1,
        window: ScreenWindow | None = None,
    ) -> ScreenMap:
        """One colour everywhere: a 1×1 map."""
        c = np.asarray(color, F32).reshape(3)
        return cls(c.reshape(1, 1, 3), cell, c, window)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        return self.colors.shape[0], self.colors.shape[1]

    @property
    def is_constant(self) -> bool:
        return self.colors.shape[:2] == (1, 1)

    def blocks_changed_since(self, previous: ScreenMap | None) -> np.ndarray | None:
        """Which blocks' colours differ bit for bit from ``previous``'s: bool (rows, cols), or
        None when the two cannot be compared block by block (no previous map, another grid or
        cell, another window), so that everything counts as changed.

        The calibrator hands out the very same object while nothing moved, so ``self is
        previous`` answers at once (all False). A block's colour reaches the pixels within one
        cell of its centre (bilinear between centres, :func:`chromakey.keying.reference.screen_at`).
        """
        if previous is None or previous.cell != self.cell or previous.shape != self.shape:
            return None
        if previous.window != self.window:
            return None
        if previous is self or previous.colors is self.colors:
            return np.zeros(self.shape, bool)
        changed: np.ndarray = (self.colors != previous.colors).any(axis=-1)
        return changed
