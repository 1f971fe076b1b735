"""The quality measures' numpy filters: a Gaussian gradient, square dilation and erosion, and
the largest 4-connected component (union–find), so that the benchmarks need no SciPy."""

from __future__ import annotations

import numpy as np

F32 = np.float32


def _gauss_kernels(sigma: float = 1.4, eps: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """1-D Gaussian and its derivative, sized and L2-normalised as gaussgradient.m does."""
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2 * np.pi) * sigma * eps))))
    x = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-(x * x) / (2 * sigma * sigma)) / (np.sqrt(2 * np.pi) * sigma)
    d = -x * g / (sigma * sigma)
    return (g / np.sqrt((g * g).sum())).astype(F32), (d / np.sqrt((d * d).sum())).astype(F32)


_G, _DG = _gauss_kernels()


def _conv1d(a: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """Correlation with a 1-D kernel along ``axis``, edges replicated."""
    n = len(k) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (n, n)
    p = np.pad(a, pad, mode="edge")
    size = a.shape[axis]
    out = np.zeros_like(a)
    for i, w in enumerate(k):
        out += w * (p[i : i + size] if axis == 0 else p[:, i : i + size])
    return out


def grad_mag(a: np.ndarray) -> np.ndarray:
    gx = _conv1d(_conv1d(a, _DG, 1), _G, 0)
    gy = _conv1d(_conv1d(a, _G, 1), _DG, 0)
    return np.sqrt(gx * gx + gy * gy)


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        for s in range(1, r + 1):
            if axis == 0:
                out[s:] |= src[:-s]
                out[:-s] |= src[s:]
            else:
                out[:, s:] |= src[:, :-s]
                out[:, :-s] |= src[:, s:]
    return out


def erode(mask: np.ndarray, r: int) -> np.ndarray:
    """Pixels whose (2r + 1)² square lies inside ``mask`` (outside the frame counts as inside)."""
    return ~dilate(~mask, r)


def largest_component(mask: np.ndarray) -> int:
    """Pixels in the largest 4-connected component of ``mask`` (0 when it is empty).

    Union–find in numpy: every pair of 4-neighbours in the mask hooks the larger root under the
    smaller, then pointer jumping flattens the trees; repeated until every pair shares a root.
    """
    h, w = mask.shape
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return 0
    flat = mask.ravel()
    right = idx[(idx % w < w - 1)]
    right = right[flat[right + 1]]
    down = idx[idx < (h - 1) * w]
    down = down[flat[down + w]]
    u = np.concatenate([right, down])
    v = np.concatenate([right + 1, down + w])
    parent = np.arange(h * w)
    while True:
        pu, pv = parent[u], parent[v]
        if np.array_equal(pu, pv):
            break
        lo, hi = np.minimum(pu, pv), np.maximum(pu, pv)
        np.minimum.at(parent, hi, lo)
        while True:  # pointer jumping
            nxt = parent[parent]
            if np.array_equal(nxt, parent):
                break
            parent = nxt
    return int(np.bincount(parent[idx]).max())
