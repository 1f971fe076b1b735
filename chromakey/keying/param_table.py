"""The keyer's settings as both backends take them, in one table.

Each row names a value the passes read: its GLSL type (the shaders' uniform, declared in the
generated ``settings.glsl``) and its getter, and where the compiled kernels take it — slots
of their float32 vector (``P_*``, often a ramp's (e0, 1/(e1 − e0)) instead of the raw value)
or of their int64 vector (``I_*``). The GLSL declarations, the GPU keyer's uploads and the
kernels' vectors are all made from the table, so a setting is added in one place.

The vectors' indices are plain constants (numba compiles them in as literals); a test checks
that the table fills every settings slot exactly once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.params import KeyerParams
from . import reference as cpu

F32 = np.float32

# Indices into the kernels' float32 parameter vector.
(
    P_HUE_CENTER,
    P_HUE_HALF,
    P_HUE_E0,
    P_HUE_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_EDGE_E0,
    P_EDGE_INV,
    P_WEAK_E0,
    P_WEAK_INV,
    P_CLIP_BLACK,
    P_CLIP_INV,
    P_GUIDE_EPS,
    P_SPILL,
    P_SCREEN_LO,
    P_SUBJECT_HI,
    P_VIVID_E0,
    P_VIVID_INV,
    P_MATTE_EPS,
    P_FIT_E0,
    P_FIT_INV,
    P_REACH_E0,
    P_REACH_INV,
    P_MIX_E0,
    P_MIX_INV,
    P_GAMUT_E0,
    P_GAMUT_INV,
    P_PALE_E0,
    P_PALE_INV,
    P_HOLD,
    N_PARAMS,
) = range(35)

# Indices into the kernels' int64 vector: the settings' (from the table), then the frame's
# and the call's (set by the CPU keyer per frame; I_HOLD: 1 where the still hold has the
# previous frame's state to read; I_CENTRED: 1 where the frame's chroma is centred across,
# YuvSpec.centred).
(
    I_KEY,
    I_GUIDE_R,
    I_CHOKE,
    I_FEATHER_N,
    I_SPILL_R,
    I_EDGE_R,
    I_HALO,
    I_TILES,
    I_BG_KIND,
    I_CHANNELS,
    I_LAYOUT,
    I_FX,
    I_FY,
    I_YUV,
    I_PREFILLED,
    I_REST,
    I_REACH,
    I_PALE,
    I_NEAR,
    I_HOLD,
    I_CENTRED,
    N_INTS,
) = range(22)

# The int slots the frame and the call set (the CPU keyer, per frame); the table fills the rest.
_CALL_INTS = {
    I_TILES, I_BG_KIND, I_CHANNELS, I_LAYOUT, I_FX, I_FY, I_YUV, I_PREFILLED, I_HOLD, I_CENTRED
}  # fmt: skip
SETTINGS_INTS = frozenset(range(N_INTS)) - _CALL_INTS

Value = float | int | tuple[float, float]


def ramp(e0: float, e1: float) -> tuple[float, float]:
    """(e0, 1/(e1 − e0)) as cpu.soft_step computes them, in float32; −1 marks a hard step."""
    if e1 - e0 < cpu.MIN_RAMP:
        return float(F32(e0)), -1.0
    return float(F32(e0)), float(F32(1.0 / (e1 - e0)))


@dataclass(frozen=True)
class Param:
    """One value the passes read.

    ``glsl``: the uniform's type in ``settings.glsl`` (None: no shader reads it as a uniform;
    the shaders have it as a ``#define`` or derive it themselves). ``get``: the uniform's
    value. ``slot``/``kernel``: the float32 slots from ``slot`` on that the kernels take, and
    their values; ``islot``: the int64 slot that takes ``get``'s value.
    """

    name: str
    glsl: str | None
    get: Callable[[KeyerParams], Value]
    note: str = ""
    slot: int | None = None
    kernel: Callable[[KeyerParams], tuple[float, ...]] | None = None
    islot: int | None = None


def halo(p: KeyerParams) -> int:
    """Rows of context a band needs: the reach of every neighbourhood stage, added up (the
    reference's sum, cpu.halo_rows, without its safety rows: the kernels' reaches are exact)."""
    return cpu.halo_rows(p) - cpu.HALO_MARGIN


def _feather_taps(p: KeyerParams) -> np.ndarray:
    """The feather's Gaussian taps (one tap of 1 without a feather)."""
    return cpu.gaussian_weights(p.feather) if p.feather > 0 else np.ones(1, F32)


