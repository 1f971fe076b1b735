"""The chroma guide on a band's chroma rows (cpu.chroma_luma or cpu.centred_luma, by the
frame's siting, and cpu.chroma_slopes): the luma on the chroma grid and each chroma sample's
slopes against it, faded by how much of the window's chroma they explain (cpu.fit_share), for
the decode of the band's rows (pixels._decode_rows)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import reference as cpu
from ..param_table import (
    I_CENTRED,
    I_FX,
    I_FY,
    ramp,
)
from .common import (
    _CHROMA_EPS,
    _CHROMA_R,
    B_CSU,
    B_CSV,
    B_CY,
    B_H0,
    B_H1,
    B_H2,
    B_H3,
    B_H4,
    B_H5,
    B_H6,
    B_H7,
    B_H8,
    B_H9,
    B_H10,
    F32,
    Real,
    _soft_step,
)

# CHROMA_GUIDE_FIT's and CHROMA_SITING_FIT's ramps (start, 1 / width) and CHROMA_FIT_EPS,
# frozen into the compiled code.
_FIT0, _FIT_INV = (F32(x) for x in ramp(*cpu.CHROMA_GUIDE_FIT))
_SIT0, _SIT_INV = (F32(x) for x in ramp(*cpu.CHROMA_SITING_FIT))
_FIT_EPS = F32(cpu.CHROMA_FIT_EPS)


@njit(nogil=True, cache=True, error_model="numpy")
def chroma_span(ints: np.ndarray, ch: int, a: int, b: int) -> tuple[int, int, int]:
    """(ka, kb, ja): the chroma rows [ka, kb) the decode of rows [a, b) interpolates from, and
    ja, the first row of the band's chroma buffers (ka less the guide's window, clamped)."""
    if ints[I_FY] == 2:
        ka, kb = max(a // 2 - 1, 0), min((b - 1) // 2 + 2, ch)
    else:
        ka, kb = min(a, ch - 1), min(b, ch)
    return ka, max(kb, ka + 1), max(ka - _CHROMA_R, 0)


@njit(nogil=True, cache=True, error_model="numpy")
def _chroma_luma_row(
    y: np.ndarray, fx: int, fy: int, k: int, tmp: np.ndarray, out: np.ndarray, outq: np.ndarray
) -> None:
    """cpu.chroma_luma's row k into ``out`` (the mean of luma rows 2k and 2k + 1, [1, 2, 1]/4
    across) and cpu.centred_luma's into ``outq`` (the mean of columns 2j and 2j + 1);
    ``tmp``: a scratch line of the luma's width."""
    h, w = y.shape
    cw = out.shape[0]
    s = F32(1.0 / 255.0)
    if fy == 2:
        r0 = min(2 * k, h - 1)
        r1 = min(r0 + 1, h - 1)
    else:
        r0 = r1 = min(k, h - 1)
    y0, y1 = y[r0], y[r1]
    t = tmp[:w]
    if fy == 2:
        for x in range(w):
            t[x] = F32(0.5) * (F32(y0[x]) * s + F32(y1[x]) * s)
    else:
        for x in range(w):
            t[x] = F32(y0[x]) * s
    if fx != 2:
        for j in range(cw):
            out[j] = t[min(j, w - 1)]
            outq[j] = out[j]
        return
    # Interior columns 2j − 1 … 2j + 1 inside the row; the first and any past the edge clamped.
    m = max(min(cw, (w - 1) // 2), 1)
    out[0] = F32(0.25) * (t[0] + t[min(1, w - 1)]) + F32(0.5) * t[0]
    for j in range(1, m):
        out[j] = F32(0.25) * (t[2 * j - 1] + t[2 * j + 1]) + F32(0.5) * t[2 * j]
    for j in range(m, cw):
        c = 2 * j
        xl, xm, xr = min(max(c - 1, 0), w - 1), min(c, w - 1), min(c + 1, w - 1)
        out[j] = F32(0.25) * (t[xl] + t[xr]) + F32(0.5) * t[xm]
    for j in range(cw):
        outq[j] = F32(0.5) * (t[min(2 * j, w - 1)] + t[min(2 * j + 1, w - 1)])


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _pair_sums(a: np.ndarray, c: np.ndarray, j: int, cw: int) -> tuple[Real, Real]:
    """The window sums of c and a·c at column j, edges clamped, in box_sum's order."""
    q = min(max(j - _CHROMA_R, 0), cw - 1)
    t1, t2 = c[q], a[q] * c[q]
    for t in range(1, 2 * _CHROMA_R + 1):
        q = min(max(j - _CHROMA_R + t, 0), cw - 1)
        t1 += c[q]
        t2 += a[q] * c[q]
    return t1, t2


@njit(nogil=True, cache=True, error_model="numpy")
def _hsums(a: np.ndarray, c: np.ndarray, sc: np.ndarray, sac: np.ndarray, cw: int) -> None:
    """cpu.box_sum along a row of c and of a·c: 2·_CHROMA_R + 1 taps, edges clamped, added
    left to right; the interior without clamps, so that it vectorises."""
    lo, hi = min(_CHROMA_R, cw), max(cw - _CHROMA_R, min(_CHROMA_R, cw))
    m = hi - lo
    d, e = sc[lo:hi], sac[lo:hi]
    c0, a0 = c[0:m], a[0:m]
    for x in range(m):
        d[x] = c0[x]
    for x in range(m):
        e[x] = a0[x] * c0[x]
    for t in range(1, 2 * _CHROMA_R + 1):
        ct, at = c[t : t + m], a[t : t + m]
        for x in range(m):
            d[x] += ct[x]
        for x in range(m):
            e[x] += at[x] * ct[x]
    for j in range(0, lo):
        sc[j], sac[j] = _pair_sums(a, c, j, cw)
    for j in range(hi, cw):
        sc[j], sac[j] = _pair_sums(a, c, j, cw)


@njit(nogil=True, cache=True, error_model="numpy")
def _hsum(c: np.ndarray, sc: np.ndarray, cw: int) -> None:
    """cpu.box_sum along a row of c (as _hsums, one array)."""
    lo, hi = min(_CHROMA_R, cw), max(cw - _CHROMA_R, min(_CHROMA_R, cw))
    m = hi - lo
    d = sc[lo:hi]
    c0 = c[0:m]
    for x in range(m):
        d[x] = c0[x]
    for t in range(1, 2 * _CHROMA_R + 1):
        ct = c[t : t + m]
        for x in range(m):
            d[x] += ct[x]
    for j in range(0, lo):
        sc[j] = _pair_sums(c, c, j, cw)[0]
    for j in range(hi, cw):
        sc[j] = _pair_sums(c, c, j, cw)[0]


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _vsum(buf: np.ndarray, plane: int, k: int, ja: int, ch: int, j: int) -> Real:
    """cpu.box_sum down the horizontal sums in buf[plane] at chroma row k, column j (rows
    added top to bottom)."""
    total: Real = buf[plane, max(k - _CHROMA_R, 0) - ja, j]
    for t in range(1, 2 * _CHROMA_R + 1):
        total += buf[plane, min(max(k - _CHROMA_R + t, 0), ch - 1) - ja, j]
    return total


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _fit_r2(
    buf: np.ndarray, py: int, pyy: int, pyu: int, pyv: int, mu: Real, mv: Real, var_c: Real,
    n: Real, k: int, ja: int, ch: int, j: int,
) -> tuple[Real, Real, Real, Real]:  # fmt: skip
    """cpu.fit_r2 of one siting's luma (its window sums in planes py, pyy, pyu, pyv), with
    the luma's variance and covariances with U and V."""
    my = _vsum(buf, py, k, ja, ch, j) * n
    var = max(_vsum(buf, pyy, k, ja, ch, j) * n - my * my, F32(0.0))
    cu = _vsum(buf, pyu, k, ja, ch, j) * n - my * mu
    cv = _vsum(buf, pyv, k, ja, ch, j) * n - my * mv
    return (cu * cu + cv * cv) / ((var + _FIT_EPS) * (var_c + _FIT_EPS)), var, cu, cv


@njit(nogil=True, cache=True, error_model="numpy")
def _slopes(
    buf: np.ndarray, k: int, ja: int, ch: int, out_u: np.ndarray, out_v: np.ndarray
) -> None:
    """cov · 1 / (var + eps) · cpu.fit_share, for U and V at chroma row k, from the window's
    horizontal sums: their vertical sums taken where they are used, one column at a time."""
    n = F32(1.0 / (2 * _CHROMA_R + 1) ** 2)
    for j in range(out_u.shape[0]):
        mu = _vsum(buf, B_H1, k, ja, ch, j) * n
        mv = _vsum(buf, B_H2, k, ja, ch, j) * n
        var_c = max(_vsum(buf, B_H6, k, ja, ch, j) * n - (mu * mu + mv * mv), F32(0.0))
        r2q = _fit_r2(buf, B_H7, B_H8, B_H9, B_H10, mu, mv, var_c, n, k, ja, ch, j)[0]
        r2, var, cu, cv = _fit_r2(buf, B_H0, B_H3, B_H4, B_H5, mu, mv, var_c, n, k, ja, ch, j)
        fit = max(_soft_step(_FIT0, _FIT_INV, r2), _soft_step(_SIT0, _SIT_INV, r2q))
        inv = F32(1.0) / (var + _CHROMA_EPS)
        out_u[j] = cu * inv * fit
        out_v[j] = cv * inv * fit


@njit(nogil=True, cache=True, error_model="numpy")
def _chroma_guide(
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    ints: np.ndarray,
    a: int,
    b: int,
    buf: np.ndarray,
    line: np.ndarray,
) -> None:
    """buf[B_CY] and buf[B_CSU], buf[B_CSV]: luma (the frame's siting's) and slopes at chroma
    rows [ka, kb) of chroma_span (row k at index k − ja), for rows [a, b) of the frame."""
    fx, fy = ints[I_FX], ints[I_FY]
    centred = ints[I_CENTRED] != 0
    ch, cw = u.shape
    ka, kb, ja = chroma_span(ints, ch, a, b)
    jb = min(kb + _CHROMA_R, ch)
    s = F32(1.0 / 255.0)
    tu, tv, tq = line[0, :cw], line[1, :cw], line[3, :cw]
    yq, tqu, tqv = line[5, :cw], line[6, :cw], line[7, :cw]
    # Luma on the chroma grid by both sitings (yc the frame's own, yq the other), and the
    # window's horizontal sums of the eleven products.
    for k in range(ja, jb):
        i = k - ja
        yc = buf[B_CY, i, :cw]
        if centred:
            _chroma_luma_row(y, fx, fy, k, line[2], yq, yc)
        else:
            _chroma_luma_row(y, fx, fy, k, line[2], yc, yq)
        u0, v0 = u[k], v[k]
        for j in range(cw):
            tu[j] = F32(u0[j]) * s
        for j in range(cw):
            tv[j] = F32(v0[j]) * s
        _hsums(yc, yc, buf[B_H0, i], buf[B_H3, i], cw)
        _hsums(yc, tu, buf[B_H1, i], buf[B_H4, i], cw)
        _hsums(yc, tv, buf[B_H2, i], buf[B_H5, i], cw)
        for j in range(cw):
            tq[j] = tu[j] * tu[j] + tv[j] * tv[j]
            tqu[j] = yq[j] * tu[j]
            tqv[j] = yq[j] * tv[j]
        _hsum(tq, buf[B_H6, i], cw)
        _hsums(yq, yq, buf[B_H7, i], buf[B_H8, i], cw)
        _hsum(tqu, buf[B_H9, i], cw)
        _hsum(tqv, buf[B_H10, i], cw)
    # The slopes, for the rows the decode reads.
    for k in range(ka, kb):
        i = k - ja
        _slopes(buf, k, ja, ch, buf[B_CSU, i, :cw], buf[B_CSV, i, :cw])
