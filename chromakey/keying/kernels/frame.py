"""The frame kernel: a band of rows through every stage, bands on numba's threads; compiled once."""

from __future__ import annotations

import logging
import os

# OpenMP's worker threads spin after each parallel region by default; on two cores that spin
# takes the decoder's core between frames. Passive waiting sleeps instead (a user's own
# setting wins). Read when numba starts its threads, so it is set before any kernel runs.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit, prange
from numba import types as nt

from ..param_table import (
    I_FX,
    I_FY,
    I_GUIDE_R,
    I_HALO,
    I_HOLD,
    I_LAYOUT,
    I_PREFILLED,
    I_REACH,
    I_REST,
    I_SPILL_R,
    I_TILES,
    I_YUV,
    P_HOLD,
    P_SCREEN_LO,
    P_SUBJECT_HI,
)
from .chroma import _chroma_guide, chroma_span
from .common import (
    B_ALPHA,
    B_B,
    B_G,
    B_GATE0,
    B_GUIDED,
    B_HOLD,
    B_LB,
    B_LG,
    B_LR,
    B_LW,
    B_R,
    B_RAW,
    B_S2,
    B_S3,
    B_SCR_B,
    B_SCR_G,
    B_SCR_R,
    B_TMP,
    F32,
    GUIDE_GAP,
    LAYOUT_RGB,
    T_MIXED,
    T_SCREEN,
    T_SUBJECT,
    TILE,
    _u8,
)
from .composite import _composite_px, _rows_to_yuv, _screen_lut, _screen_span
from .guide import _bound_tiles, _guide
from .motion import _hold_run
from .pixels import _decode_rows, _key_pixels, _screen_rows, reach_rows, screen_across
from .refine import _refine, _refined_one
from .windows import _hreduce, _vreduce

log = logging.getLogger(__name__)


