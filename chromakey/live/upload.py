"""The CPU path's one GL call: the composite uploaded as an RGBA8 texture."""

from __future__ import annotations

import moderngl
import numpy as np


class TextureUpload:
    """An RGBA staging buffer (opaque composites get alpha 255 there) and the texture it is
    uploaded into, reused while the size stays."""

    def __init__(self, ctx: moderngl.Context, sync: bool) -> None:
        self.ctx = ctx
        self.sync = sync  # finish the upload before returning (latency measured to there)
        self._texture: moderngl.Texture | None = None
        self._rgba: np.ndarray | None = None

    def rgba(self, image: np.ndarray) -> np.ndarray:
        """``image`` (H×W×3 or H×W×4 uint8) as contiguous RGBA (any thread; no GL)."""
        if image.shape[2] == 4:
            return np.ascontiguousarray(image)
        rgba = self._rgba
        if rgba is None or rgba.shape[:2] != image.shape[:2]:
            rgba = self._rgba = np.full((*image.shape[:2], 4), 255, np.uint8)
        rgba[..., :3] = image
        return rgba

    def texture(self, rgba: np.ndarray) -> moderngl.Texture:
        """One texture upload, on the GL thread."""
        h, w = rgba.shape[:2]
        tex = self._texture
        if tex is None or tex.size != (w, h):
            if tex is not None:
                tex.release()
            tex = self._texture = self.ctx.texture((w, h), 4, dtype="f1", alignment=1)
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            tex.repeat_x = tex.repeat_y = False
        tex.write(rgba, alignment=1)
        if self.sync:
            self.ctx.finish()
        return tex

    def release(self) -> None:
        if self._texture is not None:
            self._texture.release()
            self._texture = None
