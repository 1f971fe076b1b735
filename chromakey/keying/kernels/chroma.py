"""The chroma guide on a band's chroma rows (cpu.chroma_luma and cpu.chroma_slopes): the
luma on the chroma grid and each chroma sample's slope against it, for the decode of the
band's rows (pixels._decode_rows)."""

from numba import njit

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
    F32,
    I_FX,
    I_FY,
)


@njit(nogil=True, cache=True, error_model="numpy")
def chroma_span(ints, ch, a, b):
    """(ka, kb, ja): the chroma rows [ka, kb) the decode of rows [a, b) interpolates from, and
    ja, the first row of the band's chroma buffers (ka less the guide's window, clamped)."""
    if ints[I_FY] == 2:
        ka, kb = max(a // 2 - 1, 0), min((b - 1) // 2 + 2, ch)
    else:
        ka, kb = min(a, ch - 1), min(b, ch)
    return ka, max(kb, ka + 1), max(ka - _CHROMA_R, 0)


@njit(nogil=True, cache=True, error_model="numpy")
def _chroma_luma_row(y, fx, fy, k, out):
    """cpu.chroma_luma's row k: the mean of luma rows 2k and 2k + 1, [1, 2, 1]/4 across."""
    h, w = y.shape
    cw = out.shape[0]
    s = F32(1.0 / 255.0)
    if fy == 2:
        r0 = min(2 * k, h - 1)
        r1 = min(r0 + 1, h - 1)
    else:
        r0 = r1 = min(k, h - 1)
    y0, y1 = y[r0], y[r1]
    for j in range(cw):
        if fx == 2:
            c = 2 * j
            xl, xm, xr = min(max(c - 1, 0), w - 1), min(c, w - 1), min(c + 1, w - 1)
            if fy == 2:
                left = F32(0.5) * (F32(y0[xl]) * s + F32(y1[xl]) * s)
                mid = F32(0.5) * (F32(y0[xm]) * s + F32(y1[xm]) * s)
                right = F32(0.5) * (F32(y0[xr]) * s + F32(y1[xr]) * s)
            else:
                left, mid, right = F32(y0[xl]) * s, F32(y0[xm]) * s, F32(y0[xr]) * s
            out[j] = F32(0.25) * (left + right) + F32(0.5) * mid
        else:
            xm = min(j, w - 1)
            if fy == 2:
                out[j] = F32(0.5) * (F32(y0[xm]) * s + F32(y1[xm]) * s)
            else:
                out[j] = F32(y0[xm]) * s


@njit(nogil=True, cache=True, error_model="numpy")
def _hsum(src, dst, cw):
    """cpu.box_sum along a row: the 2·_CHROMA_R + 1 values around each, edges clamped, added
    left to right as box_sum adds them."""
    for j in range(cw):
        acc = src[max(j - _CHROMA_R, 0)]
        for t in range(1, 2 * _CHROMA_R + 1):
            acc += src[min(max(j - _CHROMA_R + t, 0), cw - 1)]
        dst[j] = acc


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _vmean(hs, k, ja, ch, j, n):
    """cpu.box_sum down the column of horizontal sums ``hs`` at chroma row k, times n."""
    acc = hs[max(k - _CHROMA_R, 0) - ja, j]
    for t in range(1, 2 * _CHROMA_R + 1):
        acc += hs[min(max(k - _CHROMA_R + t, 0), ch - 1) - ja, j]
    return acc * n


@njit(nogil=True, cache=True, error_model="numpy")
def _chroma_guide(y, u, v, ints, a, b, buf, line):
    """buf[B_CY] and buf[B_CSU], buf[B_CSV]: luma and slopes at chroma rows [ka, kb) of
    chroma_span (row k at index k − ja), for rows [a, b) of the frame."""
    fx, fy = ints[I_FX], ints[I_FY]
    ch, cw = u.shape
    ka, kb, ja = chroma_span(ints, ch, a, b)
    jb = min(kb + _CHROMA_R, ch)
    s = F32(1.0 / 255.0)
    tu, tv = line[0, :cw], line[1, :cw]
    # Luma on the chroma grid, and the window's horizontal sums of the six products.
    for k in range(ja, jb):
        i = k - ja
        yc = buf[B_CY, i, :cw]
        _chroma_luma_row(y, fx, fy, k, yc)
        u0, v0 = u[k], v[k]
        for j in range(cw):
            tu[j] = F32(u0[j]) * s
            tv[j] = F32(v0[j]) * s
        _hsum(yc, buf[B_H0, i], cw)
        _hsum(tu, buf[B_H1, i], cw)
        _hsum(tv, buf[B_H2, i], cw)
        t = line[2, :cw]
        for j in range(cw):
            t[j] = yc[j] * yc[j]
        _hsum(t, buf[B_H3, i], cw)
        for j in range(cw):
            t[j] = yc[j] * tu[j]
        _hsum(t, buf[B_H4, i], cw)
        for j in range(cw):
            t[j] = yc[j] * tv[j]
        _hsum(t, buf[B_H5, i], cw)
    # The vertical sums → means → slopes, for the rows the decode reads.
    n = F32(1.0 / (2 * _CHROMA_R + 1) ** 2)
    for k in range(ka, kb):
        i = k - ja
        su, sv = buf[B_CSU, i], buf[B_CSV, i]
        h0, h1, h2, h3, h4, h5 = buf[B_H0], buf[B_H1], buf[B_H2], buf[B_H3], buf[B_H4], buf[B_H5]
        for j in range(cw):
            my = _vmean(h0, k, ja, ch, j, n)
            mu = _vmean(h1, k, ja, ch, j, n)
            mv = _vmean(h2, k, ja, ch, j, n)
            myy = _vmean(h3, k, ja, ch, j, n)
            myu = _vmean(h4, k, ja, ch, j, n)
            myv = _vmean(h5, k, ja, ch, j, n)
            var = max(myy - my * my, F32(0.0)) + _CHROMA_EPS
            su[j] = (myu - my * mu) / var
            sv[j] = (myv - my * mv) / var
