"""6c. The still hold: a matte that stands still where the picture does.

A still subject's matte still moves from frame to frame: camera noise and the codec's
re-quantisation move a partial pixel's colour by a level or two, and the clip ramps and the
colour model turn that into tens of levels of alpha, so a soft edge shimmers. The matte each
pixel shows has play: it stays where it was while this frame's matte is within ``d`` levels
of it, and is dragged along by the rest (a backlash). Where the picture around the pixel
moves, ``d`` is 0 and the pixel shows this frame's matte: no lag and no ghost.

Whether the picture moved is told by the input, not the matte (the matte's own noise is as
coherent as an edge's motion, through the guide and the colour model): the speed along the
gradient that best explains the change of the pixels' input bytes since the last frame (Y
and the chroma sample a pixel lies in, or R, G, B: decode.pixel_samples), in a window of
MOTION_REACH (least squares over the window and the three channels, the normal flow). Bytes,
not decoded colour: integers, so that every backend decides alike. Noise
changes colour without a consistent direction along the edges, a drifting edge with one, and
a fraction of a pixel a frame of drift is enough. ``d`` is ``still_hold`` below MOTION_STILL
px a frame and 0 above MOTION_MOVING. A strand thinner than a pixel has no gradient to
measure a speed by, so a pixel whose own bytes changed by more than COLOUR_STILL (in any
channel) has less play too, none past COLOUR_MOVING: what camera noise survives the codec
with in a still picture is a code value or two. The matte shown is never further than ``still_hold``
from this frame's own, nor further than from plain screen or plain subject (the play is at
most the level, and what it lacks of plain subject's: a matte that one backend keys plain and
another a level off plain shows the same, and a faint strand is not held where it was), and
rounded to levels, as the output is. Plain screen (0) and plain subject (what refinement
makes of 1) pass through.

The state is each pixel's shown level and its three input bytes (the kernels keep the
previous frame's planes, the same bytes).

The hold is idempotent on an unchanged picture (no byte changed: the speed is 0 and ``d``
is the most it can be, and the level shown last frame is within it), so a block the kernels'
incremental path keeps is the block it would key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...core.params import KeyerParams
from .common import F32, levels

# The window of the speed estimate: pixels either side. Measured on the footage clips at 720p
# (a still camera clip, clips that drift 0.37 px a frame, a slide of 3 px), on decoded colour:
# 2 holds the still clip's matte less (its change from frame to frame 0.32× against 0.29× at
# 3, with a play of 32 levels); 3 costs the drifting clips no more SAD.
MOTION_REACH = 3
# The speeds (px a frame) below which a pixel is still (the whole play) and above which it
# moves (no play), linear between. Measured as above: 0.07–0.2 held the still clip a little
# more (0.27×) for 0.5–1.3% more SAD on the drifting clips; 0.03–0.1 held it less (0.38×).
MOTION_STILL = 0.05
MOTION_MOVING = 0.15
# Squared levels of gradient added to the window's sum: where colour hardly varies (a flat
# window) there is no speed to tell, and the hold stays.
MOTION_EPS = 200.0
# A pixel's own change of input bytes (the most of its channels) below which it may be still
# and above which it moves, linear between. Measured as above, on 4:2:0 H.264 (the strands
# clips, whose strands are thinner than a pixel): without it their SAD rose 3.6–5.2%; with
# 1–3 by −0.1 to +1.3%, and the still clip's matte held alike (0.28×); 2–5 left 1.3–3.8%.
COLOUR_STILL = 1
COLOUR_MOVING = 3


# The state's bytes with the hold off (nothing reads them).
NO_COLOUR = np.zeros((0, 0, 3), np.uint8)


@dataclass
class HoldState:
    """One call's hold: this frame's input bytes of the pixels (decode.pixel_samples), the
    previous frame's state (None: there is none), and this frame's, out. A state is the shown
    levels (H×W uint8) and the input bytes (H×W×3 uint8)."""

    samples: np.ndarray = field(default_factory=lambda: NO_COLOUR)
    prev: tuple[np.ndarray, np.ndarray] | None = None
    next: tuple[np.ndarray, np.ndarray] | None = None


def motion_speed(rgb: np.ndarray, prev_rgb: np.ndarray) -> np.ndarray:
    """The normal flow's speed (px a frame) at each pixel: |Σ g·dt| / (Σ |g|² + MOTION_EPS)
    over the window of MOTION_REACH and the channels, with ``g`` the bytes' central
    difference (edges clamped) and ``dt`` their change since the previous frame (``rgb``,
    ``prev_rgb``: H×W×3 uint8). Window pixels outside the picture add nothing. Every term is
    a multiple of ¼ and the sums stay below 2²² (Σ|g|² could pass it only where a whole
    window swings from 0 to 255 every 2 px in every channel): exact in float32, in any order."""
    c = rgb.astype(F32)
    h, w = c.shape[:2]
    xs, ys = np.arange(w), np.arange(h)
    gx = (c[:, np.minimum(xs + 1, w - 1)] - c[:, np.maximum(xs - 1, 0)]) * F32(0.5)
    gy = (c[np.minimum(ys + 1, h - 1)] - c[np.maximum(ys - 1, 0)]) * F32(0.5)
    dt = c - prev_rgb.astype(F32)
    terms = [(gx * gx + gy * gy).sum(axis=-1), (gx * dt).sum(axis=-1), (gy * dt).sum(axis=-1)]
    sg, sx, sy = (_box_sum(t, MOTION_REACH) for t in terms)
    speed: np.ndarray = np.sqrt(sx * sx + sy * sy) / (sg + F32(MOTION_EPS))
    return speed


def _box_sum(a: np.ndarray, r: int) -> np.ndarray:
    """Sums over the (2r + 1)² window, pixels outside the picture adding nothing."""
    h, w = a.shape
    p = np.zeros((h + 2 * r, w + 2 * r), F32)
    p[r : r + h, r : r + w] = a
    rows = np.zeros((h + 2 * r, w), F32)
    for k in range(2 * r + 1):
        rows += p[:, k : k + w]
    out = np.zeros((h, w), F32)
    for k in range(2 * r + 1):
        out += rows[k : k + h]
    return out


def colour_change(rgb: np.ndarray, prev_rgb: np.ndarray) -> np.ndarray:
    """Each pixel's change of input bytes since the last frame (the most of its channels)."""
    change: np.ndarray = np.abs(rgb.astype(F32) - prev_rgb.astype(F32)).max(axis=-1)
    return change


