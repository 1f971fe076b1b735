"""Calibration's per-frame work compiled: the blocks' colours from the samples (their decode,
HSL and membership in kernels.samples) and the fill of the blocks inside the subject.

Why: the numpy version (``keying.calibration``, the reference these are tested against in
tests/test_calibration_kernels.py) made some hundred array passes a measurement, 35 ms at
1080p. Each function here reads like its twin there and makes the same float32 operations in
the same order, except the block sums, which add in sample order (numpy's matmul adds in its
own), so block colours match within CALIBRATE_TOLERANCE and everything else exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from .samples import (
    _screen_sample,
    decode_constants,
    hsl,
    membership_params,
    sample_rgb8,
    sample_yuv,
    screen_samples,
)

if TYPE_CHECKING:
    from .common import Real

# The samples' kernels (kernels.samples) and the blocks' here, from one place.
__all__ = [
    "CALIBRATE_TOLERANCE",
    "block_colours",
    "decode_constants",
    "fill_unknown",
    "global_screen",
    "hsl",
    "membership_params",
    "resample_yuv",
    "sample_rgb8",
    "sample_yuv",
    "screen_samples",
    "track",
    "update_blocks",
]

F32 = np.float32

# Block colours: sums of up to 16 samples added in another order than numpy's (relative).
CALIBRATE_TOLERANCE = 1e-6


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _median_sorted(v: np.ndarray, n: int) -> Real:
    """The median of the first n entries of a sorted array, as np.median rounds it."""
    mid: Real = v[n // 2]
    if n % 2 == 1:
        return mid
    mean: Real = (v[n // 2 - 1] + mid) * np.float32(0.5)
    return mean


@njit(nogil=True, cache=True, error_model="numpy")
def _median(v: np.ndarray) -> Real:
    """np.median of a 1-D float32 array: the middle one or two by selection, not a sort."""
    n = v.shape[0]
    w = np.partition(v, n // 2)
    hi: Real = w[n // 2]
    if n % 2 == 1:
        return hi
    mean: Real = (np.max(w[: n // 2]) + hi) * np.float32(0.5)  # the entries before are all ≤ hi
    return mean


@njit(nogil=True, cache=True, error_model="numpy")
def global_screen(
    rgb: np.ndarray, mask: np.ndarray, excess: np.ndarray, sub: int
) -> tuple[bool, np.ndarray]:
    """calibration.estimate_screen on every ``sub``-th sample each way → (found, colour)."""
    rows, cols = rgb.shape[0], rgb.shape[1]
    sr, sc = (rows + sub - 1) // sub, (cols + sub - 1) // sub
    out = np.zeros(3, np.float32)
    n = 0
    for i in range(0, rows, sub):
        for j in range(0, cols, sub):
            n += mask[i, j]
    if n < max(32, sr * sc // 100):
        return False, out
    ex = np.empty(n, np.float32)
    k = 0
    for i in range(0, rows, sub):
        for j in range(0, cols, sub):
            if mask[i, j]:
                ex[k] = excess[i, j]
                k += 1
    cut = _median(ex)
    lit = 0
    for q in range(n):
        lit += ex[q] >= cut
    chan = np.empty(lit, np.float32)
    for c in range(3):
        k = 0
        for i in range(0, rows, sub):
            for j in range(0, cols, sub):
                if mask[i, j] and excess[i, j] >= cut:
                    chan[k] = rgb[i, j, c]
                    k += 1
        out[c] = _median(chan)
    return True, out


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _insert(v: np.ndarray, n: int, x: Real) -> None:
    """x into the sorted first n entries of v (a block's few samples: no allocation)."""
    k = n
    while k > 0 and v[k - 1] > x:
        v[k] = v[k - 1]
        k -= 1
    v[k] = x


@njit(nogil=True, cache=True, error_model="numpy")
def block_colours(
    rgb: np.ndarray,
    mask: np.ndarray,
    excess: np.ndarray,
    rows: int,
    cols: int,
    k: int,
    min_screen: Real,
    min_excess: Real,
    key: int,
) -> tuple[np.ndarray, np.ndarray]:
    """calibration.estimate_screen_map's blocks: the mean of the lit half of each block's
    clearly-screen samples (k × k of them) → (colours (rows, cols, 3), known (rows, cols))."""
    colors = np.empty((rows, cols, 3), np.float32)
    count = np.empty((rows, cols), np.int64)
    dirty = np.ones((rows, cols), np.bool_)
    return update_blocks(rgb, mask, excess, k, min_screen, min_excess, key, dirty, colors, count)


@njit(nogil=True, cache=True, error_model="numpy")
def update_blocks(
    rgb: np.ndarray,
    mask: np.ndarray,
    excess: np.ndarray,
    k: int,
    min_screen: Real,
    min_excess: Real,
    key: int,
    dirty: np.ndarray,
    colors: np.ndarray,
    count: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`block_colours` into ``colors`` and ``count`` (clearly-screen samples) for the
    ``dirty`` blocks only, the others as they are → (colors, known of every block)."""
    a, b = (1, 2) if key == 0 else ((0, 2) if key == 1 else (0, 1))
    rows, cols = colors.shape[0], colors.shape[1]
    sr, sc = rgb.shape[0], rgb.shape[1]
    known = np.zeros((rows, cols), np.bool_)
    ex = np.empty(k * k, np.float32)
    for bi in range(rows):
        for bj in range(cols):
            if dirty[bi, bj]:
                _block(rgb, mask, excess, k, bi, bj, sr, sc, ex, colors, count)
            n = count[bi, bj]
            if n == 0:
                continue
            c = colors[bi, bj]
            known[bi, bj] = n >= min_screen and c[key] - max(c[a], c[b]) >= min_excess
    return colors, known


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _block(
    rgb: np.ndarray,
    mask: np.ndarray,
    excess: np.ndarray,
    k: int,
    bi: int,
    bj: int,
    sr: int,
    sc: int,
    ex: np.ndarray,
    colors: np.ndarray,
    count: np.ndarray,
) -> None:
    """One block's colour (NaN without a clearly-screen sample) and count."""
    n = 0
    for di in range(k):
        i = bi * k + di
        if i >= sr:
            break
        for dj in range(k):
            j = bj * k + dj
            if j < sc and mask[i, j]:
                _insert(ex, n, excess[i, j])
                n += 1
    count[bi, bj] = n
    if n == 0:
        colors[bi, bj, 0] = colors[bi, bj, 1] = colors[bi, bj, 2] = np.nan
        return
    cut = _median_sorted(ex, n)
    s0 = s1 = s2 = np.float32(0.0)
    lit = 0
    for di in range(k):
        i = bi * k + di
        if i >= sr:
            break
        for dj in range(k):
            j = bj * k + dj
            if j < sc and mask[i, j] and excess[i, j] >= cut:
                s0 += rgb[i, j, 0]
                s1 += rgb[i, j, 1]
                s2 += rgb[i, j, 2]
                lit += 1
    n_lit = np.float32(lit)
    colors[bi, bj, 0], colors[bi, bj, 1], colors[bi, bj, 2] = s0 / n_lit, s1 / n_lit, s2 / n_lit


@njit(nogil=True, cache=True, error_model="numpy")
def resample_yuv(
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    fx: int,
    fy: int,
    step: int,
    offset: int,
    dec: np.ndarray,
    mp: np.ndarray,
    key: int,
    member_screen: Real,
    k: int,
    state: tuple[np.ndarray, ...],
    dirty: np.ndarray,
    fresh: bool,
) -> None:
    """:func:`sample_yuv` and :func:`screen_samples` in one pass, only for the samples whose
    three bytes differ from those kept in ``state`` (raw, rgb, mask, excess: updated; all of
    them when ``fresh``); marks in ``dirty`` (the map's grid) the blocks of k × k samples
    that hold a changed sample. A still region costs a byte compare."""
    raw, rgb, mask, excess = state
    rows, cols = raw.shape[0], raw.shape[1]
    cstep_y, cstep_x = max(step // fy, 1), max(step // fx, 1)
    c0y, c0x = offset // fy, offset // fx
    ch, cw = u.shape
    m00, yoff, s, off1, off2 = dec[0], dec[1], dec[2], dec[3], dec[4]
    m02, m11, m12, m21 = dec[5], dec[6], dec[7], dec[8]
    for i in range(rows):
        yr = y[offset + i * step]
        ci = min(c0y + i * cstep_y, ch - 1)
        ur, vr = u[ci], v[ci]
        for j in range(cols):
            cj = min(c0x + j * cstep_x, cw - 1)
            by, bu, bv = yr[offset + j * step], ur[cj], vr[cj]
            if not fresh and by == raw[i, j, 0] and bu == raw[i, j, 1] and bv == raw[i, j, 2]:
                continue
            raw[i, j, 0], raw[i, j, 1], raw[i, j, 2] = by, bu, bv
            dirty[i // k, j // k] = True
            yy = np.float32(by) * s * m00 - yoff
            uu = np.float32(bu) * s - off1
            vv = np.float32(bv) * s - off2
            r = min(max(yy + vv * m02, np.float32(0.0)), np.float32(1.0))
            g = min(max((yy + uu * m11) + vv * m12, np.float32(0.0)), np.float32(1.0))
            b = min(max(yy + uu * m21, np.float32(0.0)), np.float32(1.0))
            rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2] = r, g, b
            mask[i, j], excess[i, j] = _screen_sample(r, g, b, mp, key, member_screen)


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _column3(out: np.ndarray, have: np.ndarray, i: int, j: int, c: int, rows: int) -> Real:
    """reference _box3's first step at (i, j): (a[i] + a[i − 1]) + a[i + 1], unknown = 0."""
    v = out[i, j, c] if have[i, j] else np.float32(0.0)
    if i > 0 and have[i - 1, j]:  # an unknown neighbour adds 0: skipped, the same sum
        v = v + out[i - 1, j, c]
    if i + 1 < rows and have[i + 1, j]:
        v = v + out[i + 1, j, c]
    return v


@njit(nogil=True, cache=True, error_model="numpy")
def fill_unknown(colors: np.ndarray, known: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """calibration.fill_unknown: unknown blocks take the mean of their known 3×3 neighbours,
    pass after pass, summed in the reference's order (down the columns, then across); each
    pass visits only the blocks still unknown."""
    rows, cols, nc = colors.shape
    out = np.empty_like(colors)
    have = known.copy()
    todo = np.empty((rows * cols, 2), np.int64)
    n = 0
    for i in range(rows):
        for j in range(cols):
            for c in range(nc):
                out[i, j, c] = colors[i, j, c] if have[i, j] else np.float32(0.0)
            if not have[i, j]:
                todo[n, 0], todo[n, 1] = i, j
                n += 1
    if n == rows * cols:
        for i in range(rows):
            for j in range(cols):
                for c in range(nc):
                    out[i, j, c] = fallback[c]
        return out
    new = np.empty((n, nc), np.float32)
    grow = np.zeros(n, np.bool_)
    while n > 0:
        for q in range(n):
            i, j = todo[q, 0], todo[q, 1]
            k = np.float32(0.0)
            for jj in range(max(j - 1, 0), min(j + 2, cols)):
                for ii in range(max(i - 1, 0), min(i + 2, rows)):
                    k += np.float32(have[ii, jj])
            grow[q] = k > 0
            if not grow[q]:
                continue
            for c in range(nc):
                v = _column3(out, have, i, j, c, rows)
                if j > 0:
                    v = v + _column3(out, have, i, j - 1, c, rows)
                if j + 1 < cols:
                    v = v + _column3(out, have, i, j + 1, c, rows)
                new[q, c] = v / k
        m = 0
        for q in range(n):
            i, j = todo[q, 0], todo[q, 1]
            if grow[q]:
                have[i, j] = True
                for c in range(nc):
                    out[i, j, c] = new[q, c]
            else:
                todo[m, 0], todo[m, 1] = i, j
                m += 1
        n = m
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def track(
    tracked: np.ndarray,
    last: np.ndarray,
    changes: np.ndarray,
    slot: int,
    value: np.ndarray,
    weight: Real,
    code: np.ndarray,
    band_changes: Real,
    published: np.ndarray,
) -> np.ndarray:
    """tracking.Tracked.update's arithmetic in place on (n, 3) arrays: the change into
    ``changes[slot]``, the average, and which entries left tracking.dead_band of
    ``published`` → bool (n,)."""
    hist = changes.shape[0]
    n = value.shape[0]
    moved = np.zeros(n, np.bool_)
    for e in range(n):
        for c in range(3):
            v = value[e, c]
            changes[slot, e, c] = abs(v - last[e, c])
            last[e, c] = v
            t = tracked[e, c] + weight * (v - tracked[e, c])
            tracked[e, c] = t
            first = second = np.float32(0.0)  # the two largest changes (all are ≥ 0)
            for k in range(hist):
                x = changes[k, e, c]
                if x > first:
                    first, second = x, first
                elif x > second:
                    second = x
            band = max(band_changes * second, code[c])
            if abs(t - published[e, c]) > band:
                moved[e] = True
    return moved
