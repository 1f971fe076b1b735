"""Matte refinement on mixed tiles: edge test, clip, the local colour model, choke, feather."""

from __future__ import annotations

import numpy as np
from numba import njit

from ..param_table import (
    I_CHOKE,
    I_EDGE_R,
    I_FEATHER_N,
    I_KEY,
    I_NEAR,
    P_CLIP_BLACK,
    P_CLIP_INV,
    P_EDGE_E0,
    P_EDGE_INV,
)
from .colour_model import _R as COLOUR_R
from .colour_model import _clear_sums, _colour_model_row, _colour_weights
from .common import (
    B_ALPHA,
    B_GUIDED,
    B_LW,
    B_S0,
    B_S1,
    B_S2,
    B_S3,
    B_TMP,
    F32,
    Real,
    _clamped,
    _clip01,
    _soft_step,
)
from .windows import _hreduce, _vreduce


@njit(nogil=True, cache=True, error_model="numpy")
def _refine(
    P: np.ndarray,
    ints: np.ndarray,
    fw: np.ndarray,
    buf: np.ndarray,
    line: np.ndarray,
    n: int,
    y0: int,
    y1: int,
    xa: int,
    xb: int,
    ya: int,
    yb: int,
) -> None:
    """Edge test, clip, colour model (cpu.colour_model_matte), choke, feather on rows
    [ya, yb) × [xa, xb) (guided matte valid on [y0, y1) ⊇ reach; the band's colours and raw
    matte on every row the colour model reaches)."""
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
    xc, xd = max(xa2 - COLOUR_R, 0), min(xb2 + COLOUR_R, w)
    _colour_weights(buf, max(ea - COLOUR_R, 0), min(eb + COLOUR_R, n), xc, xd)
    nr = ints[I_NEAR]
    _clear_sums(buf, line, max(ea - nr, 0), min(eb + nr, n), xc, xd, nr)
    for i in range(ea, eb):
        g_, hi_, lo_ = buf[B_GUIDED, i, xa2:xb2], buf[B_S2, i, xa2:xb2], buf[B_S3, i, xa2:xb2]
        out, lw_ = buf[B_ALPHA, i, xa2:xb2], buf[B_LW, i, xa2:xb2]
        for j in range(m):
            al = g_[j]
            edge = _soft_step(ee, ei, hi_[j] - lo_[j])
            clipped = _clip01((al - cbk) * cinv)
            out[j] = clipped + edge * (al - clipped)
            lw_[j] = F32(0.0)  # the colour model sets it at the partial pixels
        _colour_model_row(buf, line, n, i, xa2, out, w, ints[I_KEY], nr)
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


@njit(nogil=True, cache=True, error_model="numpy")
def _refined_one(ints: np.ndarray, fw: np.ndarray) -> Real:
    """What refinement makes of a matte that is 1 throughout: 1, or the feather's sum of
    taps (rows, then columns, each clipped) — the value a subject tile then takes."""
    fn = ints[I_FEATHER_N]
    if fn == 0:
        return F32(1.0)
    one: Real = F32(1.0)
    for _ in range(2):
        acc: Real = F32(0.0)
        for k in range(2 * fn + 1):
            acc += fw[k] * one
        one = _clip01(acc)
    return one
