"""Per-pixel work, one row at a time: decode of the planes, the screen map, membership, raw alpha, luma."""

import numpy as np
from numba import njit

from ..param_table import (
    I_CENTRED,
    I_FX,
    I_FY,
    I_KEY,
    I_LAYOUT,
    I_PALE,
    I_REACH,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_GAMUT_E0,
    P_GAMUT_INV,
    P_HUE_CENTER,
    P_HUE_E0,
    P_HUE_HALF,
    P_HUE_INV,
    P_MIX_E0,
    P_MIX_INV,
    P_PALE_E0,
    P_PALE_INV,
    P_REACH_E0,
    P_REACH_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_VIVID_E0,
    P_VIVID_INV,
    P_WEAK_E0,
    P_WEAK_INV,
)
from .common import (
    _HUE_EPS,
    B_B,
    B_CAN,
    B_CSU,
    B_CSV,
    B_CY,
    B_G,
    B_GATE0,
    B_LUMA,
    B_NEAR,
    B_NEAR_ROWS,
    B_R,
    B_RAW,
    B_SCR_B,
    B_SCR_G,
    B_SCR_R,
    B_SEED,
    B_SHARE,
    F32,
    LAYOUT_RGB,
    _clip01,
    _key_excess,
    _screen_excess,
    _soft_step,
)
from .windows import _hreduce, _vreduce


@njit(nogil=True, cache=True, error_model="numpy")
def _upsample_row(c: np.ndarray, out: np.ndarray, fx: int, centred: bool) -> None:
    """cpu.upsample_chroma along a row: column 2j = c[j], 2j+1 = (c[j] + c[j+1]) / 2, clamped;
    ``centred``: 2j = .75 c[j] + .25 c[j−1], 2j+1 = .75 c[j] + .25 c[j+1], clamped."""
    w = out.shape[0]
    cw = c.shape[0]
    if fx == 1:
        m = min(w, cw)
        for x in range(m):
            out[x] = c[x]
        for x in range(m, w):
            out[x] = c[cw - 1]
        return
    if centred:
        _upsample_centred(c, out)
        return
    we, wo = (w + 1) // 2, w // 2
    # Columns 2j and 2j + 1 together while c[j + 1] exists: one pass, two loads and two
    # stores per j (separate even and odd passes, each a strided store, took 3× as long).
    m = max(min(wo, cw - 1), 0)  # ≤ min(we, cw), so both columns of each j < m are c's own
    for j in range(m):
        a, b = c[j], c[j + 1]
        out[2 * j] = a
        out[2 * j + 1] = (a + b) * F32(0.5)
    me = min(we, cw)
    for j in range(m, we):
        out[2 * j] = c[j] if j < me else c[cw - 1]
    for j in range(m, wo):  # past c's last column: clamped to it
        out[2 * j + 1] = (c[min(j, cw - 1)] + c[cw - 1]) * F32(0.5)


@njit(nogil=True, cache=True, error_model="numpy")
def _upsample_centred(c: np.ndarray, out: np.ndarray) -> None:
    """_upsample_row for chroma centred across, in cpu._centred_rows's order (.75 c[j] first)."""
    w = out.shape[0]
    cw = c.shape[0]
    we, wo = (w + 1) // 2, w // 2
    m = max(min(wo, cw - 1), 1)  # interior j: c[j − 1] and c[j + 1] both exist
    out[0] = F32(0.75) * c[0] + F32(0.25) * c[0]
    if wo > 0:
        out[1] = F32(0.75) * c[0] + F32(0.25) * c[min(1, cw - 1)]
    for j in range(1, m):
        a = F32(0.75) * c[j]
        out[2 * j] = a + F32(0.25) * c[j - 1]
        out[2 * j + 1] = a + F32(0.25) * c[j + 1]
    for j in range(m, we):
        q = min(j, cw - 1)
        out[2 * j] = F32(0.75) * c[q] + F32(0.25) * c[min(j - 1, cw - 1)]
    for j in range(m, wo):
        q = min(j, cw - 1)
        out[2 * j + 1] = F32(0.75) * c[q] + F32(0.25) * c[min(j + 1, cw - 1)]