def _screen_ceiling(p: KeyerParams) -> float:
    """The largest guided matte, throughout the reach, that refines to exactly 0: at most
    clip_black, and a spread at most the edge ramp's start (in float32, as the kernels test
    the spread against it)."""
    return float(min(F32(p.clip_black), F32(ramp(*cpu.edge_ramp(p))[0])))


def _subject_floor(p: KeyerParams) -> float:
    """The smallest float32 s with 1 − s ≤ e0 and (s − clip_black)·inv ≥ 1 in float32
    arithmetic: a guided matte of at least s through the reach refines to exactly 1."""
    e0 = F32(ramp(*cpu.edge_ramp(p))[0])
    black, inv = F32(p.clip_black), F32(1.0 / (p.clip_white - p.clip_black))
    s = F32(max(p.clip_white, 1.0 - cpu.edge_ramp(p)[0]))
    while s < F32(1.0) and (F32(1.0) - s > e0 or (s - black) * inv < F32(1.0)):
        s = np.nextafter(s, F32(2.0), dtype=F32)
    return float(s)


TABLE: tuple[Param, ...] = (
    Param("hue_center", "float", lambda p: p.hue_center, "KeyerParams.hue_center (degrees)",
          P_HUE_CENTER, lambda p: (p.hue_center,)),
    Param("hue_width", "float", lambda p: p.hue_width, "KeyerParams.hue_width (degrees)",
          P_HUE_HALF, lambda p: (p.hue_width / 2.0,)),
    Param("hue_softness", "float", lambda p: p.hue_softness, "",
          P_HUE_E0, lambda p: ramp(0.0, p.hue_softness)),
    Param("sat_min", "float", lambda p: p.sat_min, "",
          P_SAT_E0, lambda p: ramp(p.sat_min - p.sat_softness, p.sat_min)),
    Param("sat_softness", "float", lambda p: p.sat_softness, "",
          P_WEAK_E0, lambda p: ramp(p.sat_min, p.sat_min + p.sat_softness)),
    Param("sat_max", "float", lambda p: p.sat_max, "",
          P_VIVID_E0, lambda p: ramp(p.sat_max, p.sat_max + p.sat_softness)),
    Param("dark_guard", "float", lambda p: p.dark_guard, "",
          P_DARK_E0, lambda p: ramp(0.5 * p.dark_guard, p.dark_guard)),
    Param("bright_guard", "float", lambda p: p.bright_guard, "",
          P_BRIGHT_E0, lambda p: ramp(p.bright_guard, 1.0)),
    Param("clip_black", "float", lambda p: p.clip_black, "",
          P_CLIP_BLACK, lambda p: (p.clip_black,)),
    Param("clip_white", "float", lambda p: p.clip_white, "",
          P_CLIP_INV, lambda p: (1.0 / (p.clip_white - p.clip_black),)),
    Param("edge_ramp", "vec2", cpu.edge_ramp, "cpu.edge_ramp(p): edge_tolerance and the grain",
          P_EDGE_E0, lambda p: ramp(*cpu.edge_ramp(p))),
    Param("guide_radius", "int", lambda p: p.guide_radius, "", islot=I_GUIDE_R),
    Param("guide_eps", "float", lambda p: p.guide_eps, "", P_GUIDE_EPS, lambda p: (p.guide_eps,)),
    Param("guide_norm", "float", lambda p: float(F32(1.0 / (2 * p.guide_radius + 1) ** 2)),
          "F32(1 / (2·guide_radius + 1)²), as cpu.guided_matte scales sums"),
    Param("spill", "float", lambda p: p.spill, "", P_SPILL, lambda p: (p.spill,)),
    Param("key", "int", cpu.key_channel, "cpu.key_channel(p): 0 red, 1 green, 2 blue",
          islot=I_KEY),
    # Membership's reach: soft ramps (e0, e1), uniforms rather than #defines, as their ends
    # 0.0 and 0.5 are also plain arithmetic in the shaders. Its radius, cpu.member_reach(p),
    # is the reach pass's REACH_RADIUS #define.
    Param("reach_share", "vec2", lambda p: cpu.REACH_SHARE, "cpu.REACH_SHARE",
          P_REACH_E0, lambda p: ramp(*cpu.REACH_SHARE)),
    Param("reach_mix", "vec2", lambda p: cpu.REACH_MIX, "cpu.REACH_MIX",
          P_MIX_E0, lambda p: ramp(*cpu.REACH_MIX)),
    Param("reach_gamut", "vec2", lambda p: cpu.REACH_GAMUT, "cpu.REACH_GAMUT",
          P_GAMUT_E0, lambda p: ramp(*cpu.REACH_GAMUT)),
    # A pale screen's window (cpu.pale_window) and its ramp away from the screen
    # (cpu.own_membership).
    Param("pale", "int", lambda p: int(cpu.pale_window(p)), "1: a pale screen's window",
          islot=I_PALE),
    Param("pale_interior", "vec2", cpu.pale_ramp, "cpu.pale_ramp",
          P_PALE_E0, lambda p: ramp(*cpu.pale_ramp(p))),
    # The still hold (cpu.hold_matte): its threshold, and the matte of a plain subject that
    # passes through it (the kernels compute that from their feather taps).
    Param("still_hold", "float", lambda p: p.still_hold, "", P_HOLD, lambda p: (p.still_hold,)),
    Param("refined_one", "float", cpu.refined_one, "cpu.refined_one"),
    # The local colour model's ramps and mix, uniforms for the same reason (0, 1, 2 and 0.5
    # among them); its radius and least divisor are #defines (COLOUR_RADIUS, COLOUR_TINY).
    # The kernels take them as constants of their own module. How far in from clear screen
    # a pixel is the outer edge depends on the window (cpu.near_radius): a uniform, and an
    # int slot for the kernels.
    Param("colour_near_radius", "int", cpu.near_radius, "cpu.near_radius", islot=I_NEAR),
    Param("colour_solid", "vec2", lambda p: cpu.COLOUR_SOLID, "cpu.COLOUR_SOLID"),
    Param("colour_support", "vec2", lambda p: cpu.COLOUR_SUPPORT, "cpu.COLOUR_SUPPORT"),
    Param("colour_spread", "vec2", lambda p: cpu.COLOUR_SPREAD, "cpu.COLOUR_SPREAD"),
    Param(
        "colour_pale_sq", "float", lambda p: cpu.COLOUR_PALE_EXCESS**2, "cpu.COLOUR_PALE_EXCESS²"
    ),
    Param("colour_residual", "vec2", lambda p: cpu.COLOUR_RESIDUAL, "cpu.COLOUR_RESIDUAL"),
    Param("colour_mix", "float", lambda p: cpu.COLOUR_MIX, "cpu.COLOUR_MIX"),
    Param("colour_mix_near", "float", lambda p: cpu.COLOUR_MIX_NEAR, "cpu.COLOUR_MIX_NEAR"),
    Param("colour_fit", "vec2", lambda p: cpu.COLOUR_FIT, "cpu.COLOUR_FIT"),
    Param("colour_fit_solid", "vec2", lambda p: cpu.COLOUR_FIT_SOLID, "cpu.COLOUR_FIT_SOLID"),
    Param("colour_mix_fit", "float", lambda p: cpu.COLOUR_MIX_FIT, "cpu.COLOUR_MIX_FIT"),
    Param("colour_shade", "float", lambda p: cpu.COLOUR_SHADE, "cpu.COLOUR_SHADE"),
    Param("colour_lit", "float", lambda p: cpu.COLOUR_LIT, "cpu.COLOUR_LIT"),
    Param("colour_lit_apart", "vec2", lambda p: cpu.COLOUR_LIT_APART, "cpu.COLOUR_LIT_APART"),
    Param("colour_clear", "vec2", lambda p: cpu.COLOUR_CLEAR, "cpu.COLOUR_CLEAR"),
    Param("colour_near", "vec2", lambda p: cpu.COLOUR_NEAR, "cpu.COLOUR_NEAR"),
    Param("colour_partial", "float", lambda p: cpu.COLOUR_PARTIAL, "cpu.COLOUR_PARTIAL"),
    # The kernels' own: the shaders have these as #defines (passes.shader_defines) or as the
    # pass graph's shape (radii), or do without (the exact-0/1 shortcuts of the tiles).
    Param("matte_eps", None, lambda p: cpu.GUIDE_MATTE_EPS, "",
          P_MATTE_EPS, lambda p: (cpu.GUIDE_MATTE_EPS,)),
    Param("fit_ramp", None, lambda p: cpu.GUIDE_FIT_RAMP, "",
          P_FIT_E0, lambda p: ramp(*cpu.GUIDE_FIT_RAMP)),
    # A guided matte at most SCREEN_LO through the refinement's reach refines to exactly 0:
    # the edge test sees a spread at most its ramp's start (weight 0) and clip_black clips it.
    # At least SUBJECT_HI, it refines to exactly 1 the same way.
    Param("screen_lo", None, lambda p: _screen_ceiling(p), "",
          P_SCREEN_LO, lambda p: (_screen_ceiling(p),)),
    Param("subject_hi", None, _subject_floor, "", P_SUBJECT_HI, lambda p: (_subject_floor(p),)),
    Param("choke", None, lambda p: p.choke, "", islot=I_CHOKE),
    Param("feather_n", None, lambda p: len(_feather_taps(p)) // 2, "", islot=I_FEATHER_N),
    Param("spill_radius", None, lambda p: p.spill_radius, "", islot=I_SPILL_R),
    Param("edge_radius", None, lambda p: cpu.EDGE_RADIUS, "", islot=I_EDGE_R),
    Param("halo", None, halo, "", islot=I_HALO),
    Param("reach", None, cpu.member_reach, "", islot=I_REACH),
    # What the refinement and spill gate reach.
    Param("rest", None, lambda p: halo(p) - 2 * p.guide_radius - cpu.member_reach(p), "",
          islot=I_REST),
)  # fmt: skip

SETTINGS_FILE = "settings.glsl"


def uniforms(p: KeyerParams) -> dict[str, Value]:
    """Every settings uniform of the passes, by name."""
    return {row.name: row.get(p) for row in TABLE if row.glsl is not None}


def settings_glsl() -> str:
    """``settings.glsl``: the uniforms' declarations, generated from the table."""
    lines = [
        "// Generated from chromakey/keying/param_table.py (TABLE): the keyer's settings as",
        "// uniforms. A pass that does not read one lets the compiler drop it.",
    ]
    for row in TABLE:
        if row.glsl is not None:
            decl = f"uniform {row.glsl} {row.name};"
            lines.append(f"{decl:<30} // {row.note}" if row.note else decl)
    return "\n".join(lines) + "\n"


def kernel_vectors(p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float32 vector, int64 vector, feather taps) of ``p`` for the kernels; the int slots
    of the frame and the call are left 0."""
    f = np.zeros(N_PARAMS, np.float64)
    ints = np.zeros(N_INTS, np.int64)
    for row in TABLE:
        if row.slot is not None and row.kernel is not None:
            values = row.kernel(p)
            f[row.slot : row.slot + len(values)] = [F32(v) for v in values]
        if row.islot is not None:
            value = row.get(p)
            assert not isinstance(value, tuple), row.name  # the table's int rows give ints
            ints[row.islot] = int(value)
    return f.astype(F32), ints, _feather_taps(p).astype(F32)
