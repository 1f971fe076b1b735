"""Unmix, despill and composite one pixel, screen spans, and the encoders' YUV planes."""

import numpy as np
from numba import njit

from .. import reference as cpu
from ..param_table import (
    I_BG_KIND,
    I_KEY,
    P_SPILL,
)
from .colour_model import _TINY, _line_fit, _ramp32
from .common import (
    _ALPHA_EPS,
    _ALPHA_VISIBLE,
    BG_COLOR,
    BG_NONE,
    BG_RGB,
    BG_RGBA,
    F32,
    Real,
    _clip01,
    _key_excess,
    _soft_step,
    _u8,
)

_EDGE_ALPHA_MIN = F32(cpu.EDGE_ALPHA_MIN)
_EDGE_SHARE = F32(cpu.EDGE_ALPHA_SHARE)
_FOLLOW = F32(cpu.EDGE_FOLLOW)
_KEEP_LESS = F32(cpu.EDGE_KEEP_LESS)
_KEEP_SPAN = F32(cpu.EDGE_KEEP_MORE - cpu.EDGE_KEEP_LESS)
_KEEP_SHIFT = _ramp32(-cpu.EDGE_KEEP_RAMP, cpu.EDGE_KEEP_RAMP)
_KEEP_RESIDUAL = _ramp32(*cpu.EDGE_KEEP_RESIDUAL)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _edge_key_first(
    ck: Real, c1: Real, c2: Real, al: Real,
    pk: Real, p1: Real, p2: Real, sk: Real, s1: Real, s2: Real,
    lk: Real, l1: Real, l2: Real, lw: Real, spill: Real,
) -> tuple[Real, Real, Real]:  # fmt: skip
    """cpu.edge_colour at one pixel, its channels key first (c: the unmixed premultiplied
    colour, p: the pixel, s: the screen, l: the local colour, lw: its weight)."""
    excess = lk - max(l1, l2)
    target = excess - spill * max(excess, F32(0.0))
    dk, d1, d2 = pk - sk, p1 - s1, p2 - s2
    solved = False
    u: Real = F32(0.0)
    slope = dk - d1
    if slope < -_TINY:
        u, solved = (target - (sk - s1)) / slope, True
    slope = dk - d2
    if slope < -_TINY:
        at = (target - (sk - s2)) / slope
        u = min(u, at) if solved else at
        solved = True
    if not solved:
        return ck, c1, c2
    weight = lw * min(_FOLLOW * (F32(1.0) - al), F32(1.0))
    u = min(max(u, F32(1.0)), F32(1.0) / max(_EDGE_ALPHA_MIN, _EDGE_SHARE * al))
    fk = _clip01(sk + dk * u)
    f1 = _clip01(s1 + d1 * u)
    f2 = _clip01(s2 + d2 * u)
    # cpu.keep_key: toward the own unmix, its other channels shifted to the line's excess.
    a_own = max(al, _EDGE_ALPHA_MIN)
    ok, o1, o2 = ck / a_own, c1 / a_own, c2 / a_own
    shift = (fk - max(f1, f2)) - (ok - max(o1, o2))
    share = _KEEP_LESS + _KEEP_SPAN * _soft_step(_KEEP_SHIFT[0], _KEEP_SHIFT[1], shift)
    bk, b1, b2 = lk - sk, l1 - s1, l2 - s2
    _, residual = _line_fit(dk, d1, d2, bk, b1, b2, bk * bk + b1 * b1 + b2 * b2)
    share *= _soft_step(_KEEP_RESIDUAL[0], _KEEP_RESIDUAL[1], residual)
    fk = fk + share * (_clip01(ok) - fk)
    f1 = f1 + share * (_clip01(o1 - shift) - f1)
    f2 = f2 + share * (_clip01(o2 - shift) - f2)
    return ck + weight * (al * fk - ck), c1 + weight * (al * f1 - c1), c2 + weight * (al * f2 - c2)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _edge_colour(
    key: int, cr: Real, cg: Real, cb: Real, al: Real,
    pr: Real, pg: Real, pb: Real, sr: Real, sg: Real, sb: Real,
    lr: Real, lg: Real, lb: Real, lw: Real, spill: Real,
) -> tuple[Real, Real, Real]:  # fmt: skip
    """cpu.edge_colour at one pixel (see _edge_key_first), in RGB order."""
    if key == 0:
        return _edge_key_first(cr, cg, cb, al, pr, pg, pb, sr, sg, sb, lr, lg, lb, lw, spill)
    if key == 1:
        g, r, b = _edge_key_first(cg, cr, cb, al, pg, pr, pb, sg, sr, sb, lg, lr, lb, lw, spill)
        return r, g, b
    b, r, g = _edge_key_first(cb, cr, cg, al, pb, pr, pg, sb, sr, sg, lb, lr, lg, lw, spill)
    return r, g, b


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _composite_px(
    P: np.ndarray,
    ints: np.ndarray,
    fr: Real,
    fg_: Real,
    fb: Real,
    al: Real,
    gate: Real,
    sr: Real,
    sg: Real,
    sb: Real,
    lr: Real,
    lg: Real,
    lb: Real,
    lw: Real,
    bg_color: np.ndarray,
    bg_img: np.ndarray,
    yy: int,
    x: int,
    out: np.ndarray,
) -> None:
    """unmix_despill, composite and to_uint8 for one pixel (lr, lg, lb, lw: its
    cpu.LocalColour; lw is 0 where it has none)."""
    key = ints[I_KEY]
    one_a = F32(1.0) - al
    cr = min(max(fr - one_a * sr, F32(0.0)), al)
    cg = min(max(fg_ - one_a * sg, F32(0.0)), al)
    cb = min(max(fb - one_a * sb, F32(0.0)), al)
    if lw > F32(0.0):
        cr, cg, cb = _edge_colour(
            key, cr, cg, cb, al, fr, fg_, fb, sr, sg, sb, lr, lg, lb, lw, P[P_SPILL]
        )
    taken = P[P_SPILL] * gate * max(_key_excess(key, cr, cg, cb), F32(0.0))
    if key == 0:
        cr = cr - taken
    elif key == 1:
        cg = cg - taken
    else:
        cb = cb - taken
    _emit(ints, cr, cg, cb, al, bg_color, bg_img, yy, x, out)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _emit(
    ints: np.ndarray,
    cr: Real,
    cg: Real,
    cb: Real,
    al: Real,
    bg_color: np.ndarray,
    bg_img: np.ndarray,
    yy: int,
    x: int,
    out: np.ndarray,
) -> None:
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


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _sited(ra: np.ndarray, rb: np.ndarray, xl: int, xm: int, xr: int, k: int) -> Real:
    """A 2×2 block's channel k, 0–1: rows averaged, columns weighted 1/4, 1/2, 1/4."""
    top = F32(0.25) * F32(ra[xl, k]) + F32(0.5) * F32(ra[xm, k]) + F32(0.25) * F32(ra[xr, k])
    bot = F32(0.25) * F32(rb[xl, k]) + F32(0.5) * F32(rb[xm, k]) + F32(0.25) * F32(rb[xr, k])
    return F32(0.5) * (top + bot) * F32(1.0 / 255.0)


