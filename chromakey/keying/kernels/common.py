"""Constants and tiny helpers every compiled stage shares: tile and band sizes, the packed parameters' indices, buffer channels."""

from typing import Any

import numpy as np
from numba import njit

from ...core.color import HSL_EPS
from .. import reference as cpu

F32 = np.float32

# A scalar the kernels compute with: a Python float, or the float32 their arithmetic keeps.
Real = float | np.floating[Any]


# Columns per tile of the work-skipping test, and rows per band of the thread split.
TILE = 32


BAND_ROWS = 128


# Mixed tiles at most this many tiles apart get the guide in one run (measured on the
# sample at 1080p: 1 to 8 cost the same within noise; wider gaps guide the subject between).
GUIDE_GAP = 2


# The largest difference to the numpy reference, in 1/255 levels, anywhere in an image
# (the sums' rounding differs: the kernels divide by the window size, the reference
# multiplies by its reciprocal, so that a constant window stays exactly constant here).
TOLERANCE = 2


# What the background is (I_BG_KIND).
BG_NONE, BG_COLOR, BG_RGB, BG_RGBA = 0, 1, 2, 3


LAYOUT_YUV, LAYOUT_RGB = 0, 1


# Per-tile states.
T_MIXED, T_SCREEN, T_SUBJECT = 0, 1, 2


# Band buffers (channels of the per-worker scratch).
(
    B_R,
    B_G,
    B_B,
    B_SCR_R,
    B_SCR_G,
    B_SCR_B,
    B_RAW,
    B_LUMA,
    B_GATE0,
    B_S0,
    B_S1,
    B_S2,
    B_S3,
    B_T0,
    B_T1,
    B_T2,
    B_T3,
    B_GUIDED,
    B_ALPHA,
    B_TMP,
    B_S4,
    B_T4,
    B_HOLD,
    B_LR,
    B_LG,
    B_LB,
    B_LW,
    N_BUFFERS,
) = range(28)

# Rows of the per-worker line scratch: decode's chroma rows (0–3, 5–10), the background LUT
# (4), the reach's flags (5, as bytes, once the rows are decoded), the colour model's column
# sums and scratch (0–5, in the refinement).
N_LINES = 11

# The chroma guide's buffers (kernels.chroma), on the band's chroma rows: free until the
# luma guide runs, as every row is decoded before it. Its luma and slopes, read by the decode;
# the horizontal window sums of its eleven products (those read only by the guide itself in
# buffers that the keying of the band's rows fills later).
B_CY, B_CSU, B_CSV = B_T2, B_T3, B_T4
B_H0, B_H1, B_H2, B_H3, B_H4, B_H5, B_H6 = B_S0, B_S1, B_S2, B_S3, B_T0, B_T1, B_S4
B_H7, B_H8, B_H9, B_H10 = B_GUIDED, B_ALPHA, B_TMP, B_HOLD
# Membership's reach (pixels.reach_rows), on the band's rows while they are keyed: the
# surely-screen seed and the share of the screen's colour; on a pale screen's window, what
# membership may rise to beside the screen, and the seeds' max along rows, then down columns.
B_SEED, B_SHARE, B_CAN, B_NEAR_ROWS, B_NEAR = B_S0, B_S1, B_S2, B_S3, B_S4
# The local colour model (kernels.colour_model), in the refinement: the solid weight and its
# colours on the band's rows (free once the luma guide has run), and their running column
# sums in rows of the line scratch (free once the rows are decoded).
B_CW, B_CR, B_CG, B_CB = B_T0, B_T1, B_T2, B_T3  # consecutive channels
L_CW, L_CR, L_CG, L_CB = 0, 1, 2, 3
# Its clear-screen weight (cpu.colour_mix): a row's weights in line row L_CTMP, their sums along
# the row (cpu.near_radius) on the band's rows (B_CCL), and those summed down the columns in
# the row the background LUT takes only later, for the composite (L_CCL).
B_CCL, L_CCL, L_CTMP = B_T4, 4, 5
# What the colour model leaves the unmix (cpu.LocalColour): the solid subject's mean colour
# beside a partial pixel (B_LR, B_LG, B_LB) and its weight (B_LW, 0 at every other pixel of a
# mixed run), from the refinement to the composite.
# The still hold's play at a mixed run's partial pixels (kernels.motion, levels), for the
# composite: B_HOLD.
_CHROMA_R = cpu.CHROMA_GUIDE_RADIUS
_CHROMA_EPS = F32(cpu.CHROMA_GUIDE_EPS)


_MIN_SCREEN_EXCESS = F32(cpu.MIN_SCREEN_EXCESS)


_HUE_EPS = F32(HSL_EPS)


_ALPHA_EPS = F32(cpu.ALPHA_FLOOR)


_ALPHA_VISIBLE = F32(cpu.ALPHA_VISIBLE)


# --- per-pixel maths (twins of the reference's) -------------------------------------------


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _soft_step(e0: Real, inv: Real, x: Real) -> Real:
    """cpu.soft_step; ``inv`` < 0 marks a ramp too narrow to have width (a hard step)."""
    if inv < 0:
        return F32(1.0) if x > e0 else F32(0.0)
    t = (x - e0) * inv
    t = min(max(t, F32(0.0)), F32(1.0))
    return t * t * (F32(3.0) - F32(2.0) * t)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clip01(x: Real) -> Real:
    return min(max(x, F32(0.0)), F32(1.0))


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _key_excess(key: int, r: Real, g: Real, b: Real) -> Real:
    """cpu.key_excess at one colour: the key channel less the larger of the other two."""
    kc = r if key == 0 else (g if key == 1 else b)
    o1 = g if key == 0 else r
    o2 = g if key == 2 else b
    return kc - max(o1, o2)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _screen_excess(key: int, r: Real, g: Real, b: Real) -> Real:
    """cpu.screen_excess at one screen colour: its key excess, at least MIN_SCREEN_EXCESS."""
    return max(_key_excess(key, r, g, b), _MIN_SCREEN_EXCESS)


# --- neighbourhood stages: direct window sums and extrema over [x0, x1) of rows [a, b) ----
#
# Loops run over slices from 0 so that numba can drop negative-index checks and vectorise.


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _clamped(x: int, w: int) -> int:
    return min(max(x, 0), w - 1)


@njit(inline="always", nogil=True, cache=True, error_model="numpy")
def _u8(v: Real) -> np.uint8:
    return np.uint8(v * F32(255.0) + F32(0.5))
