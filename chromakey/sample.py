"""The built-in test clip: a synthetic "AI avatar on a green screen", with ground truth.

It is meant to be a fair test of a keyer, not a flat screen with a cut-out:

- the screen is a real-looking dark green (RGB ≈ (0.02, 0.50, 0.04), not the
  nominal #008000), lit unevenly (a gradient and a vignette, about ±15–20 %),
  with a soft cast shadow of the figure on it (65 % as bright, soft-edged,
  offset down and to the right);
- the figure sways and bobs; it has a skin-toned head, a dark navy shirt with
  a white collar, a LIME tie (hue ≈ 82°), a TEAL badge (hue ≈ 175°) and
  NEAR-BLACK hair whose outer edge is a band of fine strands with fractional
  coverage plus individual flyaway strands thinner than a pixel; every other
  outline is anti-aliased, and moving edges carry a mild motion blur;
- subject pixels near the silhouette receive green spill (screen light that
  fades with the distance inward from the edge), so despill matters;
- seeded Gaussian sensor noise (σ = 1.5/255): each frame reads a randomly
  offset window (and sign) of one seeded noise field a little larger than the
  frame, which costs nothing per frame; frames above 4K draw fresh noise.

Per frame the truth is ``alpha`` (coverage), ``foreground`` (the clean
subject colour, without spill; 0 where alpha is 0) and ``observed``:
``clip(alpha·(foreground + spill) + (1 − alpha)·screen + noise, 0, 1)``, where
``screen`` is the lit, shadowed screen and ``spill`` is
``SPILL_STRENGTH · exp(−d / SPILL_FALLOFF) ·`` the unshadowed screen light,
``d`` the distance inward from the silhouette (0 on the hair's strands).
Everything is a function of (spec, frame index): render any frame, in any order.
Sizes are in design units (pixels of a 1280×720 frame) scaled to the frame.

``write_sample`` encodes the observed frames to H.264 (yuv420p, BT.709
limited range, tagged) with a tone track for checking audio sync.
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import av
import numpy as np

from .color import YuvSpec
from .errors import OutputError, ParameterError
from .sinks import create_partial

F32 = np.float32

__all__ = [
    "SampleSpec",
    "TruthFrame",
    "render_truth",
    "truth_frames",
    "write_sample",
    "rgb_to_yuv420p",
    "audio_samples",
    "SCREEN_RGB",
    "SKIN_RGB",
    "SHIRT_RGB",
    "COLLAR_RGB",
    "LIME_RGB",
    "TEAL_RGB",
    "HAIR_RGB",
]

# --- the look: every constant of the scene lives here ---------------------------------

SCREEN_RGB = (0.02, 0.50, 0.04)  # the screen's colour under average light
SKIN_RGB = (0.86, 0.64, 0.52)
SHIRT_RGB = (0.05, 0.06, 0.11)  # dark navy, near black
COLLAR_RGB = (0.92, 0.92, 0.89)  # a light shirt showing in the jacket's V
LIME_RGB = (0.60, 0.90, 0.10)  # tie, hue ≈ 82.5°
TEAL_RGB = (0.05, 0.60, 0.55)  # badge, hue ≈ 174.5°
HAIR_RGB = (0.04, 0.035, 0.03)  # near-black hair
FEATURE_RGB = (0.14, 0.09, 0.08)  # eyes and brows
MOUTH_RGB = (0.62, 0.32, 0.30)

LIGHT_RANGE = (0.80, 1.10)  # the screen's lighting factor stays inside this (≈ ±15 %)
SHADOW_DEPTH = 0.35  # the cast shadow keeps 65 % of the light
SHADOW_OFFSET = (85.0, 25.0)  # (x, y) in design units (pixels at 720p)
SHADOW_SOFTNESS = 22.0  # half-width of the shadow's soft edge, design units
SPILL_STRENGTH = 0.20  # share of the local screen light added at the very edge
SPILL_FALLOFF = 5.0  # e-folding distance of the spill inward from the edge, design units
NOISE_SIGMA = 1.5 / 255.0
SHUTTER = 0.5  # exposure as a fraction of the frame interval (180° shutter)

# Hair edge: a band outside the hair cap whose density falls off with radius, cut
# into strands by an angular pattern, plus individual flyaways of sub-pixel width.
HAIR_BAND = 0.30  # band width, in units of the hair ellipse's radius
HAIR_STRAND_PERIOD = 2.8  # pixels between strands of the band at the cap's edge
FLYAWAY_BINS = 64  # angular slots for flyaway strands around the head
FLYAWAY_FILL = 0.55  # share of the slots on the top of the head holding a strand
FLYAWAY_LENGTH = (0.12, 0.50)  # in units of the hair ellipse's radius
FLYAWAY_WIDTH = (0.35, 0.90)  # pixels, at the root (strands taper to half)
FLYAWAY_OPACITY = (0.55, 1.0)

# The figure in design units: pixels of a 1280×720 frame, y down, x from the figure's
# centre line; the frame's bottom edge is at y = 720.
_DESIGN_H = 720.0
_HEAD = (0.0, 262.0, 70.0, 90.0)  # ellipse cx, cy, rx, ry
_HAIR = (0.0, 250.0, 80.0, 102.0)  # ellipse around the head
_HAIR_CUT = 277.0  # the hair cap ends at ear level
_FACE = (0.0, 282.0, 62.0, 84.0)  # where the cap leaves skin showing
_NECK = (0.0, 370.0, 30.0, 50.0, 12.0)  # round box cx, cy, half w, half h, corner r
_TORSO = (0.0, 640.0, 250.0, 230.0, 110.0)
_TIE_KNOT = (0.0, 432.0, 15.0, 13.0)
_BADGE = (-130.0, 560.0, 30.0)
_EYES = ((-26.0, 268.0, 9.0, 5.5), (26.0, 268.0, 9.0, 5.5))
_BROWS = ((-27.0, 249.0, 15.0, 3.5), (27.0, 249.0, 15.0, 3.5))
_MOUTH = (0.0, 318.0, 19.0, 5.0)
_FIG_HALF_WIDTH = 250.0 + SHADOW_SOFTNESS + 4.0  # the shadow reads the SDF this far out
_FIG_TOP = _HAIR[1] - _HAIR[3] * (1.0 + FLYAWAY_LENGTH[1] + 0.08)

_SWAY_X = (60.0, 4.0)  # amplitude (design units), period (s) of the figure's sway
_BOB_Y = (8.0, 2.7)
_HEAD_X = (10.0, 3.1)  # the head's own sway on top of the body's

_X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
_CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
AUDIO_RATE = 48000
_NOTES_HZ = (440, 494, 554, 659, 740, 659, 554, 494)  # one per second, integral Hz
_BEEP_HZ = 1760
_BEEP_SECONDS = 0.05


# --- the spec ----------------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SampleSpec:
    """Size, rate, length and seed of a sample clip; validated on construction."""

    width: int = 1280
    height: int = 720
    fps: float = 30.0
    seconds: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, hi in (("width", 7680), ("height", 4320)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not (16 <= v <= hi) or v % 2:
                raise ParameterError(
                    f"{name} must be an even integer in [16, {hi}] (yuv420p), got {v!r}"
                )
        if not _number(self.fps) or not (math.isfinite(self.fps) and 0 < self.fps <= 240):
            raise ParameterError(f"fps must be a number in (0, 240], got {self.fps!r}")
        if not _number(self.seconds) or not (
            math.isfinite(self.seconds) and 0 < self.seconds <= 3600
        ):
            raise ParameterError(f"seconds must be a number in (0, 3600], got {self.seconds!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ParameterError(f"seed must be an integer >= 0, got {self.seed!r}")

    @property
    def frame_count(self) -> int:
        return max(1, round(self.fps * self.seconds))

    @property
    def rate(self) -> Fraction:
        """The frame rate as the encoder gets it: 29.97 → 30000/1001, 25 → 25, 12.5 → 25/2."""
        ntsc = round(self.fps * 1.001)
        if ntsc > 0 and abs(self.fps * 1001 - ntsc * 1000) < 0.5:
            return Fraction(ntsc * 1000, 1001)
        return Fraction(self.fps).limit_denominator(1001)


@dataclass
class TruthFrame:
    """One frame of the clip and what a perfect keyer would recover from it."""

    index: int
    time: float
    observed: np.ndarray  # H×W×3 float32 in [0, 1]: what the camera sees
    alpha: np.ndarray  # H×W float32 in [0, 1]: subject coverage
    foreground: np.ndarray  # H×W×3 float32: clean subject colour, no spill (0 where alpha is 0)
    # H×W float32: the spill weight k, the share of the unshadowed screen light the subject
    # reflects (observed = a·(F + k·screen) + (1 − a)·shadowed screen + noise); 0 off the subject.
    # No keyer can tell that light from screen seen through the subject: benchmarks use it to
    # measure that floor.
    spill: np.ndarray


# --- small vectorised geometry -------------------------------------------------------------


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - F32(e0)) * F32(1.0 / (e1 - e0)), 0.0, 1.0)
    return t * t * (F32(3.0) - F32(2.0) * t)


def _cov(sdf: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage of a pixel by a shape, from its signed distance in pixels."""
    return np.clip(F32(0.5) - sdf, 0.0, 1.0)


