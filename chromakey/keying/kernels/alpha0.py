"""What a pixel of alpha 0 shows: the background's bytes, written before the kernel runs so
that it can skip plain screen, and the outputs of a frame that is all screen."""

from __future__ import annotations

import numpy as np

from .common import BG_COLOR, BG_NONE, BG_RGB, BG_RGBA, F32
from .composite import _rows_to_yuv
from .incremental import Kept
from .packing import NO_OUT_PLANE, TO_YUV


def _alpha0_bytes() -> np.ndarray:
    """_screen_lut's table for an image background, in the same float32 operations."""
    c = np.arange(256, dtype=F32) * F32(1.0 / 255.0)
    v = np.clip(F32(0.0) + F32(1.0) * c, F32(0.0), F32(1.0))
    table: np.ndarray = (v * F32(255.0) + F32(0.5)).astype(np.uint8)
    return table


# Whether a pixel of alpha 0 over an image shows the image's byte unchanged (it does in
# float32, but the kernels' arithmetic decides, not an assumption).
IMAGE_BYTES_KEPT = bool((_alpha0_bytes() == np.arange(256)).all())


def prefill(out: np.ndarray, kind: int, bg_color: np.ndarray, bg_img: np.ndarray) -> int:
    """Write what a pixel of alpha 0 shows into every pixel of ``out``; 1 if done (the
    kernel then skips screen tiles), 0 where only the kernel can say (a background with
    alpha of its own)."""
    if kind == BG_NONE:
        out.fill(0)
    elif kind == BG_COLOR:
        v = np.clip(F32(0.0) + F32(1.0) * bg_color.astype(F32), F32(0.0), F32(1.0))
        px = np.full(out.shape[2], 255, np.uint8)
        px[:3] = (v * F32(255.0) + F32(0.5)).astype(np.uint8)
        out[0] = px
        out[1:] = out[0]  # row by row: contiguous copies
    elif kind == BG_RGB and IMAGE_BYTES_KEPT and out.shape[2] == 3:
        np.copyto(out, bg_img)
    else:
        return 0
    return 1


def alpha0_outputs(
    kept: Kept,
    settings: tuple[object, ...],
    kind: int,
    channels: int,
    yuv: bool,
    bg_color: np.ndarray,
    bg_img: np.ndarray,
    out_shape: tuple[int, int],
) -> list[np.ndarray] | None:
    """The outputs of a frame of alpha 0 everywhere (what plain screen shows), in the order
    ``kept`` keeps them, cached there for these ``settings``; None where no such copy is
    cheap (a background with alpha of its own, or an image under the sink's YUV planes: a
    video's would be converted every frame)."""
    h, w = out_shape
    if kind in (BG_RGB, BG_RGBA):
        plain_image = kind == BG_RGB and not yuv and channels == 3 and IMAGE_BYTES_KEPT
        return [bg_img] if plain_image and bg_img.shape == (h, w, 3) else None
    cached = kept.background
    if cached is not None and cached[0] == settings:
        return cached[1]
    rgb = np.empty((h, w, channels), np.uint8)
    if not prefill(rgb, kind, bg_color, bg_img):
        return None
    got = [rgb]
    if yuv:
        ch = ((h + 1) // 2, (w + 1) // 2)
        got = [np.empty((h, w), np.uint8), np.empty(ch, np.uint8), np.empty(ch, np.uint8),
               np.empty((h, w), np.uint8) if channels == 4 else NO_OUT_PLANE]  # fmt: skip
        _rows_to_yuv(rgb, 0, h, 0, rgb.shape[1], 0, TO_YUV, *got)
        got = got if channels == 4 else got[:3]
    kept.background = (settings, got)
    return got
