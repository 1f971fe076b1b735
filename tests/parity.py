"""The GPU-vs-reference tolerance, one definition for every parity test (uint8 outputs)."""

from __future__ import annotations

import numpy as np

# Tolerance, in 1/255 steps of the uint8 output, per channel.
TOL_BULK = 2  # … on at least BULK_FRACTION of the pixels (all channels of a pixel within it)
BULK_FRACTION = 0.999  # i.e. at most 0.1 % of pixels over TOL_BULK
TOL_MAX = 8  # … on every pixel


def parity(expected: np.ndarray, actual: np.ndarray) -> tuple[int, float, float]:
    """(max difference, fraction of pixels within TOL_BULK, 99.9th percentile), in 1/255."""
    diff = np.abs(expected.astype(np.int16) - actual.astype(np.int16))
    per_pixel = diff.max(axis=-1)
    return int(diff.max()), float((per_pixel <= TOL_BULK).mean()), float(np.percentile(diff, 99.9))


def within_tolerance(expected: np.ndarray, actual: np.ndarray) -> bool:
    """At most TOL_MAX anywhere and at most 0.1 % of pixels over TOL_BULK."""
    worst, within, _ = parity(expected, actual)
    return worst <= TOL_MAX and within >= BULK_FRACTION
