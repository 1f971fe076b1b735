"""7–8. Unmix and despill, then the composite and the uint8 output."""

from __future__ import annotations

import numpy as np

from ...core.errors import ParameterError
from ...core.layers import Clear, Layer, Picture, Solid
from ...core.params import KeyerParams
from .colour_model import LocalColour, edge_colour
from .common import ALPHA_FLOOR, ALPHA_VISIBLE, F32, levels, soft_step
from .membership import key_excess
from .windows import window_reduce

# --- 7. unmix and despill -------------------------------------------------------------


def spill_gate(hue_m: np.ndarray, sat: np.ndarray, alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Where spill may be removed: screen hues, weak colours, and anything near the screen.

    The screen's light reaches the subject's edges, whatever their colour; a
    strongly saturated off-window colour away from the edges (a lime tie, a
    teal badge) is the object's own and keeps its green.
    """
    near_screen = window_reduce(F32(1.0) - alpha, p.spill_radius, np.maximum)
    weak = F32(1.0) - soft_step(p.sat_min, p.sat_min + p.sat_softness, sat)
    gate: np.ndarray = np.maximum(np.maximum(hue_m, weak), near_screen)
    return gate


def unmix_despill(
    rgb: np.ndarray,
    alpha: np.ndarray,
    gate: np.ndarray,
    screen: np.ndarray,
    key: int,
    p: KeyerParams,
    local: LocalColour,
) -> np.ndarray:
    """Premultiplied foreground: the screen's share removed, the edge's colour taken toward
    the subject beside it (:func:`edge_colour`), then its spill.

    ``screen`` is one (3,) colour or H×W×3, one per pixel (:func:`screen_at`). A pixel that
    is a·F + (1−a)·S gives back a·F exactly, so a partial pixel keeps its own colour instead
    of a green fringe.
    """
    a3 = alpha[..., None]
    fg = rgb - (F32(1.0) - a3) * screen.astype(F32)
    fg = np.clip(fg, 0.0, None)
    np.minimum(fg, a3, out=fg)
    edge_colour(fg, alpha, rgb, screen, local, key, p.spill)
    spill = np.maximum(key_excess(fg, key), 0.0)
    fg[..., key] -= F32(p.spill) * gate * spill
    return fg


# --- 8. composite -------------------------------------------------------------------


def composite(fg: np.ndarray, alpha: np.ndarray, background: Layer) -> np.ndarray:
    """Straight-alpha 'over' (float 0–1): fg is premultiplied. Over ``Clear`` the result is
    straight RGBA, for transparent outputs; over a ``Picture`` with alpha it stays RGBA."""
    a3 = alpha[..., None]
    match background:
        case Clear():
            out = np.empty(alpha.shape + (4,), F32)
            np.divide(fg, np.maximum(a3, F32(ALPHA_FLOOR)), out=out[..., :3])
            out[..., :3] *= a3 > F32(ALPHA_VISIBLE)
            np.clip(out[..., :3], 0.0, 1.0, out=out[..., :3])
            out[..., 3] = alpha
            return out
        case Solid(rgb=rgb):
            return _over(fg, a3, rgb)
        case Picture(pixels=pixels):
            bg = pixels.astype(F32) * F32(1.0 / 255.0)
            if not background.has_alpha:
                return _over(fg, a3, bg)
            # A background with its own alpha: the subject over it, then the pair stays RGBA.
            out = np.empty(alpha.shape + (4,), F32)
            ba = bg[..., 3:4]
            out_a = a3 + (F32(1.0) - a3) * ba
            prem = fg + (F32(1.0) - a3) * bg[..., :3] * ba
            np.divide(prem, np.maximum(out_a, F32(ALPHA_FLOOR)), out=out[..., :3])
            out[..., 3:4] = out_a
            return np.clip(out, 0.0, 1.0)
        case _:  # a caller of older days (None, an array): say what to give instead
            raise ParameterError(
                f"composite over a {type(background).__name__}: give a chromakey.core.layers "
                "Layer (CLEAR, Solid(rgb) or Picture(pixels))"
            )


def _over(fg: np.ndarray, a3: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """fg + (1 − a)·bg, opaque RGB; ``bg`` a (3,) colour or an H×W×3 image."""
    out = np.subtract(F32(1.0), a3)
    out = np.multiply(
        out, bg, out=out if out.shape == np.broadcast_shapes(out.shape, bg.shape) else None
    )
    np.add(fg, out, out=out)
    clipped: np.ndarray = np.clip(out, 0.0, 1.0, out=out)
    return clipped


def to_uint8(img: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """0–1 float → uint8 rounded to nearest, as a GPU's unorm8 framebuffer stores it.

    ``out``: a uint8 array to write into (the float image is then used as scratch).
    """
    if out is None:
        return levels(img)
    scaled = np.multiply(img, F32(255.0), out=img if img.dtype == F32 else None)
    np.add(scaled, F32(0.5), out=scaled)
    np.copyto(out, scaled, casting="unsafe")
    return out