def hold_play(speed: np.ndarray, change: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Levels of play at each speed and change of colour: all of ``still_hold`` when still,
    0 when moving (by either)."""
    ramp = np.clip((speed - F32(MOTION_STILL)) / F32(MOTION_MOVING - MOTION_STILL), 0.0, 1.0)
    jump = np.clip((change - F32(COLOUR_STILL)) / F32(COLOUR_MOVING - COLOUR_STILL), 0.0, 1.0)
    d: np.ndarray = np.floor(
        F32(p.still_hold * 255.0) * (F32(1.0) - np.maximum(ramp, jump)) + F32(0.5)
    )
    return d


def hold_matte(
    alpha: np.ndarray,
    samples: np.ndarray,
    kept: tuple[np.ndarray, np.ndarray] | None,
    one: float,
    p: KeyerParams,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """(The matte to show, the state for the next frame): within the play of the previous
    frame's level where the picture is still (see the module), this frame's ``alpha``
    rounded to levels elsewhere (everywhere without a previous frame); ``alpha`` itself with
    the hold off. ``samples``: this frame's input bytes of the pixels (H×W×3 uint8);
    ``kept``: the previous frame's state of the same pixels; ``one``: a plain subject's matte
    (refine.refined_one).

    Rounded, as a held pixel shows a kept level: a pixel shows the same matte on a second
    frame of the same picture whether it is held then or not.
    """
    if p.still_hold <= 0:
        return alpha, (levels(alpha), NO_COLOUR)
    colour = samples
    plain = (alpha <= F32(0.0)) | (alpha >= F32(one))
    taken = levels(alpha)
    if kept is not None:
        shown_before, colour_before = kept
        speed = motion_speed(colour, colour_before)
        d = hold_play(speed, colour_change(colour, colour_before), p)
        t = taken.astype(F32)
        top = F32(int(F32(one) * F32(255.0) + F32(0.5)))  # a plain subject's level
        d = np.minimum(d, np.minimum(t, top - t))
        held = np.clip(shown_before.astype(F32), t - d, t + d).astype(np.uint8)
        taken = np.where(plain, taken, held)
    shown: np.ndarray = np.where(plain, alpha, taken.astype(F32) * F32(1.0 / 255.0))
    return shown.astype(F32, copy=False), (taken, colour)