@njit(nogil=True, cache=True, error_model="numpy")
def _rows_to_yuv(
    rgb: np.ndarray,
    y0: int,
    y1: int,
    x0: int,
    x1: int,
    xo: int,
    mat: np.ndarray,
    yp: np.ndarray,
    up: np.ndarray,
    vp: np.ndarray,
    ap: np.ndarray,
) -> None:
    """Rows [y0, y1) × columns [x0, x1) (y0, x0 and xo even) of the uint8 composite → the
    planes' columns from x0 + xo: Y per pixel; U and V per 2×2 block, its two rows averaged
    and its columns weighted 1/4, 1/2, 1/4 around the even column (H.264's left chroma
    siting, the one the decoder here assumes), the composite's edges clamped; straight alpha
    copied when there is a plane for it. A region keyed on its own (kernels.jobs) writes its
    core through ``xo``: its own edges then lie beyond the columns the core's chroma reads."""
    h, w = rgb.shape[0], rgb.shape[1]
    s = F32(1.0 / 255.0)
    for r in range(y0, y1):
        row, yr = rgb[r], yp[r]
        for x in range(x0, x1):
            v_ = (
                mat[0] * (F32(row[x, 0]) * s)
                + mat[1] * (F32(row[x, 1]) * s)
                + mat[2] * (F32(row[x, 2]) * s)
            )
            yr[x + xo] = _u8(_clip01(v_ + mat[9]))
        if ap.shape[0] == h:
            ar = ap[r]
            for x in range(x0, x1):
                ar[x + xo] = row[x, 3]
    co = xo // 2
    for cr in range(y0 // 2, (y1 + 1) // 2):
        ra, rb = rgb[2 * cr], rgb[min(2 * cr + 1, h - 1)]
        ur, vr = up[cr], vp[cr]
        for cx in range(x0 // 2, (x1 + 1) // 2):
            xl, xm, xr = max(2 * cx - 1, 0), 2 * cx, min(2 * cx + 1, w - 1)
            cr_ = _sited(ra, rb, xl, xm, xr, 0)
            cg_ = _sited(ra, rb, xl, xm, xr, 1)
            cb_ = _sited(ra, rb, xl, xm, xr, 2)
            ur[cx + co] = _u8(_clip01(mat[3] * cr_ + mat[4] * cg_ + mat[5] * cb_ + mat[10]))
            vr[cx + co] = _u8(_clip01(mat[6] * cr_ + mat[7] * cg_ + mat[8] * cb_ + mat[11]))


@njit(nogil=True, cache=True, error_model="numpy")
def _screen_lut(ints: np.ndarray, bg_color: np.ndarray, lut: np.ndarray) -> None:
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
def _screen_span(
    ints: np.ndarray,
    bg_color: np.ndarray,
    bg_img: np.ndarray,
    lut: np.ndarray,
    yy: int,
    xa: int,
    xb: int,
    out: np.ndarray,
) -> None:
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
