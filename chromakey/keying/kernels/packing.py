"""The keyer's settings, the frame's decode and the sink's encode as the kernels take them:
flat float32 and int64 vectors, indexed by the constants of kernels.common."""

from __future__ import annotations

import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame, YuvImage
from ..param_table import halo, kernel_vectors
from .common import F32

# (float32 vector, int64 vector, feather taps) of a KeyerParams, as the table makes them.
pack_params = kernel_vectors
__all__ = ["halo", "pack_params"]


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


NO_OUT_IMAGE = np.zeros((1, 1, 3), np.uint8)  # "no RGB(A) output" (the jobs kernel's YUV planes)


def _yuv_matrix() -> np.ndarray:
    """YuvImage's RGB → YUV (0–1 units): the 3×3 matrix by rows, then the offsets."""
    m, off = YuvImage.SPEC.from_rgb()
    return np.concatenate([m.reshape(-1), off]).astype(F32)


TO_YUV = _yuv_matrix()


NO_COLOR = np.zeros(3, F32)
