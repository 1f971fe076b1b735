"""The keyer's settings, the frame's decode and the sink's encode as the kernels take them:
flat float32 and int64 vectors, indexed by the constants of kernels.common."""

from __future__ import annotations

import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame, YuvImage
from ...core.params import KeyerParams
from .. import reference as cpu
from .common import (
    F32,
    I_CHOKE,
    I_EDGE_R,
    I_FEATHER_N,
    I_GUIDE_R,
    I_HALO,
    I_KEY,
    I_REACH,
    I_REST,
    I_SPILL_R,
    N_INTS,
    N_PARAMS,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_CLIP_BLACK,
    P_CLIP_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_EDGE_E0,
    P_EDGE_INV,
    P_FIT_E0,
    P_FIT_INV,
    P_GAMUT_E0,
    P_GAMUT_INV,
    P_GUIDE_EPS,
    P_HUE_CENTER,
    P_HUE_E0,
    P_HUE_HALF,
    P_HUE_INV,
    P_MATTE_EPS,
    P_MIX_E0,
    P_MIX_INV,
    P_REACH_E0,
    P_REACH_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_SCREEN_LO,
    P_SPILL,
    P_SUBJECT_HI,
    P_VIVID_E0,
    P_VIVID_INV,
    P_WEAK_E0,
    P_WEAK_INV,
    ramp,
)


def pack_params(p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float32 vector, int64 vector, feather taps) of ``p`` for the kernels."""
    f = np.zeros(N_PARAMS, np.float64)
    f[P_HUE_CENTER] = F32(p.hue_center)
    f[P_HUE_HALF] = F32(p.hue_width / 2.0)
    f[P_HUE_E0], f[P_HUE_INV] = ramp(0.0, p.hue_softness)
    f[P_SAT_E0], f[P_SAT_INV] = ramp(p.sat_min - p.sat_softness, p.sat_min)
    f[P_DARK_E0], f[P_DARK_INV] = ramp(0.5 * p.dark_guard, p.dark_guard)
    f[P_BRIGHT_E0], f[P_BRIGHT_INV] = ramp(p.bright_guard, 1.0)
    f[P_VIVID_E0], f[P_VIVID_INV] = ramp(p.sat_max, p.sat_max + p.sat_softness)
    f[P_EDGE_E0], f[P_EDGE_INV] = ramp(0.5 * p.edge_tolerance, p.edge_tolerance)
    f[P_WEAK_E0], f[P_WEAK_INV] = ramp(p.sat_min, p.sat_min + p.sat_softness)
    f[P_CLIP_BLACK] = F32(p.clip_black)
    f[P_CLIP_INV] = F32(1.0 / (p.clip_white - p.clip_black))
    f[P_GUIDE_EPS] = F32(p.guide_eps)
    f[P_MATTE_EPS] = F32(cpu.GUIDE_MATTE_EPS)
    f[P_FIT_E0], f[P_FIT_INV] = ramp(*cpu.GUIDE_FIT_RAMP)
    f[P_REACH_E0], f[P_REACH_INV] = ramp(*cpu.REACH_SHARE)
    f[P_MIX_E0], f[P_MIX_INV] = ramp(*cpu.REACH_MIX)
    f[P_GAMUT_E0], f[P_GAMUT_INV] = ramp(*cpu.REACH_GAMUT)
    f[P_SPILL] = F32(p.spill)
    # A guided matte at most SCREEN_LO through the refinement's reach refines to exactly 0:
    # the edge test sees a spread ≤ edge_tolerance/2 (weight 0) and clip_black clips it.
    # At least SUBJECT_HI, it refines to exactly 1 the same way.
    f[P_SCREEN_LO] = F32(min(p.clip_black, 0.5 * p.edge_tolerance))
    f[P_SUBJECT_HI] = _subject_floor(p, f[P_EDGE_E0], f[P_CLIP_BLACK], f[P_CLIP_INV])
    ints = np.zeros(N_INTS, np.int64)
    ints[I_KEY] = cpu.key_channel(p)
    ints[I_GUIDE_R] = p.guide_radius
    ints[I_CHOKE] = p.choke
    taps = cpu.gaussian_weights(p.feather) if p.feather > 0 else np.ones(1, F32)
    ints[I_FEATHER_N] = len(taps) // 2
    ints[I_SPILL_R] = p.spill_radius
    ints[I_EDGE_R] = cpu.EDGE_RADIUS
    ints[I_HALO] = halo(p)
    ints[I_REACH] = cpu.member_reach(p)
    # What the refinement and spill gate reach.
    ints[I_REST] = ints[I_HALO] - 2 * p.guide_radius - ints[I_REACH]
    return f.astype(F32), ints, taps.astype(F32)


def _subject_floor(p: KeyerParams, e0: float, black: float, inv: float) -> float:
    """The smallest float32 s with 1 − s ≤ e0 and (s − clip_black)·inv ≥ 1 in float32
    arithmetic: a guided matte of at least s through the reach refines to exactly 1."""
    s = F32(max(p.clip_white, 1.0 - 0.5 * p.edge_tolerance))
    e0, black, inv = F32(e0), F32(black), F32(inv)  # type: ignore[assignment]  # float32 maths
    while s < F32(1.0) and (F32(1.0) - s > e0 or (s - black) * inv < F32(1.0)):
        s = np.nextafter(s, F32(2.0), dtype=F32)
    return float(s)


def halo(p: KeyerParams) -> int:
    """Rows of context a band needs: the reach of every neighbourhood stage, added up (the
    reference's sum, cpu.halo_rows, without its safety rows: here every reach is exact)."""
    return cpu.halo_rows(p) - cpu.HALO_MARGIN


def decode_constants(frame: Frame) -> np.ndarray:
    """cpu._decode_yuv's float32 constants: (m00, y offset, 1/255, u off, v off, m02, m11, m12, m21)."""
    spec = frame.yuv if frame.yuv is not None else YuvSpec()
    m, off = spec.to_rgb()
    m = m.astype(F32)
    s = F32(1.0 / 255.0)
    return np.array(
        [m[0, 0], F32(m[0, 0] * off[0]), s, F32(off[1]), F32(off[2]),
         m[0, 2], m[1, 1], m[1, 2], m[2, 1]],
        F32,
    )  # fmt: skip


NO_PLANE = np.zeros((1, 1), np.uint8)


NO_OUT_PLANE = np.zeros((1, 1), np.uint8)  # "no plane" for the kernel's outputs


NO_IMAGE = np.zeros((1, 1, 3), np.uint8)


def _yuv_matrix() -> np.ndarray:
    """YuvImage's RGB → YUV (0–1 units): the 3×3 matrix by rows, then the offsets."""
    m, off = YuvImage.SPEC.from_rgb()
    return np.concatenate([m.reshape(-1), off]).astype(F32)


TO_YUV = _yuv_matrix()


NO_COLOR = np.zeros(3, F32)
