"""6b. The local colour model: a partial pixel's alpha from the subject's colour beside it.

A pixel at a subject's edge is a·F + (1 − a)·S. The matte so far reads a from the screen's share
of the pixel (its green excess), which is right only where F has no green excess of its own: at
skin's edge (F redder than green) it reads a too high, at a spilled or greenish edge too low,
and 4:2:0 chroma blurs it. Where solid subject lies within COLOUR_RADIUS pixels, its mean colour
there estimates F, and a follows from where the pixel lies on the line from S to F:
a = (C − S)·(F − S) / |F − S|², every channel at once, at luma's full resolution.

The estimate is trusted only where it can be: the window holds solid subject (COLOUR_SUPPORT), F
is far enough from S for the line to be measured on (COLOUR_SPREAD; on a pale screen, far
against the screen's own key excess, COLOUR_PALE_EXCESS: the screen's share reads a on that
excess, a line as short), and the pixel lies on that line (COLOUR_RESIDUAL): beside skin, a
strand of dark hair is no mix of skin and screen, and keeps its matte. Off the line, a pixel may
be the subject in shade mixed with the screen, u·F + v·S + (1 − u − v)·black (a strand's shaded
side, a fold, the subject's own shadow at its edge): inside that triangle, and more opaque there
than on the line, it is read at 1 − v and trusted by its distance from that plane
(:func:`shade_fit`); or the subject's lit side, brighter than the window's mean (a blond strand
among dark ones, a highlight), up to COLOUR_LIT times F, mixed with the screen. Even then the
matte moves only COLOUR_MIX of the way, since the window's mean is not the edge's own colour;
COLOUR_MIX_NEAR within COLOUR_NEAR_RADIUS of clear screen (COLOUR_NEAR_RADIUS_PALE on a pale
screen's window: :func:`near_radius`), where the pixel is the subject's outer edge and the solid
subject beside it is most often that edge's own colour (inside the subject, a semi-transparent
patch or a strand over a hole lies beside other colours); and COLOUR_MIX_FIT more
where the pixel lies on the line to the codec's precision (COLOUR_FIT), a mix of that F and the
screen whichever colour the edge itself has, unless the matte reads it nearly solid
(COLOUR_FIT_SOLID). It runs after the clip, on the pixels the clip leaves partial (ramped in over
COLOUR_PARTIAL from 0 and 1), so clearly screen and clearly subject stay exactly 0 and 1, and
before choke and feather, so that a user's choke and feather shape the result.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...core.params import KeyerParams
from .common import F32, soft_step
from .membership import key_excess, pale_window, screen_excess
from .windows import box_sum

# Pixels either side over which the solid subject's colour is averaged (a square window).
COLOUR_RADIUS = 7
# The raw matte over which a pixel is solid subject, a sample of F (soft ramp).
COLOUR_SOLID = (0.95, 1.0)
# Solid pixels the window needs before its mean is F (soft ramp on the sum of their weights).
COLOUR_SUPPORT = (0.0, 2.0)
# |F − S|² under which the line from S to F is too short to read a on (soft ramp) ...
COLOUR_SPREAD = (0.05, 0.15)
# ... and below this key excess of the screen's (a pale screen: a muslin's is about 0.09) the
# line counts against that excess, (COLOUR_PALE_EXCESS / excess)² times longer: the raw matte
# reads a off the screen's excess, as short a line, and a white shirt in shadow lies 0.09 from
# a pale muslin.
COLOUR_PALE_EXCESS = 0.35
# The pixel's distance from the line S–F over which it is not a mix of the two (soft ramp).
COLOUR_RESIDUAL = (0.02, 0.06)
# The share of the way from the matte to the colour model's alpha a trusted pixel moves.
COLOUR_MIX = 0.5
# ... and the share more for a pixel on the line to within the codec's precision (soft ramp on
# its distance from it, below COLOUR_RESIDUAL's): there the pixel is that mix, whatever the
# window's mean misses of the edge's own colour. At most 1 with COLOUR_MIX_NEAR's share. Not
# where the matte reads the pixel nearly solid (soft ramp down over COLOUR_FIT_SOLID): there a
# colour on the line is as often the subject's own, its chroma smeared toward the screen by
# 4:2:0 a pixel or two inside the edge.
COLOUR_FIT = (0.005, 0.02)
COLOUR_MIX_FIT = 0.25
COLOUR_FIT_SOLID = (0.8, 0.9)
# A pixel off that line may be the subject in shade mixed with the screen (a strand's shaded
# side, a fold, the subject's own shadow at its edge): C = u·F + v·S + (1 − u − v)·black, alpha
# 1 − v (:func:`shade_fit`). Inside that triangle, where 1 − v reads it more opaque than the
# line does, it is read there as far as it lies off the line. The soft edges over which it is
# inside: of u, v and 1 − u − v, and of 1 − v's lead over the line's alpha.
COLOUR_SHADE = 0.02
# ... and the subject lit brighter than F (u > 1 − v: a blond strand among dark ones, the lit
# side of a curl), read at 1 − v too, more or less opaque than the line reads it: F brightened
# at most COLOUR_LIT times and still a colour (no channel over 1): a rim light or a backlit
# strand reaches about twice the hair's mean (2.0 set on the footage benchmark's truth 2,
# benchmarks/RESULTS.md stop 52; not swept again since). Not where F and S lie near parallel
# (soft ramp on the sine² of their angle): there a subject a little brighter than its window's
# mean fits a mix with the screen as well (a pale subject before a pale muslin, sine² about
# 0.02; a white shirt before a studio green, about 0.25), and would lose its matte.
COLOUR_LIT = 2.0
COLOUR_LIT_APART = (0.1, 0.3)
# ... and beside clear screen: the raw matte under which a pixel is clear screen (soft ramp),
# the pixels around within which it counts, the sum of their clear weights over which the
# pixel is beside the screen (soft ramp), and the share it moves there. A vivid screen's outer
# edge reaches COLOUR_NEAR_RADIUS in (a head's loose hair at 720p); on a pale screen's window
# (membership.pale_window) only COLOUR_NEAR_RADIUS_PALE: its line is short, and the clear
# screen there lies beside a pale subject's own near-greys, where the model's reading a few
# pixels in cost edge PSNR (near_radius). Neither goes past COLOUR_RADIUS: the bands' halo.
COLOUR_CLEAR = (0.0, 0.05)
COLOUR_NEAR_RADIUS = 4
COLOUR_NEAR_RADIUS_PALE = 2
COLOUR_NEAR = (0.0, 2.0)
COLOUR_MIX_NEAR = 0.75
# How far from 0 and from 1 the clipped matte ramps the model in (soft ramps): the model acts
# on partial pixels only, and a pixel a rounding away from 0 or 1 is moved by a rounding.
COLOUR_PARTIAL = 0.02
# What a zero weight sum or a zero-length line divides by.
COLOUR_TINY = F32(1e-6)
# The least alpha edge_colour unmixes a pixel with (1/alpha amplifies the codec's error) ...
EDGE_ALPHA_MIN = 0.02
# ... and the least share of the matte's own alpha: on a pale screen the key excess falls
# slowly along the line from the screen, and a small shortfall of the pixel's excess would
# take its colour far past its own unmix (on a pale muslin, where the edge colour lost).
EDGE_ALPHA_SHARE = 0.6
# The colour on that line against the pixel's own unmix with its other channels shifted to the
# same excess (its key channel kept): the share of the way taken toward the latter where the line
# has less key excess than the own unmix, and where it has more (the matte read too little of
# the subject there, and the line would take the screen's colour back into every channel) ...
EDGE_KEEP_LESS = 0.25
EDGE_KEEP_MORE = 1.0
# ... ramped between the two over this much excess either side of the own unmix's (soft step),
# and taken as far as the pixel lies off the line from the screen to the subject beside it (soft
# ramp on that distance): a pixel on it is a mix of the two, the line's colour is then right.
EDGE_KEEP_RAMP = 0.01
EDGE_KEEP_RESIDUAL = (0.05, 0.15)
# How fast a partial pixel's colour follows the subject's as its alpha falls: it moves
# min(1, EDGE_FOLLOW·(1 − alpha)) of the way (times F's weight), all of it at alpha ≤ 1/2.
EDGE_FOLLOW = 2.0


def local_foreground(raw: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(F, support): the mean colour of the solid subject within COLOUR_RADIUS (H×W×3), and
    the sum of its solid weights (H×W)."""
    w = soft_step(*COLOUR_SOLID, raw)
    r = COLOUR_RADIUS
    sums = np.concatenate([w[..., None], w[..., None] * rgb], axis=-1)
    sums = box_sum(box_sum(sums, r, 1), r, 0)
    support = sums[..., 0]
    return sums[..., 1:] / np.maximum(support, COLOUR_TINY)[..., None], support


