"""The still hold's play in the kernels: cpu.motion_speed, cpu.colour_change and
cpu.hold_play on a mixed run, from the pixels' input bytes (cpu.pixel_samples).

The speed is the normal flow over a window of MOTION_REACH: each pixel's terms (|g|², g·dt
along x and y, over the channels), their sums along rows, then down the columns at the run's
own rows. Every term is a multiple of ¼ and every sum below 2²⁴: exact in float32, in any
order, as in the reference and the shaders.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import reference as cpu
from ..param_table import I_FX, I_FY, I_LAYOUT, P_HOLD
from .common import (
    B_ALPHA,
    B_HG,
    B_HOLD,
    B_HX,
    B_HY,
    B_MG,
    B_MX,
    B_MY,
    B_P0,
    B_P1,
    B_P2,
    B_Q0,
    B_Q1,
    B_Q2,
    F32,
    LAYOUT_RGB,
    Real,
)

_MR = cpu.MOTION_REACH
_STILL = F32(cpu.MOTION_STILL)
_SPAN = F32(cpu.MOTION_MOVING - cpu.MOTION_STILL)
_EPS = F32(cpu.MOTION_EPS)
_C_STILL = F32(cpu.COLOUR_STILL)
_C_SPAN = F32(cpu.COLOUR_MOVING - cpu.COLOUR_STILL)
_C_MOVING = F32(cpu.COLOUR_MOVING)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _samples(
    ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray, yy: int,
    x0: int, x1: int, o0: np.ndarray, o1: np.ndarray, o2: np.ndarray,
) -> None:  # fmt: skip
    """cpu.pixel_samples of row ``yy``, columns [x0, x1), into ``o0``…``o2`` (as floats)."""
    if ints[I_LAYOUT] == LAYOUT_RGB:
        row = rgbp[yy]
        for x in range(x0, x1):
            o0[x], o1[x], o2[x] = F32(row[x, 0]), F32(row[x, 1]), F32(row[x, 2])
        return
    yr = y[yy]
    cy = yy // ints[I_FY]
    ur, vr = u[cy], v[cy]
    for x in range(x0, x1):
        o0[x] = F32(yr[x])
    if ints[I_FX] == 2:
        for x in range(x0, x1):
            o1[x], o2[x] = F32(ur[x >> 1]), F32(vr[x >> 1])
    else:
        for x in range(x0, x1):
            o1[x], o2[x] = F32(ur[x]), F32(vr[x])


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _term(
    buf: np.ndarray, i: int, im: int, ip: int, x: int, xm: int, xp: int
) -> tuple[np.float32, np.float32, np.float32]:  # fmt: skip
    """Pixel (i, x)'s terms over the channels: |g|², g·dt along x, along y."""
    sg, sx, sy = F32(0.0), F32(0.0), F32(0.0)
    for c in range(3):
        q = buf[B_Q0 + c]
        gx = (q[i, xp] - q[i, xm]) * F32(0.5)
        gy = (q[ip, x] - q[im, x]) * F32(0.5)
        dt = q[i, x] - buf[B_P0 + c, i, x]
        sg += gx * gx + gy * gy
        sx += gx * dt
        sy += gy * dt
    return sg, sx, sy


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _terms(buf: np.ndarray, i: int, im: int, ip: int, xc: int, xd: int, w: int) -> None:
    """Row i's terms over columns [xc, xd) into B_MG, B_MX, B_MY: the columns inside the
    picture's edges in one loop the compiler vectorises, the edge columns (clamped) apart."""
    mg, mx, my = buf[B_MG, i], buf[B_MX, i], buf[B_MY, i]
    q0, q1, q2 = buf[B_Q0, i], buf[B_Q1, i], buf[B_Q2, i]
    u0, u1, u2 = buf[B_Q0, im], buf[B_Q1, im], buf[B_Q2, im]
    d0, d1, d2 = buf[B_Q0, ip], buf[B_Q1, ip], buf[B_Q2, ip]
    p0, p1, p2 = buf[B_P0, i], buf[B_P1, i], buf[B_P2, i]
    x0, x1 = max(xc, 1), min(xd, w - 1)
    for x in range(x0, x1):
        gx0, gy0 = (q0[x + 1] - q0[x - 1]) * F32(0.5), (d0[x] - u0[x]) * F32(0.5)
        gx1, gy1 = (q1[x + 1] - q1[x - 1]) * F32(0.5), (d1[x] - u1[x]) * F32(0.5)
        gx2, gy2 = (q2[x + 1] - q2[x - 1]) * F32(0.5), (d2[x] - u2[x]) * F32(0.5)
        t0, t1, t2 = q0[x] - p0[x], q1[x] - p1[x], q2[x] - p2[x]
        mg[x] = (gx0 * gx0 + gy0 * gy0) + (gx1 * gx1 + gy1 * gy1) + (gx2 * gx2 + gy2 * gy2)
        mx[x] = gx0 * t0 + gx1 * t1 + gx2 * t2
        my[x] = gy0 * t0 + gy1 * t1 + gy2 * t2
    for x in (xc, xd - 1):
        if (x < x0 or x >= x1) and xc <= x < xd:
            mg[x], mx[x], my[x] = _term(buf, i, im, ip, x, max(x - 1, 0), min(x + 1, w - 1))


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _own_change(
    ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray,
    qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray, yy: int, x: int,
) -> np.float32:  # fmt: skip
    """cpu.colour_change at pixel (yy, x): the most its input bytes moved since last frame."""
    if ints[I_LAYOUT] == LAYOUT_RGB:
        d = F32(0.0)
        for c in range(3):
            d = max(d, abs(F32(rgbp[yy, x, c]) - F32(qrgb[yy, x, c])))
        return d
    cy, cx = yy // ints[I_FY], x // ints[I_FX]
    d = abs(F32(y[yy, x]) - F32(qy[yy, x]))
    d = max(d, abs(F32(u[cy, cx]) - F32(qu[cy, cx])))
    return max(d, abs(F32(v[cy, cx]) - F32(qv[cy, cx])))


