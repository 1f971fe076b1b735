"""Small vectorised geometry (signed distances, coverage) and the per-spec state the frames
share: the lit screen, the noise bank, the flyaway strands, the motion phases."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .scene import (
    _DESIGN_H,
    F32,
    FLYAWAY_BINS,
    FLYAWAY_FILL,
    FLYAWAY_LENGTH,
    FLYAWAY_OPACITY,
    FLYAWAY_WIDTH,
    LIGHT_RANGE,
    NOISE_SIGMA,
    SCREEN_RGB,
    SampleSpec,
)

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
def lit_screen(width: int, height: int, seed: int) -> np.ndarray:
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


def frame_noise(spec: SampleSpec, index: int) -> tuple[np.ndarray, bool]:
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
