"""6. Refinement of the matte: edge test, clip, choke, feather; the rows of context they reach."""

from __future__ import annotations

import math

import numpy as np

from ...core.params import KeyerParams
from .colour_model import COLOUR_RADIUS
from .common import EDGE_RADIUS, F32, soft_step
from .membership import member_reach
from .windows import _pad_edge, _shifted, window_reduce

# Rows of context beyond what key_frame's neighbourhood operations reach, for safety.
HALO_MARGIN = 2
# A grainy screen (sensor noise that no codec smoothed away: a camera original, a lossless or
# raw feed) gives its raw matte a spread over the edge test's window of up to this many times
# its grain (KeyerParams.screen_noise, a standard deviation): the largest of a few dozen
# samples of one-sided noise (the share is clipped at 1), with the light's unevenness that the
# screen map leaves. The edge test looks past it, so clip_black keys the grain like a shadow
# (on a muslin's grain, 3.5 left speckle and 5.5 clipped the faint edge: benchmarks/RESULTS.md).
NOISE_RANGE = 4.0


def halo_rows(p: KeyerParams) -> int:
    """Rows of context a band of rows needs on each side for :func:`key_frame` on the band to
    give exactly the rows it gives on the whole frame (ReferenceKeyer's strips).

    The neighbourhood operations run one after the other, so their reaches add up: the
    luma guide (two box filters of guide_radius) and the edge test (EDGE_RADIUS) on one
    side, the local colour model (COLOUR_RADIUS, on the raw matte and the colours) on the
    other, whichever is wider; then the choke (|choke|), the feather (ceil(feather) taps),
    the spill gate's max filter (spill_radius), and membership's reach (member_reach). The
    still hold reads the shaped matte of the pixel alone, and colours within
    hold.MOTION_REACH + 1, which the rest reaches further. Every
    operation of that kind added to key_frame must be counted here; tests/test_cpu_strips.py
    checks the sum against the whole frame.
    """
    feather = math.ceil(p.feather) if p.feather > 0 else 0
    clipped = max(2 * p.guide_radius + EDGE_RADIUS, COLOUR_RADIUS)
    reach = member_reach(p)
    return clipped + abs(p.choke) + feather + p.spill_radius + reach + HALO_MARGIN


def gaussian_weights(radius: float) -> np.ndarray:
    """Feather taps: a Gaussian of sigma radius/2 over ±ceil(radius), normalised."""
    n = int(np.ceil(radius))
    sigma = max(radius / 2.0, 1e-3)
    x = np.arange(-n, n + 1, dtype=np.float64)
    w = np.exp(-(x * x) / (2.0 * sigma * sigma))
    result: np.ndarray = (w / w.sum()).astype(F32)
    return result


def _blur(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = len(weights) // 2
    if n == 0:
        return a
    for axis in (1, 0):
        size = a.shape[axis]
        padded = _pad_edge(a, n, axis)
        out = np.zeros_like(a)
        for k, w in enumerate(weights):
            out += w * _shifted(padded, axis, k, size)
        a = np.clip(out, 0.0, 1.0, out=out)  # weights sum to 1 only within rounding
    return a


def edge_ramp(p: KeyerParams) -> tuple[float, float]:
    """The edge test's soft ramp on the matte's spread, edge_tolerance/2 wide: from
    edge_tolerance/2, or from NOISE_RANGE times the screen's grain where that is more."""
    half = 0.5 * p.edge_tolerance
    start = max(half, NOISE_RANGE * p.screen_noise)
    return start, start + half


def edge_weight(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """1 where the matte varies within EDGE_RADIUS (hair, outlines) by more than the screen's
    grain does, 0 on flat regions."""
    spread = window_reduce(alpha, EDGE_RADIUS, np.maximum) - window_reduce(
        alpha, EDGE_RADIUS, np.minimum
    )
    return soft_step(*edge_ramp(p), spread)


def clip_matte(alpha: np.ndarray, edge: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Clip black/white away from edges only, so shadows go and hair stays fractional."""
    clipped = np.clip((alpha - F32(p.clip_black)) * F32(1.0 / (p.clip_white - p.clip_black)), 0, 1)
    result: np.ndarray = clipped + edge * (alpha - clipped)
    return result


def choke_matte(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Erode (choke > 0) or dilate (choke < 0) by a square of radius |choke|."""
    if p.choke > 0:
        return window_reduce(alpha, p.choke, np.minimum)
    if p.choke < 0:
        return window_reduce(alpha, -p.choke, np.maximum)
    return alpha


def feather_matte(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    return _blur(alpha, gaussian_weights(p.feather)) if p.feather > 0 else alpha


def shape_matte(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The user's choke, then feather."""
    return feather_matte(choke_matte(alpha, p), p)


def refined_one(p: KeyerParams) -> float:
    """What refinement makes of a matte that is 1 throughout: a plain subject's matte (the
    feather's taps sum to 1 only within rounding)."""
    return float(shape_matte(np.ones((1, 1), F32), p)[0, 0])


def refine_matte(guided: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Clip, choke and feather of a matte, without the colour model between them (key_pixels
    runs that on the clipped matte)."""
    return shape_matte(clip_matte(guided, edge_weight(guided, p), p), p)