@njit(nogil=True, cache=True, error_model="numpy")
def _decode_rows(
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    rgbp: np.ndarray,
    ints: np.ndarray,
    dec: np.ndarray,
    a: int,
    b: int,
    buf: np.ndarray,
    line: np.ndarray,
    base: int,
    ja: int,
) -> None:
    """Rows [a, b) of the frame → buf[B_R..B_B][a − base : b − base] (cpu.decode_rgb's values).

    Subsampled chroma is guided by luma: buf[B_CY], buf[B_CSU], buf[B_CSV] hold the chroma
    guide's luma and slopes from chroma row ja (chroma._chroma_guide, run on the band first).
    """
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
    centred = ints[I_CENTRED] != 0
    m00, yoff, off1, off2 = dec[0], dec[1], dec[3], dec[4]
    m02, m11, m12, m21 = dec[5], dec[6], dec[7], dec[8]
    ch = u.shape[0]
    cw = u.shape[1]
    cu, cv, csu, csv, cy = line[0, :cw], line[1, :cw], line[5, :cw], line[6, :cw], line[7, :cw]
    uu, vv, usu, usv, ucy = line[2, :w], line[3, :w], line[8, :w], line[9, :w], line[10, :w]
    for r in range(a, b):
        i = r - base
        # Vertical chroma interpolation (cpu.upsample_chroma): rows 2k = .75 c[k] + .25 c[k−1],
        # 2k+1 = .75 c[k] + .25 c[k+1], indices clamped.
        if fy == 2:
            k = min(r // 2, ch - 1)
            k2 = max(k - 1, 0) if r % 2 == 0 else min(r // 2 + 1, ch - 1)
        else:
            k = k2 = min(r, ch - 1)
        u0, u1, v0, v1 = u[k], u[k2], v[k], v[k2]
        for j in range(cw):
            cu[j] = F32(0.75) * (F32(u0[j]) * s) + F32(0.25) * (F32(u1[j]) * s)
            cv[j] = F32(0.75) * (F32(v0[j]) * s) + F32(0.25) * (F32(v1[j]) * s)
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        yr = y[r]
        if fx == 1 and fy == 1:  # 4:4:4: the chroma as it is
            for x in range(w):
                yy = F32(yr[x]) * s * m00 - yoff
                cu_ = cu[min(x, cw - 1)] - off1
                cv_ = cv[min(x, cw - 1)] - off2
                pr[x] = _clip01(yy + cv_ * m02)
                pg[x] = _clip01((yy + cu_ * m11) + cv_ * m12)
                pb[x] = _clip01(yy + cu_ * m21)
            continue
        # The chroma guide's slopes and chroma-grid luma, interpolated as the chroma is.
        q, q2 = k - ja, k2 - ja
        s0, s1, t0, t1 = buf[B_CSU, q], buf[B_CSU, q2], buf[B_CSV, q], buf[B_CSV, q2]
        l0, l1 = buf[B_CY, q], buf[B_CY, q2]
        for j in range(cw):
            csu[j] = F32(0.75) * s0[j] + F32(0.25) * s1[j]
            csv[j] = F32(0.75) * t0[j] + F32(0.25) * t1[j]
            cy[j] = F32(0.75) * l0[j] + F32(0.25) * l1[j]
        _upsample_row(cu, uu, fx, centred)
        _upsample_row(cv, vv, fx, centred)
        _upsample_row(csu, usu, fx, centred)
        _upsample_row(csv, usv, fx, centred)
        _upsample_row(cy, ucy, fx, centred)
        for x in range(w):
            yn = F32(yr[x]) * s
            d = yn - ucy[x]  # cpu.guided_chroma: + slope × luma's detail below the chroma grid
            yy = yn * m00 - yoff
            cu_ = (uu[x] + usu[x] * d) - off1
            cv_ = (vv[x] + usv[x] * d) - off2
            pr[x] = _clip01(yy + cv_ * m02)
            pg[x] = _clip01((yy + cu_ * m11) + cv_ * m12)
            pb[x] = _clip01(yy + cu_ * m21)


@njit(nogil=True, cache=True, error_model="numpy")
def screen_across(
    colors: np.ndarray, mj0: np.ndarray, mj1: np.ndarray, mfx: np.ndarray
) -> np.ndarray:
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
def _screen_rows(
    across: np.ndarray,
    mi0: np.ndarray,
    mi1: np.ndarray,
    mfy: np.ndarray,
    a: int,
    b: int,
    buf: np.ndarray,
    base: int,
) -> None:
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
def _key_pixels(
    P: np.ndarray, ints: np.ndarray, lw: np.ndarray, i0: int, i1: int, buf: np.ndarray
) -> None:
    """Rows [i0, i1) of the band: membership, raw alpha, luma and the spill gate's own part
    (and the reach's seed and the share kept for :func:`reach_rows`)."""
    w = buf.shape[2]
    key = ints[I_KEY]
    hc, hh = P[P_HUE_CENTER], P[P_HUE_HALF]
    he, hi_ = P[P_HUE_E0], P[P_HUE_INV]
    se, si = P[P_SAT_E0], P[P_SAT_INV]
    de, di = P[P_DARK_E0], P[P_DARK_INV]
    be, bi = P[P_BRIGHT_E0], P[P_BRIGHT_INV]
    ve, vi = P[P_VIVID_E0], P[P_VIVID_INV]
    we, wi = P[P_WEAK_E0], P[P_WEAK_INV]
    re_, ri_ = P[P_REACH_E0], P[P_REACH_INV]
    pe, pi = P[P_PALE_E0], P[P_PALE_INV]
    pale = ints[I_PALE] != 0
    l0, l1, l2 = lw[0], lw[1], lw[2]
    for i in range(i0, i1):
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        qr, qg, qb = buf[B_SCR_R, i], buf[B_SCR_G, i], buf[B_SCR_B, i]
        raw, lum, gate = buf[B_RAW, i], buf[B_LUMA, i], buf[B_GATE0, i]
        seed, shr, can = buf[B_SEED, i], buf[B_SHARE, i], buf[B_CAN, i]
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
            m = m * (F32(1.0) - _soft_step(ve, vi, sat))
            # key_excess, screen_excess, raw_alpha
            ex = _key_excess(key, r, g, b)
            sx = _screen_excess(key, qr[x], qg[x], qb[x])
            share = _clip01(ex * (F32(1.0) / sx))
            # own_membership (on a pale screen's window, what rises beside it is kept)
            own = m * _soft_step(pe, pi, sat) if pale else m
            can[x] = m  # read on a pale window only; stored always, so the loop vectorises
            raw[x] = F32(1.0) - own * share
            # reach_membership's seed (this pixel surely screen) and the share it needs.
            seed[x] = own * _soft_step(re_, ri_, share)
            shr[x] = share
            lum[x] = r * l0 + g * l1 + b * l2
            gate[x] = max(hue_m, F32(1.0) - _soft_step(we, wi, sat))


@njit(nogil=True, cache=True, error_model="numpy")
def reach_rows(P: np.ndarray, ints: np.ndarray, buf: np.ndarray, line: np.ndarray, n: int) -> None:
    """cpu.reach_membership on the band's n rows, after _key_pixels: raw falls to
    1 − near·can_mix·share where that is lower (the same value as 1 − max(membership,
    near·can_mix)·share, exactly). It can only where the pixel holds more of the screen's
    colour than spill (share over REACH_MIX's start) and membership is under 1 (1 − raw =
    membership·share under share): beside the subject's edges. So near, the max of the seeds
    over the square, and can_mix are computed only there, directly."""
    r = ints[I_REACH]
    w = buf.shape[2]
    if ints[I_PALE] != 0:
        _pale_reach(buf, r, n, w)
        return
    me = P[P_MIX_E0]
    seed = buf[B_SEED]
    # Which pixels the reach can lower, a byte each, tested 8 at a time: the test vectorises,
    # and the few pixels beside the edge are found without a branch per pixel. The bytes are
    # a line the decode is done with (4 bytes a float: room for w + 7).
    chunks = (w + 7) // 8
    flags = line[5].view(np.uint8)[: chunks * 8]
    words = flags.view(np.uint64)
    flags[w : chunks * 8] = 0
    for i in range(n):
        shr, raw = buf[B_SHARE, i], buf[B_RAW, i]
        for x in range(w):
            flags[x] = (shr[x] > me) & (F32(1.0) - raw[x] < shr[x])
        for c in range(chunks):
            if words[c] == 0:
                continue
            for x in range(8 * c, min(8 * c + 8, w)):
                if flags[x] == 0:
                    continue
                _reach_pixel(P, buf, seed, i, x, r, n, w)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _reach_pixel(
    P: np.ndarray, buf: np.ndarray, seed: np.ndarray, i: int, x: int, r: int, n: int, w: int
) -> None:
    """reach_rows at one pixel the reach can lower: near, then can_mix, then the new raw."""
    sh = buf[B_SHARE, i, x]
    raw = buf[B_RAW, i]
    near = F32(0.0)
    for yy in range(max(i - r, 0), min(i + r, n - 1) + 1):
        row = seed[yy]
        for xx in range(max(x - r, 0), min(x + r, w - 1) + 1):
            near = max(near, row[xx])
    if near * sh <= F32(1.0) - raw[x]:
        return
    # The implied foreground × (1 − share): its brightest channel over 1 − share.
    rest = max(
        max(buf[B_R, i, x] - sh * buf[B_SCR_R, i, x], buf[B_G, i, x] - sh * buf[B_SCR_G, i, x]),
        buf[B_B, i, x] - sh * buf[B_SCR_B, i, x],
    )
    over = rest - (F32(1.0) - sh)
    mix = _soft_step(P[P_MIX_E0], P[P_MIX_INV], sh)
    can = mix * (F32(1.0) - _soft_step(P[P_GAMUT_E0], P[P_GAMUT_INV], over))
    raw[x] = min(raw[x], F32(1.0) - near * (can * sh))


@njit(nogil=True, cache=True, error_model="numpy")
def _pale_reach(buf: np.ndarray, r: int, n: int, w: int) -> None:
    """reach_rows on a pale screen's window: near for every pixel (a separable max of the
    seeds), then raw falls to 1 − near·can·share where that is lower. The pixels that may rise
    are not few here (a pale subject's every near-grey), so no pixel is singled out."""
    _hreduce(buf, B_SEED, B_NEAR_ROWS, r, 0, n, 0, w, True)
    _vreduce(buf, B_NEAR_ROWS, B_NEAR, r, 0, n, 0, w, n, True)
    for i in range(n):
        raw, near, can, shr = buf[B_RAW, i], buf[B_NEAR, i], buf[B_CAN, i], buf[B_SHARE, i]
        for x in range(w):
            raw[x] = min(raw[x], F32(1.0) - (near[x] * can[x]) * shr[x])