def near_radius(p: KeyerParams) -> int:
    """How far in from clear screen a pixel counts as the outer edge (:func:`colour_mix`):
    COLOUR_NEAR_RADIUS, or COLOUR_NEAR_RADIUS_PALE on a pale screen's window."""
    return COLOUR_NEAR_RADIUS_PALE if pale_window(p) else COLOUR_NEAR_RADIUS


def colour_model_matte(
    alpha: np.ndarray, raw: np.ndarray, rgb: np.ndarray, screen: np.ndarray, key: int
) -> np.ndarray:
    """The clipped matte with its partial pixels moved toward the local colour model's alpha
    (``screen``: the screen's colour, (3,) or per pixel as rgb; ``key``: its key channel), a
    vivid screen's reach from clear screen (:func:`colour_model` takes another)."""
    return colour_model(alpha, raw, rgb, screen, key)[0]


def colour_mix(raw: np.ndarray, near: int = COLOUR_NEAR_RADIUS) -> np.ndarray:
    """The share of the way a trusted pixel moves: COLOUR_MIX, ramped up to COLOUR_MIX_NEAR
    by the clear screen within ``near`` pixels (before :func:`fit_mix`)."""
    clear = F32(1.0) - soft_step(*COLOUR_CLEAR, raw)
    beside = soft_step(*COLOUR_NEAR, box_sum(box_sum(clear, near, 1), near, 0))
    mix: np.ndarray = F32(COLOUR_MIX) + beside * F32(COLOUR_MIX_NEAR - COLOUR_MIX)
    return mix


