"""The local colour model (cpu.colour_model_matte) inside the refinement's clip loop.

The window sums of the solid weight and its colours: their column half on the rows the clip
reaches (vector sums down the columns), their row half only at the pixels the clip leaves
partial — those are few. Both are direct sums in a fixed order of taps, as every window sum
here, so a pixel's value does not depend on the tiles or bands around it.
"""

import numpy as np
from numba import njit

from .. import reference as cpu
from ..param_table import (
    ramp,
)
from .common import (
    B_B,
    B_CB,
    B_CCL,
    B_CG,
    B_CR,
    B_CW,
    B_G,
    B_LB,
    B_LG,
    B_LR,
    B_LW,
    B_R,
    B_RAW,
    B_SCR_B,
    B_SCR_G,
    B_SCR_R,
    F32,
    L_CB,
    L_CCL,
    L_CG,
    L_CR,
    L_CTMP,
    L_CW,
    Real,
    _clamped,
    _screen_excess,
    _soft_step,
)

_R = cpu.COLOUR_RADIUS


def _ramp32(e0: float, e1: float) -> tuple[F32, F32]:
    """common.ramp as float32 constants, frozen into the compiled code."""
    a, b = ramp(e0, e1)
    return F32(a), F32(b)


_SOLID = _ramp32(*cpu.COLOUR_SOLID)
_SUPPORT = _ramp32(*cpu.COLOUR_SUPPORT)
_SPREAD = _ramp32(*cpu.COLOUR_SPREAD)
_PALE2 = F32(cpu.COLOUR_PALE_EXCESS**2)
_RESIDUAL = _ramp32(*cpu.COLOUR_RESIDUAL)
_MIX = F32(cpu.COLOUR_MIX)
_MIX_UP = F32(cpu.COLOUR_MIX_NEAR - cpu.COLOUR_MIX)
_FIT = _ramp32(*cpu.COLOUR_FIT)
_FIT_SOLID = _ramp32(*cpu.COLOUR_FIT_SOLID)
_MIX_FIT = F32(cpu.COLOUR_MIX_FIT)
_CLEAR = _ramp32(*cpu.COLOUR_CLEAR)
_NEAR = _ramp32(*cpu.COLOUR_NEAR)
_NEAR_VIVID = cpu.COLOUR_NEAR_RADIUS
_NEAR_PALE = cpu.COLOUR_NEAR_RADIUS_PALE
_PARTIAL = _ramp32(0.0, cpu.COLOUR_PARTIAL)
_SHADE = _ramp32(0.0, cpu.COLOUR_SHADE)
_LIT = F32(cpu.COLOUR_LIT)
_LIT_APART = _ramp32(*cpu.COLOUR_LIT_APART)
_TINY = F32(cpu.COLOUR_TINY)


@njit(nogil=True, cache=True, error_model="numpy")
def _colour_weights(buf: np.ndarray, ca: int, cb: int, xc: int, xd: int) -> None:
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
def _clear_sums(
    buf: np.ndarray, line: np.ndarray, ca: int, cb: int, xc: int, xd: int, nr: int
) -> None:
    """The clear-screen weight's sums along rows [ca, cb) over ``nr`` (cpu.near_radius), in
    cpu.box_sum's order, at columns [xc, xd): right ``nr`` in from a cut that is not the
    frame's edge (the model reads them a window further in)."""
    c0, cinv = _CLEAR
    m = xd - xc
    tmp = line[L_CTMP, :m]
    for i in range(ca, cb):
        raw = buf[B_RAW, i, xc:xd]
        for j in range(m):
            tmp[j] = F32(1.0) - _soft_step(c0, cinv, raw[j])
        ccl = buf[B_CCL, i, xc:xd]
        # Each radius near_radius gives, as a constant: its taps unroll.
        if nr == _NEAR_VIVID:
            _clear_row(tmp, ccl, m, _NEAR_VIVID)
        elif nr == _NEAR_PALE:
            _clear_row(tmp, ccl, m, _NEAR_PALE)
        else:
            _clear_row(tmp, ccl, m, nr)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clear_row(tmp: np.ndarray, ccl: np.ndarray, m: int, nr: int) -> None:
    """One row of _clear_sums: ``tmp``'s sums over ``nr`` either side into ``ccl``."""
    for j in range(min(nr, m)):  # the ends clamp; the loop between them need not
        ccl[j] = _clamped_taps(tmp, j, m, nr)
    for j in range(nr, m - nr):
        acc = tmp[j - nr]
        for d in range(1 - nr, nr + 1):
            acc += tmp[j + d]
        ccl[j] = acc
    for j in range(max(m - nr, nr), m):
        ccl[j] = _clamped_taps(tmp, j, m, nr)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clamped_taps(tmp: np.ndarray, j: int, m: int, nr: int) -> Real:
    """_clear_sums' sum at j, its taps clamped to [0, m)."""
    acc: Real = tmp[_clamped(j - nr, m)]
    for d in range(1 - nr, nr + 1):
        acc += tmp[_clamped(j + d, m)]
    return acc


