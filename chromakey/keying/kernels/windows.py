"""Window sums and extrema along rows and down columns, in a fixed order of taps."""

from __future__ import annotations

import numpy as np
from numba import njit

from .common import Real, _clamped


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _row_sum(s: np.ndarray, d: np.ndarray, rad: int, x0: int, x1: int) -> None:
    """d[x] = sum of s[x − rad … x + rad] for x in [x0, x1), edges clamped.

    Taps are added four at a time, ((t0 + t1) + t2) + t3, then the next four, so a sum
    depends only on the values in its window, not on where the computation started.
    """
    w = s.shape[0]
    taps = 2 * rad + 1
    lo = min(max(x0, rad), x1)
    hi = max(min(x1, w - rad), lo)
    for x in range(x0, lo):
        d[x] = _edge_sum(s, x, rad, w)
    for x in range(hi, x1):
        d[x] = _edge_sum(s, x, rad, w)
    m = hi - lo
    dd = d[lo:hi]
    for k in range(0, taps, 4):
        b = lo - rad + k
        if k + 4 <= taps:
            s0, s1, s2, s3 = (
                s[b : b + m],
                s[b + 1 : b + 1 + m],
                s[b + 2 : b + 2 + m],
                s[b + 3 : b + 3 + m],
            )
            if k == 0:
                for j in range(m):
                    dd[j] = ((s0[j] + s1[j]) + s2[j]) + s3[j]
            else:
                for j in range(m):
                    dd[j] += ((s0[j] + s1[j]) + s2[j]) + s3[j]
        else:
            _add_group(
                dd, s[b : b + m], s[b + 1 : b + 1 + m], s[b + 2 : b + 2 + m], taps - k, k == 0
            )


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _add_group(
    dd: np.ndarray, s0: np.ndarray, s1: np.ndarray, s2: np.ndarray, count: int, first: bool
) -> None:
    """dd (=|+=) the last one to three taps' sum, added in order."""
    m = dd.shape[0]
    if count == 1:
        if first:
            for j in range(m):
                dd[j] = s0[j]
        else:
            for j in range(m):
                dd[j] += s0[j]
    elif count == 2:
        if first:
            for j in range(m):
                dd[j] = s0[j] + s1[j]
        else:
            for j in range(m):
                dd[j] += s0[j] + s1[j]
    else:
        if first:
            for j in range(m):
                dd[j] = (s0[j] + s1[j]) + s2[j]
        else:
            for j in range(m):
                dd[j] += (s0[j] + s1[j]) + s2[j]


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _edge_sum(s: np.ndarray, x: int, rad: int, w: int) -> Real:
    """_row_sum's value at one column near an edge, in the same grouping of taps."""
    taps = 2 * rad + 1
    acc = s[0] * 0
    for k in range(0, taps, 4):
        g = s[_clamped(x - rad + k, w)]
        for c in range(1, min(4, taps - k)):
            g += s[_clamped(x - rad + k + c, w)]
        acc = g if k == 0 else acc + g
    total: Real = acc
    return total


@njit(nogil=True, cache=True, error_model="numpy")
def _row_reduce(s: np.ndarray, d: np.ndarray, rad: int, x0: int, x1: int, is_max: bool) -> None:
    """d[x] = max (or min) of s[x − rad … x + rad] for x in [x0, x1), edges clamped."""
    w = s.shape[0]
    lo = min(max(x0, rad), x1)
    hi = max(min(x1, w - rad), lo)
    for x in range(x0, lo):
        acc = s[_clamped(x - rad, w)]
        for k in range(1, 2 * rad + 1):
            v = s[_clamped(x - rad + k, w)]
            acc = max(acc, v) if is_max else min(acc, v)
        d[x] = acc
    for x in range(hi, x1):
        acc = s[_clamped(x - rad, w)]
        for k in range(1, 2 * rad + 1):
            v = s[_clamped(x - rad + k, w)]
            acc = max(acc, v) if is_max else min(acc, v)
        d[x] = acc
    m = hi - lo
    dd = d[lo:hi]
    s0 = s[lo - rad : hi - rad]
    for j in range(m):
        dd[j] = s0[j]
    for k in range(1, 2 * rad + 1):
        sk = s[lo - rad + k : hi - rad + k]
        if is_max:
            for j in range(m):
                dd[j] = max(dd[j], sk[j])
        else:
            for j in range(m):
                dd[j] = min(dd[j], sk[j])


@njit(nogil=True, cache=True, error_model="numpy")
def _hsum(buf: np.ndarray, src: int, dst: int, rad: int, a: int, b: int, x0: int, x1: int) -> None:
    for i in range(a, b):
        _row_sum(buf[src, i], buf[dst, i], rad, x0, x1)


@njit(nogil=True, cache=True, error_model="numpy")
def _vsum(
    buf: np.ndarray, src: int, dst: int, rad: int, a: int, b: int, x0: int, x1: int, n: int
) -> None:
    """dst = sum of 2·rad + 1 rows, rows clamped to [0, n), taps grouped as in _row_sum."""
    m = x1 - x0
    taps = 2 * rad + 1
    for i in range(a, b):
        d = buf[dst, i, x0:x1]
        for k in range(0, taps, 4):
            r0 = buf[src, _clamped(i - rad + k, n), x0:x1]
            r1 = buf[src, _clamped(i - rad + k + 1, n), x0:x1]
            r2 = buf[src, _clamped(i - rad + k + 2, n), x0:x1]
            if k + 4 <= taps:
                r3 = buf[src, _clamped(i - rad + k + 3, n), x0:x1]
                if k == 0:
                    for j in range(m):
                        d[j] = ((r0[j] + r1[j]) + r2[j]) + r3[j]
                else:
                    for j in range(m):
                        d[j] += ((r0[j] + r1[j]) + r2[j]) + r3[j]
            else:
                _add_group(d, r0, r1, r2, taps - k, k == 0)


@njit(nogil=True, cache=True, error_model="numpy")
def _hreduce(
    buf: np.ndarray, src: int, dst: int, rad: int, a: int, b: int, x0: int, x1: int, is_max: bool
) -> None:
    for i in range(a, b):
        _row_reduce(buf[src, i], buf[dst, i], rad, x0, x1, is_max)


@njit(nogil=True, cache=True, error_model="numpy")
def _vreduce(
    buf: np.ndarray,
    src: int,
    dst: int,
    rad: int,
    a: int,
    b: int,
    x0: int,
    x1: int,
    n: int,
    is_max: bool,
) -> None:
    m = x1 - x0
    for i in range(a, b):
        d = buf[dst, i, x0:x1]
        s = buf[src, _clamped(i - rad, n), x0:x1]
        for j in range(m):
            d[j] = s[j]
        for k in range(1, 2 * rad + 1):
            s = buf[src, _clamped(i - rad + k, n), x0:x1]
            if is_max:
                for j in range(m):
                    d[j] = max(d[j], s[j])
            else:
                for j in range(m):
                    d[j] = min(d[j], s[j])
