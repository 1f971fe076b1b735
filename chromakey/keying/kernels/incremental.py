"""Incremental keying: which 16-px blocks of the output can keep last frame's bytes.

An output pixel depends only on the inputs within ``reach`` pixels of it (the keying stages'
halo, the decode's chroma reach, the sink's chroma siting) and on the settings. A block whose
inputs within that reach are the bytes of the previous frame keeps its previous bytes; the
others are keyed again, in rectangles, all in one call of the jobs kernel (kernels.jobs): each
a band of the frame's own rows (its halo read from the frame, as every band's is) on a strip
with ``reach`` pixels of context either side, whose clamped edges then reach none of its kept
pixels (the band split's argument, across).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit

from ..reference import CHROMA_GUIDE_ROWS

BLOCK = 16  # pixels a side of a compared and reused block


# The decode's reach beyond the keying stages' halo, in luma pixels: a pixel's chroma comes
# from the two nearest chroma samples, their chroma guide's window (±1 sample) and its luma
# on the chroma grid (±1 luma pixel): at most 5 rows or 4 columns away; a region's edge sees
# its clamped planes that far. Counted as CHROMA_GUIDE_ROWS (6), plus 2 for the sink's
# chroma siting (a chroma sample reads the pixels beside and below its own).
DECODE_REACH = CHROMA_GUIDE_ROWS - 4

# Rows of blocks grouped into one rectangle's height: fewer rectangles (each keyed with its
# context) against keying clean rows between dirty ones.
STRIPE = 8

# Blocks of clean columns between two runs of dirty ones that a rectangle keys rather than
# start another, beyond the context both would key anyway: a job's fixed cost (its halo rows,
# its chroma guide's rows) is worth keying a few blocks' columns.
MERGE = 3

# Frames in a row keyed whole (nothing to keep) after which the frame is no longer copied for
# the next, and the plain-screen test runs only every PROBE_EVERY frames: on camera noise that
# changes every block, what is left of the incremental path is the comparison.
IDLE_AFTER = 3
PROBE_EVERY = 8

# A share of dirty blocks above which one whole-frame call costs less than the rectangles.
FULL_SHARE = 0.6


@njit(nogil=True, cache=True)
def changed_blocks(cur: np.ndarray, prev: np.ndarray, bh: int, bw: int, grid: np.ndarray) -> None:
    """grid[i, j] |= whether block (i, j) (bh rows × bw elements) of ``cur`` differs from
    ``prev``, both 2-D rows of bytes or of 8-byte words; ``prev`` takes the changed blocks'
    elements, so that it then equals cur. A block's row is compared as one run (a vector
    loop); a block already found changed is not compared further."""
    h, wc = cur.shape
    gh, gw = grid.shape
    for i in range(gh):
        r0, r1 = i * bh, min((i + 1) * bh, h)
        if r0 >= h:
            break
        for r in range(r0, r1):
            a, b = cur[r], prev[r]
            for j in range(gw):
                x0, x1 = j * bw, min((j + 1) * bw, wc)
                if x0 >= wc:
                    break
                if grid[i, j]:
                    continue
                d = False
                for x in range(x0, x1):
                    d |= a[x] != b[x]
                grid[i, j] = d
        for j in range(gw):
            if grid[i, j]:
                x0, x1 = j * bw, min((j + 1) * bw, wc)
                for r in range(r0, r1):
                    prev[r, x0:x1] = cur[r, x0:x1]


@njit(nogil=True, cache=True)
def copy_blocks(src: np.ndarray, dst: np.ndarray, mask: np.ndarray, bh: int, bw: int) -> None:
    """``dst`` takes ``src``'s bytes in the blocks set in ``mask`` (bh rows × bw bytes; both
    H×(W·c) uint8)."""
    h, wc = dst.shape
    gh, gw = mask.shape
    for i in range(gh):
        r0, r1 = i * bh, min((i + 1) * bh, h)
        for j in range(gw):
            if mask[i, j]:
                x0, x1 = j * bw, min((j + 1) * bw, wc)
                for r in range(r0, r1):
                    dst[r, x0:x1] = src[r, x0:x1]


def flat(a: np.ndarray) -> np.ndarray:
    """An H×W or H×W×C uint8 plane as H×(W·C) rows of bytes (a copy only if it has to be)."""
    return a if a.ndim == 2 else np.ascontiguousarray(a).reshape(a.shape[0], -1)


def dilate(grid: np.ndarray, k: int) -> np.ndarray:
    """Each True spread to the blocks within k blocks (a square): the reach, in blocks."""
    if k <= 0 or not grid.any():
        return grid.copy()
    gh, gw = grid.shape
    rows = grid.copy()
    for d in range(1, k + 1):
        rows[d:] |= grid[: gh - d] if d < gh else False
        rows[: gh - d] |= grid[d:] if d < gh else False
    out = rows.copy()
    for d in range(1, k + 1):
        if d < gw:
            out[:, d:] |= rows[:, : gw - d]
            out[:, : gw - d] |= rows[:, d:]
    return out


def reach_blocks(reach: int) -> int:
    """Blocks within ``reach`` pixels of a block: a change anywhere in one reaches that far."""
    return -(-reach // BLOCK)


def rectangles(dirty: np.ndarray, gap: int) -> list[tuple[int, int, int, int]]:
    """Rectangles (block rows i0–i1, block columns j0–j1, ends excluded) covering every dirty
    block: stripes of STRIPE block rows, runs of dirty columns within a stripe merged when
    less than ``gap`` blocks apart (the context both would key twice), rows trimmed to the
    run's dirty ones."""
    out = []
    gh = dirty.shape[0]
    for s0 in range(0, gh, STRIPE):
        s1 = min(s0 + STRIPE, gh)
        stripe = dirty[s0:s1]
        cols = np.flatnonzero(stripe.any(axis=0))
        if cols.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(cols) > gap) + 1
        for a, b in zip(np.r_[0, breaks], np.r_[breaks, cols.size], strict=True):
            j0, j1 = int(cols[a]), int(cols[b - 1]) + 1
            rows = np.flatnonzero(stripe[:, j0:j1].any(axis=1))
            out.append((s0 + int(rows[0]), s0 + int(rows[-1]) + 1, j0, j1))
    return out


