"""The compiled CPU keyer: the numpy reference's maths (``cpu.py``) fused into few passes.

Why: the reference makes about 180 numpy calls and 250 plane-sized float32 writes a frame.
Here a frame is keyed in bands of rows, each band with the rows of context its neighbourhood
stages reach (:func:`cpu.halo_rows`), every stage of a band working in buffers that stay in
the CPU's caches, the bands on numba's threads. Each stage reads like its twin in ``cpu.py``
and takes its constants from there; tests/test_kernels.py holds the two within TOLERANCE
over random parameters, sizes, screens and backgrounds.

Work only where it is needed: a band is cut into tiles of TILE columns. A tile whose raw
matte is 1 throughout the reach of the luma guide keeps it unchanged (the guided filter of a
constant is that constant, exactly, as computed here); a tile whose guided matte is clearly
screen (at most min(clip_black, edge_tolerance/2)) or clearly subject through the reach of
the refinement stages needs neither edge test, choke nor feather: its alpha is exactly 0 or
1. Screen tiles take the background without decoding, subject tiles only despill. The
window sums are direct (not running) sums in the reference's order, so a pixel's value does
not depend on which tiles around it were computed: the output is identical with and without
the tiling (``tiles=False``), which the tests check bit for bit.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

# OpenMP's worker threads spin after each parallel region by default; on two cores that spin
# takes the decoder's core between frames. Passive waiting sleeps instead (a user's own
# setting wins). Read when numba starts its threads, so it is set before any kernel runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from numba import njit, prange  # noqa: E402
from numba import types as nt  # noqa: E402

from . import cpu
from .color import HSL_EPS, YuvSpec
from .frames import Frame, YuvImage
from .params import KeyerParams
from .screenmap import ScreenMap

F32 = np.float32

# Columns per tile of the work-skipping test, and rows per band of the thread split.
TILE = 32
BAND_ROWS = 128
# Mixed tiles at most this many tiles apart get the guide in one run (measured on the
# sample at 1080p: 1 to 8 cost the same within noise; wider gaps guide the subject between).
GUIDE_GAP = 2

# The largest difference to the numpy reference, in 1/255 levels, anywhere in an image
# (the sums' rounding differs: the kernels divide by the window size, the reference
# multiplies by its reciprocal, so that a constant window stays exactly constant here).
TOLERANCE = 2

# Indices into the float32 parameter vector.
(
    P_HUE_CENTER,
    P_HUE_HALF,
    P_HUE_E0,
    P_HUE_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_EDGE_E0,
    P_EDGE_INV,
    P_WEAK_E0,
    P_WEAK_INV,
    P_CLIP_BLACK,
    P_CLIP_INV,
    P_GUIDE_EPS,
    P_SPILL,
    P_SCREEN_LO,
    P_SUBJECT_HI,
    N_PARAMS,
) = range(21)

# Indices into the int64 parameter vector.
(
    I_KEY,
    I_GUIDE_R,
    I_CHOKE,
    I_FEATHER_N,
    I_SPILL_R,
    I_EDGE_R,
    I_HALO,
    I_TILES,
    I_BG_KIND,
    I_CHANNELS,
    I_LAYOUT,
    I_FX,
    I_FY,
    I_YUV,
    I_PREFILLED,
    N_INTS,
) = range(16)

# What the background is (I_BG_KIND).
BG_NONE, BG_COLOR, BG_RGB, BG_RGBA = 0, 1, 2, 3
LAYOUT_YUV, LAYOUT_RGB = 0, 1

# Per-tile states.
T_MIXED, T_SCREEN, T_SUBJECT = 0, 1, 2

# Band buffers (channels of the per-worker scratch).
(
    B_R,
    B_G,
    B_B,
    B_SCR_R,
    B_SCR_G,
    B_SCR_B,
    B_RAW,
    B_LUMA,
    B_GATE0,
    B_S0,
    B_S1,
    B_S2,
    B_S3,
    B_T0,
    B_T1,
    B_T2,
    B_T3,
    B_GUIDED,
    B_ALPHA,
    B_TMP,
    N_BUFFERS,
) = range(21)

_MIN_SCREEN_EXCESS = F32(cpu.MIN_SCREEN_EXCESS)
_HUE_EPS = F32(HSL_EPS)
_ALPHA_EPS = F32(cpu.ALPHA_FLOOR)
_ALPHA_VISIBLE = F32(cpu.ALPHA_VISIBLE)


# --- per-pixel maths (twins of cpu.py's) --------------------------------------------------


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _soft_step(e0, inv, x):
    """cpu.soft_step; ``inv`` < 0 marks a ramp too narrow to have width (a hard step)."""
    if inv < 0:
        return F32(1.0) if x > e0 else F32(0.0)
    t = (x - e0) * inv
    t = min(max(t, F32(0.0)), F32(1.0))
    return t * t * (F32(3.0) - F32(2.0) * t)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clip01(x):
    return min(max(x, F32(0.0)), F32(1.0))


@njit(nogil=True, cache=True, error_model="numpy")
def _upsample_row(c, out, fx):
    """cpu.upsample_chroma along a row: column 2j = c[j], 2j+1 = (c[j] + c[j+1]) / 2, clamped."""
    w = out.shape[0]
    cw = c.shape[0]
    if fx == 1:
        m = min(w, cw)
        for x in range(m):
            out[x] = c[x]
        for x in range(m, w):
            out[x] = c[cw - 1]
        return
    we, wo = (w + 1) // 2, w // 2
    me = min(we, cw)
    for j in range(me):
        out[2 * j] = c[j]
    for j in range(me, we):
        out[2 * j] = c[cw - 1]
    m = max(min(wo, cw - 1), 0)
    for j in range(m):
        out[2 * j + 1] = (c[j] + c[j + 1]) * F32(0.5)
    for j in range(m, wo):
        out[2 * j + 1] = (c[min(j, cw - 1)] + c[cw - 1]) * F32(0.5)


@njit(nogil=True, cache=True, error_model="numpy")
def _decode_rows(y, u, v, rgbp, ints, dec, a, b, buf, line, base):
    """Rows [a, b) of the frame → buf[B_R..B_B][a − base : b − base] (cpu.decode_rgb's values)."""
    w = buf.shape[2]
    s = dec[2]
    if ints[I_LAYOUT] == LAYOUT_RGB:
        for r in range(a, b):
            i = r - base
            pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
            src = rgbp[r]
            for x in range(w):
                pr[x] = F32(src[x, 0]) * s
                pg[x] = F32(src[x, 1]) * s
                pb[x] = F32(src[x, 2]) * s
        return
    fx, fy = ints[I_FX], ints[I_FY]
    ys, yoff, off1, off2 = dec[0], dec[1], dec[3], dec[4]
    m02, m11, m12, m21 = dec[5], dec[6], dec[7], dec[8]
    ch = u.shape[0]
    cw = u.shape[1]
    cu, cv = line[0, :cw], line[1, :cw]
    uu, vv = line[2, :w], line[3, :w]
    for r in range(a, b):
        i = r - base
        # Vertical chroma interpolation (cpu.upsample_chroma): rows 2k = .75 c[k] + .25 c[k−1],
        # 2k+1 = .75 c[k] + .25 c[k+1], indices clamped.
        if fy == 2:
            k = min(r // 2, ch - 1)
            k2 = max(k - 1, 0) if r % 2 == 0 else min(r // 2 + 1, ch - 1)
            u0, u1, v0, v1 = u[k], u[k2], v[k], v[k2]
            for j in range(cw):
                cu[j] = F32(0.75) * F32(u0[j]) + F32(0.25) * F32(u1[j])
                cv[j] = F32(0.75) * F32(v0[j]) + F32(0.25) * F32(v1[j])
        else:
            u0, v0 = u[min(r, ch - 1)], v[min(r, ch - 1)]
            for j in range(cw):
                cu[j] = F32(u0[j])
                cv[j] = F32(v0[j])
        _upsample_row(cu, uu, fx)
        _upsample_row(cv, vv, fx)
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        yr = y[r]
        for x in range(w):
            yy = F32(yr[x]) * ys - yoff
            cu_ = uu[x] * s - off1
            cv_ = vv[x] * s - off2
            pr[x] = _clip01(yy + cv_ * m02)
            pg[x] = _clip01((yy + cu_ * m11) + cv_ * m12)
            pb[x] = _clip01(yy + cu_ * m21)


@njit(nogil=True, cache=True, error_model="numpy")
def screen_across(colors, mj0, mj1, mfx):
    """cpu.screen_at's first step: each block row interpolated along x → (3, block rows, W)."""
    rows = colors.shape[0]
    w = mj0.shape[0]
    out = np.empty((3, rows, w), np.float32)
    for c in range(3):
        for i in range(rows):
            o = out[c, i]
            for x in range(w):
                lo = colors[i, mj0[x], c]
                o[x] = lo + mfx[x] * (colors[i, mj1[x], c] - lo)
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def _screen_rows(across, mi0, mi1, mfy, a, b, buf, base):
    """cpu.screen_at for rows [a, b) → buf[B_SCR_*] rows from a − base: top + fy·(bottom − top)."""
    w = buf.shape[2]
    for r in range(a, b):
        i = r - base
        f = mfy[r]
        for c in range(3):
            top, bot, o = across[c, mi0[r]], across[c, mi1[r]], buf[B_SCR_R + c, i]
            for x in range(w):
                o[x] = top[x] + f * (bot[x] - top[x])


@njit(nogil=True, cache=True, error_model="numpy")
def _key_pixels(P, ints, lw, i0, i1, buf):
    """Rows [i0, i1) of the band: membership, raw alpha, luma and the spill gate's own part."""
    w = buf.shape[2]
    key = ints[I_KEY]
    hc, hh = P[P_HUE_CENTER], P[P_HUE_HALF]
    he, hi_ = P[P_HUE_E0], P[P_HUE_INV]
    se, si = P[P_SAT_E0], P[P_SAT_INV]
    de, di = P[P_DARK_E0], P[P_DARK_INV]
    be, bi = P[P_BRIGHT_E0], P[P_BRIGHT_INV]
    we, wi = P[P_WEAK_E0], P[P_WEAK_INV]
    l0, l1, l2 = lw[0], lw[1], lw[2]
    for i in range(i0, i1):
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        qr, qg, qb = buf[B_SCR_R, i], buf[B_SCR_G, i], buf[B_SCR_B, i]
        raw, lum, gate = buf[B_RAW, i], buf[B_LUMA, i], buf[B_GATE0, i]
        for x in range(w):
            r, g, b = pr[x], pg[x], pb[x]
            mx = max(max(r, g), b)
            mn = min(min(r, g), b)
            chroma = mx - mn
            light = (mx + mn) * F32(0.5)
            # rgb_to_hsl, branch-free so that the loop vectorises
            has_hue = chroma > _HUE_EPS
            inv = F32(1.0) / (chroma if has_hue else F32(1.0))
            hr = (g - b) * inv
            hg = (b - r) * inv + F32(2.0)
            hb = (r - g) * inv + F32(4.0)
            h = hr if mx == r else (hg if mx == g else hb)
            h = h + F32(6.0) if h < 0 else h
            h = h * F32(60.0) if has_hue else F32(0.0)
            denom = F32(1.0) - abs(F32(2.0) * light - F32(1.0))
            sat = min(chroma / max(denom, _HUE_EPS), F32(1.0))
            sat = sat if denom > _HUE_EPS else F32(0.0)
            # hue_membership, screen_membership
            d = abs(h - hc)
            d = min(d, F32(360.0) - d)
            outside = max(d - hh, F32(0.0))
            hue_m = F32(1.0) - _soft_step(he, hi_, outside)
            m = hue_m * _soft_step(se, si, sat)
            m = m * _soft_step(de, di, chroma)
            m = m * (F32(1.0) - _soft_step(be, bi, light))
            # key_excess, screen_excess, raw_alpha
            kc = r if key == 0 else (g if key == 1 else b)
            o1 = g if key == 0 else r
            o2 = g if key == 2 else b
            ex = kc - max(o1, o2)
            sr, sg, sb = qr[x], qg[x], qb[x]
            sk = sr if key == 0 else (sg if key == 1 else sb)
            s1 = sg if key == 0 else sr
            s2 = sg if key == 2 else sb
            sx = max(sk - max(s1, s2), _MIN_SCREEN_EXCESS)
            share = _clip01(ex * (F32(1.0) / sx))
            raw[x] = F32(1.0) - m * share
            lum[x] = r * l0 + g * l1 + b * l2
            gate[x] = max(hue_m, F32(1.0) - _soft_step(we, wi, sat))


# --- neighbourhood stages: direct window sums and extrema over [x0, x1) of rows [a, b) ----
#
# Loops run over slices from 0 so that numba can drop negative-index checks and vectorise.


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clamped(x, w):
    return min(max(x, 0), w - 1)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _row_sum(s, d, rad, x0, x1):
    """d[x] = sum of s[x − rad … x + rad] for x in [x0, x1), edges clamped.

    Taps are added four at a time, ((t0 + t1) + t2) + t3, then the next four, so a sum
    depends only on the values in its window, not on where the computation started.
    """
    w = s.shape[0]
    taps = 2 * rad + 1
    lo = min(max(x0, rad), x1)
    hi = max(min(x1, w - rad), lo)
    for x in range(x0, lo):
        d[x] = _edge_sum(s, x, rad, w)
    for x in range(hi, x1):
        d[x] = _edge_sum(s, x, rad, w)
    m = hi - lo
    dd = d[lo:hi]
    for k in range(0, taps, 4):
        b = lo - rad + k
        if k + 4 <= taps:
            s0, s1, s2, s3 = (
                s[b : b + m],
                s[b + 1 : b + 1 + m],
                s[b + 2 : b + 2 + m],
                s[b + 3 : b + 3 + m],
            )
            if k == 0:
                for j in range(m):
                    dd[j] = ((s0[j] + s1[j]) + s2[j]) + s3[j]
            else:
                for j in range(m):
                    dd[j] += ((s0[j] + s1[j]) + s2[j]) + s3[j]
        else:
            _add_group(
                dd, s[b : b + m], s[b + 1 : b + 1 + m], s[b + 2 : b + 2 + m], taps - k, k == 0
            )


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _add_group(dd, s0, s1, s2, count, first):
    """dd (=|+=) the last one to three taps' sum, added in order."""
    m = dd.shape[0]
    if count == 1:
        if first:
            for j in range(m):
                dd[j] = s0[j]
        else:
            for j in range(m):
                dd[j] += s0[j]
    elif count == 2:
        if first:
            for j in range(m):
                dd[j] = s0[j] + s1[j]
        else:
            for j in range(m):
                dd[j] += s0[j] + s1[j]
    else:
        if first:
            for j in range(m):
                dd[j] = (s0[j] + s1[j]) + s2[j]
        else:
            for j in range(m):
                dd[j] += (s0[j] + s1[j]) + s2[j]


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _edge_sum(s, x, rad, w):
    """_row_sum's value at one column near an edge, in the same grouping of taps."""
    taps = 2 * rad + 1
    acc = s[0] * 0
    for k in range(0, taps, 4):
        g = s[_clamped(x - rad + k, w)]
        for c in range(1, min(4, taps - k)):
            g += s[_clamped(x - rad + k + c, w)]
        acc = g if k == 0 else acc + g
    return acc


@njit(nogil=True, cache=True, error_model="numpy")
def _row_reduce(s, d, rad, x0, x1, is_max):
    """d[x] = max (or min) of s[x − rad … x + rad] for x in [x0, x1), edges clamped."""
    w = s.shape[0]
    lo = min(max(x0, rad), x1)
    hi = max(min(x1, w - rad), lo)
    for x in range(x0, lo):
        acc = s[_clamped(x - rad, w)]
        for k in range(1, 2 * rad + 1):
            v = s[_clamped(x - rad + k, w)]
            acc = max(acc, v) if is_max else min(acc, v)
        d[x] = acc
    for x in range(hi, x1):
        acc = s[_clamped(x - rad, w)]
        for k in range(1, 2 * rad + 1):
            v = s[_clamped(x - rad + k, w)]
            acc = max(acc, v) if is_max else min(acc, v)
        d[x] = acc
    m = hi - lo
    dd = d[lo:hi]
    s0 = s[lo - rad : hi - rad]
    for j in range(m):
        dd[j] = s0[j]
    for k in range(1, 2 * rad + 1):
        sk = s[lo - rad + k : hi - rad + k]
        if is_max:
            for j in range(m):
                dd[j] = max(dd[j], sk[j])
        else:
            for j in range(m):
                dd[j] = min(dd[j], sk[j])


@njit(nogil=True, cache=True, error_model="numpy")
def _hsum(buf, src, dst, rad, a, b, x0, x1):
    for i in range(a, b):
        _row_sum(buf[src, i], buf[dst, i], rad, x0, x1)


@njit(nogil=True, cache=True, error_model="numpy")
def _vsum(buf, src, dst, rad, a, b, x0, x1, n):
    """dst = sum of 2·rad + 1 rows, rows clamped to [0, n), taps grouped as in _row_sum."""
    m = x1 - x0
    taps = 2 * rad + 1
    for i in range(a, b):
        d = buf[dst, i, x0:x1]
        for k in range(0, taps, 4):
            r0 = buf[src, _clamped(i - rad + k, n), x0:x1]
            r1 = buf[src, _clamped(i - rad + k + 1, n), x0:x1]
            r2 = buf[src, _clamped(i - rad + k + 2, n), x0:x1]
            if k + 4 <= taps:
                r3 = buf[src, _clamped(i - rad + k + 3, n), x0:x1]
                if k == 0:
                    for j in range(m):
                        d[j] = ((r0[j] + r1[j]) + r2[j]) + r3[j]
                else:
                    for j in range(m):
                        d[j] += ((r0[j] + r1[j]) + r2[j]) + r3[j]
            else:
                _add_group(d, r0, r1, r2, taps - k, k == 0)


@njit(nogil=True, cache=True, error_model="numpy")
def _hreduce(buf, src, dst, rad, a, b, x0, x1, is_max):
    for i in range(a, b):
        _row_reduce(buf[src, i], buf[dst, i], rad, x0, x1, is_max)


@njit(nogil=True, cache=True, error_model="numpy")
def _vreduce(buf, src, dst, rad, a, b, x0, x1, n, is_max):
    m = x1 - x0
    for i in range(a, b):
        d = buf[dst, i, x0:x1]
        s = buf[src, _clamped(i - rad, n), x0:x1]
        for j in range(m):
            d[j] = s[j]
        for k in range(1, 2 * rad + 1):
            s = buf[src, _clamped(i - rad + k, n), x0:x1]
            if is_max:
                for j in range(m):
                    d[j] = max(d[j], s[j])
            else:
                for j in range(m):
                    d[j] = min(d[j], s[j])


@njit(nogil=True, cache=True, error_model="numpy")
def _guide(P, ints, buf, n, y0, y1, xa, xb):
    """cpu.guided_matte on rows [y0, y1) × columns [xa, xb), from raw/luma rows [0, n).

    Means are sums divided by the window's size, so that where the matte is constant the
    slope is exactly 0 and the offset exactly the matte (the tiles rely on it).
    """
    rad = ints[I_GUIDE_R]
    w = buf.shape[2]
    ca, cb = max(xa - rad, 0), min(xb + rad, w)
    sa, sb = max(xa - 2 * rad, 0), min(xb + 2 * rad, w)
    ra, rb = max(y0 - 2 * rad, 0), min(y1 + 2 * rad, n)
    qa, qb = max(y0 - rad, 0), min(y1 + rad, n)
    m = sb - sa
    for i in range(ra, rb):
        g_, p_ = buf[B_LUMA, i, sa:sb], buf[B_RAW, i, sa:sb]
        t0, t1 = buf[B_T0, i, sa:sb], buf[B_T1, i, sa:sb]
        for j in range(m):
            t0[j] = g_[j] * p_[j]
            t1[j] = g_[j] * g_[j]
    _hsum(buf, B_LUMA, B_S0, rad, ra, rb, ca, cb)
    _hsum(buf, B_RAW, B_S1, rad, ra, rb, ca, cb)
    _hsum(buf, B_T0, B_S2, rad, ra, rb, ca, cb)
    _hsum(buf, B_T1, B_S3, rad, ra, rb, ca, cb)
    _vsum(buf, B_S0, B_T0, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S1, B_T1, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S2, B_T2, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S3, B_T3, rad, qa, qb, ca, cb, n)
    nw = F32((2 * rad + 1) * (2 * rad + 1))
    eps = P[P_GUIDE_EPS]
    m = cb - ca
    for i in range(qa, qb):
        t0, t1 = buf[B_T0, i, ca:cb], buf[B_T1, i, ca:cb]
        t2, t3 = buf[B_T2, i, ca:cb], buf[B_T3, i, ca:cb]
        for j in range(m):
            mi = t0[j] / nw
            mp = t1[j] / nw
            var = max(t3[j] / nw - mi * mi, F32(0.0))
            cov = t2[j] / nw - mi * mp
            sl = cov / max(var, eps)
            t0[j] = sl
            t1[j] = mp - sl * mi
            t2[j] = var / (var + eps)
    _hsum(buf, B_T0, B_S0, rad, qa, qb, xa, xb)
    _hsum(buf, B_T1, B_S1, rad, qa, qb, xa, xb)
    _hsum(buf, B_T2, B_S2, rad, qa, qb, xa, xb)
    _vsum(buf, B_S0, B_T0, rad, y0, y1, xa, xb, n)
    _vsum(buf, B_S1, B_T1, rad, y0, y1, xa, xb, n)
    _vsum(buf, B_S2, B_T2, rad, y0, y1, xa, xb, n)
    m = xb - xa
    inv_nw = F32(1.0) / nw
    for i in range(y0, y1):
        t0, t1, t2 = buf[B_T0, i, xa:xb], buf[B_T1, i, xa:xb], buf[B_T2, i, xa:xb]
        raw, lum, out = buf[B_RAW, i, xa:xb], buf[B_LUMA, i, xa:xb], buf[B_GUIDED, i, xa:xb]
        for j in range(m):
            fitted = (t0[j] * inv_nw) * lum[j] + t1[j] / nw
            out[j] = _clip01(raw[j] + (t2[j] * inv_nw) * (fitted - raw[j]))


@njit(nogil=True, cache=True, error_model="numpy")
def _refine(P, ints, fw, buf, n, y0, y1, xa, xb, ya, yb):
    """cpu.refine_matte on rows [ya, yb) × [xa, xb) (guided matte valid on [y0, y1) ⊇ reach)."""
    w = buf.shape[2]
    er = ints[I_EDGE_R]
    choke = ints[I_CHOKE]
    fn = ints[I_FEATHER_N]
    cr = abs(choke)
    # Rows and columns each later stage still reaches.
    reach = cr + fn
    ea, eb = max(ya - reach, y0), min(yb + reach, y1)
    xa2, xb2 = max(xa - reach, 0), min(xb + reach, w)
    # edge_weight: max − min over a square of EDGE_RADIUS, then clip_matte.
    _hreduce(buf, B_GUIDED, B_S0, er, max(ea - er, 0), min(eb + er, n), xa2, xb2, True)
    _hreduce(buf, B_GUIDED, B_S1, er, max(ea - er, 0), min(eb + er, n), xa2, xb2, False)
    _vreduce(buf, B_S0, B_S2, er, ea, eb, xa2, xb2, n, True)
    _vreduce(buf, B_S1, B_S3, er, ea, eb, xa2, xb2, n, False)
    ee, ei = P[P_EDGE_E0], P[P_EDGE_INV]
    cbk, cinv = P[P_CLIP_BLACK], P[P_CLIP_INV]
    m = xb2 - xa2
    for i in range(ea, eb):
        g_, hi_, lo_ = buf[B_GUIDED, i, xa2:xb2], buf[B_S2, i, xa2:xb2], buf[B_S3, i, xa2:xb2]
        out = buf[B_ALPHA, i, xa2:xb2]
        for j in range(m):
            al = g_[j]
            edge = _soft_step(ee, ei, hi_[j] - lo_[j])
            clipped = _clip01((al - cbk) * cinv)
            out[j] = clipped + edge * (al - clipped)
    if cr > 0:
        ca, cb = max(ya - fn, 0), min(yb + fn, n)
        xa3, xb3 = max(xa - fn, 0), min(xb + fn, w)
        _hreduce(buf, B_ALPHA, B_TMP, cr, max(ca - cr, 0), min(cb + cr, n), xa3, xb3, choke < 0)
        _vreduce(buf, B_TMP, B_ALPHA, cr, ca, cb, xa3, xb3, n, choke < 0)
    if fn > 0:
        ra, rb = max(ya - fn, 0), min(yb + fn, n)
        for i in range(ra, rb):
            s, d = buf[B_ALPHA, i], buf[B_TMP, i]
            for x in range(xa, xb):
                acc = F32(0.0)
                for k in range(2 * fn + 1):
                    acc += fw[k] * s[_clamped(x - fn + k, w)]
                d[x] = _clip01(acc)
        m = xb - xa
        for i in range(ya, yb):
            d = buf[B_S0, i, xa:xb]
            for j in range(m):
                d[j] = F32(0.0)
            for k in range(2 * fn + 1):
                s = buf[B_TMP, _clamped(i - fn + k, n), xa:xb]
                wk = fw[k]
                for j in range(m):
                    d[j] += wk * s[j]
        for i in range(ya, yb):
            s, d = buf[B_S0, i, xa:xb], buf[B_ALPHA, i, xa:xb]
            for j in range(m):
                d[j] = _clip01(s[j])


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _composite_px(P, ints, fr, fg_, fb, al, gate, sr, sg, sb, bg_color, bg_img, yy, x, out):
    """unmix_despill, composite and to_uint8 for one pixel."""
    key = ints[I_KEY]
    one_a = F32(1.0) - al
    cr = min(max(fr - one_a * sr, F32(0.0)), al)
    cg = min(max(fg_ - one_a * sg, F32(0.0)), al)
    cb = min(max(fb - one_a * sb, F32(0.0)), al)
    if key == 0:
        sp = max(cr - max(cg, cb), F32(0.0))
        cr = cr - P[P_SPILL] * gate * sp
    elif key == 1:
        sp = max(cg - max(cr, cb), F32(0.0))
        cg = cg - P[P_SPILL] * gate * sp
    else:
        sp = max(cb - max(cr, cg), F32(0.0))
        cb = cb - P[P_SPILL] * gate * sp
    _emit(ints, cr, cg, cb, al, bg_color, bg_img, yy, x, out)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _u8(v):
    return np.uint8(v * F32(255.0) + F32(0.5))


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _emit(ints, cr, cg, cb, al, bg_color, bg_img, yy, x, out):
    """cpu.composite for one pixel of premultiplied colour (cr, cg, cb) and alpha ``al``."""
    kind = ints[I_BG_KIND]
    s = F32(1.0 / 255.0)
    if kind == BG_NONE:
        if al > _ALPHA_VISIBLE:
            d = max(al, _ALPHA_EPS)
            out[yy, x, 0] = _u8(_clip01(cr / d))
            out[yy, x, 1] = _u8(_clip01(cg / d))
            out[yy, x, 2] = _u8(_clip01(cb / d))
        else:
            out[yy, x, 0] = 0
            out[yy, x, 1] = 0
            out[yy, x, 2] = 0
        out[yy, x, 3] = _u8(al)
        return
    one_a = F32(1.0) - al
    if kind != BG_RGBA and out.shape[2] == 4:
        out[yy, x, 3] = 255  # an opaque composite asked for as RGBA
    if kind == BG_COLOR:
        out[yy, x, 0] = _u8(_clip01(cr + one_a * bg_color[0]))
        out[yy, x, 1] = _u8(_clip01(cg + one_a * bg_color[1]))
        out[yy, x, 2] = _u8(_clip01(cb + one_a * bg_color[2]))
    elif kind == BG_RGB:
        out[yy, x, 0] = _u8(_clip01(cr + one_a * (F32(bg_img[yy, x, 0]) * s)))
        out[yy, x, 1] = _u8(_clip01(cg + one_a * (F32(bg_img[yy, x, 1]) * s)))
        out[yy, x, 2] = _u8(_clip01(cb + one_a * (F32(bg_img[yy, x, 2]) * s)))
    else:
        ba = F32(bg_img[yy, x, 3]) * s
        oa = al + one_a * ba
        d = max(oa, _ALPHA_EPS)
        out[yy, x, 0] = _u8(_clip01((cr + one_a * (F32(bg_img[yy, x, 0]) * s) * ba) / d))
        out[yy, x, 1] = _u8(_clip01((cg + one_a * (F32(bg_img[yy, x, 1]) * s) * ba) / d))
        out[yy, x, 2] = _u8(_clip01((cb + one_a * (F32(bg_img[yy, x, 2]) * s) * ba) / d))
        out[yy, x, 3] = _u8(_clip01(oa))


@njit(nogil=True, cache=True, error_model="numpy")
def _band(
    y, u, v, rgbp, across, mi0, mi1, mfy,
    P, ints, dec, lw, fw, bg_color, bg_img, out, mat, yp, up, vp, ap, buf, line, tiles, y0, y1,
):  # fmt: skip
    """Output rows [y0, y1): decode and key rows [y0 − halo, y1 + halo), refine, composite."""
    h, w = out.shape[0], out.shape[1]
    halo = ints[I_HALO]
    a, b = max(y0 - halo, 0), min(y1 + halo, h)
    n = b - a
    o0, o1 = y0 - a, y1 - a  # the output rows within the band
    for r in range(a, b):  # row by row, so that each row is keyed while in cache
        _decode_rows(y, u, v, rgbp, ints, dec, r, r + 1, buf, line, a)
        _screen_rows(across, mi0, mi1, mfy, r, r + 1, buf, a)
        _key_pixels(P, ints, lw, r - a, r - a + 1, buf)
    rad = ints[I_GUIDE_R]
    use_tiles = ints[I_TILES] != 0
    nt_ = (w + TILE - 1) // TILE
    sr_ = ints[I_SPILL_R]
    rest = ints[I_EDGE_R] + abs(ints[I_CHOKE]) + ints[I_FEATHER_N] + sr_
    ga, gb = max(o0 - rest, 0), min(o1 + rest, n)  # rows of guided matte that are read
    # 1. Classify tiles from bounds on the guided matte (see _bound_tiles).
    for t in range(nt_):
        tiles[0, t] = T_MIXED
    if use_tiles:
        _bound_tiles(P, ints, buf, line, n, tiles[0], tiles[2])
    # 2. The guide, on the columns within the refinement's reach of each run of mixed tiles.
    done = 0  # columns before this one are computed
    t = 0
    while t < nt_:
        if tiles[0, t] != T_MIXED:
            t += 1
            continue
        # Runs less than GUIDE_GAP tiles apart are computed as one: a call's fixed cost per
        # row and pass outweighs the columns between them.
        t1 = t + 1
        last = t
        while t1 < nt_ and t1 - last <= GUIDE_GAP:
            if tiles[0, t1] == T_MIXED:
                last = t1
            t1 += 1
        t1 = last + 1
        xa, xb = max(t * TILE - rest, done, 0), min(t1 * TILE + rest, w)
        if xb > xa:
            if rad == 0:
                for i in range(ga, gb):
                    buf[B_GUIDED, i, xa:xb] = buf[B_RAW, i, xa:xb]
            else:
                _guide(P, ints, buf, n, ga, gb, xa, xb)
            done = xb
        t = t1
    # 3. Mixed tiles whose guided matte turns out clearly screen or subject through the
    # refinement's reach need no refinement either.
    states = tiles[0]
    lo_s, hi_s = P[P_SCREEN_LO], P[P_SUBJECT_HI]
    for t in range(nt_):
        if not use_tiles or states[t] != T_MIXED:
            continue
        xa, xb = max(t * TILE - rest, 0), min((t + 1) * TILE + rest, w)
        lo, hi = F32(2.0), F32(-1.0)
        for i in range(ga, gb):
            row = buf[B_GUIDED, i, xa:xb]
            for j in range(xb - xa):
                lo = min(lo, row[j])
                hi = max(hi, row[j])
        if hi <= lo_s:
            states[t] = T_SCREEN
        elif lo >= hi_s:
            states[t] = T_SUBJECT
    for t in range(nt_):  # counted per band, for CpuKeyer.tile_counts
        tiles[1, states[t]] += 1
    # 4. Refinement on runs of mixed tiles; the others are exactly 0 or the refined 1.
    one = _refined_one(ints, fw)
    aa, ab = max(o0 - sr_, 0), min(o1 + sr_, n)
    t = 0
    while t < nt_:
        if states[t] != T_MIXED:
            value = F32(0.0) if states[t] == T_SCREEN else one
            xa, xb = t * TILE, min((t + 1) * TILE, w)
            for i in range(aa, ab):
                buf[B_ALPHA, i, xa:xb] = value
            t += 1
            continue
        t1 = t + 1
        while t1 < nt_ and states[t1] == T_MIXED:
            t1 += 1
        xa, xb = t * TILE, min(t1 * TILE, w)
        _refine(P, ints, fw, buf, n, ga, gb, max(xa - sr_, 0), min(xb + sr_, w), aa, ab)
        # The spill gate's reach: the max of 1 − alpha over a square of spill_radius.
        xc, xd = max(xa - sr_, 0), min(xb + sr_, w)
        for i in range(aa, ab):
            s_, d_ = buf[B_ALPHA, i, xc:xd], buf[B_S3, i, xc:xd]
            for j in range(xd - xc):
                d_[j] = F32(1.0) - s_[j]
        _hreduce(buf, B_S3, B_S2, sr_, aa, ab, xa, xb, True)
        _vreduce(buf, B_S2, B_TMP, sr_, o0, o1, xa, xb, n, True)
        t = t1
    # 5. Spill gate, unmix, despill, composite on the output rows.
    lut = line[4, :256]
    _screen_lut(ints, bg_color, lut)
    for i in range(o0, o1):
        yy = a + i
        alpha, near = buf[B_ALPHA, i], buf[B_TMP, i]
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        qr, qg, qb = buf[B_SCR_R, i], buf[B_SCR_G, i], buf[B_SCR_B, i]
        gate0 = buf[B_GATE0, i]
        for t in range(nt_):
            xa, xb = t * TILE, min((t + 1) * TILE, w)
            state = states[t]
            if state == T_SCREEN:
                if ints[I_PREFILLED] == 0:  # else render() wrote the background already
                    _screen_span(ints, bg_color, bg_img, lut, yy, xa, xb, out)
                continue
            for x in range(xa, xb):
                al = alpha[x]
                nr = near[x] if state == T_MIXED else F32(1.0) - al
                _composite_px(
                    P, ints, pr[x], pg[x], pb[x], al, max(gate0[x], nr), qr[x], qg[x], qb[x],
                    bg_color, bg_img, yy, x, out,
                )  # fmt: skip
    # 6. The sink's YUV planes, from the rows just written (still in cache).
    if ints[I_YUV] != 0:
        _rows_to_yuv(out, y0, y1, mat, yp, up, vp, ap)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _sited(ra, rb, xl, xm, xr, k):
    """A 2×2 block's channel k, 0–1: rows averaged, columns weighted 1/4, 1/2, 1/4."""
    top = F32(0.25) * F32(ra[xl, k]) + F32(0.5) * F32(ra[xm, k]) + F32(0.25) * F32(ra[xr, k])
    bot = F32(0.25) * F32(rb[xl, k]) + F32(0.5) * F32(rb[xm, k]) + F32(0.25) * F32(rb[xr, k])
    return F32(0.5) * (top + bot) * F32(1.0 / 255.0)


@njit(nogil=True, cache=True, error_model="numpy")
def _rows_to_yuv(rgb, y0, y1, mat, yp, up, vp, ap):
    """Rows [y0, y1) (y0 even) of the uint8 composite → BT.709 limited-range planes, as the
    sinks store them: Y per pixel; U and V per 2×2 block, its two rows averaged and its columns
    weighted 1/4, 1/2, 1/4 around the even column (H.264's left chroma siting, the one the
    decoder here assumes), edges clamped; straight alpha copied when there is a plane for it."""
    h, w = rgb.shape[0], rgb.shape[1]
    s = F32(1.0 / 255.0)
    for r in range(y0, y1):
        row, yr = rgb[r], yp[r]
        for x in range(w):
            v_ = (
                mat[0] * (F32(row[x, 0]) * s)
                + mat[1] * (F32(row[x, 1]) * s)
                + mat[2] * (F32(row[x, 2]) * s)
            )
            yr[x] = _u8(_clip01(v_ + mat[9]))
        if ap.shape[0] == h:
            ar = ap[r]
            for x in range(w):
                ar[x] = row[x, 3]
    cw = up.shape[1]
    for cr in range(y0 // 2, (y1 + 1) // 2):
        ra, rb = rgb[2 * cr], rgb[min(2 * cr + 1, h - 1)]
        ur, vr = up[cr], vp[cr]
        for cx in range(cw):
            xl, xm, xr = max(2 * cx - 1, 0), 2 * cx, min(2 * cx + 1, w - 1)
            cr_ = _sited(ra, rb, xl, xm, xr, 0)
            cg_ = _sited(ra, rb, xl, xm, xr, 1)
            cb_ = _sited(ra, rb, xl, xm, xr, 2)
            ur[cx] = _u8(_clip01(mat[3] * cr_ + mat[4] * cg_ + mat[5] * cb_ + mat[10]))
            vr[cx] = _u8(_clip01(mat[6] * cr_ + mat[7] * cg_ + mat[8] * cb_ + mat[11]))


@njit(nogil=True, cache=True, error_model="numpy")
def _screen_lut(ints, bg_color, lut):
    """What _emit writes for a pixel of alpha 0, per background byte (an image) or per
    channel (a colour): screen tiles then copy it."""
    kind = ints[I_BG_KIND]
    if kind == BG_RGB:
        s = F32(1.0 / 255.0)
        for c in range(256):
            lut[c] = F32(_u8(_clip01(F32(0.0) + F32(1.0) * (F32(c) * s))))
    elif kind == BG_COLOR:
        for c in range(3):
            lut[c] = F32(_u8(_clip01(F32(0.0) + F32(1.0) * bg_color[c])))


@njit(nogil=True, cache=True, error_model="numpy")
def _screen_span(ints, bg_color, bg_img, lut, yy, xa, xb, out):
    """Pixels [xa, xb) of row yy where alpha is 0: the background as _emit gives it."""
    kind = ints[I_BG_KIND]
    o = out[yy]
    if kind == BG_NONE:
        for x in range(xa, xb):
            o[x, 0] = 0
            o[x, 1] = 0
            o[x, 2] = 0
            o[x, 3] = 0
    elif kind == BG_COLOR and o.shape[1] == 3:
        flat = o.reshape(-1)[3 * xa : 3 * xb]
        c0, c1, c2 = np.uint8(lut[0]), np.uint8(lut[1]), np.uint8(lut[2])
        for j in range(xb - xa):
            flat[3 * j] = c0
            flat[3 * j + 1] = c1
            flat[3 * j + 2] = c2
    elif kind == BG_RGB and o.shape[1] == 3:
        src = bg_img[yy]
        for x in range(xa, xb):
            o[x, 0] = np.uint8(lut[src[x, 0]])
            o[x, 1] = np.uint8(lut[src[x, 1]])
            o[x, 2] = np.uint8(lut[src[x, 2]])
    else:
        for x in range(xa, xb):
            _emit(ints, F32(0.0), F32(0.0), F32(0.0), F32(0.0), bg_color, bg_img, yy, x, out)


@njit(nogil=True, cache=True, error_model="numpy")
def _refined_one(ints, fw):
    """What refinement makes of a matte that is 1 throughout: 1, or the feather's sum of
    taps (rows, then columns, each clipped) — the value a subject tile then takes."""
    fn = ints[I_FEATHER_N]
    if fn == 0:
        return F32(1.0)
    one = F32(1.0)
    for _ in range(2):
        acc = F32(0.0)
        for k in range(2 * fn + 1):
            acc += fw[k] * one
        one = _clip01(acc)
    return one


# Slack for rounding in the guide's bounds (its sums round to 2^-QUANT_BITS and float32).
BOUND_SLACK = 1e-4


@njit(nogil=True, cache=True, error_model="numpy")
def _bound_tiles(P, ints, buf, line, n, states, stats):
    """Tiles whose guided matte is provably clearly screen or clearly subject, from the raw
    matte's and luma's ranges alone, so that neither guide nor refinement runs there.

    Over the windows that reach a pixel x the guided filter gives
    ``g = raw + w̄·(fitted − raw)``, w̄ in [0, 1], ``fitted = mean_k(μp_k + a_k·(I(x) − μI_k))``
    with ``|a_k| = |cov_k| / max(var_k, eps) ≤ σp_k·σI_k / max(σI_k², eps) ≤ σp_k / √eps``
    (Cauchy–Schwarz). With the matte's range Dp and luma's range DI over the region,
    σp ≤ Dp/2 and |I(x) − μI| ≤ DI, so g stays within [min p − B, max p + B] for
    B = Dp·DI / (2·√eps). A tile whose region holds g ≤ SCREEN_LO is screen, exactly, after
    refinement; ≥ SUBJECT_HI, subject (pack_params).
    """
    w = buf.shape[2]
    nt_ = (w + TILE - 1) // TILE
    rad = ints[I_GUIDE_R]
    rest = ints[I_EDGE_R] + abs(ints[I_CHOKE]) + ints[I_FEATHER_N] + ints[I_SPILL_R]
    inv_root = F32(1.0) / F32(np.sqrt(np.float64(P[P_GUIDE_EPS])))
    # Per column over the band (element-wise, so that it vectorises), then per tile: min and
    # max of the raw matte and of luma.
    cplo, cphi, cilo, cihi = line[0, :w], line[1, :w], line[2, :w], line[3, :w]
    cplo[:] = F32(2.0)
    cphi[:] = F32(-1.0)
    cilo[:] = F32(2.0)
    cihi[:] = F32(-1.0)
    for i in range(n):
        pr, ir = buf[B_RAW, i], buf[B_LUMA, i]
        for x in range(w):
            cplo[x] = min(cplo[x], pr[x])
            cphi[x] = max(cphi[x], pr[x])
            cilo[x] = min(cilo[x], ir[x])
            cihi[x] = max(cihi[x], ir[x])
    for t in range(nt_):
        xa, xb = t * TILE, min((t + 1) * TILE, w)
        plo, phi, ilo, ihi = F32(2.0), F32(-1.0), F32(2.0), F32(-1.0)
        for x in range(xa, xb):
            plo = min(plo, cplo[x])
            phi = max(phi, cphi[x])
            ilo = min(ilo, cilo[x])
            ihi = max(ihi, cihi[x])
        stats[4 * t] = np.int64(plo * F32(2**30))
        stats[4 * t + 1] = np.int64(phi * F32(2**30)) + 1
        stats[4 * t + 2] = np.int64(ilo * F32(2**30))
        stats[4 * t + 3] = np.int64(ihi * F32(2**30)) + 1
    k = (rest + 2 * rad + TILE - 1) // TILE
    scale = F32(1.0 / 2**30)
    for t in range(nt_):
        plo, phi, ilo, ihi = stats[4 * t], stats[4 * t + 1], stats[4 * t + 2], stats[4 * t + 3]
        for u_ in range(max(t - k, 0), min(t + k + 1, nt_)):
            plo = min(plo, stats[4 * u_])
            phi = max(phi, stats[4 * u_ + 1])
            ilo = min(ilo, stats[4 * u_ + 2])
            ihi = max(ihi, stats[4 * u_ + 3])
        pl, ph = F32(plo) * scale, F32(phi) * scale
        bound = F32(BOUND_SLACK)
        if rad > 0:
            bound += (ph - pl) * (F32(ihi - ilo) * scale) * F32(0.5) * inv_root
        if ph + bound <= P[P_SCREEN_LO]:
            states[t] = T_SCREEN
        elif pl - bound >= P[P_SUBJECT_HI]:
            states[t] = T_SUBJECT


def _key_frame(
    y, u, v, rgbp, across, mi0, mi1, mfy,
    P, ints, dec, lw, fw, bg_color, bg_img, out, mat, yp, up, vp, ap,
    scratch, lines, tiles, band_rows,
):  # fmt: skip
    """The whole frame: bands of ``band_rows`` rows, dealt round-robin to the scratch's workers.

    Compiled once for _SIGNATURE by :func:`kernel` (inputs as read-only arrays of any
    layout, so that padded planes and read-only backgrounds need no second compilation).
    """
    h = out.shape[0]
    nb = (h + band_rows - 1) // band_rows
    workers = scratch.shape[0]
    for wi in range(workers):
        tiles[wi, 1, :3] = 0
    for wi in prange(workers):
        for band in range(wi, nb, workers):
            y0 = band * band_rows
            _band(
                y, u, v, rgbp, across, mi0, mi1, mfy,
                P, ints, dec, lw, fw, bg_color, bg_img, out, mat, yp, up, vp, ap,
                scratch[wi], lines[wi], tiles[wi],
                y0, min(y0 + band_rows, h),
            )  # fmt: skip


# --- the keyer ----------------------------------------------------------------------------


def _ramp(e0: float, e1: float) -> tuple[float, float]:
    """(e0, 1/(e1 − e0)) as cpu.soft_step computes them; −1 marks a hard step."""
    if e1 - e0 < cpu.MIN_RAMP:
        return float(F32(e0)), -1.0
    return float(F32(e0)), float(F32(1.0 / (e1 - e0)))


def pack_params(p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float32 vector, int64 vector, feather taps) of ``p`` for the kernels."""
    f = np.zeros(N_PARAMS, np.float64)
    f[P_HUE_CENTER] = F32(p.hue_center)
    f[P_HUE_HALF] = F32(p.hue_width / 2.0)
    f[P_HUE_E0], f[P_HUE_INV] = _ramp(0.0, p.hue_softness)
    f[P_SAT_E0], f[P_SAT_INV] = _ramp(p.sat_min - p.sat_softness, p.sat_min)
    f[P_DARK_E0], f[P_DARK_INV] = _ramp(0.5 * p.dark_guard, p.dark_guard)
    f[P_BRIGHT_E0], f[P_BRIGHT_INV] = _ramp(p.bright_guard, 1.0)
    f[P_EDGE_E0], f[P_EDGE_INV] = _ramp(0.5 * p.edge_tolerance, p.edge_tolerance)
    f[P_WEAK_E0], f[P_WEAK_INV] = _ramp(p.sat_min, p.sat_min + p.sat_softness)
    f[P_CLIP_BLACK] = F32(p.clip_black)
    f[P_CLIP_INV] = F32(1.0 / (p.clip_white - p.clip_black))
    f[P_GUIDE_EPS] = F32(p.guide_eps)
    f[P_SPILL] = F32(p.spill)
    # A guided matte at most SCREEN_LO through the refinement's reach refines to exactly 0:
    # the edge test sees a spread ≤ edge_tolerance/2 (weight 0) and clip_black clips it.
    # At least SUBJECT_HI, it refines to exactly 1 the same way.
    f[P_SCREEN_LO] = F32(min(p.clip_black, 0.5 * p.edge_tolerance))
    f[P_SUBJECT_HI] = _subject_floor(p, f[P_EDGE_E0], f[P_CLIP_BLACK], f[P_CLIP_INV])
    ints = np.zeros(N_INTS, np.int64)
    ints[I_KEY] = cpu.key_channel(p)
    ints[I_GUIDE_R] = p.guide_radius
    ints[I_CHOKE] = p.choke
    taps = cpu.gaussian_weights(p.feather) if p.feather > 0 else np.ones(1, F32)
    ints[I_FEATHER_N] = len(taps) // 2
    ints[I_SPILL_R] = p.spill_radius
    ints[I_EDGE_R] = cpu.EDGE_RADIUS
    ints[I_HALO] = halo(p)
    return f.astype(F32), ints, taps.astype(F32)


def _subject_floor(p: KeyerParams, e0: float, black: float, inv: float) -> float:
    """The smallest float32 s with 1 − s ≤ e0 and (s − clip_black)·inv ≥ 1 in float32
    arithmetic: a guided matte of at least s through the reach refines to exactly 1."""
    s = F32(max(p.clip_white, 1.0 - 0.5 * p.edge_tolerance))
    e0, black, inv = F32(e0), F32(black), F32(inv)
    while s < F32(1.0) and (F32(1.0) - s > e0 or (s - black) * inv < F32(1.0)):
        s = np.nextafter(s, F32(2.0), dtype=F32)
    return float(s)


def halo(p: KeyerParams) -> int:
    """Rows of context a band needs: the reach of every neighbourhood stage, added up."""
    feather = math.ceil(p.feather) if p.feather > 0 else 0
    return 2 * p.guide_radius + cpu.EDGE_RADIUS + abs(p.choke) + feather + p.spill_radius


def _decode_constants(frame: Frame) -> np.ndarray:
    """cpu._decode_yuv's float32 constants: (ys, y offset, 1/255, u off, v off, m02, m11, m12, m21)."""
    spec = frame.yuv if frame.yuv is not None else YuvSpec()
    m, off = spec.to_rgb()
    m = m.astype(F32)
    s = F32(1.0 / 255.0)
    return np.array(
        [s * m[0, 0], F32(m[0, 0] * off[0]), s, F32(off[1]), F32(off[2]),
         m[0, 2], m[1, 1], m[1, 2], m[2, 1]],
        F32,
    )  # fmt: skip


_U8_2D = np.zeros((1, 1), np.uint8)
_U8_2D_OUT = np.zeros((1, 1), np.uint8)  # "no plane" for the kernel's outputs
_U8_3D = np.zeros((1, 1, 3), np.uint8)


def _yuv_matrix() -> np.ndarray:
    """YuvImage's RGB → YUV (0–1 units): the 3×3 matrix by rows, then the offsets."""
    m, off = YuvImage.SPEC.from_rgb()
    return np.concatenate([m.reshape(-1), off]).astype(F32)


_TO_YUV = _yuv_matrix()
_NO_COLOR = np.zeros(3, F32)


def _alpha0_bytes() -> np.ndarray:
    """_screen_lut's table for an image background, in the same float32 operations."""
    c = np.arange(256, dtype=F32) * F32(1.0 / 255.0)
    v = np.clip(F32(0.0) + F32(1.0) * c, F32(0.0), F32(1.0))
    return (v * F32(255.0) + F32(0.5)).astype(np.uint8)


# Whether a pixel of alpha 0 over an image shows the image's byte unchanged (it does in
# float32, but the kernels' arithmetic decides, not an assumption).
_IMAGE_BYTES_KEPT = bool((_alpha0_bytes() == np.arange(256)).all())


def _prefill(out: np.ndarray, kind: int, bg_color: np.ndarray, bg_img: np.ndarray) -> int:
    """Write what a pixel of alpha 0 shows into every pixel of ``out``; 1 if done (the
    kernel then skips screen tiles), 0 where only the kernel can say (a background with
    alpha of its own)."""
    if kind == BG_NONE:
        out.fill(0)
    elif kind == BG_COLOR:
        v = np.clip(F32(0.0) + F32(1.0) * bg_color.astype(F32), F32(0.0), F32(1.0))
        px = np.full(out.shape[2], 255, np.uint8)
        px[:3] = (v * F32(255.0) + F32(0.5)).astype(np.uint8)
        out[0] = px
        out[1:] = out[0]  # row by row: contiguous copies
    elif kind == BG_RGB and _IMAGE_BYTES_KEPT and out.shape[2] == 3:
        np.copyto(out, bg_img)
    else:
        return 0
    return 1


class CpuKeyer:
    """The CPU path: numba kernels on numba's threads; the same interface as GpuKeyer.

    ``tiles=False`` computes every stage on every pixel (the tests' proof that skipping
    plain screen and plain subject changes nothing); ``band_rows`` sets the rows a band aims
    at (the output does not depend on it, which the tests check too).
    """

    backend = "cpu"

    def __init__(
        self, params: KeyerParams, *, tiles: bool = True, band_rows: int = BAND_ROWS
    ) -> None:
        self.params = params
        self.tiles = tiles
        self.band_rows = max(2, int(band_rows))
        self._packed = pack_params(params)
        self._workers = max(1, cpu.cpu_workers())
        self._scratch: np.ndarray | None = None
        self._tiles = np.zeros((1, 3, 4), np.int64)
        self._rgb = np.zeros((0, 0, 3), np.uint8)
        self._lines = np.zeros((1, 5, 256), F32)
        kernel()

    def set_params(self, params: KeyerParams) -> None:
        self.params = params
        self._packed = pack_params(params)

    # What render() can hand a sink as it stores it (Sink.pixel_format).
    pixel_formats = frozenset({"rgb24", "rgba", "yuv420p", "yuva420p"})

    def render(
        self,
        frame: Frame,
        screen: ScreenMap | np.ndarray,
        background: np.ndarray | None,
        *,
        pixel_format: str | None = None,
    ) -> np.ndarray | YuvImage:
        """uint8 H×W×3 over ``background`` ((3,) colour or H×W×3/4 image), or H×W×4 if None.

        ``pixel_format="rgba"`` makes an opaque composite H×W×4 too (alpha 255);
        ``pixel_format="yuv420p"`` (an opaque composite) or ``"yuva420p"`` (a transparent
        one) returns the encoder's planes instead, made in the same pass (:func:`_rows_to_yuv`);
        for any other combination the uint8 image.
        """
        P, ints, fw = self._packed
        ints = ints.copy()
        h, w = frame.height, frame.width
        ints[I_TILES] = 1 if self.tiles else 0
        bg_color, bg_img = _NO_COLOR, _U8_3D
        if background is None:
            kind, channels = BG_NONE, 4
        else:
            bg = np.asarray(background)
            if bg.ndim == 1:
                kind, channels, bg_color = BG_COLOR, 3, bg.astype(F32).reshape(3)
            else:
                if bg.dtype != np.uint8:
                    bg = cpu.to_uint8(np.clip(bg, 0.0, 1.0).astype(F32))
                kind = BG_RGBA if bg.shape[-1] == 4 else BG_RGB
                channels = 4 if kind == BG_RGBA else 3
                bg_img = bg
        if pixel_format == "rgba" and channels == 3:
            channels = 4  # opaque, with alpha 255: what an RGBA texture takes as it is
        ints[I_BG_KIND] = kind
        if frame.layout == "rgb":
            ints[I_LAYOUT] = LAYOUT_RGB
            yplane = uplane = vplane = _U8_2D
            rgbp = frame.planes[0]
            lw = cpu.BT709_LUMA
        else:
            ints[I_LAYOUT] = LAYOUT_YUV
            yplane, uplane, vplane = frame.planes
            rgbp = _U8_3D
            ints[I_FX], ints[I_FY] = frame.chroma_factors
            lw = cpu.luma_weights(frame)
        dec = _decode_constants(frame)
        smap = ScreenMap.of(screen)
        rows, cols = smap.shape
        mi0, mi1, mfy = cpu.map_axis(h, smap.cell, rows)
        mj0, mj1, mfx = cpu.map_axis(w, smap.cell, cols)
        across = screen_across(smap.colors, mj0, mj1, mfx)
        yuv = (pixel_format == "yuv420p" and channels == 3) or (
            pixel_format == "yuva420p" and kind == BG_NONE
        )
        if yuv:
            ints[I_YUV] = 1
            out = self._composite_scratch(h, w, channels)
            ch = ((h + 1) // 2, (w + 1) // 2)
            yp, up, vp = np.empty((h, w), np.uint8), np.empty(ch, np.uint8), np.empty(ch, np.uint8)
            ap = np.empty((h, w), np.uint8) if channels == 4 else _U8_2D_OUT
            planes = (yp, up, vp, ap)
        else:
            out = np.empty((h, w, channels), np.uint8)
            planes = (_U8_2D_OUT,) * 4
        band_rows = self._band_rows(h)
        scratch, lines, tiles = self._buffers(h, w, band_rows + 2 * int(ints[I_HALO]))
        if self.tiles:  # screen tiles then only skip: a streaming copy beats per-pixel stores
            ints[I_PREFILLED] = _prefill(out, kind, bg_color, bg_img)
        with _KERNEL_LOCK:  # numba's threads are one pool per process: one frame at a time
            kernel()(
                yplane, uplane, vplane, rgbp, across, mi0, mi1, mfy, P, ints, dec, lw, fw,
                bg_color, bg_img, out, _TO_YUV, *planes, scratch, lines, tiles, band_rows,
            )  # fmt: skip
        if yuv:
            return YuvImage(planes[0], planes[1], planes[2], planes[3] if channels == 4 else None)
        return out

    def _composite_scratch(self, h: int, w: int, channels: int) -> np.ndarray:
        """The RGB(A) composite the YUV planes are made from, kept between frames."""
        if self._rgb.shape != (h, w, channels):
            self._rgb = np.empty((h, w, channels), np.uint8)
        return self._rgb

    def warm(self, width: int, height: int) -> None:
        """Key one blank frame of this size, so that the first real frame does not pay for
        allocating and faulting in the scratch (a live view's first frame would be late)."""
        blank = Frame.from_rgb(np.zeros((max(height, 1), max(width, 1), 3), np.uint8))
        self.render(blank, np.array([0.0, 0.5, 0.0], F32), None)

    @property
    def tile_counts(self) -> dict[str, int]:
        """Tiles of the last frame (counted once per band) by what they needed: ``mixed`` the
        whole chain, ``screen`` only the background, ``subject`` only despill."""
        c = self._tiles[:, 1, :3].sum(axis=0) if self._tiles.shape[2] >= 3 else np.zeros(3, int)
        return {"mixed": int(c[T_MIXED]), "screen": int(c[T_SCREEN]), "subject": int(c[T_SUBJECT])}

    def _band_rows(self, h: int) -> int:
        """About BAND_ROWS rows a band, in a whole number of bands per worker (even load); even,
        so that a band holds whole rows of 4:2:0 chroma."""
        bands = max(1, round(h / self.band_rows / self._workers)) * self._workers
        rows = max(1, -(-h // bands))
        return rows + (rows % 2)

    def _buffers(self, h: int, w: int, rows: int) -> tuple[np.ndarray, ...]:
        """Per-worker scratch, kept between frames (faulting it in anew costs more than keying)."""
        rows = min(rows, h)
        s = self._scratch
        if s is None or s.shape[2] < rows or s.shape[3] != w:
            k = self._workers
            self._scratch = np.zeros((k, N_BUFFERS, rows, w), F32)
            self._lines = np.zeros((k, 5, max(w + 1, 256)), F32)
            self._tiles = np.zeros((k, 3, 4 * ((w + TILE - 1) // TILE)), np.int64)
        return self._scratch, self._lines, self._tiles

    def close(self) -> None:
        self._scratch = None


def _readonly(dtype: Any, ndim: int, layout: str = "A") -> Any:
    return nt.Array(dtype, ndim, layout, readonly=True)


_SIGNATURE = nt.void(
    _readonly(nt.uint8, 2), _readonly(nt.uint8, 2), _readonly(nt.uint8, 2),  # y, u, v
    _readonly(nt.uint8, 3),  # rgb plane
    _readonly(nt.float32, 3),  # the screen map across x
    _readonly(nt.int64, 1), _readonly(nt.int64, 1), _readonly(nt.float32, 1),  # map rows
    _readonly(nt.float32, 1), _readonly(nt.int64, 1), _readonly(nt.float32, 1),  # P, ints, dec
    _readonly(nt.float32, 1), _readonly(nt.float32, 1), _readonly(nt.float32, 1),  # lw, fw, bg
    _readonly(nt.uint8, 3),  # background image
    nt.Array(nt.uint8, 3, "C"),  # out
    _readonly(nt.float32, 1),  # RGB → YUV matrix and offsets
    *(nt.Array(nt.uint8, 2, "C") for _ in range(4)),  # Y, U, V, A planes out
    nt.Array(nt.float32, 4, "C"), nt.Array(nt.float32, 3, "C"), nt.Array(nt.int64, 3, "C"),
    nt.int64,
)  # fmt: skip

_kernel: Any = None
_KERNEL_LOCK = threading.Lock()
compile_seconds_taken: float | None = None  # what kernel() took: compiling or loading


def kernel() -> Any:
    """The compiled frame kernel: compiled on first use (a line on a terminal says so) and
    cached on disk by numba, so that later processes only load it."""
    global _kernel, compile_seconds_taken
    if _kernel is None:
        cached = _is_cached()
        if not cached and sys.stderr.isatty():
            print("chromakey: compiling the CPU kernels (first run only)…", file=sys.stderr)
        t = time.perf_counter()
        _kernel = njit(_SIGNATURE, parallel=True, nogil=True, cache=True, error_model="numpy")(
            _key_frame
        )
        screen_across(np.zeros((1, 1, 3), F32), np.zeros(1, np.int64), np.zeros(1, np.int64),
                      np.zeros(1, F32))  # fmt: skip
        compile_seconds_taken = time.perf_counter() - t
    return _kernel


def _is_cached() -> bool:
    """Whether numba has an index for the kernel on disk (best effort: numba's own cache API)."""
    try:
        from numba.core.caching import FunctionCache

        return Path(FunctionCache(_key_frame)._cache_file._index_path).exists()
    except Exception:  # noqa: BLE001 - an answer either way only changes one message
        return False