def fit_mix(residual: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """The share added to :func:`colour_mix` for a pixel as near the line as ``residual``:
    COLOUR_MIX_FIT on it, ramped out over COLOUR_FIT, and over COLOUR_FIT_SOLID on the clipped
    matte ``alpha``."""
    near = (F32(1.0) - soft_step(*COLOUR_FIT, residual)) * (
        F32(1.0) - soft_step(*COLOUR_FIT_SOLID, alpha)
    )
    result: np.ndarray = F32(COLOUR_MIX_FIT) * near
    return result


def line_fit(
    to_pixel: np.ndarray, line: np.ndarray, spread: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(Where a pixel lies along the line from the screen to F, 0–1; its distance from that
    line), from C − S, F − S and |F − S|²."""
    a = np.clip(np.sum(to_pixel * line, axis=-1) / np.maximum(spread, COLOUR_TINY), 0.0, 1.0)
    off = to_pixel - a[..., None] * line
    return a, np.sqrt(np.sum(off * off, axis=-1))


def shade_fit(
    rgb: np.ndarray, fg: np.ndarray, screen: np.ndarray, a: np.ndarray, residual: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(The model's alpha, the distance its trust is read from): the line's (``a``,
    ``residual``: :func:`line_fit`), or where the pixel is u·F + v·S + (1 − u − v)·black
    (least squares on the plane of F and S), inside that triangle and more opaque there, or
    lit beyond F (u up to COLOUR_LIT·(1 − v), F as bright a colour, F and S apart:
    COLOUR_LIT_APART), its alpha moved toward 1 − v as far as it lies off the line
    (COLOUR_RESIDUAL) and its distance from that plane (COLOUR_SHADE's soft edges)."""
    s = np.broadcast_to(np.asarray(screen, F32), rgb.shape)
    ff, fs, ss = np.sum(fg * fg, -1), np.sum(fg * s, -1), np.sum(s * s, -1)
    fc, sc = np.sum(fg * rgb, -1), np.sum(s * rgb, -1)
    det = ff * ss - fs * fs
    d = np.maximum(det, COLOUR_TINY)
    u = (fc * ss - sc * fs) / d
    v = (ff * sc - fs * fc) / d
    off = rgb - u[..., None] * fg - v[..., None] * s
    plane = np.sqrt(np.sum(off * off, axis=-1))
    shade = F32(1.0) - v
    dark = soft_step(0.0, COLOUR_SHADE, shade - u)
    lit = soft_step(0.0, COLOUR_SHADE, F32(COLOUR_LIT) * shade - u)
    lit *= soft_step(0.0, COLOUR_SHADE, shade - u * np.max(fg, axis=-1))
    lit *= soft_step(*COLOUR_LIT_APART, det / np.maximum(ff * ss, COLOUR_TINY))
    inside = (det > COLOUR_TINY) * soft_step(0.0, COLOUR_SHADE, u) * soft_step(0.0, COLOUR_SHADE, v)
    inside *= dark * soft_step(0.0, COLOUR_SHADE, shade - a) + (F32(1.0) - dark) * lit
    off_line = soft_step(*COLOUR_RESIDUAL, residual)
    alpha: np.ndarray = a + inside * off_line * (shade - a)
    far: np.ndarray = residual - inside * np.maximum(residual - plane, 0.0)
    return alpha, far


def spread_scale(screen: np.ndarray, key: int) -> np.ndarray:
    """What |F − S|² is multiplied by before COLOUR_SPREAD's ramp: 1, or on a pale screen
    (COLOUR_PALE_EXCESS) the ratio of the squared excesses."""
    excess = screen_excess(np.asarray(screen, F32), key)
    scale: np.ndarray = np.maximum(F32(COLOUR_PALE_EXCESS**2) / (excess * excess), F32(1.0))
    return scale


def colour_model(
    alpha: np.ndarray,
    raw: np.ndarray,
    rgb: np.ndarray,
    screen: np.ndarray,
    key: int,
    near: int = COLOUR_NEAR_RADIUS,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, LocalColour]:
    """:func:`colour_model_matte`, and the local colour the unmix gives its partial pixels.

    ``known``: the subject's true colour at each pixel (H×W×3), read in place of the solid
    subject's mean beside it and trusted as if a full window supported it: what the keyer
    would make of a right F (benchmarks.bounds), no keying path passes one."""
    if known is None:
        fg, support = local_foreground(raw, rgb)
    else:
        fg = np.asarray(known, F32)
        support = np.full(alpha.shape, COLOUR_SUPPORT[1], F32)
    line = fg - screen
    spread = np.sum(line * line, axis=-1)
    a, residual = line_fit(rgb - screen, line, spread)
    a, far = shade_fit(rgb, fg, screen, a, residual)
    supported = soft_step(*COLOUR_SUPPORT, support)
    trust = supported * soft_step(*COLOUR_SPREAD, spread * spread_scale(screen, key))
    trust *= (F32(1.0) - soft_step(*COLOUR_RESIDUAL, far)) * (
        colour_mix(raw, near) + fit_mix(residual, alpha)
    )
    partial = soft_step(0.0, COLOUR_PARTIAL, alpha) * soft_step(
        0.0, COLOUR_PARTIAL, F32(1.0) - alpha
    )
    result: np.ndarray = alpha + trust * partial * (a - alpha)
    return result, LocalColour(fg, supported * partial)


@dataclass(frozen=True)
class LocalColour:
    """The solid subject's mean colour beside each pixel (H×W×3) and how far a partial pixel's
    colour may follow it (H×W: F's support, times the colour model's partial ramp)."""

    fg: np.ndarray
    weight: np.ndarray


def excess_target(fg: np.ndarray, key: int, spill: float) -> np.ndarray:
    """The key excess an edge takes from the subject's colour ``fg`` beside it: F's, less the
    despill's share (``spill``) of it above 0 (at 1, the default, at most 0; at 0 a green
    subject's edge keeps its green)."""
    excess = key_excess(fg, key)
    target: np.ndarray = excess - F32(spill) * np.maximum(excess, 0.0)
    return target


def excess_matched(
    rgb: np.ndarray, screen: np.ndarray, target: np.ndarray, key: int, alpha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(The straight colour on the line from the screen through the pixel, S + u·(C − S),
    whose key excess is ``target``; where there is one): the pixel unmixed with the alpha
    1/u that leaves it the subject's excess, 1/u no less than EDGE_ALPHA_MIN nor than
    EDGE_ALPHA_SHARE of the matte's ``alpha`` (u at least 1)."""
    others = [c for c in range(3) if c != key]
    s = np.broadcast_to(np.asarray(screen, F32), rgb.shape)
    d = rgb - s
    # u is the least over the other channels whose excess falls along the line.
    u = np.full(rgb.shape[:-1], np.inf, F32)
    for j in others:
        slope = d[..., key] - d[..., j]
        falls = slope < -COLOUR_TINY
        at = (target - (s[..., key] - s[..., j])) / np.where(falls, slope, F32(-1.0))
        np.minimum(u, np.where(falls, at, F32(np.inf)), out=u)
    found = np.isfinite(u)
    most = F32(1.0) / np.maximum(F32(EDGE_ALPHA_MIN), F32(EDGE_ALPHA_SHARE) * alpha)
    u = np.clip(np.where(found, u, F32(1.0)), F32(1.0), most)
    return np.clip(s + d * u[..., None], 0.0, 1.0), found


def keep_key(
    line: np.ndarray, fg: np.ndarray, alpha: np.ndarray, key: int, residual: np.ndarray
) -> np.ndarray:
    """The colour on the line (``line``) moved toward the pixel's own unmix (``fg`` ÷ its
    alpha) with the other channels shifted to the line's key excess: EDGE_KEEP_LESS of the way
    where the line's excess is below the unmix's, EDGE_KEEP_MORE where above, times the
    EDGE_KEEP_RESIDUAL ramp on the pixel's distance from the line from S to F (``residual``)."""
    own = fg / np.maximum(alpha, F32(EDGE_ALPHA_MIN))[..., None]
    shift = key_excess(line, key) - key_excess(own, key)
    kept = own.copy()
    for j in range(3):
        if j != key:
            kept[..., j] -= shift
    np.clip(kept, 0.0, 1.0, out=kept)
    share = F32(EDGE_KEEP_LESS) + F32(EDGE_KEEP_MORE - EDGE_KEEP_LESS) * soft_step(
        -EDGE_KEEP_RAMP, EDGE_KEEP_RAMP, shift
    )
    share *= soft_step(*EDGE_KEEP_RESIDUAL, residual)
    result: np.ndarray = line + share[..., None] * (kept - line)
    return result


def edge_colour(
    fg: np.ndarray,
    alpha: np.ndarray,
    rgb: np.ndarray,
    screen: np.ndarray,
    local: LocalColour,
    key: int,
    spill: float,
) -> np.ndarray:
    """The unmixed premultiplied colour ``fg`` of partial pixels moved toward the pixel
    unmixed again to the local subject's key excess (:func:`excess_target`,
    :func:`excess_matched`, :func:`keep_key`); in place. It moves min(1, EDGE_FOLLOW·(1 −
    alpha)) of the way, times F's weight.
    """
    target = excess_target(local.fg, key, spill)
    line, found = excess_matched(rgb, screen, target, key, alpha)
    s = np.asarray(screen, F32)
    beside = local.fg - s
    _, residual = line_fit(rgb - s, beside, np.sum(beside * beside, axis=-1))
    straight = keep_key(line, fg, alpha, key, residual)
    follow = np.minimum(F32(EDGE_FOLLOW) * (F32(1.0) - alpha), F32(1.0))
    weight = np.where(found, local.weight * follow, F32(0.0))
    fg += weight[..., None] * (alpha[..., None] * straight - fg)
    return fg