def map_blocks(
    values: np.ndarray,
    mi0: np.ndarray,
    mi1: np.ndarray,
    grid: tuple[int, int],
    op: Callable[..., Any],
) -> np.ndarray:
    """``op`` (np.any, np.max) per block of (map rows, W) ``values`` over the map rows its pixel
    rows interpolate between (a pixel row r lerps map rows mi0[r] and mi1[r]) and its columns."""
    gh, gw = grid
    w = values.shape[1]
    cols = np.pad(np.arange(w), (0, gw * BLOCK - w), mode="edge")
    per_col = op(values[:, cols].reshape(values.shape[0], gw, BLOCK), axis=2)
    out = np.empty(grid, per_col.dtype)
    for i in range(gh):
        rows = np.union1d(mi0[i * BLOCK : (i + 1) * BLOCK], mi1[i * BLOCK : (i + 1) * BLOCK])
        out[i] = op(per_col[rows], axis=0)
    return out


class Kept:
    """The previous frame's inputs and outputs: a fixed set of frame-sized buffers, owned
    (copies: a decoder reuses its frames) and dropped by :meth:`clear`."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.settings: tuple[object, ...] | None = None
        self.layout: tuple[object, ...] | None = None
        self.inputs: list[np.ndarray] = []
        self.across: np.ndarray = np.zeros((0, 0, 0), np.float32)  # none yet: no shape matches
        self.outputs: list[tuple[np.ndarray, int]] = []  # (plane, frame pixels per pixel)
        self.valid = False  # the outputs are the previous frame's
        self.reused = 0.0  # the last frame's share of output blocks kept
        self.plain = 0.0  # and of blocks found plain screen among the others
        self.background: tuple[tuple[object, ...], list[np.ndarray]] | None = (
            None  # alpha 0's outputs
        )

    def changed(
        self,
        layout: tuple[object, ...],
        settings: tuple[object, ...],
        inputs: list[tuple[np.ndarray, int, int]],
        across: np.ndarray,
        mi0: np.ndarray,
        mi1: np.ndarray,
        shape: tuple[int, int],
        reach: int,
    ) -> np.ndarray | None:
        """The dirty output blocks of this frame: every block where ``settings`` changed, None
        where ``layout`` (what fixes the kept buffers' shapes: size, planes, output format)
        did or there is no previous frame. ``inputs``: (H'×W'×C uint8 plane, rows, columns of
        the frame's pixels per plane pixel). Brings the kept inputs up to this frame."""
        h, w = shape
        gh, gw = -(-h // BLOCK), -(-w // BLOCK)
        same = layout == self.layout and len(inputs) == len(self.inputs)
        same = same and all(
            k.shape == (p.shape[0], p.size // p.shape[0])
            for k, (p, _, _) in zip(self.inputs, inputs, strict=False)
        )
        same = same and self.across.shape == across.shape
        if not same:
            self.settings, self.layout = settings, layout
            self.inputs = [np.array(flat(p), order="C") for p, _, _ in inputs]
            self.across = across.copy()
            self.outputs = []
            self.valid = False
            self.reused = 0.0
            return None
        if settings != self.settings:  # every block, into the buffers as they are
            self.settings = settings
            for kept, (p, _, _) in zip(self.inputs, inputs, strict=True):
                np.copyto(kept, flat(p))
            np.copyto(self.across, across)
            self.reused = 0.0
            return np.ones((gh, gw), bool)
        grid = np.zeros((gh, gw), bool)
        for kept, (p, fy, fx) in zip(self.inputs, inputs, strict=True):
            c = p.shape[2] if p.ndim == 3 else 1
            cur, run = flat(p), BLOCK // fx * c  # a block row's bytes
            if run % 8 == 0 and cur.shape[1] % 8 == 0 and cur.strides[1] == 1:
                # Compared 8 bytes at a time: a block row is then 1–6 words, not 8–48 bytes.
                cur, kept, run = cur.view(np.uint64), kept.view(np.uint64), run // 8
            changed_blocks(cur, kept, BLOCK // fy, run, grid)
        if not np.array_equal(across, self.across):
            d = (across != self.across).any(axis=0)  # (map rows, W)
            grid |= map_blocks(d, mi0, mi1, grid.shape, np.any)
            np.copyto(self.across, across)
        dirty = dilate(grid, reach_blocks(reach))
        self.reused = 1.0 - float(dirty.mean())
        return dirty

    def keep(self, outputs: list[tuple[np.ndarray, int]]) -> None:
        """The whole frame's outputs (each with its pixels' size in frame pixels), copied."""
        self.valid = True
        if [k.shape for k, _ in self.outputs] == [o.shape for o, _ in outputs]:
            for (k, _), (o, _) in zip(self.outputs, outputs, strict=True):
                np.copyto(k, o)
        else:
            self.outputs = [(o.copy(), f) for o, f in outputs]

    def rekey(
        self,
        dirty: np.ndarray,
        reach: int,
        shape: tuple[int, int],
        key_jobs: Callable[[np.ndarray], None],
        fill: np.ndarray | None = None,
        background: list[np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """This frame's outputs: the kept ones, brought up to this frame, copied. The ``fill``
        blocks (plain screen) take ``background``'s bytes (the outputs of a frame of alpha 0);
        every rectangle of dirty blocks is keyed again by ``key_jobs`` (kernels.jobs: one call
        for all of them, writing into the kept outputs) on ``reach`` pixels of context."""
        if fill is not None and background is not None:
            for (kept, f), src in zip(self.outputs, background, strict=True):
                bh, bw = BLOCK // f, BLOCK // f * (kept.shape[2] if kept.ndim == 3 else 1)
                copy_blocks(flat(src), flat(kept), fill, bh, bw)
        if dirty.any():
            key_jobs(jobs(dirty, reach + reach % 2, shape))
        return [o.copy() for o, _ in self.outputs]


def jobs(dirty: np.ndarray, v: int, shape: tuple[int, int]) -> np.ndarray:
    """kernels.jobs' rows for the rectangles covering ``dirty``: each one's pixel rows, its
    strip (``v`` columns of context either side, ``v`` even so that a strip starts on whole
    4:2:0 chroma samples) and its own columns; the largest first, as the kernel deals them
    round-robin to its workers."""
    h, w = shape
    rects = rectangles(dirty, 2 * reach_blocks(v) + MERGE)
    out = np.empty((len(rects), 6), np.int64)
    for n, (i0, i1, j0, j1) in enumerate(rects):
        k0, k1 = j0 * BLOCK, min(j1 * BLOCK, w)
        out[n] = (i0 * BLOCK, min(i1 * BLOCK, h), max(k0 - v, 0), min(k1 + v, w), k0, k1)
    size = (out[:, 1] - out[:, 0]) * (out[:, 3] - out[:, 2])
    return np.ascontiguousarray(out[np.argsort(-size, kind="stable")])
