"""Window filters the guide, the refinement and the spill gate share: edge-clamped shifts,
square min/max by doubling."""

from __future__ import annotations

import threading

import numpy as np

# --- 6. refinement ----------------------------------------------------------------


def _shifted(padded: np.ndarray, axis: int, start: int, size: int) -> np.ndarray:
    """A view of ``size`` rows (axis 0) or columns (axis 1) of ``padded`` from ``start``."""
    return padded[start : start + size] if axis == 0 else padded[:, start : start + size]


def _pad_edge(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (radius, radius)
    return np.pad(a, pad, mode="edge")


def window_reduce(a: np.ndarray, radius: int, op: np.ufunc) -> np.ndarray:
    """Square min/max filter with edges clamped, as two 1-D passes (exact for a square).

    Each pass pads by ``radius`` edge copies and reduces the window of 2·radius + 1 by
    doubling: windows of 2, 4, 8 … from pairs of the previous ones, then the last two
    (overlapping) windows of the largest power of two cover the whole window — about
    log2(2·radius + 1) + 1 operations per pixel instead of 2·radius. min and max are exact
    and order-free, so this gives the same values as comparing every tap.
    """
    if radius <= 0:
        return a
    for axis in (1, 0):
        a = _window_reduce_1d(a, radius, op, axis)
    return a


class _Scratch(threading.local):
    """Per-thread reusable work buffers: a fresh temporary of a few MB costs more in page
    faults than the arithmetic done in it. Only for arrays that never leave a function."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []

    def get(self, slot: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        while len(self.buffers) <= slot:
            self.buffers.append(np.empty(0, np.uint8))
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if self.buffers[slot].size < size:
            self.buffers[slot] = np.empty(size, np.uint8)
        return self.buffers[slot][:size].view(dtype).reshape(shape)


_scratch = _Scratch()


def _window_reduce_1d(a: np.ndarray, radius: int, op: np.ufunc, axis: int) -> np.ndarray:
    n = a.shape[axis]
    size = 2 * radius + 1
    shape = list(a.shape)
    shape[axis] = n + 2 * radius
    # The edge-padded input, written into a reused buffer (np.pad would allocate).
    cur = _scratch.get(0, tuple(shape), a.dtype)
    _shifted(cur, axis, radius, n)[...] = a
    _shifted(cur, axis, 0, radius)[...] = _shifted(a, axis, 0, 1)
    _shifted(cur, axis, radius + n, radius)[...] = _shifted(a, axis, n - 1, 1)
    length = cur.shape[axis]
    spare = _scratch.get(1, tuple(shape), a.dtype)
    span = 1  # cur[i] holds the reduction of padded[i : i + span] for i <= length − span
    while 2 * span <= size:
        valid = length - 2 * span + 1  # entries of the doubled window that exist
        op(
            _shifted(cur, axis, 0, valid),
            _shifted(cur, axis, span, valid),
            out=_shifted(spare, axis, 0, valid),
        )
        cur, spare = spare, cur
        span *= 2
    # size is odd and at least 3, so span < size: two overlapping windows of span cover it.
    out = np.empty(a.shape, a.dtype)
    op(_shifted(cur, axis, 0, n), _shifted(cur, axis, size - span, n), out=out)
    return out


def box_sum(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Sum of 2·radius + 1 values along ``axis``, edges clamped, added in the shaders' order."""
    n = a.shape[axis]
    padded = _pad_edge(a, radius, axis)
    out = _shifted(padded, axis, 0, n).copy()
    for k in range(1, 2 * radius + 1):
        out += _shifted(padded, axis, k, n)
    return out