@njit(nogil=True, cache=True, error_model="numpy")
def _band(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray, across: np.ndarray, mi0: np.ndarray, mi1: np.ndarray, mfy: np.ndarray,
    P: np.ndarray, ints: np.ndarray, dec: np.ndarray, lw: np.ndarray, fw: np.ndarray, bg_color: np.ndarray, bg_img: np.ndarray, out: np.ndarray, mat: np.ndarray, yp: np.ndarray, up: np.ndarray, vp: np.ndarray, ap: np.ndarray,
    held: np.ndarray, shown: np.ndarray, qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray,
    buf: np.ndarray, line: np.ndarray, tiles: np.ndarray, y0: int, y1: int,
) -> None:  # fmt: skip
    """Output rows [y0, y1): decode and key rows [y0 − halo, y1 + halo), refine, hold,
    composite. ``held``: the still hold's previous levels and ``qy``…``qrgb`` the previous
    frame's input planes (read where ints[I_HOLD]); ``shown``: this frame's levels, written
    where the hold is on (P[P_HOLD] > 0)."""
    h, w = out.shape[0], out.shape[1]
    halo = ints[I_HALO]
    a, b = max(y0 - halo, 0), min(y1 + halo, h)
    n = b - a
    o0, o1 = y0 - a, y1 - a  # the output rows within the band
    ja = 0
    if ints[I_LAYOUT] != LAYOUT_RGB and (ints[I_FX] == 2 or ints[I_FY] == 2):
        _chroma_guide(y, u, v, ints, a, b, buf, line)
        ja = chroma_span(ints, u.shape[0], a, b)[2]
    for r in range(a, b):  # row by row, so that each row is keyed while in cache
        _decode_rows(y, u, v, rgbp, ints, dec, r, r + 1, buf, line, a, ja)
        _screen_rows(across, mi0, mi1, mfy, r, r + 1, buf, a)
        _key_pixels(P, ints, lw, r - a, r - a + 1, buf)
    if ints[I_REACH] > 0:
        reach_rows(P, ints, buf, line, n)
    rad = ints[I_GUIDE_R]
    use_tiles = ints[I_TILES] != 0
    nt_ = (w + TILE - 1) // TILE
    sr_ = ints[I_SPILL_R]
    hold_on = P[P_HOLD] > F32(0.0)
    use_held = hold_on and ints[I_HOLD] != 0
    ext = sr_  # the shaped matte's columns and rows read around a run
    rest = ints[I_REST]
    ga, gb = max(o0 - rest, 0), min(o1 + rest, n)  # rows of guided matte that are read
    # 1. Classify tiles from bounds on the guided matte (see _bound_tiles).
    for t in range(nt_):
        tiles[0, t] = T_MIXED
    if use_tiles:
        _bound_tiles(P, ints, buf, line, n, tiles[0], tiles[2])
    # 2. The guide, on the columns within the refinement's reach of each run of mixed tiles.
    done = 0  # columns before this one are computed
    t = 0
    while t < nt_:
        if tiles[0, t] != T_MIXED:
            t += 1
            continue
        # Runs less than GUIDE_GAP tiles apart are computed as one: a call's fixed cost per
        # row and pass outweighs the columns between them.
        t1 = t + 1
        last = t
        while t1 < nt_ and t1 - last <= GUIDE_GAP:
            if tiles[0, t1] == T_MIXED:
                last = t1
            t1 += 1
        t1 = last + 1
        xa, xb = max(t * TILE - rest, done, 0), min(t1 * TILE + rest, w)
        if xb > xa:
            if rad == 0:
                for i in range(ga, gb):
                    buf[B_GUIDED, i, xa:xb] = buf[B_RAW, i, xa:xb]
            else:
                _guide(P, ints, buf, n, ga, gb, xa, xb)
            done = xb
        t = t1
    # 3. Mixed tiles whose guided matte turns out clearly screen or subject through the
    # refinement's reach need no refinement either.
    states = tiles[0]
    lo_s, hi_s = P[P_SCREEN_LO], P[P_SUBJECT_HI]
    for t in range(nt_):
        if not use_tiles or states[t] != T_MIXED:
            continue
        xa, xb = max(t * TILE - rest, 0), min((t + 1) * TILE + rest, w)
        lo, hi = F32(2.0), F32(-1.0)
        for i in range(ga, gb):
            row = buf[B_GUIDED, i, xa:xb]
            for j in range(xb - xa):
                lo = min(lo, row[j])
                hi = max(hi, row[j])
        if hi <= lo_s:
            states[t] = T_SCREEN
        elif lo >= hi_s:
            states[t] = T_SUBJECT
    for t in range(nt_):  # counted per band, for CpuKeyer.tile_counts
        tiles[1, states[t]] += 1
    # 4. Refinement on runs of mixed tiles; the others are exactly 0 or the refined 1.
    one = _refined_one(ints, fw)
    aa, ab = max(o0 - ext, 0), min(o1 + ext, n)
    t = 0
    while t < nt_:
        if states[t] != T_MIXED:
            value = F32(0.0) if states[t] == T_SCREEN else one
            xa, xb = t * TILE, min((t + 1) * TILE, w)
            for i in range(aa, ab):
                buf[B_ALPHA, i, xa:xb] = value
            t += 1
            continue
        t1 = t + 1
        while t1 < nt_ and states[t1] == T_MIXED:
            t1 += 1
        xa, xb = t * TILE, min(t1 * TILE, w)
        _refine(P, ints, fw, buf, line, n, ga, gb, max(xa - ext, 0), min(xb + ext, w), aa, ab)
        # The spill gate's reach: the max of 1 − alpha over a square of spill_radius.
        xc, xd = max(xa - sr_, 0), min(xb + sr_, w)
        for i in range(aa, ab):
            s_, d_ = buf[B_ALPHA, i, xc:xd], buf[B_S3, i, xc:xd]
            for j in range(xd - xc):
                d_[j] = F32(1.0) - s_[j]
        _hreduce(buf, B_S3, B_S2, sr_, aa, ab, xa, xb, True)
        _vreduce(buf, B_S2, B_TMP, sr_, o0, o1, xa, xb, n, True)
        if use_held:  # the hold's play, from the colour's motion since the last frame
            _hold_run(P, ints, y, u, v, rgbp, qy, qu, qv, qrgb, buf, a, h, one, o0, o1, xa, xb)
        t = t1
    # 5. Spill gate, unmix, despill, composite on the output rows.
    top = int(_u8(one))  # a plain subject's level: the play reaches no further
    lut = line[4, :256]
    _screen_lut(ints, bg_color, lut)
    for i in range(o0, o1):
        yy = a + i
        alpha, near, play = buf[B_ALPHA, i], buf[B_TMP, i], buf[B_HOLD, i]
        pr, pg, pb = buf[B_R, i], buf[B_G, i], buf[B_B, i]
        qr, qg, qb = buf[B_SCR_R, i], buf[B_SCR_G, i], buf[B_SCR_B, i]
        gate0 = buf[B_GATE0, i]
        lr, lg, lb, lw = buf[B_LR, i], buf[B_LG, i], buf[B_LB, i], buf[B_LW, i]
        for t in range(nt_):
            xa, xb = t * TILE, min((t + 1) * TILE, w)
            state = states[t]
            if state == T_SCREEN:
                if hold_on:
                    shown[yy, xa:xb] = 0
                if ints[I_PREFILLED] == 0:  # else render() wrote the background already
                    _screen_span(ints, bg_color, bg_img, lut, yy, xa, xb, out)
                continue
            for x in range(xa, xb):
                al = alpha[x]
                nr = near[x] if state == T_MIXED else F32(1.0) - al
                if hold_on:  # cpu.hold_matte: plain screen and subject pass through
                    level = _u8(al)
                    if state == T_MIXED and al > F32(0.0) and al < one:
                        if use_held:  # within the play of the level shown last frame
                            # (whole numbers of levels: ints, as exact as the floats)
                            lv_ = int(level)
                            pl_ = min(int(play[x]), lv_, top - lv_)
                            level = np.uint8(min(max(int(held[yy, x]), lv_ - pl_), lv_ + pl_))
                        al = F32(level) * F32(1.0 / 255.0)
                    shown[yy, x] = level
                wl = lw[x] if state == T_MIXED else F32(0.0)  # a subject tile's is 0
                _composite_px(
                    P, ints, pr[x], pg[x], pb[x], al, max(gate0[x], nr), qr[x], qg[x], qb[x],
                    lr[x], lg[x], lb[x], wl, bg_color, bg_img, yy, x, out,
                )  # fmt: skip
    # 6. The sink's YUV planes, from the rows just written (still in cache).
    if ints[I_YUV] != 0:
        _rows_to_yuv(out, y0, y1, 0, w, 0, mat, yp, up, vp, ap)


