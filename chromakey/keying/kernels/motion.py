"""The still hold's play in the kernels: cpu.motion_speed, cpu.colour_change and
cpu.hold_play at a mixed run's partial pixels, from the pixels' input bytes
(cpu.pixel_samples).

Only a partial pixel whose own bytes moved less than COLOUR_MOVING needs a speed (the others'
play is 0 whatever it is): a few in a hundred of the partial pixels on camera footage, and
as few on an avatar's, whose edges move. So each such pixel's window is summed on its own,
from the bytes of the square around it, rather than the terms over the whole run. Every term
is a multiple of ¼ and every sum below 2²² (see cpu.motion_speed): exact in float32, in any
order, as in the reference and the shaders.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import reference as cpu
from ..param_table import I_FX, I_FY, I_LAYOUT, P_HOLD
from .common import B_ALPHA, B_HOLD, F32, LAYOUT_RGB, Real

_MR = cpu.MOTION_REACH
_SIDE = 2 * _MR + 3  # the window and the central differences' one pixel around it
_STILL = F32(cpu.MOTION_STILL)
_SPAN = F32(cpu.MOTION_MOVING - cpu.MOTION_STILL)
_EPS = F32(cpu.MOTION_EPS)
_C_STILL = F32(cpu.COLOUR_STILL)
_C_SPAN = F32(cpu.COLOUR_MOVING - cpu.COLOUR_STILL)
_C_MOVING = F32(cpu.COLOUR_MOVING)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _square(
    ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray,
    yy: int, x: int, h: int, w: int, k: int, out: np.ndarray,
) -> None:  # fmt: skip
    """cpu.pixel_samples of the (2k + 1)² square around (yy, x), rows and columns clamped to
    the picture's, into ``out`` (3 × side × side, as floats)."""
    sx, sy = ints[I_FX] >> 1, ints[I_FY] >> 1  # subsampling by 2 or none: shifts, not divisions
    for di in range(2 * k + 1):
        r = min(max(yy - k + di, 0), h - 1)
        if ints[I_LAYOUT] == LAYOUT_RGB:
            row = rgbp[r]
            for dj in range(2 * k + 1):
                c = min(max(x - k + dj, 0), w - 1)
                out[0, di, dj] = F32(row[c, 0])
                out[1, di, dj] = F32(row[c, 1])
                out[2, di, dj] = F32(row[c, 2])
        else:
            yr, ur, vr = y[r], u[r >> sy], v[r >> sy]
            for dj in range(2 * k + 1):
                c = min(max(x - k + dj, 0), w - 1)
                out[0, di, dj] = F32(yr[c])
                out[1, di, dj] = F32(ur[c >> sx])
                out[2, di, dj] = F32(vr[c >> sx])


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _speed(cur: np.ndarray, pre: np.ndarray, yy: int, x: int, h: int, w: int) -> np.float32:
    """cpu.motion_speed at (yy, x) from the squares around it: this frame's bytes within
    MOTION_REACH + 1 (``cur``), the last frame's within MOTION_REACH (``pre``). Window pixels
    outside the picture add nothing."""
    r = _MR
    i0, i1 = max(-r, -yy), min(r, h - 1 - yy)
    j0, j1 = max(-r, -x), min(r, w - 1 - x)
    sg, sx, sy = F32(0.0), F32(0.0), F32(0.0)
    for c in range(3):
        q, p = cur[c], pre[c]
        for di in range(i0, i1 + 1):
            i = di + r + 1
            for dj in range(j0, j1 + 1):
                j = dj + r + 1
                gx = (q[i, j + 1] - q[i, j - 1]) * F32(0.5)
                gy = (q[i + 1, j] - q[i - 1, j]) * F32(0.5)
                dt = q[i, j] - p[i - 1, j - 1]
                sg += gx * gx + gy * gy
                sx += gx * dt
                sy += gy * dt
    return np.float32(np.sqrt(sx * sx + sy * sy) / (sg + _EPS))


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


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _play(
    P: np.ndarray, ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray,
    qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray,
    yy: int, x: int, h: int, w: int, cur: np.ndarray, pre: np.ndarray,
) -> np.float32:  # fmt: skip
    """cpu.hold_play at pixel (yy, x) of a picture of ``h`` × ``w`` (the columns of the
    planes' strip), from this frame's input planes and the previous frame's (``qy``…``qrgb``);
    ``cur``, ``pre``: room for the squares of bytes around it."""
    change = _own_change(ints, y, u, v, rgbp, qy, qu, qv, qrgb, yy, x)
    if change >= _C_MOVING:  # moved: no play, whatever the speed
        return F32(0.0)
    _square(ints, y, u, v, rgbp, yy, x, h, w, _MR + 1, cur)
    _square(ints, qy, qu, qv, qrgb, yy, x, h, w, _MR, pre)
    speed = _speed(cur, pre, yy, x, h, w)
    ramp = min(max((speed - _STILL) / _SPAN, F32(0.0)), F32(1.0))
    jump = min(max((change - _C_STILL) / _C_SPAN, F32(0.0)), F32(1.0))
    return F32(np.floor(F32(P[P_HOLD] * F32(255.0)) * (F32(1.0) - max(ramp, jump)) + F32(0.5)))


@njit(nogil=True, cache=True, error_model="numpy")
def _hold_run(
    P: np.ndarray, ints: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray,
    qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray,
    buf: np.ndarray, a: int, h: int, one: Real, o0: int, o1: int, xa: int, xb: int,
) -> None:  # fmt: skip
    """The play (levels) of the partial pixels of rows [o0, o1), columns [xa, xb) of the band
    (rows from ``a`` of a picture of ``h`` rows) into B_HOLD."""
    w = buf.shape[2]
    cur = np.empty((3, _SIDE, _SIDE), np.float32)
    pre = np.empty((3, _SIDE - 2, _SIDE - 2), np.float32)
    for i in range(o0, o1):
        alpha, play = buf[B_ALPHA, i], buf[B_HOLD, i]
        for x in range(xa, xb):
            if alpha[x] > F32(0.0) and alpha[x] < one:
                play[x] = _play(P, ints, y, u, v, rgbp, qy, qu, qv, qrgb, a + i, x, h, w, cur, pre)
