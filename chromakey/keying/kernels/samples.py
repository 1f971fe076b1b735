"""Calibration's samples compiled: a sparse grid of the frame's pixels decoded as the keyer
decodes them, their HSL, and whether each is clearly screen (membership and key excess),
each reading like its numpy twin in ``keying.screen_measure`` and ``keying.reference``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ...core.color import HSL_EPS
from ...core.frames import Frame
from ...core.params import KeyerParams
from ..reference.common import MIN_RAMP

if TYPE_CHECKING:
    from .common import Real

F32 = np.float32

# Indices into the membership parameters (membership_params): each soft step is (e0, 1/width),
# a width of NaN being a hard step.
(
    M_HUE_CENTER,
    M_HUE_HALF,
    M_HUE_E0,
    M_HUE_INV,
    M_SAT_E0,
    M_SAT_INV,
    M_DARK_E0,
    M_DARK_INV,
    M_BRIGHT_E0,
    M_BRIGHT_INV,
    M_SATMAX_E0,
    M_SATMAX_INV,
    N_MEMBER,
) = range(13)


def _step(e0: float, e1: float) -> tuple[float, float]:
    return e0, (1.0 / (e1 - e0) if e1 - e0 >= MIN_RAMP else np.nan)


def membership_params(p: KeyerParams) -> np.ndarray:
    """cpu.hue_membership and cpu.screen_membership's constants for ``p``, as float32."""
    out = np.empty(N_MEMBER, F32)
    out[M_HUE_CENTER] = p.hue_center
    out[M_HUE_HALF] = p.hue_width / 2.0
    out[M_HUE_E0], out[M_HUE_INV] = _step(0.0, p.hue_softness)
    out[M_SAT_E0], out[M_SAT_INV] = _step(p.sat_min - p.sat_softness, p.sat_min)
    out[M_DARK_E0], out[M_DARK_INV] = _step(0.5 * p.dark_guard, p.dark_guard)
    out[M_BRIGHT_E0], out[M_BRIGHT_INV] = _step(p.bright_guard, 1.0)
    out[M_SATMAX_E0], out[M_SATMAX_INV] = _step(p.sat_max, p.sat_max + p.sat_softness)
    return out


def decode_constants(frame: Frame) -> np.ndarray:
    """cpu.decode_rgb's float32 constants for a YUV frame: m00, its offset, 1/255, the chroma
    offsets and m02, m11, m12, m21 (each rounded as the reference rounds it)."""
    m, off = frame.spec.to_rgb()
    m32 = m.astype(F32)
    return np.array(
        [
            m32[0, 0],
            F32(m32[0, 0] * off[0]),
            F32(1.0 / 255.0),
            F32(off[1]),
            F32(off[2]),
            m32[0, 2],
            m32[1, 1],
            m32[1, 2],
            m32[2, 1],
        ],
        F32,
    )