def _key_frame(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray, across: np.ndarray, mi0: np.ndarray, mi1: np.ndarray, mfy: np.ndarray,
    P: np.ndarray, ints: np.ndarray, dec: np.ndarray, lw: np.ndarray, fw: np.ndarray, bg_color: np.ndarray, bg_img: np.ndarray, out: np.ndarray, mat: np.ndarray, yp: np.ndarray, up: np.ndarray, vp: np.ndarray, ap: np.ndarray,
    held: np.ndarray, shown: np.ndarray, qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray,
    scratch: np.ndarray, lines: np.ndarray, tiles: np.ndarray, band_rows: int,
) -> None:  # fmt: skip
    """The whole frame: bands of ``band_rows`` rows, dealt round-robin to the scratch's workers.

    Compiled once for _SIGNATURE by :func:`kernel` (inputs as read-only arrays of any
    layout, so that padded planes and read-only backgrounds need no second compilation).
    """
    h = out.shape[0]
    nb = (h + band_rows - 1) // band_rows
    workers = scratch.shape[0]
    for wi in range(workers):
        tiles[wi, 1, :3] = 0
    for wi in prange(workers):
        for band in range(wi, nb, workers):
            y0 = band * band_rows
            _band(
                y, u, v, rgbp, across, mi0, mi1, mfy,
                P, ints, dec, lw, fw, bg_color, bg_img, out, mat, yp, up, vp, ap,
                held, shown, qy, qu, qv, qrgb, scratch[wi], lines[wi], tiles[wi],
                y0, min(y0 + band_rows, h),
            )  # fmt: skip


