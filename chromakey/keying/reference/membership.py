"""2–3. Screen membership in HSL, its reach beside the screen, and the fractional alpha it gates."""

from __future__ import annotations

import numpy as np

from ...core.params import KeyerParams
from .common import F32, soft_step
from .windows import window_reduce

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
    result: np.ndarray = m
    return result


# --- 2b. membership's reach ---------------------------------------------------------
#
# Whether a pixel is a mix with the screen is told by the pixels around it, not by its colour
# alone. Next to surely-screen pixels (within member_reach(p) pixels of them) a pixel may count
# as more screen-coloured than its own colour says; away from them it may not.
#
# A vivid screen. A pixel half subject, half screen has a hue between the two: skin and
# #008000 mix to about 90°, outside the window, so membership alone reads such a pixel as
# opaque and the key leaves a ring of screen colour around the subject. Beside the screen it
# counts as screen-coloured (its share of the screen's colour still decides its alpha) if it
# can be a mix: its share is more than spill gives (REACH_MIX), and the foreground that share
# implies, (C − share·S) / (1 − share), is a colour (no channel over 1, REACH_GAMUT). A subject
# colour of its own keeps its membership: a lime tie beside #008000 would imply a foreground
# brighter than white.
#
# A pale screen (sat_max < 1). Its mixes with a pale subject cannot be told from the subject's
# own near-greys by colour: a white shirt in shadow with a faint green cast has the screen's hue
# and a saturation within the ramp below sat_min. Such a colour counts as screen only beside
# the screen: away from it (the shirt's inside) the ramp starts at PALE_INTERIOR·sat_min, and a
# near-grey is not screen however pale the screen is.

# Pixels from surely-screen pixels within which membership may be raised.
MEMBER_REACH = 2
# The share of the screen's colour over which a member pixel is surely screen (soft ramp).
REACH_SHARE = (0.5, 0.9)
# The share under which a pixel beside the screen is the subject lit by it (spill), not a mix
# with it: it keeps its own membership (soft ramp).
REACH_MIX = (0.15, 0.3)
# How far over 1 (times 1 − share) the implied foreground's brightest channel may go before
# the pixel cannot be a mix with the screen (soft ramp): compression noise and 4:2:0 chroma.
REACH_GAMUT = (0.0, 0.1)
# A pale screen's window away from the screen: its saturation ramp starts at this share of
# sat_min (beside the screen, at sat_min − sat_softness as everywhere else).
PALE_INTERIOR = 0.5
# Pixels from a pale screen's surely-screen pixels within which its ramp is the whole one.
PALE_REACH = 4


def member_reach(p: KeyerParams) -> int:
    """Pixels from the screen within which membership may be raised."""
    return PALE_REACH if pale_window(p) else MEMBER_REACH


def pale_window(p: KeyerParams) -> bool:
    """A pale screen's window: one with a saturation ceiling."""
    return p.sat_max < 1.0


def pale_ramp(p: KeyerParams) -> tuple[float, float]:
    """A pale screen's saturation ramp away from the screen: PALE_INTERIOR·sat_min to sat_min."""
    return PALE_INTERIOR * p.sat_min, p.sat_min


def own_membership(membership: np.ndarray, sat: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The membership a pixel has away from the screen: all of it on a vivid screen; on a pale
    one, none below PALE_INTERIOR·sat_min (:func:`pale_ramp`)."""
    if not pale_window(p):
        return membership
    result: np.ndarray = membership * soft_step(*pale_ramp(p), sat)
    return result


def can_mix(share: np.ndarray, rgb: np.ndarray, screen: np.ndarray) -> np.ndarray:
    """Whether a pixel beside a vivid screen can be a mix with it (``screen``: (3,) or per
    pixel, as rgb): more of its colour than spill, and an implied foreground that is a colour."""
    rest = rgb - share[..., None] * screen  # the implied foreground × (1 − share)
    over = np.max(rest, axis=-1) - (F32(1.0) - share)
    result: np.ndarray = soft_step(*REACH_MIX, share) * (F32(1.0) - soft_step(*REACH_GAMUT, over))
    return result


def reach_terms(
    membership: np.ndarray,
    sat: np.ndarray,
    share: np.ndarray,
    rgb: np.ndarray,
    screen: np.ndarray,
    p: KeyerParams,
) -> tuple[np.ndarray, np.ndarray]:
    """(own, can): the pixel's membership away from the screen, and what it may rise to beside
    it (can_mix on a vivid screen, the whole membership on a pale one)."""
    if pale_window(p):
        return own_membership(membership, sat, p), membership
    return membership, can_mix(share, rgb, screen)


def reach_membership(
    own: np.ndarray, can: np.ndarray, share: np.ndarray, p: KeyerParams
) -> np.ndarray:
    """``own`` raised to ``can`` within member_reach(p) pixels of surely-screen pixels."""
    near = window_reduce(own * soft_step(*REACH_SHARE, share), member_reach(p), np.maximum)
    result: np.ndarray = np.maximum(own, near * can)
    return result


# --- 3. fractional alpha --------------------------------------------------------


def key_channel(p: KeyerParams) -> int:
    """The RGB channel that dominates the screen: the primary nearest the hue window's centre."""
    return int(round(p.hue_center / 120.0)) % 3


def key_excess(rgb: np.ndarray, key: int) -> np.ndarray:
    """How far the key channel stands above the larger of the other two."""
    a, b = [c for c in range(3) if c != key]
    other = np.maximum(rgb[..., a], rgb[..., b])
    result: np.ndarray = np.subtract(rgb[..., key], other, out=other if other.ndim else None)
    return result


# Smallest key excess a screen colour is credited with (a grey "screen" would divide by 0).
MIN_SCREEN_EXCESS = 0.05


def screen_excess(screen: np.ndarray, key: int) -> np.ndarray:
    """The screen's own key excess (per pixel for a per-pixel screen), floored at MIN_SCREEN_EXCESS."""
    result: np.ndarray = np.maximum(key_excess(screen, key), F32(MIN_SCREEN_EXCESS))
    return result


def screen_share(excess: np.ndarray, screen_excess: np.ndarray | float) -> np.ndarray:
    """The share of the screen's colour a pixel holds, by its key excess: 0–1."""
    result: np.ndarray = np.clip(excess * (F32(1.0) / np.asarray(screen_excess, F32)), 0.0, 1.0)
    return result


def raw_alpha(share: np.ndarray, membership: np.ndarray) -> np.ndarray:
    """1 − (the share of the screen's colour the pixel holds), gated by membership."""
    result: np.ndarray = F32(1.0) - membership * share
    return result
