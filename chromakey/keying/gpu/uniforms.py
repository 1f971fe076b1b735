"""The keyer's settings as the shaders' uniforms: one value per name that shaders/params.glsl
declares, computed as the reference computes it (the constants are the reference's own)."""

from __future__ import annotations

import numpy as np

from ...core.params import KeyerParams
from .. import reference as cpu


def uniform_values(p: KeyerParams) -> dict[str, float | int | tuple[float, float]]:
    """Every settings uniform of the passes, by name."""
    r = p.guide_radius
    return {
        "hue_center": p.hue_center,
        "hue_width": p.hue_width,
        "hue_softness": p.hue_softness,
        "sat_min": p.sat_min,
        "sat_softness": p.sat_softness,
        "sat_max": p.sat_max,
        "dark_guard": p.dark_guard,
        "bright_guard": p.bright_guard,
        "clip_black": p.clip_black,
        "clip_white": p.clip_white,
        "edge_tolerance": p.edge_tolerance,
        "guide_radius": r,
        "guide_eps": p.guide_eps,
        "guide_norm": float(np.float32(1.0 / (2 * r + 1) ** 2)),  # cpu.guided_matte's F32
        "spill": p.spill,
        "key": cpu.key_channel(p),
        "reach_share": cpu.REACH_SHARE,
        "reach_mix": cpu.REACH_MIX,
        "reach_gamut": cpu.REACH_GAMUT,
        "colour_solid": cpu.COLOUR_SOLID,
        "colour_support": cpu.COLOUR_SUPPORT,
        "colour_spread": cpu.COLOUR_SPREAD,
        "colour_residual": cpu.COLOUR_RESIDUAL,
        "colour_mix": cpu.COLOUR_MIX,
        "colour_partial": cpu.COLOUR_PARTIAL,
    }