def _readonly(dtype: Any, ndim: int, layout: str = "A") -> Any:
    return nt.Array(dtype, ndim, layout, readonly=True)  # type: ignore[call-overload]  # numba's own stubs lack readonly


_SIGNATURE = nt.void(
    _readonly(nt.uint8, 2), _readonly(nt.uint8, 2), _readonly(nt.uint8, 2),  # y, u, v
    _readonly(nt.uint8, 3),  # rgb plane
    # The screen map across x: our own array, always C-contiguous; typed so, as the rows the
    # kernel interpolates every row between are then read as vectors (half _screen_rows' time).
    # Writable, as the jobs kernel's copy of a strip of it is (one compilation of _band).
    nt.Array(nt.float32, 3, "C"),
    _readonly(nt.int64, 1), _readonly(nt.int64, 1), _readonly(nt.float32, 1),  # map rows
    _readonly(nt.float32, 1), _readonly(nt.int64, 1), _readonly(nt.float32, 1),  # P, ints, dec
    _readonly(nt.float32, 1), _readonly(nt.float32, 1), _readonly(nt.float32, 1),  # lw, fw, bg
    _readonly(nt.uint8, 3),  # background image
    nt.Array(nt.uint8, 3, "C"),  # out
    _readonly(nt.float32, 1),  # RGB → YUV matrix and offsets
    *(nt.Array(nt.uint8, 2, "C") for _ in range(4)),  # Y, U, V, A planes out
    # The still hold's levels: the previous frame's, this frame's (a strip of them in the
    # jobs kernel, hence any layout); the previous frame's Y, U, V and RGB planes.
    _readonly(nt.uint8, 2), nt.Array(nt.uint8, 2, "A"),
    _readonly(nt.uint8, 2), _readonly(nt.uint8, 2), _readonly(nt.uint8, 2), _readonly(nt.uint8, 3),
    nt.Array(nt.float32, 4, "C"), nt.Array(nt.float32, 3, "C"), nt.Array(nt.int64, 3, "C"),
    nt.int64,
)  # fmt: skip


_kernel: Any = None


_KERNEL_LOCK = threading.Lock()


compile_seconds_taken: float | None = None  # what kernel() took: compiling or loading


def kernel() -> Any:
    """The compiled frame kernel: compiled on first use (a line in the log says so) and
    cached on disk by numba, so that later processes only load it."""
    global _kernel, compile_seconds_taken
    if _kernel is None:
        cached = _is_cached()
        if not cached:  # a minute or more: say why nothing happens meanwhile
            log.info("compiling the CPU kernels (first run only)…", extra={"lead": ""})
        t = time.perf_counter()
        _kernel = njit(_SIGNATURE, parallel=True, nogil=True, cache=True, error_model="numpy")(
            _key_frame
        )
        screen_across(np.zeros((1, 1, 3), F32), np.zeros(1, np.int64), np.zeros(1, np.int64),
                      np.zeros(1, F32))  # fmt: skip
        compile_seconds_taken = time.perf_counter() - t
    return _kernel


def _is_cached() -> bool:
    """Whether numba has an index for the kernel on disk (best effort: numba's own cache API)."""
    try:
        from numba.core.caching import FunctionCache

        cache = FunctionCache(_key_frame)  # type: ignore[no-untyped-call]  # numba's, untyped
        return Path(cache._cache_file._index_path).exists()
    except Exception:  # noqa: BLE001 - an answer either way only changes one message
        return False
