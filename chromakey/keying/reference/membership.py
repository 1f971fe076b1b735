"""2–3. Screen membership in HSL and the fractional alpha it gates."""

from __future__ import annotations

import numpy as np

from ...core.params import KeyerParams
from .common import F32, soft_step

# --- 2. screen membership -------------------------------------------------------


def hue_membership(hue: np.ndarray, p: KeyerParams) -> np.ndarray:
    """1 inside the hue window, ramping to 0 over hue_softness degrees outside it."""
    d = np.abs(hue - F32(p.hue_center))
    d = np.minimum(d, F32(360.0) - d)
    outside = np.maximum(d - F32(p.hue_width / 2.0), 0.0)
    return F32(1.0) - soft_step(0.0, p.hue_softness, outside)


def screen_membership(
    hue_m: np.ndarray, sat: np.ndarray, light: np.ndarray, chroma: np.ndarray, p: KeyerParams
) -> np.ndarray:
    """How much a pixel's colour is the screen's kind of colour, 0–1, guarded at the extremes."""
    m = hue_m * soft_step(p.sat_min - p.sat_softness, p.sat_min, sat)
    m *= soft_step(0.5 * p.dark_guard, p.dark_guard, chroma)
    m *= F32(1.0) - soft_step(p.bright_guard, 1.0, light)
    m *= F32(1.0) - soft_step(p.sat_max, p.sat_max + p.sat_softness, sat)  # 1 when sat_max is 1
    return m


# --- 3. fractional alpha --------------------------------------------------------


def key_channel(p: KeyerParams) -> int:
    """The RGB channel that dominates the screen: the primary nearest the hue window's centre."""
    return int(round(p.hue_center / 120.0)) % 3


def key_excess(rgb: np.ndarray, key: int) -> np.ndarray:
    """How far the key channel stands above the larger of the other two."""
    a, b = [c for c in range(3) if c != key]
    other = np.maximum(rgb[..., a], rgb[..., b])
    return np.subtract(rgb[..., key], other, out=other if other.ndim else None)


# Smallest key excess a screen colour is credited with (a grey "screen" would divide by 0).
MIN_SCREEN_EXCESS = 0.05


def screen_excess(screen: np.ndarray, key: int) -> np.ndarray:
    """The screen's own key excess (per pixel for a per-pixel screen), floored at MIN_SCREEN_EXCESS."""
    return np.maximum(key_excess(screen, key), F32(MIN_SCREEN_EXCESS))


def raw_alpha(
    excess: np.ndarray, membership: np.ndarray, screen_excess: np.ndarray | float
) -> np.ndarray:
    """1 − (the share of the screen's colour the pixel holds), gated by membership."""
    share = np.clip(excess * (F32(1.0) / np.asarray(screen_excess, F32)), 0.0, 1.0)
    return F32(1.0) - membership * share

