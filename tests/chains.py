"""The reference's matte, stage by stage, for tests that leave one stage out (the reach, the
colour model) and compare with the whole chain of cpu.key_pixels."""

from __future__ import annotations

import numpy as np

from chromakey.core.color import rgb_to_hsl
from chromakey.core.params import KeyerParams
from chromakey.keying import reference as cpu


def reference_matte(
    rgb: np.ndarray,
    screen: np.ndarray,
    p: KeyerParams,
    luma_w: np.ndarray = cpu.BT709_LUMA,
    *,
    reach: bool = True,
    colour_model: bool = True,
    near: int | None = None,
) -> np.ndarray:
    """cpu.key_pixels' alpha against one screen colour, membership's reach and the local
    colour model each optional (``near``: the model's reach in from clear screen, by default
    cpu.near_radius's)."""
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    member = cpu.screen_membership(cpu.hue_membership(hue, p), sat, light, chroma, p)
    key = cpu.key_channel(p)
    share = cpu.screen_share(cpu.key_excess(rgb, key), cpu.screen_excess(screen, key))
    if reach:
        member = cpu.reach_membership(
            *cpu.reach_terms(member, sat, share, rgb, screen, p), share, p
        )
    else:
        member = cpu.own_membership(member, sat, p)
    raw = cpu.raw_alpha(share, member)
    guided = cpu.guided_matte(raw, cpu.luma(rgb, luma_w), p)
    clipped = cpu.clip_matte(guided, cpu.edge_weight(guided, p), p)
    if colour_model:
        r = cpu.near_radius(p) if near is None else near
        clipped = cpu.colour_model(clipped, raw, rgb, screen, key, r)[0]
    return cpu.shape_matte(clipped, p)