@njit(nogil=True, cache=True, error_model="numpy")
def _colour_columns(
    buf: np.ndarray, line: np.ndarray, n: int, i: int, xc: int, xd: int, nr: int
) -> None:
    """The column sums of row i's windows into line (the solid terms' over COLOUR_RADIUS, the
    clear weight's over ``nr``, cpu.near_radius): direct sums of the rows, edges clamped, in a
    fixed order, so that they do not depend on where a band or run begins.
    One channel at a time: a loop over one source and one destination vectorises."""
    m = xd - xc
    for c in range(4):
        d = line[L_CW + c, xc:xd]
        s = buf[B_CW + c, _clamped(i - _R, n), xc:xd]
        for j in range(m):
            d[j] = s[j]
        for k in range(1 - _R, _R + 1):
            s = buf[B_CW + c, _clamped(i + k, n), xc:xd]
            for j in range(m):
                d[j] += s[j]
    d = line[L_CCL, xc:xd]
    s = buf[B_CCL, _clamped(i - nr, n), xc:xd]
    for j in range(m):
        d[j] = s[j]
    for k in range(1 - nr, nr + 1):
        s = buf[B_CCL, _clamped(i + k, n), xc:xd]
        for j in range(m):
            d[j] += s[j]


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _colour_mix(line: np.ndarray, x: int) -> Real:
    """cpu.colour_mix at column x of the row whose clear sums' column sums are in line."""
    mix: Real = _MIX + _soft_step(_NEAR[0], _NEAR[1], line[L_CCL, x]) * _MIX_UP
    return mix


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _fit_mix(residual: Real, al: Real) -> Real:
    """cpu.fit_mix at one pixel (al: its clipped matte)."""
    near = (F32(1.0) - _soft_step(_FIT[0], _FIT[1], residual)) * (
        F32(1.0) - _soft_step(_FIT_SOLID[0], _FIT_SOLID[1], al)
    )
    share: Real = _MIX_FIT * near
    return share


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _line_fit(
    pr: Real, pg: Real, pb: Real, lr: Real, lg: Real, lb: Real, spread: Real
) -> tuple[Real, Real]:
    """cpu.line_fit at one pixel (p: C − S, l: F − S, spread: |F − S|²)."""
    a = (pr * lr + pg * lg + pb * lb) / max(spread, _TINY)
    a = min(max(a, F32(0.0)), F32(1.0))
    fr, fg, fb = pr - a * lr, pg - a * lg, pb - a * lb
    residual: Real = np.sqrt(fr * fr + fg * fg + fb * fb)
    return a, residual


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _shade_fit(
    cr: Real,
    cg: Real,
    cb: Real,
    fr: Real,
    fg: Real,
    fb: Real,
    sr: Real,
    sg: Real,
    sb: Real,
    a: Real,
    residual: Real,
) -> tuple[Real, Real]:
    """cpu.shade_fit at one pixel (c: its colour, f: F, s: the screen; a, residual: the
    line's). On the line (residual under COLOUR_RESIDUAL's ramp) it is the line's reading, and
    the plane, which holds the line, is nearer still: whole trust either way, and no fit."""
    if residual <= _RESIDUAL[0]:
        return a, residual
    ff = fr * fr + fg * fg + fb * fb
    fs = fr * sr + fg * sg + fb * sb
    ss = sr * sr + sg * sg + sb * sb
    fc = fr * cr + fg * cg + fb * cb
    sc = sr * cr + sg * cg + sb * cb
    det = ff * ss - fs * fs
    if not det > _TINY:
        return a, residual
    u = (fc * ss - sc * fs) / det
    v = (ff * sc - fs * fc) / det
    orr, og, ob = cr - u * fr - v * sr, cg - u * fg - v * sg, cb - u * fb - v * sb
    plane = np.sqrt(orr * orr + og * og + ob * ob)
    shade = F32(1.0) - v
    e0, inv = _SHADE
    inside = _soft_step(e0, inv, u) * _soft_step(e0, inv, v)
    if inside > 0:
        dark = _soft_step(e0, inv, shade - u)
        side = dark * _soft_step(e0, inv, shade - a)
        if dark < 1:  # lit beyond F
            lit = _soft_step(e0, inv, _LIT * shade - u)
            lit *= _soft_step(e0, inv, shade - u * max(fr, fg, fb))
            lit *= _soft_step(_LIT_APART[0], _LIT_APART[1], det / (ff * ss))
            side += (F32(1.0) - dark) * lit
        inside *= side
    off_line = _soft_step(_RESIDUAL[0], _RESIDUAL[1], residual)
    alpha: Real = a + inside * off_line * (shade - a)
    far: Real = residual - inside * max(residual - plane, F32(0.0))
    return alpha, far


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _colour_model_px(
    buf: np.ndarray, line: np.ndarray, i: int, x: int, w: int, al: Real, key: int
) -> Real:
    """cpu.colour_model at one partial pixel of row i (al: its clipped matte; key: the key
    channel): the matte, and the local colour into B_LR, B_LG, B_LB and its weight into B_LW."""
    sw, sr, sg, sb = F32(0.0), F32(0.0), F32(0.0), F32(0.0)
    for k in range(-_R, _R + 1):
        c = _clamped(x + k, w)
        sw += line[L_CW, c]
        sr += line[L_CR, c]
        sg += line[L_CG, c]
        sb += line[L_CB, c]
    d = max(sw, _TINY)
    qr, qg, qb = buf[B_SCR_R, i, x], buf[B_SCR_G, i, x], buf[B_SCR_B, i, x]
    mr, mg, mb = sr / d, sg / d, sb / d
    lr, lg, lb = mr - qr, mg - qg, mb - qb
    spread = lr * lr + lg * lg + lb * lb
    pr, pg, pb = buf[B_R, i, x] - qr, buf[B_G, i, x] - qg, buf[B_B, i, x] - qb
    a, residual = _line_fit(pr, pg, pb, lr, lg, lb, spread)
    a, far = _shade_fit(
        buf[B_R, i, x], buf[B_G, i, x], buf[B_B, i, x], mr, mg, mb, qr, qg, qb, a, residual
    )
    support = _soft_step(_SUPPORT[0], _SUPPORT[1], sw)
    # cpu.spread_scale: on a pale screen the line counts against the screen's key excess.
    sx = _screen_excess(key, qr, qg, qb)
    scale = max(_PALE2 / (sx * sx), F32(1.0))
    trust = support * _soft_step(_SPREAD[0], _SPREAD[1], spread * scale)
    mix = _colour_mix(line, x) + _fit_mix(residual, al)
    trust *= (F32(1.0) - _soft_step(_RESIDUAL[0], _RESIDUAL[1], far)) * mix
    partial = _soft_step(_PARTIAL[0], _PARTIAL[1], al)
    partial *= _soft_step(_PARTIAL[0], _PARTIAL[1], F32(1.0) - al)
    buf[B_LR, i, x], buf[B_LG, i, x], buf[B_LB, i, x] = mr, mg, mb
    buf[B_LW, i, x] = support * partial
    model: Real = al + trust * partial * (a - al)
    return model


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _partial(al: Real) -> bool:
    return bool(al > F32(0.0) and al < F32(1.0))


@njit(nogil=True, cache=True, error_model="numpy")
def _colour_model_row(
    buf: np.ndarray,
    line: np.ndarray,
    n: int,
    i: int,
    x0: int,
    out: np.ndarray,
    w: int,
    key: int,
    nr: int,
) -> None:
    """The model at row i's partial pixels (``out``: the clipped matte from column x0; key: the
    key channel; nr: cpu.near_radius): the column sums only within COLOUR_RADIUS of them, a run
    of partial pixels at a time."""
    m = out.shape[0]
    j = 0
    while j < m:
        if not _partial(out[j]):
            j += 1
            continue
        last = j  # the run: partial pixels less than a window apart
        k = j + 1
        while k < m and k - last <= 2 * _R:
            if _partial(out[k]):
                last = k
            k += 1
        _colour_columns(buf, line, n, i, max(x0 + j - _R, 0), min(x0 + last + _R + 1, w), nr)
        for k in range(j, last + 1):
            al = out[k]
            if _partial(al):
                out[k] = _colour_model_px(buf, line, i, x0 + k, w, al, key)
        j = last + 1
