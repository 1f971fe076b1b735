"""A still picture under the subject: decoded once, fitted once per output size."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

import av
import numpy as np

from ..io.sources.decode import quarter_turns
from .base import Background, Picture
from .download import DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES
from .fit import (
    check_fit,
    colorspace_args,
    has_alpha,
    interpolation,
    letterbox_rgb,
    letterboxed,
    premultiply,
    readonly,
    unpremultiply,
)
from .media import MAX_BACKGROUND_PIXELS, Media


class ImageBackground(Background):
    """A still picture (PNG, JPEG, WebP … as FFmpeg decodes them), fitted to the output size.

    Decoded once, at construction (so a bad file fails early); fitted once per
    output size and cached, so a still costs nothing per frame. An image whose
    alpha is not fully opaque stays H×W×4 (scaled premultiplied, no dark fringes).
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | Media,
        fit: str = "cover",
        letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
        *,
        max_pixels: int = MAX_BACKGROUND_PIXELS,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        timeout: float = DOWNLOAD_TIMEOUT,
    ) -> None:
        self.fit = check_fit(fit)
        self.letterbox = letterbox_rgb(letterbox)
        media = (
            location
            if isinstance(location, Media)
            else Media(location, max_pixels=max_pixels, max_bytes=max_bytes, timeout=timeout)
        )
        self.location = media.location
        try:
            frame = media.first_frame()
            if frame.width * frame.height > media.max_pixels:
                raise media.too_large(frame.width, frame.height)
            alpha = has_alpha(frame.format)
            img: np.ndarray = frame.to_ndarray(
                format="rgba" if alpha else "rgb24", **colorspace_args(frame)
            )
            turns = quarter_turns(frame)
            if turns:
                img = np.ascontiguousarray(np.rot90(img, turns))
            del frame
            if alpha and bool((img[..., 3] == 255).all()):
                img = np.ascontiguousarray(img[..., :3])  # opaque after all: cheaper to composite
                alpha = False
        except av.error.FFmpegError as exc:
            raise media.decode_error(exc) from exc
        finally:
            media.remove()  # decoded: the downloaded copy is not needed any more
        self.has_alpha = alpha
        self._source = np.ascontiguousarray(premultiply(img) if alpha else img)
        self._cache: OrderedDict[tuple[int, int], Picture] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        """The picture's own (width, height)."""
        return self._source.shape[1], self._source.shape[0]

    def frame_at(self, time: float, width: int, height: int) -> Picture:
        key = (int(width), int(height))
        with self._lock:
            img = self._cache.get(key)
            if img is None:
                img = Picture(readonly(self._fit(*key)))
                self._cache[key] = img
                while len(self._cache) > 4:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(key)
            return img

    def _fit(self, W: int, H: int) -> np.ndarray:
        src = self._source
        h, w = src.shape[:2]
        fmt = "rgba" if self.has_alpha else "rgb24"
        if self.fit == "cover":
            # Crop the source to the output's aspect first: only the kept part is scaled.
            s = max(W / w, H / h)
            cw, ch = min(w, max(1, round(W / s))), min(h, max(1, round(H / s)))
            x0, y0 = (w - cw) // 2, (h - ch) // 2
            src = src[y0 : y0 + ch, x0 : x0 + cw]
            tw, th = W, H
        elif self.fit == "contain":
            s = min(W / w, H / h)
            tw, th = min(W, max(1, round(w * s))), min(H, max(1, round(h * s)))
        else:
            tw, th = W, H
        out = self._scale(src, tw, th, fmt)
        if self.has_alpha:
            out = unpremultiply(out)
        if (tw, th) != (W, H):
            out = letterboxed(out, W, H, self.letterbox)
        return np.ascontiguousarray(out)

    @staticmethod
    def _scale(src: np.ndarray, w: int, h: int, fmt: str) -> np.ndarray:
        if src.shape[1] == w and src.shape[0] == h:
            return src.copy()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(src), format=fmt)
        out = frame.reformat(
            width=w,
            height=h,
            format=fmt,
            interpolation=interpolation(w / src.shape[1], h / src.shape[0]),
        )
        return out.to_ndarray(format=fmt)

    def close(self) -> None:
        with self._lock:
            self._cache.clear()

    def __repr__(self) -> str:
        return f"ImageBackground({self.location!r}, fit={self.fit!r})"