@njit(nogil=True, cache=True, error_model="numpy")
def _hold_play(
    P: np.ndarray, ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray,
    qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray,
    buf: np.ndarray, a: int, n: int, one: Real, o0: int, o1: int, xa: int, xb: int,
) -> None:  # fmt: skip
    """The play (levels) of the partial pixels of rows [o0, o1), columns [xa, xb) of the band
    (rows from ``a``; ``n`` rows) into B_HOLD, from this frame's input planes and the
    previous frame's (``qy``…``qrgb``). A band's rows either side of its own reach the
    picture's edge before the band's (its halo is wider than MOTION_REACH + 1), so clamping
    at the band's rows clamps at the picture's."""
    w = buf.shape[2]
    r = _MR
    # Only the rows and columns within MOTION_REACH of a partial pixel of the run need terms,
    # and only of one whose own bytes moved less than COLOUR_MOVING: the others' play is 0
    # whatever their speed (camera noise: most of them).
    lo, hi, first, last = n, -1, w, -1
    for i in range(o0, o1):
        alpha, play = buf[B_ALPHA, i], buf[B_HOLD, i]
        for x in range(xa, xb):
            if alpha[x] > F32(0.0) and alpha[x] < one:
                if _own_change(ints, y, u, v, rgbp, qy, qu, qv, qrgb, a + i, x) >= _C_MOVING:
                    play[x] = F32(0.0)
                    continue
                lo, hi = min(lo, i), max(hi, i)
                first, last = min(first, x), max(last, x)
    if hi < 0:
        return
    xa, xb = first, last + 1
    ha, hb = max(lo - r, 0), min(hi + 1 + r, n)  # rows of terms
    xc, xd = max(xa - r, 0), min(xb + r, w)  # columns of terms
    sa, sb = max(xc - 1, 0), min(xd + 1, w)  # columns of bytes
    for i in range(max(ha - 1, 0), min(hb + 1, n)):
        _samples(ints, y, u, v, rgbp, a + i, sa, sb, buf[B_Q0, i], buf[B_Q1, i], buf[B_Q2, i])
        _samples(ints, qy, qu, qv, qrgb, a + i, sa, sb, buf[B_P0, i], buf[B_P1, i], buf[B_P2, i])
    for i in range(ha, hb):
        im, ip = max(i - 1, 0), min(i + 1, n - 1)
        _terms(buf, i, im, ip, xc, xd, w)
        mg, mx, my = buf[B_MG, i], buf[B_MX, i], buf[B_MY, i]
        # Sums along the row: a sliding window (exact: whole multiples of ¼).
        hg, hx, hy = buf[B_HG, i], buf[B_HX, i], buf[B_HY, i]
        sg, sx, sy = F32(0.0), F32(0.0), F32(0.0)
        for j in range(max(xa - r, 0), min(xa + r, w - 1) + 1):
            sg += mg[j]
            sx += mx[j]
            sy += my[j]
        for x in range(xa, xb):
            hg[x], hx[x], hy[x] = sg, sx, sy
            if x + r + 1 < w:
                sg += mg[x + r + 1]
                sx += mx[x + r + 1]
                sy += my[x + r + 1]
            if x - r >= 0:
                sg -= mg[x - r]
                sx -= mx[x - r]
                sy -= my[x - r]
    most = F32(P[P_HOLD] * F32(255.0))
    for i in range(lo, hi + 1):
        play, alpha = buf[B_HOLD, i], buf[B_ALPHA, i]
        for x in range(xa, xb):
            al = alpha[x]
            if al <= F32(0.0) or al >= one:  # plain: no play to find
                continue
            sg, sx, sy = F32(0.0), F32(0.0), F32(0.0)
            for j in range(max(i - r, 0), min(i + r + 1, n)):
                sg += buf[B_HG, j, x]
                sx += buf[B_HX, j, x]
                sy += buf[B_HY, j, x]
            speed = np.sqrt(sx * sx + sy * sy) / (sg + _EPS)
            ramp = min(max((speed - _STILL) / _SPAN, F32(0.0)), F32(1.0))
            change = F32(0.0)
            for c in range(3):
                change = max(change, abs(buf[B_Q0 + c, i, x] - buf[B_P0 + c, i, x]))
            jump = min(max((change - _C_STILL) / _C_SPAN, F32(0.0)), F32(1.0))
            play[x] = np.floor(most * (F32(1.0) - max(ramp, jump)) + F32(0.5))
