"""What every stage of the reference shares: float32, the soft step, the constants the
shaders share too."""

from __future__ import annotations

import numpy as np

F32 = np.float32

# Narrowest soft ramp; anything narrower is a hard step (shared with common.glsl).
MIN_RAMP = 1e-6

# Composite: the floor of the alpha a straight colour is divided by, and the alpha below
# which a transparent output pixel carries no colour.
ALPHA_FLOOR = 1e-6
ALPHA_VISIBLE = 1.0 / 512.0

# Radius in pixels of the neighbourhood that decides whether a pixel is on an edge.
EDGE_RADIUS = 2


def levels(x: np.ndarray) -> np.ndarray:
    """0–1 → uint8 levels, rounded to nearest (the kernels' _u8, a GPU's unorm8)."""
    result: np.ndarray = (x * F32(255.0) + F32(0.5)).astype(np.uint8)
    return result


def soft_step(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """GLSL smoothstep, and a hard step (x > e0) when the ramp has no width.

    Below MIN_RAMP a ramp's slope would overflow float32; it is a step then.
    """
    if e1 - e0 < MIN_RAMP:
        return (x > e0).astype(F32)
    # t·t·(3 − 2t) with t = clip((x − e0)/(e1 − e0)): the same operations, in place.
    t = np.subtract(x, F32(e0))
    if not isinstance(t, np.ndarray):  # a scalar
        t = np.clip(t * F32(1.0 / (e1 - e0)), 0.0, 1.0)
        result: np.ndarray = t * t * (F32(3.0) - F32(2.0) * t)
        return result
    t *= F32(1.0 / (e1 - e0))
    np.clip(t, 0.0, 1.0, out=t)
    u = np.multiply(F32(2.0), t)
    np.subtract(F32(3.0), u, out=u)
    t *= t
    t *= u
    return t
