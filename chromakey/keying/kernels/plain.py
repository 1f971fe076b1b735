"""Plain screen from the raw bytes: 16-px blocks whose every input within reach keys to an
alpha of exactly 0, so that the block shows only the background, whatever the stages after.

The decode is monotone in Y, U and V, and the luma-guided chroma moves U and V by at most
slope·luma detail (the slope bounded by Cauchy–Schwarz): the ranges of the bytes around a
block bound every pixel's RGB there to a box. Each factor of membership is monotone in hue
distance, saturation, chroma and lightness, so the box bounds membership and the share from
below, and the raw matte (1 − membership·share) from above. The guided matte is then at most
raw + raw·(luma range)/(2·√eps) (guide._bound_tiles' bound, the raw matte's range being at most
its top), and a guided matte at most SCREEN_LO through the refinement's reach refines to an
alpha of exactly 0 (pack_params), which composites to the background's bytes, as the screen
tiles' fill does. Every bound is widened by margins far above float32 rounding. Red screens
(hue wrapping at 0°) are not tested: no block is plain there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import numpy as np
from numba import njit

from ..param_table import (
    I_GUIDE_R,
    I_KEY,
    I_LAYOUT,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_GUIDE_EPS,
    P_HUE_CENTER,
    P_HUE_E0,
    P_HUE_HALF,
    P_HUE_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_SCREEN_LO,
    P_VIVID_E0,
    P_VIVID_INV,
)
from ..reference import CHROMA_GUIDE_EPS
from .common import (
    _HUE_EPS,
    _MIN_SCREEN_EXCESS,
    LAYOUT_RGB,
)
from .incremental import BLOCK, map_blocks

_Args = ParamSpec("_Args")
_R = TypeVar("_R")

# The share of a frame's blocks to key again from which the test runs (below, a few blocks'
# keying costs less than the test).
PLAIN_FROM = 0.2

# Margins of every test: values within 1e-4 of 0–1 quantities (float32 rounding of the
# kernel's chain is below 1e-6), the hue within 0.01°.
_M = 1e-4
_M_HUE = 0.01
# What rounding can add to a chroma guide slope: its covariance's rounding (≈ 2e-7 on window
# means ≈ 0.25) over the variance's floor (the guide's eps), doubled.
_SLOPE_SLACK = 4e-7 / CHROMA_GUIDE_EPS


@njit(nogil=True, cache=True)
def block_ranges(
    plane: np.ndarray, c: int, bh: int, bw: int, lo: np.ndarray, hi: np.ndarray
) -> None:
    """lo[i, j, k], hi[i, j, k]: min and max of channel k over block (i, j) (bh rows × bw
    pixels) of ``plane`` (H×(W·c) bytes); 255 and 0 where a block holds no pixel."""
    h, wc = plane.shape
    w = wc // c
    gh, gw = lo.shape[0], lo.shape[1]
    lo[:] = 255
    hi[:] = 0
    for i in range(gh):
        r0, r1 = i * bh, min((i + 1) * bh, h)
        for r in range(r0, r1):
            row = plane[r]
            for j in range(gw):
                x0, x1 = j * bw, min((j + 1) * bw, w)
                for k in range(c):
                    mn, mx = lo[i, j, k], hi[i, j, k]
                    for x in range(x0, x1):
                        v = row[x * c + k]
                        mn = min(mn, v)
                        mx = max(mx, v)
                    lo[i, j, k], hi[i, j, k] = mn, mx


def spread(a: np.ndarray, k: int, op: np.ufunc) -> np.ndarray:
    """``op`` (np.minimum or np.maximum) over the square of k blocks around each block."""
    out = a.copy()
    for axis in (0, 1):
        src = out.copy()
        n = src.shape[axis]
        for d in range(1, min(k, n - 1) + 1):
            lo = [slice(None)] * src.ndim
            hi = [slice(None)] * src.ndim
            lo[axis], hi[axis] = slice(d, None), slice(None, n - d)
            out[tuple(lo)] = op(out[tuple(lo)], src[tuple(hi)])
            out[tuple(hi)] = op(out[tuple(hi)], src[tuple(lo)])
    return out


def _ranges(
    plane: np.ndarray, c: int, bh: int, bw: int, grid: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    lo = np.empty((*grid, c), np.uint8)
    hi = np.empty((*grid, c), np.uint8)
    block_ranges(plane, c, bh, bw, lo, hi)
    return lo.astype(np.float64), hi.astype(np.float64)


def _lin(
    terms: list[tuple[np.ndarray, np.ndarray, float]], const: float
) -> tuple[np.ndarray, np.ndarray]:
    """Interval of const + Σ coef·[lo, hi]."""
    lo = np.full_like(terms[0][0], const)
    hi = lo.copy()
    for a, b, k in terms:
        lo += np.minimum(k * a, k * b)
        hi += np.maximum(k * a, k * b)
    return lo, hi


def _clip(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.clip(lo - _M, 0.0, 1.0), np.clip(hi + _M, 0.0, 1.0)


def _ramp_top(e0: float, inv: float) -> float:
    """The least x at which soft_step(e0, inv, x) is exactly 1 (with margin)."""
    return e0 + _M if inv < 0 else e0 + 1.0 / inv + _M


def _quiet_division(fn: Callable[_Args, _R]) -> Callable[_Args, _R]:
    """``fn`` without numpy's warnings on division: the bounds divide by a block's chroma,
    which is 0 on a grey or black block; the NaN that gives fails every comparison, so such a
    block is not plain (as it is not), and nothing is to be printed about it."""

    @functools.wraps(fn)
    def quiet(*args: _Args.args, **kwargs: _Args.kwargs) -> _R:
        with np.errstate(divide="ignore", invalid="ignore"):
            return fn(*args, **kwargs)

    return quiet


@_quiet_division
def plain_blocks(
    planes: list[tuple[np.ndarray, int, int, int]],
    ints: np.ndarray,
    P: np.ndarray,
    dec: np.ndarray,
    across: np.ndarray,
    mi0: np.ndarray,
    mi1: np.ndarray,
    lw: np.ndarray,
    grid: tuple[int, int],
    reach_blocks: int,
) -> np.ndarray:
    """Blocks whose every pixel within ``reach_blocks`` blocks keys to an alpha of exactly 0.
    ``planes``: (H×(W·c) bytes, c, rows, columns of the frame per plane pixel): Y, U, V or RGB."""
    layout, key = int(ints[I_LAYOUT]), int(ints[I_KEY])
    if key not in (1, 2):
        return np.zeros(grid, bool)
    guide_r, guide_eps = int(ints[I_GUIDE_R]), float(P[P_GUIDE_EPS])
    screen_lo = float(P[P_SCREEN_LO])
    rng = []
    for p, c, fy, fx in planes:
        lo, hi = _ranges(p, c, BLOCK // fy, BLOCK // fx, grid)
        rng.append((spread(lo, reach_blocks, np.minimum), spread(hi, reach_blocks, np.maximum)))
    s = 1.0 / 255.0
    if layout == LAYOUT_RGB:
        ((lo, hi),) = rng
        r, g, b = [(lo[..., k] * s, hi[..., k] * s) for k in range(3)]
    else:
        m00, yoff, off1, off2, m02, m11, m12, m21 = (
            float(dec[i]) for i in (0, 1, 3, 4, 5, 6, 7, 8)
        )
        (ylo, yhi), (ulo, uhi), (vlo, vhi) = ((a[..., 0] * s, b[..., 0] * s) for a, b in rng)
        guided = planes[1][2] != 1 or planes[1][3] != 1
        di = (yhi - ylo) + 1e-6 if guided else 0.0
        root = 4.0 * np.sqrt(CHROMA_GUIDE_EPS)
        su = ((uhi - ulo) / root + _SLOPE_SLACK) * di
        sv = ((vhi - vlo) / root + _SLOPE_SLACK) * di
        u = (ulo - su - off1, uhi + su - off1)
        v = (vlo - sv - off2, vhi + sv - off2)
        yy = (ylo * m00 - yoff, yhi * m00 - yoff)
        r = _clip(*_lin([(*yy, 1.0), (*v, m02)], 0.0))
        g = _clip(*_lin([(*yy, 1.0), (*u, m11), (*v, m12)], 0.0))
        b = _clip(*_lin([(*yy, 1.0), (*u, m21)], 0.0))
    kc, o1, o2 = (g, r, b) if key == 1 else (b, r, g)
    ok = kc[0] > np.maximum(o1[1], o2[1]) + _M  # the key channel is the pixel's largest
    mn_lo, mn_hi = np.minimum(o1[0], o2[0]), np.minimum(o1[1], o2[1])
    c_lo, c_hi = kc[0] - mn_hi, kc[1] - mn_lo  # HSL chroma
    l_lo, l_hi = 0.5 * (kc[0] + mn_lo), 0.5 * (kc[1] + mn_hi)
    e_lo, e_hi = np.abs(2.0 * l_lo - 1.0), np.abs(2.0 * l_hi - 1.0)
    den_lo = 1.0 - np.maximum(e_lo, e_hi)
    den_hi = np.where((l_lo <= 0.5) & (l_hi >= 0.5), 1.0, 1.0 - np.minimum(e_lo, e_hi))
    ok &= c_lo > _HUE_EPS + _M
    sat_lo = np.where(den_lo > _HUE_EPS + _M, np.minimum(c_lo / den_hi, 1.0) - _M, 0.0)
    sat_hi = np.minimum(c_hi / np.maximum(den_lo, _HUE_EPS) + _M, 1.0)
    # Hue: 60·((o2 − o1)/chroma + 2) for green, 60·((o1 − o2)/chroma + 4) for blue.
    n_lo, n_hi = (o2[0] - o1[1], o2[1] - o1[0]) if key == 1 else (o1[0] - o2[1], o1[1] - o2[0])
    cs = np.maximum(c_lo, _HUE_EPS)
    quot = [n_lo / cs, n_lo / c_hi, n_hi / cs, n_hi / c_hi]
    base = 2.0 if key == 1 else 4.0
    h_lo = 60.0 * (np.minimum.reduce(quot) + base)
    h_hi = 60.0 * (np.maximum.reduce(quot) + base)
    hc, hh = float(P[P_HUE_CENTER]), float(P[P_HUE_HALF])
    outside = np.maximum(np.maximum(np.abs(h_lo - hc), np.abs(h_hi - hc)) - hh, 0.0) + _M_HUE
    # Membership's least value: each factor at its interval's worse end (soft_step rises).
    m = 1.0 - _soft(P, P_HUE_E0, P_HUE_INV, outside)
    m = m * _soft(P, P_SAT_E0, P_SAT_INV, sat_lo)
    m = m * _soft(P, P_DARK_E0, P_DARK_INV, c_lo - _M)
    m = m * (1.0 - _soft(P, P_BRIGHT_E0, P_BRIGHT_INV, l_hi + _M))
    m = m * (1.0 - _soft(P, P_VIVID_E0, P_VIVID_INV, sat_hi))
    m = np.where(ok, np.maximum(m - _M, 0.0), 0.0)
    # The share: the key channel's excess over the screen's. The screen's excess at a pixel
    # (a blend of the map's values on two of its rows, across) is at most, for each other
    # channel, the largest (key − that channel) among them: per block, over its rows' map
    # rows and its columns, then over the blocks within reach.
    sx = spread(_screen_excess(across, mi0, mi1, key, grid), reach_blocks, np.maximum)
    share = np.clip((kc[0] - np.maximum(o1[1], o2[1])) / (sx * (1.0 + _M) + _M) - _M, 0.0, 1.0)
    raw = 1.0 - m * share  # the raw matte's most, ≥ its range (it is ≥ 0; the reach lowers it)
    # The guided matte's most (guide._bound_tiles): raw + range·luma range / (2·√eps).
    lum = _lin([(*r, float(lw[0])), (*g, float(lw[1])), (*b, float(lw[2]))], 0.0)
    spread_ = 0.0 if guide_r == 0 else raw * (lum[1] - lum[0] + _M) / (2.0 * np.sqrt(guide_eps))
    return raw + spread_ + _M <= screen_lo


def _screen_excess(
    across: np.ndarray, mi0: np.ndarray, mi1: np.ndarray, key: int, grid: tuple[int, int]
) -> np.ndarray:
    """Per block, the most the screen's key excess (cpu.screen_excess) takes among its pixels."""
    out = np.full(grid, np.inf)
    for o in (k for k in range(3) if k != key):
        e = (across[key] - across[o]).astype(np.float64)
        out = np.minimum(out, map_blocks(e, mi0, mi1, grid, np.max))
    excess: np.ndarray = np.maximum(out, float(_MIN_SCREEN_EXCESS))
    return excess


def _soft(P: np.ndarray, e0_at: int, inv_at: int, x: np.ndarray) -> np.ndarray:
    """cpu.soft_step on float64 arrays (a hard step where the ramp has no width)."""
    e0, inv = float(P[e0_at]), float(P[inv_at])
    if inv < 0:
        return (x > e0).astype(np.float64)
    t = np.clip((x - e0) * inv, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
