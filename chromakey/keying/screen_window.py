"""The screen's window: which hue it has, how saturated and how grainy it is, measured from a
grid of samples, and followed through a dead band so that a still scene keeps a still window."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..core.color import rgb_to_hsl
from ..core.params import RANGES, SCREEN_FAMILIES, KeyerParams
from ..core.screenmap import ScreenWindow
from .reference import MIN_SCREEN_EXCESS, key_channel, key_excess

F32 = np.float32

# --- the screen's window: which hue, how saturated ------------------------------------------
#
# Candidates are the samples of the family's hues that have some colour; the screen is the
# peak of their hue histogram (the frame's border counts BORDER_WEIGHT times: that is where
# the screen shows), and the samples within WINDOW_CLUSTER degrees of it are its pixels.
WINDOW_MIN_CHROMA = 0.04  # below this a sample's hue is noise
WINDOW_MIN_SAT = 0.08
WINDOW_LIGHT = (0.06, 0.94)
WINDOW_BIN = 2.0  # degrees per histogram bin
WINDOW_SMOOTH = 4  # bins either side of the triangular smoothing
WINDOW_CLUSTER = 25.0  # degrees around the peak that belong to the screen
WINDOW_SAT_CLUSTER = (0.12, 0.35)  # saturation around its peak that belongs: max(a, b·peak)
WINDOW_MIN_SHARE = 0.05  # the screen must be at least this share of the samples
BORDER = 0.08  # the outer share of the frame, each side, that is the border
BORDER_WEIGHT = 4.0
PALE = 0.45  # a screen paler than this (median HSL saturation) gets a saturation window
SAT_FLOOR = 0.6  # sat_min for a pale screen: this share of its 10th-percentile saturation
SAT_ROOF = 0.25  # sat_max for a pale screen: its 90th percentile plus this
DARK_SHARE = 0.5  # dark_guard at most this share of the screen's 10th-percentile chroma
# The window follows the measurements only when they move by more than this: a static scene
# keeps a static window (and matte) through compression noise.
WINDOW_DEADBAND = (1.5, 0.03, 0.01)  # degrees of hue, saturation, the grain's share
# The screen's grain: from the key excess of neighbouring samples of the screen (the grid's
# pixels, a few apart: the light's own unevenness barely moves between them), the RMS of their
# differences without the largest NOISE_TRIM of them (a crease, a subject's edge), divided by
# NOISE_TRIMMED_RMS (that RMS for Gaussian noise, in its σ) and by √2 (a difference holds two
# pixels' noise), as a share of the screen's own excess.
NOISE_TRIM = 0.1
NOISE_TRIMMED_RMS = 0.789


def window_of_color(rgb: np.ndarray, p: KeyerParams) -> ScreenWindow:
    """The window for a screen of exactly this colour (a user's --screen-color)."""
    hue, sat, _, chroma = (float(v[0]) for v in rgb_to_hsl(np.asarray(rgb, F32).reshape(1, 3)))
    return _window(hue, sat, sat, sat, chroma, p)


def _window(
    hue: float, s10: float, s50: float, s90: float, c10: float, p: KeyerParams
) -> ScreenWindow:
    pale = s50 < PALE
    return ScreenWindow(
        hue_center=hue,
        hue_width=p.hue_width,
        sat_min=min(p.sat_min, SAT_FLOOR * s10),
        sat_max=min(1.0, s90 + SAT_ROOF) if pale else 1.0,
        dark_guard=min(p.dark_guard, DARK_SHARE * c10),
    )


def screen_grain(excess: np.ndarray, screen: np.ndarray) -> float:
    """The screen's grain (KeyerParams.screen_noise): the standard deviation of its share of
    the key colour from pixel to pixel, from a grid of samples' key ``excess`` (H×W) where
    ``screen`` (H×W bool) says they are the screen; 0 with too few of them side by side."""
    pairs = [
        (excess[:, 1:] - excess[:, :-1])[screen[:, 1:] & screen[:, :-1]],
        (excess[1:] - excess[:-1])[screen[1:] & screen[:-1]],
    ]
    d = np.concatenate(pairs).astype(np.float64)
    if d.size < 2:
        return 0.0
    a = np.abs(d)
    kept = d[a <= np.quantile(a, 1.0 - NOISE_TRIM)]
    sigma = math.sqrt(float(np.mean(kept * kept))) / (NOISE_TRIMMED_RMS * math.sqrt(2.0))
    own = max(float(np.median(excess[screen])), MIN_SCREEN_EXCESS)
    return sigma / own


def measure_window(rgb: np.ndarray, p: KeyerParams) -> ScreenWindow | None:
    """The screen's window from a grid of samples (H×W×3), or None if no screen shows."""
    return window_of_samples(rgb, *rgb_to_hsl(rgb), p)


def window_of_samples(
    rgb: np.ndarray,
    hue: np.ndarray,
    sat: np.ndarray,
    light: np.ndarray,
    chroma: np.ndarray,
    p: KeyerParams,
) -> ScreenWindow | None:
    """:func:`measure_window` from the samples (H×W×3) and their HSL and chroma."""
    lo, hi = SCREEN_FAMILIES[p.screen]["search"]
    cand = (
        (hue >= lo) & (hue <= hi) & (chroma >= WINDOW_MIN_CHROMA) & (sat >= WINDOW_MIN_SAT)
        & (light >= WINDOW_LIGHT[0]) & (light <= WINDOW_LIGHT[1])
    )  # fmt: skip
    if cand.sum() < WINDOW_MIN_SHARE * cand.size:
        return None
    h, w = cand.shape
    weight = np.ones((h, w), F32)
    by, bx = max(1, round(BORDER * h)), max(1, round(BORDER * w))
    weight[:by] = weight[-by:] = BORDER_WEIGHT
    weight[:, :bx] = weight[:, -bx:] = BORDER_WEIGHT
    bins = int(math.ceil((hi - lo) / WINDOW_BIN))
    hist, _ = np.histogram(hue[cand], bins, (lo, lo + bins * WINDOW_BIN), weights=weight[cand])
    tri = np.concatenate([np.arange(1, WINDOW_SMOOTH + 2), np.arange(WINDOW_SMOOTH, 0, -1)])
    peak = lo + (int(np.argmax(np.convolve(hist, tri, "same"))) + 0.5) * WINDOW_BIN
    near = cand & (np.abs(hue - F32(peak)) <= WINDOW_CLUSTER)
    # Then the saturation peak of those: a vivid lime tie of the screen's hue on a pale
    # muslin is not the muslin.
    hist, _ = np.histogram(sat[near], 50, (0.0, 1.0), weights=weight[near])
    s_peak = (int(np.argmax(np.convolve(hist, tri, "same"))) + 0.5) / 50
    near &= np.abs(sat - F32(s_peak)) <= max(WINDOW_SAT_CLUSTER[0], WINDOW_SAT_CLUSTER[1] * s_peak)
    if near.sum() < WINDOW_MIN_SHARE * cand.size:
        return None
    s10, s50, s90 = (float(v) for v in np.percentile(sat[near], (10, 50, 90)))
    c10 = float(np.percentile(chroma[near], 10))
    w = _window(float(np.median(hue[near])), s10, s50, s90, c10, p)
    grain = screen_grain(key_excess(rgb, key_channel(w.apply(p))), near)
    return replace(w, noise=min(grain, RANGES["screen_noise"][1]))


def follow_window(old: ScreenWindow | None, new: ScreenWindow | None) -> ScreenWindow | None:
    """The window to key with: the new measurement where it moved past WINDOW_DEADBAND."""
    if new is None or old is None:
        return old if new is None else new
    dh = abs((new.hue_center - old.hue_center + 180.0) % 360.0 - 180.0)
    ds = max(abs(new.sat_min - old.sat_min), abs(new.sat_max - old.sat_max))
    dn = abs(new.noise - old.noise)
    moved = dh > WINDOW_DEADBAND[0] or ds > WINDOW_DEADBAND[1] or dn > WINDOW_DEADBAND[2]
    return new if moved else old
