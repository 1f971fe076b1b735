"""The local colour model (cpu.colour_model_matte) inside the refinement's clip loop.

The window sums of the solid weight and its colours are column sums kept running down the
rows (one vector update a row), and the row half is added only at the pixels the clip
leaves partial: those are few, and most of a mixed tile's pixels never need their sums.
"""

import numpy as np
from numba import njit

from .. import reference as cpu
from .common import (
    B_B,
    B_CB,
    B_CG,
    B_CR,
    B_CW,
    B_G,
    B_R,
    B_RAW,
    B_SCR_B,
    B_SCR_G,
    B_SCR_R,
    F32,
    L_CB,
    L_CG,
    L_CR,
    L_CW,
    _clamped,
    _soft_step,
)

_R = cpu.COLOUR_RADIUS


def _ramp(e0: float, e1: float) -> tuple[F32, F32]:
    return F32(e0), F32(1.0 / (e1 - e0))


_SOLID = _ramp(*cpu.COLOUR_SOLID)
_SUPPORT = _ramp(*cpu.COLOUR_SUPPORT)
_SPREAD = _ramp(*cpu.COLOUR_SPREAD)
_RESIDUAL = _ramp(*cpu.COLOUR_RESIDUAL)
_MIX = F32(cpu.COLOUR_MIX)
_PARTIAL = _ramp(0.0, cpu.COLOUR_PARTIAL)
_TINY = F32(1e-6)


@njit(nogil=True, cache=True, error_model="numpy")
def _colour_weights(buf, ca, cb, xc, xd):
    """The solid weight and weight × colour of rows [ca, cb) × columns [xc, xd)."""
    e0, inv = _SOLID
    m = xd - xc
    for i in range(ca, cb):
        raw = buf[B_RAW, i, xc:xd]
        r, g, b = buf[B_R, i, xc:xd], buf[B_G, i, xc:xd], buf[B_B, i, xc:xd]
        cw, cr = buf[B_CW, i, xc:xd], buf[B_CR, i, xc:xd]
        cg, cb_ = buf[B_CG, i, xc:xd], buf[B_CB, i, xc:xd]
        for j in range(m):
            wt = _soft_step(e0, inv, raw[j])
            cw[j] = wt
            cr[j] = wt * r[j]
            cg[j] = wt * g[j]
            cb_[j] = wt * b[j]


@njit(nogil=True, cache=True, error_model="numpy")
def _colour_columns(buf, line, n, i, first, xc, xd):
    """line's running column sums moved to row i (from row i − 1, or from scratch)."""
    m = xd - xc
    sw, sr, sg, sb = line[L_CW, xc:xd], line[L_CR, xc:xd], line[L_CG, xc:xd], line[L_CB, xc:xd]
    if first:
        for j in range(m):
            sw[j] = F32(0.0)
            sr[j] = F32(0.0)
            sg[j] = F32(0.0)
            sb[j] = F32(0.0)
        for k in range(-_R, _R + 1):
            q = _clamped(i + k, n)
            cw, cr = buf[B_CW, q, xc:xd], buf[B_CR, q, xc:xd]
            cg, cb_ = buf[B_CG, q, xc:xd], buf[B_CB, q, xc:xd]
            for j in range(m):
                sw[j] += cw[j]
                sr[j] += cr[j]
                sg[j] += cg[j]
                sb[j] += cb_[j]
        return
    q, o = _clamped(i + _R, n), _clamped(i - _R - 1, n)
    aw, ar, ag, ab = buf[B_CW, q, xc:xd], buf[B_CR, q, xc:xd], buf[B_CG, q, xc:xd], buf[B_CB, q, xc:xd]
    ow, or_ = buf[B_CW, o, xc:xd], buf[B_CR, o, xc:xd]
    og, ob = buf[B_CG, o, xc:xd], buf[B_CB, o, xc:xd]
    for j in range(m):
        sw[j] += aw[j] - ow[j]
        sr[j] += ar[j] - or_[j]
        sg[j] += ag[j] - og[j]
        sb[j] += ab[j] - ob[j]


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _colour_model_px(buf, line, i, x, w, al):
    """cpu.colour_model_matte at one partial pixel of row i (al: its clipped matte)."""
    sw, sr, sg, sb = F32(0.0), F32(0.0), F32(0.0), F32(0.0)
    for k in range(-_R, _R + 1):
        c = _clamped(x + k, w)
        sw += line[L_CW, c]
        sr += line[L_CR, c]
        sg += line[L_CG, c]
        sb += line[L_CB, c]
    d = max(sw, _TINY)
    qr, qg, qb = buf[B_SCR_R, i, x], buf[B_SCR_G, i, x], buf[B_SCR_B, i, x]
    lr, lg, lb = sr / d - qr, sg / d - qg, sb / d - qb
    spread = lr * lr + lg * lg + lb * lb
    pr, pg, pb = buf[B_R, i, x] - qr, buf[B_G, i, x] - qg, buf[B_B, i, x] - qb
    a = (pr * lr + pg * lg + pb * lb) / max(spread, _TINY)
    a = min(max(a, F32(0.0)), F32(1.0))
    fr, fg, fb = pr - a * lr, pg - a * lg, pb - a * lb
    residual = np.sqrt(fr * fr + fg * fg + fb * fb)
    trust = _soft_step(_SUPPORT[0], _SUPPORT[1], sw) * _soft_step(_SPREAD[0], _SPREAD[1], spread)
    trust *= (F32(1.0) - _soft_step(_RESIDUAL[0], _RESIDUAL[1], residual)) * _MIX
    partial = _soft_step(_PARTIAL[0], _PARTIAL[1], al)
    partial *= _soft_step(_PARTIAL[0], _PARTIAL[1], F32(1.0) - al)
    return al + trust * partial * (a - al)
