"""The luma guide (cpu.guided_matte) and the bounds on it that let plain tiles skip it."""

import numpy as np
from numba import njit

from ..param_table import (
    I_GUIDE_R,
    I_REST,
    P_FIT_E0,
    P_FIT_INV,
    P_GUIDE_EPS,
    P_MATTE_EPS,
    P_SCREEN_LO,
    P_SUBJECT_HI,
)
from .common import (
    B_GUIDED,
    B_LUMA,
    B_RAW,
    B_S0,
    B_S1,
    B_S2,
    B_S3,
    B_S4,
    B_T0,
    B_T1,
    B_T2,
    B_T3,
    B_T4,
    F32,
    T_SCREEN,
    T_SUBJECT,
    TILE,
    _clip01,
    _soft_step,
)
from .windows import _hsum, _vsum


@njit(nogil=True, cache=True, error_model="numpy")
def _guide(
    P: np.ndarray, ints: np.ndarray, buf: np.ndarray, n: int, y0: int, y1: int, xa: int, xb: int
) -> None:
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
        t0, t1, t4 = buf[B_T0, i, sa:sb], buf[B_T1, i, sa:sb], buf[B_T4, i, sa:sb]
        for j in range(m):
            t0[j] = g_[j] * p_[j]
            t1[j] = g_[j] * g_[j]
            t4[j] = p_[j] * p_[j]
    _hsum(buf, B_LUMA, B_S0, rad, ra, rb, ca, cb)
    _hsum(buf, B_RAW, B_S1, rad, ra, rb, ca, cb)
    _hsum(buf, B_T0, B_S2, rad, ra, rb, ca, cb)
    _hsum(buf, B_T1, B_S3, rad, ra, rb, ca, cb)
    _hsum(buf, B_T4, B_S4, rad, ra, rb, ca, cb)
    _vsum(buf, B_S0, B_T0, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S1, B_T1, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S2, B_T2, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S3, B_T3, rad, qa, qb, ca, cb, n)
    _vsum(buf, B_S4, B_T4, rad, qa, qb, ca, cb, n)
    nw = F32((2 * rad + 1) * (2 * rad + 1))
    eps = P[P_GUIDE_EPS]
    meps = P[P_MATTE_EPS]
    fe, fi = P[P_FIT_E0], P[P_FIT_INV]
    m = cb - ca
    for i in range(qa, qb):
        t0, t1 = buf[B_T0, i, ca:cb], buf[B_T1, i, ca:cb]
        t2, t3, t4 = buf[B_T2, i, ca:cb], buf[B_T3, i, ca:cb], buf[B_T4, i, ca:cb]
        for j in range(m):
            mi = t0[j] / nw
            mp = t1[j] / nw
            var = max(t3[j] / nw - mi * mi, F32(0.0))
            var_p = max(t4[j] / nw - mp * mp, F32(0.0))
            cov = t2[j] / nw - mi * mp
            var_f = max(var, eps)
            sl = cov / var_f
            t0[j] = sl
            t1[j] = mp - sl * mi
            rho2 = min(cov * cov / (var_f * max(var_p, meps)), F32(1.0))
            t2[j] = var / (var + eps) * _soft_step(fe, fi, rho2)
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


# Slack for rounding in the guide's bounds (its sums round to 2^-QUANT_BITS and float32).
BOUND_SLACK = 1e-4


@njit(nogil=True, cache=True, error_model="numpy")
def _bound_tiles(
    P: np.ndarray,
    ints: np.ndarray,
    buf: np.ndarray,
    line: np.ndarray,
    n: int,
    states: np.ndarray,
    stats: np.ndarray,
) -> None:
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
    rest = ints[I_REST]
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