def _ellipse_sdf(x: np.ndarray, y: np.ndarray, cx, cy, rx, ry) -> np.ndarray:
    """Approximate signed distance (pixels) to an ellipse; x is 1×W, y is H×1."""
    px, py = (x - F32(cx)) * F32(1.0 / rx), (y - F32(cy)) * F32(1.0 / ry)
    px2, py2 = px * px, py * py
    k0 = np.sqrt(px2 + py2)
    k1 = np.sqrt(px2 * F32(1.0 / (rx * rx)) + py2 * F32(1.0 / (ry * ry)))
    return k0 * (k0 - F32(1.0)) / np.maximum(k1, F32(1e-6))


def _round_box_sdf(x: np.ndarray, y: np.ndarray, cx, cy, hw, hh, r) -> np.ndarray:
    qx = np.abs(x - F32(cx)) - F32(hw - r)
    qy = np.abs(y - F32(cy)) - F32(hh - r)
    outside = np.sqrt(np.maximum(qx, 0.0) ** 2 + np.maximum(qy, 0.0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0.0) - F32(r)


def _smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    h = np.maximum(F32(k) - np.abs(a - b), 0.0) * F32(1.0 / k)
    return np.minimum(a, b) - h * h * F32(k * 0.25)


def _line_coverage(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Coverage of a pixel by a line of width w whose centre is d pixels away (box filter)."""
    half = F32(0.5) * w
    return np.clip(np.minimum(d + half, 0.5) - np.maximum(d - half, -0.5), 0.0, None)


def _lerp_into(img: np.ndarray, color, cov: np.ndarray) -> None:
    """img ← img + cov·(color − img), in place (img H×W×3, cov H×W)."""
    c = np.asarray(color, F32)
    img += cov[..., None] * (c - img)


# --- per-spec state (cached) ------------------------------------------------------------------


def _unit(spec: SampleSpec) -> float:
    """Pixels per design unit: the figure fits the frame whatever its aspect."""
    return min(spec.width / 1280.0, spec.height / _DESIGN_H)


@lru_cache(maxsize=2)
def _screen(width: int, height: int, seed: int) -> np.ndarray:
    """The lit screen without the shadow: H×W×3 float32 (read-only)."""
    rng = np.random.default_rng([seed, 1])
    gx, gy = rng.uniform(0.06, 0.09), rng.uniform(0.03, 0.05)
    if rng.random() < 0.5:
        gx = -gx
    ph = rng.uniform(0, 2 * np.pi, 2)
    xn = ((np.arange(width, dtype=np.float64) + 0.5) / width * 2.0 - 1.0)[None, :]
    yn = ((np.arange(height, dtype=np.float64) + 0.5) / height * 2.0 - 1.0)[:, None]
    light = (
        1.06
        + gx * xn
        + gy * yn
        - 0.07 * (xn * xn + yn * yn)
        + 0.015 * np.sin(2.1 * xn + 1.3 * yn + ph[0]) * np.cos(1.7 * yn - 0.6 * xn + ph[1])
    )
    # Normalise so that the frame's light sits inside LIGHT_RANGE around 1.
    lo, hi = light.min(), light.max()
    light = LIGHT_RANGE[0] + (light - lo) * ((LIGHT_RANGE[1] - LIGHT_RANGE[0]) / (hi - lo))
    out = light[..., None].astype(F32) * np.asarray(SCREEN_RGB, F32)
    out.flags.writeable = False
    return out


_NOISE_PAD = 64
_NOISE_BANK_MAX = 3840 * 2160


@lru_cache(maxsize=2)
def _noise_bank(width: int, height: int, seed: int) -> np.ndarray:
    """Seeded Gaussian noise a little larger than a frame; frames read shifted windows."""
    rng = np.random.default_rng([seed, 2])
    shape = (height + _NOISE_PAD, width + _NOISE_PAD, 3)
    bank = rng.standard_normal(shape, dtype=F32)
    bank *= F32(NOISE_SIGMA)
    bank.flags.writeable = False
    return bank


def _noise(spec: SampleSpec, index: int) -> tuple[np.ndarray, bool]:
    """(noise H×W×3, negate?) for a frame: a window of the bank, or fresh for huge frames."""
    w, h = spec.width, spec.height
    rng = np.random.default_rng([spec.seed, 3, index])
    if w * h > _NOISE_BANK_MAX:
        return rng.standard_normal((h, w, 3), dtype=F32) * F32(NOISE_SIGMA), False
    oy, ox = (int(v) for v in rng.integers(0, _NOISE_PAD, 2))
    bank = _noise_bank(w, h, spec.seed)
    return bank[oy : oy + h, ox : ox + w], bool(rng.integers(0, 2))


@dataclass(frozen=True)
class _Flyaways:
    angle: np.ndarray  # slot centre + jitter, radians
    drift: np.ndarray  # angular drift at the tip, radians
    length: np.ndarray  # in hair-radius units
    width: np.ndarray  # pixels at the root
    opacity: np.ndarray  # 0 for empty slots
    phase: np.ndarray  # sway phase


@lru_cache(maxsize=8)
def _flyaways(seed: int) -> _Flyaways:
    rng = np.random.default_rng([seed, 4])
    n = FLYAWAY_BINS
    step = 2 * np.pi / n
    centre = (np.arange(n) + 0.5) * step - np.pi  # atan2 range
    # Only the top of the head (angles between −π and 0 with y down), away from the ears.
    top = (centre < -0.30) & (centre > -np.pi + 0.30)
    present = top & (rng.random(n) < FLYAWAY_FILL)
    f = _Flyaways(
        angle=(centre + rng.uniform(-0.15, 0.15, n) * step).astype(F32),
        drift=(rng.uniform(-0.7, 0.7, n) * step).astype(F32),
        length=rng.uniform(*FLYAWAY_LENGTH, n).astype(F32),
        width=rng.uniform(*FLYAWAY_WIDTH, n).astype(F32),
        opacity=np.where(present, rng.uniform(*FLYAWAY_OPACITY, n), 0.0).astype(F32),
        phase=rng.uniform(0, 2 * np.pi, n).astype(F32),
    )
    return f


@lru_cache(maxsize=8)
def _motion_phases(seed: int) -> np.ndarray:
    return np.random.default_rng([seed, 5]).uniform(0, 2 * np.pi, 4)


# --- the figure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pose:
    fx: float  # figure centre line, pixels
    fy: float  # vertical offset, pixels
    hx: float  # head's extra x offset, pixels
    vx: float  # horizontal speed of the figure, pixels per second
    hair_sway: float  # radians, the flyaways' common sway


def _pose(spec: SampleSpec, t: float) -> _Pose:
    u = _unit(spec)
    ph = _motion_phases(spec.seed)
    ax, tx = _SWAY_X
    w = 2 * np.pi / tx
    fx = spec.width / 2.0 + u * ax * math.sin(w * t + ph[0])
    vx = u * ax * w * math.cos(w * t + ph[0])
    fy = u * _BOB_Y[0] * math.sin(2 * np.pi * t / _BOB_Y[1] + ph[1])
    hx = u * _HEAD_X[0] * math.sin(2 * np.pi * t / _HEAD_X[1] + ph[2])
    return _Pose(fx, fy, hx, vx, 0.25 * math.sin(2 * np.pi * t / 1.9 + ph[3]))


def _hair_fringe(x, y, hair_e, u: float, pose: _Pose, t: float, seed: int) -> np.ndarray:
    """Coverage of the hair's strand band and flyaways (H×W float32) on the grid x × y."""
    hcx, hcy, rx, ry = hair_e
    U = (x - F32(hcx)) * F32(1.0 / rx)
    V = (y - F32(hcy)) * F32(1.0 / ry)
    rho = np.sqrt(U * U + V * V)
    theta = np.arctan2(V, U)
    sin_t, cos_t = V / np.maximum(rho, F32(1e-6)), U / np.maximum(rho, F32(1e-6))
    # Pixels per radian (tangential) and per unit rho (radial) at this angle.
    tang = np.sqrt((F32(rx * u) * sin_t) ** 2 + (F32(ry * u) * cos_t) ** 2)
    radial = np.sqrt((F32(rx * u) * cos_t) ** 2 + (F32(ry * u) * sin_t) ** 2)
    # Hair grows on the top of the head only: fade out towards ear level.
    top = _smoothstep(hcy + 35.0, hcy - 5.0, y)
    out_r = rho - F32(1.0)

    # 1. The dense band: density falls off with radius; strands appear as it thins.
    dens = np.clip(F32(1.0) - out_r * F32(1.0 / HAIR_BAND), 0.0, 1.0) ** F32(1.8)
    dens *= _smoothstep(0.94, 0.98, rho)
    mean_r = 0.5 * (rx + ry) * u  # pixels
    k1 = max(12, round(2 * np.pi * mean_r / HAIR_STRAND_PERIOD))
    k2 = max(8, round(k1 * 0.61))
    wave = F32(2.2) * np.sin(F32(9.0) * rho + F32(1.3 * t))
    s = F32(0.62) * np.cos(F32(k1) * theta + wave) + F32(0.38) * np.cos(
        F32(k2) * theta - F32(0.7) * wave + F32(seed % 7)
    )
    pattern = np.clip(F32(0.5) + F32(0.75) * s, 0.0, 1.0) ** F32(1.5)
    separate = _smoothstep(1.0, 1.07, rho)
    band = dens * (F32(1.0) - separate * (F32(1.0) - pattern))

    # 2. Flyaways: each angular slot may hold one thin strand; a pixel looks at its slot
    # and both neighbours (a strand's drift stays within one slot).
    fl = _flyaways(seed)
    n = FLYAWAY_BINS
    step = F32(2 * np.pi / n)
    slot = np.floor((theta + F32(np.pi)) / step).astype(np.int32)
    miss = np.ones_like(rho)
    along = np.maximum(out_r, 0.0)
    sway = F32(pose.hair_sway - 0.004 * pose.vx / u)
    for k_off in (-1, 0, 1):
        k = (slot + k_off) % n
        op = fl.opacity[k]
        if not op.any():
            continue
        length = fl.length[k]
        frac = along / length
        centre = (
            fl.angle[k]
            + fl.drift[k] * frac * frac
            + F32(0.12) * step * (sway + F32(0.5) * np.sin(F32(2.3 * t) + fl.phase[k])) * frac
        )
        d = theta - centre
        d = (d + F32(np.pi)) % F32(2 * np.pi) - F32(np.pi)
        dist_px = d * rho * tang
        width = fl.width[k] * (F32(1.0) - F32(0.5) * np.minimum(frac, 1.0))
        cov = _line_coverage(dist_px, width)
        cov *= np.clip((length - out_r) * radial + F32(0.5), 0.0, 1.0)  # anti-aliased tip
        cov *= _smoothstep(0.90, 0.97, rho) * op
        miss *= F32(1.0) - cov
    return top * (F32(1.0) - (F32(1.0) - band) * miss)


def _blur_x(a: np.ndarray, length: float) -> np.ndarray:
    """Horizontal motion blur over ``length`` pixels: the mean of three sub-frame positions.

    Each position is a linearly interpolated shift; their weights are gathered on
    integer offsets and applied as slices of an edge-padded copy.
    """
    taps: dict[int, float] = {}
    for s in (-0.5 * length, 0.0, 0.5 * length):
        i = math.floor(s)
        f = s - i
        taps[i] = taps.get(i, 0.0) + (1.0 - f) / 3.0
        taps[i + 1] = taps.get(i + 1, 0.0) + f / 3.0
    taps = {k: v for k, v in taps.items() if v > 1e-6}
    pad = max(abs(k) for k in taps)
    w = a.shape[1]
    padded = np.pad(a, ((0, 0), (pad, pad)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    out = np.zeros_like(a)
    tmp = np.empty_like(a)
    for k, weight in taps.items():
        # out[x] += weight · a[x − k]
        np.multiply(padded[:, pad - k : pad - k + w], F32(weight), out=tmp)
        out += tmp
    return out


class _Grid:
    """Pixel-centre coordinates of a box in design units, and sub-boxes of it."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y  # 1×W and H×1

    def box(self, xlo: float, xhi: float, ylo: float, yhi: float):
        """(rows, cols) slices of the pixels whose centres fall in the rectangle."""
        c0, c1 = np.searchsorted(self.x[0], [xlo, xhi])
        r0, r1 = np.searchsorted(self.y[:, 0], [ylo, yhi])
        return slice(int(r0), int(r1)), slice(int(c0), int(c1))

    def sub(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return self.x[:, cols], self.y[rows]


def _paint_ellipse(col, grid: _Grid, fu, color, cx, cy, rx, ry) -> None:
    rows, cols = grid.box(cx - rx - 2, cx + rx + 2, cy - ry - 2, cy + ry + 2)
    x, y = grid.sub(rows, cols)
    if x.size and y.size:
        _lerp_into(col[rows, cols], color, _cov(_ellipse_sdf(x, y, cx, cy, rx, ry) * fu))


def _render_figure(spec: SampleSpec, t: float, x0: int, x1: int, y0: int, y1: int):
    """(alpha, premultiplied colour, silhouette SDF, where alpha > 0) on [y0:y1, x0:x1].

    Each part is evaluated only on the sub-box where it can matter.
    """
    u = _unit(spec)
    pose = _pose(spec, t)
    x = ((np.arange(x0, x1, dtype=F32) + F32(0.5)) - F32(pose.fx))[None, :] * F32(1.0 / u)
    y = ((np.arange(y0, y1, dtype=F32) + F32(0.5)) - F32(pose.fy))[:, None] * F32(1.0 / u)
    y = y + F32(_DESIGN_H - spec.height / u)  # the figure stands on the frame's bottom edge
    # From here on x, y are design units; SDFs are converted to pixels by ·u.
    grid = _Grid(x, y)
    hx = pose.hx / u
    fu = F32(u)

    # The silhouette: the torso everywhere, head, neck and hair cap around the head.
    torso = _round_box_sdf(x, y, *_TORSO)
    sil = torso * fu  # pixels
    col = np.empty(sil.shape + (3,), F32)
    col[:] = np.asarray(SHIRT_RGB, F32)

    hair_e = (_HAIR[0] + hx, *_HAIR[1:])
    margin = SHADOW_SOFTNESS + 8.0  # the shadow reads the SDF this far out
    rows, cols = grid.box(
        hair_e[0] - hair_e[2] - margin,
        hair_e[0] + hair_e[2] + margin,
        hair_e[1] - hair_e[3] - margin,
        _NECK[1] + _NECK[3] + margin,
    )
    hx_, hy_ = grid.sub(rows, cols)
    if hx_.size and hy_.size:
        t_h = torso[rows, cols]
        head = _ellipse_sdf(hx_, hy_, _HEAD[0] + hx, *_HEAD[1:])
        neck = _round_box_sdf(hx_, hy_, *_NECK)
        hair_cap = np.maximum(
            np.maximum(_ellipse_sdf(hx_, hy_, *hair_e), hy_ - F32(_HAIR_CUT)),
            -_ellipse_sdf(hx_, hy_, _FACE[0] + hx, *_FACE[1:]),
        )
        head_neck = _smooth_min(head, neck, 10.0)
        body = _smooth_min(head_neck, t_h, 25.0)
        sil[rows, cols] = np.minimum(body, hair_cap) * fu
        # Skin above the collar line; the shirt fills the fillet at the shoulders.
        skin = np.maximum(head_neck, hy_ - F32(416.0))
        _lerp_into(col[rows, cols], SKIN_RGB, _cov(skin * fu))
    else:
        hair_cap = None

    # Collar V, tie, badge (on the shirt), then the face's features and the hair cap.
    slope = 0.42
    r, c = grid.box(-0.42 * 115 - 2, 0.42 * 115 + 2, 400.0, 517.0)
    vx, vy = grid.sub(r, c)
    if vx.size and vy.size:
        v_sdf = (np.abs(vx) - F32(slope) * (F32(515.0) - vy)) * F32(1.0 / math.hypot(1, slope))
        v_cov = np.minimum(_cov(v_sdf * fu), _cov(torso[r, c] * fu))
        # The neck shows above the collar line.
        v_cov *= F32(1.0) - _cov(np.maximum(_round_box_sdf(vx, vy, *_NECK), vy - 416.0) * fu)
        _lerp_into(col[r, c], COLLAR_RGB, v_cov)
    _paint_ellipse(col, grid, fu, LIME_RGB, *_TIE_KNOT)
    blade_half = 9.0 + 0.16 * (_DESIGN_H + 40.0 - 440.0)
    r, c = grid.box(-blade_half - 2, blade_half + 2, 434.0, 1e9)
    bx_, by_ = grid.sub(r, c)
    if bx_.size and by_.size:
        blade = np.maximum(
            np.abs(bx_) - (F32(9.0) + F32(0.16) * (by_ - F32(440.0))), F32(436.0) - by_
        )
        _lerp_into(col[r, c], LIME_RGB, _cov(blade * fu))
    bx, by, br = _BADGE
    _paint_ellipse(col, grid, fu, TEAL_RGB, bx, by, br, br)
    for ex, ey, erx, ery in _EYES + _BROWS:
        _paint_ellipse(col, grid, fu, FEATURE_RGB, ex + hx, ey, erx, ery)
    mx, my, mrx, mry = _MOUTH
    _paint_ellipse(col, grid, fu, MOUTH_RGB, mx + hx, my, mrx, mry)
    if hair_cap is not None:
        _lerp_into(col[rows, cols], HAIR_RGB, _cov(hair_cap * fu))

    alpha = _cov(sil)
    col *= alpha[..., None]  # premultiplied from here on

    # The hair's fringe over whatever is there, only around the hair.
    hcx, hcy, hrx, hry = hair_e
    reach = 1.0 + FLYAWAY_LENGTH[1] + 0.05
    r, c = grid.box(hcx - hrx * reach, hcx + hrx * reach, hcy - hry * reach, hcy + 40.0)
    fx_, fy_ = grid.sub(r, c)
    if fx_.size and fy_.size:
        fringe = _hair_fringe(fx_, fy_, hair_e, u, pose, t, spec.seed)
        prem = col[r, c]
        prem += fringe[..., None] * (np.asarray(HAIR_RGB, F32) - prem)
        sub_a = alpha[r, c]
        sub_a += fringe * (F32(1.0) - sub_a)

    # Where the figure is: the blur and the composite need nothing outside this.
    rows_any = np.flatnonzero(alpha.any(axis=1))
    cols_any = np.flatnonzero(alpha.any(axis=0))
    if rows_any.size == 0:
        return alpha, col, sil, (slice(0, 0), slice(0, 0))
    # Motion blur: the figure moves sideways while the shutter is open.
    blur = pose.vx * SHUTTER / spec.fps
    pad = math.ceil(abs(blur)) + 1
    tight = (
        slice(int(rows_any[0]), int(rows_any[-1]) + 1),
        slice(max(int(cols_any[0]) - pad, 0), min(int(cols_any[-1]) + 1 + pad, alpha.shape[1])),
    )
    if abs(blur) > 0.05:
        alpha[tight] = _blur_x(alpha[tight], blur)
        col[tight] = _blur_x(col[tight], blur)
    return alpha, col, sil, tight


def _figure_box(spec: SampleSpec, t: float) -> tuple[int, int, int, int]:
    u = _unit(spec)
    pose = _pose(spec, t)
    half = (_FIG_HALF_WIDTH + abs(_HEAD_X[0])) * u + 4
    top = pose.fy + (_FIG_TOP - _DESIGN_H) * u + spec.height - 4
    x0 = max(0, math.floor(pose.fx - half))
    x1 = min(spec.width, math.ceil(pose.fx + half))
    y0 = max(0, math.floor(top))
    return x0, x1, y0, spec.height


def _validate_index(index: object) -> int:
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or index < 0:
        raise ParameterError(f"frame index must be an integer >= 0, got {index!r}")
    return int(index)


_THREAD_MIN_PIXELS = 640 * 360  # smaller frames render on the calling thread
_executor: tuple[int, ThreadPoolExecutor] | None = None  # (owning pid, pool)
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Two worker threads, made on first use (and again in a forked child, whose copy is dead)."""
    global _executor
    with _executor_lock:
        if _executor is None or _executor[0] != os.getpid():
            pool = ThreadPoolExecutor(
                max_workers=max(1, min(2, os.cpu_count() or 1)),
                thread_name_prefix="chromakey-sample",
            )
            _executor = (os.getpid(), pool)
        return _executor[1]


def render_truth(spec: SampleSpec, index: int) -> TruthFrame:
    """Frame ``index`` of the clip with its ground truth; deterministic for (spec, index).

    Large frames are rendered as two bands of rows on two threads (numpy releases
    the GIL); every pixel is computed the same way whatever the banding.
    """
    if not isinstance(spec, SampleSpec):
        raise ParameterError(f"spec must be a SampleSpec, got {type(spec).__name__}")
    index = _validate_index(index)
    t = index / spec.fps
    w, h = spec.width, spec.height
    screen = _screen(w, h, spec.seed)
    noise, negate = _noise(spec, index)
    observed = np.empty((h, w, 3), F32)
    alpha = np.zeros((h, w), F32)
    foreground = np.zeros((h, w, 3), F32)
    spill = np.zeros((h, w), F32)
    out = (observed, alpha, foreground, spill)
    args = (spec, t, screen, noise, negate, out)
    if w * h < _THREAD_MIN_PIXELS:
        _render_rows(*args, 0, h)
    else:
        # The head and hair make the upper rows dearer than the torso's.
        mid = (h * 11 // 20) & ~1
        pool = _pool()
        jobs = [pool.submit(_render_rows, *args, r0, r1) for r0, r1 in ((0, mid), (mid, h))]
        for job in jobs:
            job.result()
    return TruthFrame(index, t, observed, alpha, foreground, spill)


def _render_rows(spec, t, screen, noise, negate, out, r0: int, r1: int) -> None:
    """Render frame rows [r0, r1) of the outputs in place."""
    observed, alpha, foreground, spill = out
    w, h = spec.width, spec.height
    u = _unit(spec)
    rows = slice(r0, r1)
    # The screen plus sensor noise; the shadow and the figure are laid in below, keeping
    # the same noise on every pixel.
    (np.subtract if negate else np.add)(screen[rows], noise[rows], out=observed[rows])

    x0, x1, fy0, fy1 = _figure_box(spec, t)
    ox, oy = round(SHADOW_OFFSET[0] * u), round(SHADOW_OFFSET[1] * u)
    # Figure rows to render: this band's, and those whose shadow falls on this band.
    y0, y1 = max(fy0, r0 - oy), min(fy1, r1)
    if x1 <= x0 or y1 <= y0:
        np.maximum(observed[rows], 0.0, out=observed[rows])
        return
    a, prem, sil, tight = _render_figure(spec, t, x0, x1, y0, y1)

    # The cast shadow: the silhouette, softened and offset, darkens the screen.
    soft = SHADOW_SOFTNESS * u
    sx0, sx1 = max(0, x0 + ox), min(w, x1 + ox)
    sy0, sy1 = max(r0, y0 + oy), min(r1, y1 + oy, h)
    if sx1 > sx0 and sy1 > sy0:
        src = sil[sy0 - y0 - oy : sy1 - y0 - oy, sx0 - x0 - ox : sx1 - x0 - ox]
        dark = F32(SHADOW_DEPTH) * _smoothstep(soft, -soft, src)
        observed[sy0:sy1, sx0:sx1] -= screen[sy0:sy1, sx0:sx1] * dark[..., None]

    # The figure over the screen, on this band's rows where alpha > 0.
    ty, tx = tight
    ty = slice(max(ty.start, r0 - y0), ty.stop)
    if ty.stop > ty.start and tx.stop > tx.start:
        box = (slice(y0 + ty.start, y0 + ty.stop), slice(x0 + tx.start, x0 + tx.stop))
        # Spill: the local (unshadowed) screen light, fading inward from the silhouette.
        spill_w = np.exp(np.minimum(sil[ty, tx], 0.0) * F32(1.0 / max(SPILL_FALLOFF * u, 0.75)))
        spill_w *= F32(SPILL_STRENGTH)
        a = a[ty, tx]
        prem = prem[ty, tx]
        a3 = a[..., None]
        obs = observed[box]
        # obs holds shadowed screen + noise; make it a·(F + spill) + (1 − a)·screen + noise.
        tmp = screen[box] * spill_w[..., None]
        (np.subtract if negate else np.add)(tmp, noise[box], out=tmp)
        tmp -= obs
        tmp *= a3
        tmp += prem
        obs += tmp
        np.minimum(obs, 1.0, out=obs)
        alpha[box] = a
        np.multiply(spill_w, a > 0, out=spill[box])
        # prem is 0 wherever a is, so the floor on a only guards the division.
        np.divide(prem, np.maximum(a3, F32(1e-6)), out=foreground[box])
    np.maximum(observed[rows], 0.0, out=observed[rows])


def truth_frames(spec: SampleSpec) -> Iterator[TruthFrame]:
    """Every frame of the clip, in order."""
    for i in range(spec.frame_count):
        yield render_truth(spec, i)


# --- encoding -------------------------------------------------------------------------------


_BT709_M, _BT709_OFF = (a.astype(F32) for a in YuvSpec("bt709", False).from_rgb())


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 float RGB → the (H·3/2)×W uint8 buffer of a BT.709 limited-range yuv420p frame.

    Chroma is sited as H.264 expects by default (left): co-sited with the even
    luma columns ([1, 2, 1]/4 horizontally), centred between row pairs.
    """
    h, w, _ = rgb.shape
    m = _BT709_M * F32(255.0)
    off = _BT709_OFF * F32(255.0) + F32(0.5)  # + 0.5: round on the cast below
    out = np.empty(w * h * 3 // 2, np.uint8)

    def put(start: int, pixels: np.ndarray, row: int) -> None:
        v = pixels @ m[row]
        v += off[row]
        np.clip(v, 0.0, 255.0, out=v)
        out[start : start + v.size] = v  # truncating cast of the rounded values

    put(0, np.ascontiguousarray(rgb, dtype=F32).reshape(-1, 3), 0)
    rows = rgb[0::2] + rgb[1::2]  # (h/2, w, 3), twice the row-pair mean
    sub = rows[:, 0::2] * F32(0.25)
    sub += F32(0.125) * rows[:, 1::2]  # right neighbour
    sub[:, 1:] += F32(0.125) * rows[:, 1:-1:2]  # left neighbour
    sub[:, 0] += F32(0.125) * rows[:, 0]  # clamped at the left edge
    flat = sub.reshape(-1, 3)
    q = w * h // 4
    put(w * h, flat, 1)
    put(w * h + q, flat, 2)
    return out.reshape(h * 3 // 2, w)


def audio_samples(start: int, stop: int) -> np.ndarray:
    """Mono float32 samples [start, stop) of the tone track at AUDIO_RATE.

    A soft sine note that changes pitch each whole second (integral Hz, so the
    phase is continuous), and a short bright beep at the start of every second.
    """
    n = np.arange(start, stop, dtype=np.int64)
    sec = n // AUDIO_RATE
    within = (n - sec * AUDIO_RATE).astype(np.float64) / AUDIO_RATE
    freq = np.asarray(_NOTES_HZ, np.float64)[sec % len(_NOTES_HZ)]
    tone = 0.12 * np.sin(2 * np.pi * freq * within) + 0.03 * np.sin(4 * np.pi * freq * within)
    env = np.where(
        within < _BEEP_SECONDS, np.sin(np.pi * np.minimum(within / _BEEP_SECONDS, 1.0)) ** 2, 0.0
    )
    beep = 0.25 * env * np.sin(2 * np.pi * _BEEP_HZ * within)
    return (tone + beep).astype(F32)


def _prefetched(make: Callable[[int], object], count: int, depth: int = 2) -> Iterator[object]:
    """make(0), make(1), … computed on a helper thread up to ``depth`` ahead of the consumer.

    Closing the generator (or an exception in the consumer) stops the helper.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                q.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for i in range(count):
                if not put((make(i), None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((None, exc))

    worker = threading.Thread(target=run, name="chromakey-sample-render", daemon=True)
    worker.start()
    try:
        for _ in range(count):
            item, exc = q.get()
            if exc is not None:
                raise exc
            yield item
    finally:
        stop.set()
        worker.join()


def _check_output(path: pathlib.Path) -> str:
    ext = path.suffix.lower()
    if ext not in _CONTAINERS:
        raise OutputError(
            f"cannot write a sample to {str(path)!r}: use a .mp4, .mkv or .mov file name"
        )
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"output folder {str(folder)!r} does not exist: create it first or choose another path"
        )
    if path.is_dir():
        raise OutputError(f"{str(path)!r} is a folder: give a file name ending in {ext}")
    return _CONTAINERS[ext]


def bt709_frame(yuv: np.ndarray, index: int, rate: Fraction) -> av.VideoFrame:
    """Frame ``index`` of a clip from a stacked yuv420p array, tagged BT.709 limited range."""
    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    frame.colorspace = frame.color_range = 1
    frame.color_primaries = frame.color_trc = 1
    frame.pts = index
    frame.time_base = 1 / rate
    return frame


def write_sample(
    path,
    spec: SampleSpec = SampleSpec(),  # noqa: B008 - frozen, immutable default
    *,
    crf: int = 18,
    preset: str = "veryfast",
    audio: bool = True,
    progress: Callable[[int, int], object] | None = None,
) -> pathlib.Path:
    """Encode the clip's observed frames to H.264 (yuv420p, BT.709 limited, tagged).

    The container follows the extension (.mp4, .mkv, .mov). With ``audio`` an
    AAC tone track of exactly the video's duration comes along. The file is
    written under a temporary name in the same folder and moved into place
    only when complete. Returns the path written.
    """
    import av  # local: the truth renderer must not need FFmpeg

    if not isinstance(crf, int) or isinstance(crf, bool) or not 0 <= crf <= 51:
        raise ParameterError(f"crf must be an integer in [0, 51], got {crf!r}")
    if preset not in _X264_PRESETS:
        raise ParameterError(f"preset must be one of {', '.join(_X264_PRESETS)}; got {preset!r}")
    if not isinstance(spec, SampleSpec):
        raise ParameterError(f"spec must be a SampleSpec, got {type(spec).__name__}")
    path = pathlib.Path(os.fsdecode(path)).expanduser()
    fmt = _check_output(path)

    tmp = create_partial(path)

    total = spec.frame_count
    rate = spec.rate
    try:
        with contextlib.ExitStack() as stack:
            container = stack.enter_context(av.open(str(tmp), "w", format=fmt))
            vs = container.add_stream("libx264", rate=rate)
            vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
            cc = vs.codec_context
            cc.time_base = 1 / rate
            cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
            cc.options = {"crf": str(crf), "preset": preset}
            astream = None
            if audio:
                astream = container.add_stream("aac", rate=AUDIO_RATE)
                astream.layout = "mono"
                astream.bit_rate = 128_000
            done_samples = 0
            # Rendering (numpy, GIL released) overlaps encoding (x264's own threads).
            planes = _prefetched(lambda i: rgb_to_yuv420p(render_truth(spec, i).observed), total)
            stack.enter_context(contextlib.closing(planes))
            for i, yuv in enumerate(planes):
                container.mux(vs.encode(bt709_frame(yuv, i, rate)))
                if astream is not None:
                    stop = round(Fraction(i + 1) * AUDIO_RATE / rate)
                    if stop > done_samples:
                        samples = audio_samples(done_samples, stop)
                        af = av.AudioFrame.from_ndarray(
                            samples[None, :], format="fltp", layout="mono"
                        )
                        af.sample_rate = AUDIO_RATE
                        af.pts = done_samples
                        af.time_base = Fraction(1, AUDIO_RATE)
                        container.mux(astream.encode(af))
                        done_samples = stop
                if progress is not None:
                    progress(i + 1, total)
            container.mux(vs.encode(None))
            if astream is not None:
                container.mux(astream.encode(None))
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise OutputError(f"cannot write {str(path)!r}: {exc}") from exc
        raise
    return path
