"""The numpy reference keyer: the oracle the compiled CPU keyer and the shaders are tested
against.

Each function has a GLSL twin of the same name in ``shaders/`` and reads the same way. All
values are float32 in 0–1; images are H×W(×C) arrays. The modules follow the frame:
``decode`` → ``membership`` (membership, key excess, raw alpha) → ``screen`` (the screen
colour at each pixel) → ``guide`` (the luma guide) → ``refine`` (edge, clip) → ``colour_model`` (partial pixels against the
subject's colour beside them) → ``refine`` (choke, feather)
→ ``unmix`` (spill gate, unmix and despill, composite); ``windows`` holds the window
filters they share, ``common`` the constants and the soft step, ``keyer`` ``key_frame`` and
:class:`ReferenceKeyer`. The names are gathered here, so that ``reference.X`` reads as one
namespace (the compiled keyer and the GPU keyer take their constants from it).
"""

from .colour_model import (
    COLOUR_MIX,
    COLOUR_PARTIAL,
    COLOUR_RADIUS,
    COLOUR_RESIDUAL,
    COLOUR_SOLID,
    COLOUR_SPREAD,
    COLOUR_SUPPORT,
    COLOUR_TINY,
    colour_model_matte,
    local_foreground,
)
from .common import ALPHA_FLOOR, ALPHA_VISIBLE, EDGE_RADIUS, F32, MIN_RAMP, soft_step
from .decode import (
    CHROMA_GUIDE_EPS,
    CHROMA_GUIDE_RADIUS,
    CHROMA_GUIDE_ROWS,
    chroma_luma,
    chroma_slopes,
    decode_rgb,
    decode_rows,
    guided_chroma,
    upsample_chroma,
)
from .guide import (
    BT709_LUMA,
    GUIDE_FIT_RAMP,
    GUIDE_MATTE_EPS,
    guide_coefficients,
    guided_matte,
    luma,
    luma_weights,
)
from .keyer import STRIP_PIXELS, ReferenceKeyer, cpu_workers, key_frame, key_pixels
from .membership import (
    MEMBER_REACH,
    MIN_SCREEN_EXCESS,
    PALE_INTERIOR,
    PALE_REACH,
    REACH_GAMUT,
    REACH_MIX,
    REACH_SHARE,
    can_mix,
    hue_membership,
    key_channel,
    key_excess,
    member_reach,
    own_membership,
    pale_window,
    raw_alpha,
    reach_membership,
    reach_terms,
    screen_excess,
    screen_membership,
    screen_share,
)
from .refine import (
    HALO_MARGIN,
    choke_matte,
    clip_matte,
    edge_weight,
    feather_matte,
    gaussian_weights,
    halo_rows,
    refine_matte,
    shape_matte,
)
from .screen import map_axis, screen_at, screen_colors, screen_rows
from .unmix import composite, spill_gate, to_uint8, unmix_despill
from .windows import box_sum, window_reduce

__all__ = [
    "ALPHA_FLOOR",
    "ALPHA_VISIBLE",
    "CHROMA_GUIDE_EPS",
    "CHROMA_GUIDE_RADIUS",
    "CHROMA_GUIDE_ROWS",
    "BT709_LUMA",
    "EDGE_RADIUS",
    "F32",
    "GUIDE_FIT_RAMP",
    "GUIDE_MATTE_EPS",
    "HALO_MARGIN",
    "MEMBER_REACH",
    "MIN_RAMP",
    "MIN_SCREEN_EXCESS",
    "PALE_INTERIOR",
    "PALE_REACH",
    "REACH_GAMUT",
    "REACH_MIX",
    "REACH_SHARE",
    "ReferenceKeyer",
    "STRIP_PIXELS",
    "window_reduce",
    "box_sum",
    "COLOUR_MIX",
    "COLOUR_PARTIAL",
    "COLOUR_RADIUS",
    "COLOUR_RESIDUAL",
    "COLOUR_SOLID",
    "COLOUR_SPREAD",
    "COLOUR_SUPPORT",
    "COLOUR_TINY",
    "colour_model_matte",
    "local_foreground",
    "chroma_luma",
    "chroma_slopes",
    "choke_matte",
    "clip_matte",
    "composite",
    "cpu_workers",
    "decode_rgb",
    "decode_rows",
    "edge_weight",
    "feather_matte",
    "gaussian_weights",
    "guide_coefficients",
    "guided_chroma",
    "guided_matte",
    "halo_rows",
    "hue_membership",
    "key_channel",
    "key_excess",
    "key_frame",
    "key_pixels",
    "luma",
    "luma_weights",
    "map_axis",
    "can_mix",
    "member_reach",
    "own_membership",
    "pale_window",
    "reach_terms",
    "raw_alpha",
    "reach_membership",
    "refine_matte",
    "shape_matte",
    "screen_at",
    "screen_colors",
    "screen_excess",
    "screen_membership",
    "screen_share",
    "screen_rows",
    "soft_step",
    "spill_gate",
    "to_uint8",
    "unmix_despill",
    "upsample_chroma",
]
