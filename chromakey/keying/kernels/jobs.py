"""Rectangles of a frame keyed again in one call: the incremental path's kernel.

Each job is a rectangle of rows of the frame keyed as a band of its own (its rows' halo read
from the frame's own rows, as every band's is) on a strip of columns that reaches ``reach``
pixels beyond the rectangle on either side; only the rectangle's own columns are written, into
the kept outputs. The strip's clamped edges then reach none of them (incremental.py's
argument), and a band's output does not depend on where bands start, so the bytes are those
of keying every pixel. One call for all of a frame's rectangles, on numba's threads: a call
from Python per rectangle cost more than the pixels it saved.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numba import njit, prange
from numba import types as nt

from ..param_table import I_FX, I_LAYOUT, I_YUV, P_HOLD
from .common import F32, LAYOUT_RGB
from .composite import _rows_to_yuv
from .frame import _SIGNATURE, _band

# Columns of a job: its rows y0–y1, the strip c0–c1 it is keyed on, the columns k0–k1 it writes.
J_Y0, J_Y1, J_C0, J_C1, J_K0, J_K1 = range(6)
J_FIELDS = 6


def _key_jobs(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, rgbp: np.ndarray, across: np.ndarray, mi0: np.ndarray, mi1: np.ndarray, mfy: np.ndarray,
    P: np.ndarray, ints: np.ndarray, dec: np.ndarray, lw: np.ndarray, fw: np.ndarray, bg_color: np.ndarray, bg_img: np.ndarray, out: np.ndarray, mat: np.ndarray, yp: np.ndarray, up: np.ndarray, vp: np.ndarray, ap: np.ndarray,
    held: np.ndarray, shown: np.ndarray, qy: np.ndarray, qu: np.ndarray, qv: np.ndarray, qrgb: np.ndarray, scratch: np.ndarray, lines: np.ndarray, tiles: np.ndarray, band_ints: np.ndarray, jobs: np.ndarray, stage: np.ndarray, strips: np.ndarray, shown_stage: np.ndarray, channels: int,
) -> None:  # fmt: skip
    """Every job of ``jobs`` (rows in the order dealt, round-robin, to the scratch's workers)
    keyed into ``out`` (RGB(A), or the planes ``yp``–``ap`` where ``ints`` asks for YUV).

    ``band_ints``: ``ints`` with the band's own YUV planes and prefilled background off (a
    strip is keyed into the worker's ``stage``, whole, then its core copied out); ``strips``:
    per worker, room for the screen map's rows across a strip (3 × map rows × W float32);
    ``shown_stage``: per worker, room for a strip's still-hold levels (H × W), whose core is
    copied into ``shown`` as the pixels' are into ``out``.
    """
    h = mi0.shape[0]
    w = across.shape[2]
    rows = across.shape[1]
    workers = scratch.shape[0]
    nbuf, brows, bw = scratch.shape[1], scratch.shape[2], scratch.shape[3]
    nj = jobs.shape[0]
    rgb_in = ints[I_LAYOUT] == LAYOUT_RGB
    fx = ints[I_FX]
    yuv = ints[I_YUV] != 0
    has_img = bg_img.shape[0] == h and bg_img.shape[1] == w
    hold_on = P[P_HOLD] > F32(0.0)
    for wi in range(workers):
        tiles[wi, 1, :3] = 0
    for wi in prange(workers):
        for j in range(wi, nj, workers):
            y0, y1 = jobs[j, J_Y0], jobs[j, J_Y1]
            c0, c1, k0, k1 = jobs[j, J_C0], jobs[j, J_C1], jobs[j, J_K0], jobs[j, J_K1]
            vw = c1 - c0
            yv, uv, vv, rv = y, u, v, rgbp
            qyv, quv, qvv, qrv = qy, qu, qv, qrgb  # the previous frame's, for the still hold
            if rgb_in:
                rv = rgbp[:, c0:c1]
                if hold_on:
                    qrv = qrgb[:, c0:c1]
            else:
                yv = y[:, c0:c1]
                uv = u[:, c0 // fx : (c1 + fx - 1) // fx]
                vv = v[:, c0 // fx : (c1 + fx - 1) // fx]
                if hold_on:
                    qyv = qy[:, c0:c1]
                    quv = qu[:, c0 // fx : (c1 + fx - 1) // fx]
                    qvv = qv[:, c0 // fx : (c1 + fx - 1) // fx]
            bv = bg_img[:, c0:c1] if has_img else bg_img
            acr = strips[wi, : 3 * rows * vw].reshape((3, rows, vw))
            for c in range(3):
                for i in range(rows):
                    ar, sr = acr[c, i], across[c, i]
                    for x in range(vw):
                        ar[x] = sr[c0 + x]
            buf = scratch[wi].reshape(nbuf * brows * bw)[: nbuf * brows * vw]
            st = stage[wi, : h * vw * channels].reshape((h, vw, channels))
            n_sh = h * vw if hold_on else 0
            sh = shown_stage[wi, :n_sh].reshape((h if hold_on else 0, vw))
            hv = held[:, c0:c1] if held.shape[1] == w else held
            _band(
                yv, uv, vv, rv, acr, mi0, mi1, mfy,
                P, band_ints, dec, lw, fw, bg_color, bv, st, mat, yp, up, vp, ap,
                hv, sh, qyv, quv, qvv, qrv, buf.reshape((nbuf, brows, vw)), lines[wi], tiles[wi], y0, y1,
            )  # fmt: skip
            xo = k0 - c0
            if hold_on:
                for r in range(y0, y1):
                    sd, ss = shown[r, k0:k1], sh[r, xo : xo + k1 - k0]
                    for i in range(k1 - k0):
                        sd[i] = ss[i]
            if yuv:
                _rows_to_yuv(st, y0, y1, xo, xo + k1 - k0, c0, mat, yp, up, vp, ap)
            else:  # row by row as runs of bytes: a vector copy, not an element-wise one
                n, a0, s0 = (k1 - k0) * channels, k0 * channels, xo * channels
                for r in range(y0, y1):
                    dst = out[r].reshape(w * channels)[a0 : a0 + n]
                    src = st[r].reshape(vw * channels)[s0 : s0 + n]
                    for i in range(n):
                        dst[i] = src[i]


_JOBS_SIGNATURE = nt.void(
    *_SIGNATURE.args[:-1],  # the frame kernel's arguments up to its band rows
    _SIGNATURE.args[9],  # band_ints: as ints
    nt.Array(nt.int64, 2, "C"),  # jobs
    nt.Array(nt.uint8, 2, "C"),  # stage, per worker
    nt.Array(nt.float32, 2, "C"),  # strips, per worker
    nt.Array(nt.uint8, 2, "C"),  # shown_stage, per worker
    nt.int64,  # channels
)

_jobs_kernel: Any = None
_LOCK = threading.Lock()


def jobs_kernel() -> Any:
    """The compiled jobs kernel (compiled on first use, then loaded from numba's cache)."""
    global _jobs_kernel
    with _LOCK:
        if _jobs_kernel is None:
            _jobs_kernel = njit(
                _JOBS_SIGNATURE, parallel=True, nogil=True, cache=True, error_model="numpy"
            )(_key_jobs)
    return _jobs_kernel