@njit(nogil=True, cache=True, error_model="numpy")
def sample_yuv(
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    fx: int,
    fy: int,
    step: int,
    offset: int,
    dec: np.ndarray,
) -> np.ndarray:
    """calibration.sample_rgb of a YUV frame: every ``step``-th pixel from ``offset``, the
    nearest chroma sample, decoded with ``dec`` (decode_constants) → (rows, cols, 3)."""
    h, w = y.shape
    rows = (h - offset + step - 1) // step
    cols = (w - offset + step - 1) // step
    cstep_y, cstep_x = max(step // fy, 1), max(step // fx, 1)
    c0y, c0x = offset // fy, offset // fx
    ch, cw = u.shape
    m00, yoff, s, off1, off2 = dec[0], dec[1], dec[2], dec[3], dec[4]
    m02, m11, m12, m21 = dec[5], dec[6], dec[7], dec[8]
    out = np.empty((rows, cols, 3), np.float32)
    for i in range(rows):
        yr = y[offset + i * step]
        ci = min(c0y + i * cstep_y, ch - 1)
        ur, vr = u[ci], v[ci]
        for j in range(cols):
            cj = min(c0x + j * cstep_x, cw - 1)
            yy = np.float32(yr[offset + j * step]) * s * m00 - yoff
            uu = np.float32(ur[cj]) * s - off1
            vv = np.float32(vr[cj]) * s - off2
            out[i, j, 0] = min(max(yy + vv * m02, np.float32(0.0)), np.float32(1.0))
            out[i, j, 1] = min(max((yy + uu * m11) + vv * m12, np.float32(0.0)), np.float32(1.0))
            out[i, j, 2] = min(max(yy + uu * m21, np.float32(0.0)), np.float32(1.0))
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def sample_rgb8(rgb: np.ndarray, step: int, offset: int) -> np.ndarray:
    """calibration.sample_rgb of an RGB frame → (rows, cols, 3) float32."""
    h, w = rgb.shape[0], rgb.shape[1]
    rows = (h - offset + step - 1) // step
    cols = (w - offset + step - 1) // step
    s = np.float32(1.0 / 255.0)
    out = np.empty((rows, cols, 3), np.float32)
    for i in range(rows):
        for j in range(cols):
            for c in range(3):
                out[i, j, c] = np.float32(rgb[offset + i * step, offset + j * step, c]) * s
    return out


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _hsl(r: Real, g: Real, b: Real) -> tuple[Real, Real, Real, Real]:
    """core.color.rgb_to_hsl of one pixel: (hue, sat, light, chroma)."""
    mx = max(max(r, g), b)
    mn = min(min(r, g), b)
    chroma = mx - mn
    light = (mx + mn) * np.float32(0.5)
    hue = np.float32(0.0)
    if chroma > np.float32(HSL_EPS):
        inv = np.float32(1.0) / chroma
        if mx == r:
            hue = (g - b) * inv
        elif mx == g:
            hue = (b - r) * inv + np.float32(2.0)
        else:
            hue = (r - g) * inv + np.float32(4.0)
        if hue < 0:
            hue = hue + np.float32(6.0)
        hue = hue * np.float32(60.0)
    denom = np.float32(1.0) - abs(np.float32(2.0) * light - np.float32(1.0))
    sat = np.float32(0.0)
    if denom > np.float32(HSL_EPS):
        sat = min(chroma / max(denom, np.float32(HSL_EPS)), np.float32(1.0))
    return hue, sat, light, chroma


@njit(nogil=True, cache=True, error_model="numpy")
def hsl(rgb: np.ndarray) -> np.ndarray:
    """core.color.rgb_to_hsl of (rows, cols, 3) samples → (4, rows, cols): hue, sat, light, chroma."""
    rows, cols = rgb.shape[0], rgb.shape[1]
    out = np.empty((4, rows, cols), np.float32)
    for i in range(rows):
        for j in range(cols):
            hue, sat, light, chroma = _hsl(rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2])
            out[0, i, j], out[1, i, j], out[2, i, j], out[3, i, j] = hue, sat, light, chroma
    return out


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _soft(e0: Real, inv: Real, x: Real) -> Real:
    """reference.soft_step with (e0, 1/width); a NaN width is the hard step x > e0."""
    if inv != inv:
        return np.float32(1.0) if x > e0 else np.float32(0.0)
    t = min(max((x - e0) * inv, np.float32(0.0)), np.float32(1.0))
    return (t * t) * (np.float32(3.0) - np.float32(2.0) * t)


@njit(nogil=True, cache=True, error_model="numpy", inline="always")
def _screen_sample(
    r: Real, g: Real, b: Real, mp: np.ndarray, key: int, member_screen: Real
) -> tuple[bool, Real]:
    """cpu.screen_membership > member_screen, and the key excess, of one sample."""
    hue, sat, light, chroma = _hsl(r, g, b)
    d = abs(hue - mp[M_HUE_CENTER])
    d = min(d, np.float32(360.0) - d)
    outside = max(d - mp[M_HUE_HALF], np.float32(0.0))
    m = np.float32(1.0) - _soft(mp[M_HUE_E0], mp[M_HUE_INV], outside)
    m = m * _soft(mp[M_SAT_E0], mp[M_SAT_INV], sat)
    m = m * _soft(mp[M_DARK_E0], mp[M_DARK_INV], chroma)
    m = m * (np.float32(1.0) - _soft(mp[M_BRIGHT_E0], mp[M_BRIGHT_INV], light))
    m = m * (np.float32(1.0) - _soft(mp[M_SATMAX_E0], mp[M_SATMAX_INV], sat))
    c = (r, g, b)
    if key == 0:
        other = max(g, b)
    elif key == 1:
        other = max(r, b)
    else:
        other = max(r, g)
    return bool(m > member_screen), c[key] - other


@njit(nogil=True, cache=True, error_model="numpy")
def screen_samples(
    rgb: np.ndarray, mp: np.ndarray, key: int, member_screen: Real
) -> tuple[np.ndarray, np.ndarray]:
    """calibration.screen_mask and the key excess of each sample → (mask, excess)."""
    rows, cols = rgb.shape[0], rgb.shape[1]
    mask = np.empty((rows, cols), np.bool_)
    excess = np.empty((rows, cols), np.float32)
    for i in range(rows):
        for j in range(cols):
            mask[i, j], excess[i, j] = _screen_sample(
                rgb[i, j, 0], rgb[i, j, 1], rgb[i, j, 2], mp, key, member_screen
            )
    return mask, excess
