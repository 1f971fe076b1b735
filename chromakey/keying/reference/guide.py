"""5. The luma guide: the raw matte given luma's edges."""

from __future__ import annotations

import numpy as np

from ...core.color import LUMA_COEFFICIENTS
from ...core.frames import Frame
from ...core.params import KeyerParams
from .common import F32, soft_step
from .windows import box_sum

# --- 5. the luma guide -----------------------------------------------------------------
#
# In a 4:2:0 stream only luma has full resolution; the matte comes from chroma, so its edges
# are two pixels wide and a hair strand thinner than that barely registers. A guided filter
# (He, Sun and Tang 2010) fits the matte locally as a·luma + b and so borrows luma's edges.
# Where a window has no luma structure (a subject as bright as the screen) the fit would only
# blur, so the result is blended back to the raw matte by how much structure there is.


def luma_weights(frame: Frame) -> np.ndarray:
    """(Kr, Kg, Kb) of the frame's own matrix: their luma cancels chroma, keeping Y's detail."""
    matrix = frame.yuv.matrix if frame.layout == "yuv" and frame.yuv is not None else "bt709"
    kr, kb = LUMA_COEFFICIENTS[matrix]
    return np.array([kr, 1.0 - kr - kb, kb], F32)


BT709_LUMA = np.array([0.2126, 0.7152, 0.0722], F32)


def luma(rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, F32)
    result: np.ndarray = rgb[..., 0] * w[0] + rgb[..., 1] * w[1] + rgb[..., 2] * w[2]
    return result


# The matte variance below which a window's matte counts as flat in the guide's fit test.
GUIDE_MATTE_EPS = 1e-4
# The squared correlation of luma and matte over which the guide's fit comes to be trusted:
# a strand smeared by 4:2:0 chroma still correlates at 0.5 or so; a window of hair, skin and
# screen, where no line fits, at under 0.1.
GUIDE_FIT_RAMP = (0.1, 0.45)


def guide_coefficients(sums: np.ndarray, radius: int, p: KeyerParams) -> np.ndarray:
    """Window sums of (luma, matte, luma·matte, luma², matte²) → (a, b, w) of matte ≈ a·luma + b.

    The slope is cov / var, unshrunk, so a window of two colours is fitted exactly and a solid
    subject next to the screen stays 1; guide_eps only floors the variance it divides by.
    w, 0 to 1, is how far the fit is trusted: how much luma structure the window has,
    var / (var + guide_eps), times a ramp (GUIDE_FIT_RAMP) on how much of the matte's variance
    luma explains, the squared correlation ρ² = cov² / (var·var_matte). Where dark hair,
    bright skin and the screen share a window no line in luma fits the matte; the fit would
    put a ring of wrong alpha around the subject, so there the raw matte stays.
    """
    m = sums * F32(1.0 / (2 * radius + 1) ** 2)
    mean_i, mean_p = m[..., 0], m[..., 1]
    var = np.maximum(m[..., 3] - mean_i * mean_i, 0.0)
    var_p = np.maximum(m[..., 4] - mean_p * mean_p, 0.0)
    cov = m[..., 2] - mean_i * mean_p
    eps = F32(p.guide_eps)
    out = np.empty(sums.shape[:-1] + (3,), F32)
    var_f = np.maximum(var, eps)
    out[..., 0] = cov / var_f
    out[..., 1] = mean_p - out[..., 0] * mean_i
    rho2 = np.minimum(cov * cov / (var_f * np.maximum(var_p, F32(GUIDE_MATTE_EPS))), F32(1.0))
    out[..., 2] = var / (var + eps) * soft_step(*GUIDE_FIT_RAMP, rho2)
    return out


def guided_matte(raw: np.ndarray, guide: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The raw matte given the guide's (luma's) edges, where the luma has any."""
    r = p.guide_radius
    if r == 0:
        return raw
    stack = np.stack([guide, raw, guide * raw, guide * guide, raw * raw], axis=-1)
    coef = guide_coefficients(box_sum(box_sum(stack, r, 1), r, 0), r, p)
    m = box_sum(box_sum(coef, r, 1), r, 0) * F32(1.0 / (2 * r + 1) ** 2)
    fitted = m[..., 0] * guide + m[..., 1]
    result: np.ndarray = np.clip(m[..., 2] * fitted + (F32(1.0) - m[..., 2]) * raw, 0.0, 1.0)
    return result
