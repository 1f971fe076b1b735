"""Texture units and the uploads that reuse a texture while a plane's geometry stays the same."""

from __future__ import annotations

from typing import Any

import moderngl
import numpy as np

from ...core.errors import InputError
from ...core.frames import Frame
from .glsl import DECLARED, ShaderError

# Texture units: the frame's planes, the screen map, the background image and the chroma guide
# (what every pass that decodes reads, decode.glsl) stay bound for the whole frame; each pass's
# inputs take the units from FIRST_INPUT_UNIT on.
_FIXED_UNITS = {
    "plane_y": 0,
    "plane_u": 1,
    "plane_v": 2,
    "plane_rgb": 3,
    "screen_map": 4,
    "background_image": 5,
    "chroma_guide": 6,
}
FIRST_INPUT_UNIT = 7


def checked_chroma(frame: Frame) -> tuple[int, int]:
    """The frame's chroma factors ((1, 1) for RGB), once its planes are ones the GPU takes:
    8-bit, one H×W×3 RGB plane or Y, U, V with chroma planes that fit the picture."""
    planes = frame.planes
    for pl in planes:
        if pl.dtype != np.uint8:
            raise InputError(
                f"the GPU keyer takes 8-bit planes, got {pl.dtype}; convert the frame "
                "(chromakey.io.sources shifts deeper formats to 8 bits)"
            )
    if frame.layout == "rgb":
        rgb = planes[0]
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise InputError(f"an rgb frame needs one H×W×3 plane, got shape {rgb.shape}")
        return (1, 1)
    if frame.layout != "yuv" or frame.yuv is None or len(planes) != 3:
        raise InputError(f"frame layout {frame.layout!r} is not 'yuv' (with a YuvSpec) or 'rgb'")
    y, u, v = planes
    if u.shape != v.shape:
        raise InputError(f"U and V planes differ in size: {u.shape} and {v.shape}")
    fx, fy = frame.chroma_factors
    h, w = y.shape
    if u.shape[1] != (w + fx - 1) // fx or u.shape[0] != (h + fy - 1) // fy:
        raise InputError(f"chroma planes of {u.shape[::-1]} do not fit a {w}×{h} frame")
    return fx, fy


def _set(prog: moderngl.Program, name: str, value: Any) -> None:
    """Set a uniform if the compiler kept it (a pass that does not read one drops it). A name
    that no shader of the program's library declares is a mistake, never silently skipped."""
    u = prog.get(name, None)
    if isinstance(u, moderngl.Uniform):
        u.value = value
        return
    declared = prog.extra.get(DECLARED) if isinstance(prog.extra, dict) else None
    if declared is not None and name not in declared:
        raise ShaderError(
            f"uniform {name!r} is set but no shader declares it; declare it in the GLSL "
            "(a setting: add it to keying/param_table.py's TABLE)"
        )


class _PlaneTexture:
    """An 8-bit texture for one plane, reused while the plane's geometry stays the same.

    A plane whose rows are padded (PyAV's line_size) is uploaded whole, padding included, into
    a texture as wide as a padded row; the shaders never read past the real width.
    """

    def __init__(self, ctx: moderngl.Context, integer: bool) -> None:
        self.ctx = ctx
        self.integer = integer
        self.tex: moderngl.Texture | None = None
        self.key: tuple[int, int, int, str] | None = None

    def _texture(self, width: int, height: int, comps: int, dtype: str) -> moderngl.Texture:
        key = (width, height, comps, dtype)
        if self.tex is None or self.key != key:
            if self.tex is not None:
                self.tex.release()
            self.tex = self.ctx.texture((width, height), comps, dtype=dtype, alignment=1)
            self.tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self.tex.repeat_x = self.tex.repeat_y = False
            self.key = key
        return self.tex

    def upload(self, a: np.ndarray) -> moderngl.Texture:
        if a.dtype == np.uint8:
            dtype = "u1" if self.integer else "f1"
        elif a.dtype == np.float32:
            dtype = "f4"
        else:
            a = a.astype(np.float32)
            dtype = "f4"
        h, w = a.shape[:2]
        comps = 1 if a.ndim == 2 else a.shape[2]
        item = a.itemsize
        row = a.strides[0]
        padded = (
            a.dtype == np.uint8
            and h > 1
            and a.strides[1] == comps * item
            and (a.ndim == 2 or a.strides[2] == item)
            and row > w * comps * item
            and row % (comps * item) == 0
        )
        if padded:
            # Rows 0 … h−2 with their padding are one contiguous run of bytes; the last row
            # may end at the buffer's end, so it goes up on its own.
            tex = self._texture(row // (comps * item), h, comps, dtype)
            body = np.lib.stride_tricks.as_strided(a, shape=((h - 1) * row,), strides=(1,))
            tex.write(body, viewport=(0, 0, row // (comps * item), h - 1), alignment=1)
            tex.write(np.ascontiguousarray(a[h - 1]), viewport=(0, h - 1, w, 1), alignment=1)
            return tex
        tex = self._texture(w, h, comps, dtype)
        tex.write(np.ascontiguousarray(a), alignment=1)
        return tex

    def release(self) -> None:
        if self.tex is not None:
            self.tex.release()
            self.tex = None
            self.key = None
