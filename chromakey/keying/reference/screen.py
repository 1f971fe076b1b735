"""4. The screen colour at each pixel, from the calibrated screen map."""

from __future__ import annotations

import numpy as np

from ...core.screenmap import ScreenMap
from .common import F32

# --- 4. the screen colour at each pixel --------------------------------------------------


def map_axis(n: int, cell: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps along one axis of a screen map: (index0, index1, fraction) per pixel.

    Block k's centre is at (k + 0.5)·cell, pixel x's at x + 0.5, so x sits at
    u = (x + 0.5)/cell − 0.5 = (2x + 1 − cell) / (2·cell) blocks. Integer arithmetic gives the
    block k0 = floor(u) and the fraction f = (2x + 1 − cell − 2·cell·k0) / (2·cell) exactly as
    the shader does; indices are clamped to the grid (edges hold their block's colour).
    """
    num = 2 * np.arange(n, dtype=np.int64) + 1 - cell
    den = 2 * cell
    k0 = num // den
    frac = (num - k0 * den).astype(F32) / F32(den)
    i0 = np.clip(k0, 0, cells - 1)
    i1 = np.clip(k0 + 1, 0, cells - 1)
    return i0, i1, frac


def screen_at(
    screen: ScreenMap, height: int, width: int, y0: int = 0, y1: int | None = None
) -> np.ndarray:
    """The map upsampled bilinearly to H×W×3: rows of blocks along x first, then along y.

    Each step is a + f·(b − a), which gives a exactly where a = b (a constant map stays exact).
    With ``y0``/``y1``, only rows [y0, y1) of the H×W×3 result (the same values).
    """
    c = screen.colors
    rows, cols = screen.shape
    j0, j1, fx = map_axis(width, screen.cell, cols)
    i0, i1, fy = map_axis(height, screen.cell, rows)
    i0, i1, fy = i0[y0:y1], i1[y0:y1], fy[y0:y1]
    if len(i0):  # only the block rows these rows read
        lo = int(i0.min())
        c, i0, i1 = c[lo : int(i1.max()) + 1], i0 - lo, i1 - lo
    a = c[:, j0]
    across = a + fx[None, :, None] * (c[:, j1] - a)  # rows × W × 3
    # top + fy·(bottom − top) per row, for each run of rows between the same two block rows:
    # the difference once per run, no gathered H×W×3 copies.
    out = np.empty((len(i0), width, 3), across.dtype)
    if not len(i0):
        return out
    starts = np.flatnonzero((np.diff(i0) != 0) | (np.diff(i1) != 0)) + 1
    for r0, r1 in zip([0, *starts.tolist()], [*starts.tolist(), len(i0)], strict=True):
        top = across[i0[r0]]
        run = out[r0:r1]
        np.multiply(fy[r0:r1, None, None], across[i1[r0]] - top, out=run)
        np.add(top, run, out=run)
    return out


def screen_colors(screen: ScreenMap, height: int, width: int) -> np.ndarray:
    """The screen colour per pixel (H×W×3), or one (3,) colour when it is the same everywhere
    (numpy broadcasts it over the pixels, so a constant map costs no H×W×3 array)."""
    if screen.is_constant:
        result: np.ndarray = screen.colors[0, 0]
        return result
    return screen_at(screen, height, width)


def screen_rows(screen: ScreenMap, height: int, width: int, y0: int, y1: int) -> np.ndarray:
    """Rows [y0, y1) of :func:`screen_colors` for an H×W frame, or its one (3,) colour."""
    if not screen.is_constant:
        return screen_at(screen, height, width, y0, y1)
    result: np.ndarray = screen.colors[0, 0]
    return result
