"""Fitting a background picture to the output: cover (crop), contain (letterbox) or stretch,
scaled with one reusable swscale context; alpha premultiplied while scaling, so that edges
get no dark fringes."""

from __future__ import annotations

from typing import Any, Literal, get_args

import av
import numpy as np

from ..core.color import YuvSpec, parse_color
from ..core.errors import ParameterError
from ..core.quote import quoted
from ..io.sources.decode import quarter_turns

Fit = Literal["cover", "contain", "stretch"]
FITS: tuple[Fit, ...] = get_args(Fit)


def has_alpha(fmt: av.VideoFormat) -> bool:
    """The pixel format carries alpha (a palette may too)."""
    return any(c.is_alpha for c in fmt.components) or fmt.name == "pal8"


def check_fit(fit: object) -> Fit:
    if fit not in FITS:
        raise ParameterError(f"fit {quoted(fit)} is not known; use one of {', '.join(FITS)}")
    return fit


def letterbox_rgb(color: str | tuple[float, float, float] | Any) -> np.ndarray:
    """A colour string or 0–1 RGB floats → uint8 RGB."""
    rgb: tuple[float, ...]
    if isinstance(color, str):
        rgb = parse_color(color)
    else:
        try:
            rgb = tuple(float(c) for c in color)
        except (TypeError, ValueError):
            rgb = ()
        if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
            raise ParameterError(
                f"letterbox colour must be '#RRGGBB', a CSS name or three numbers 0–1, got {quoted(color)}"
            )
    return np.array([round(c * 255) for c in rgb], np.uint8)


def interpolation(sx: float, sy: float) -> str:
    return "AREA" if sx <= 1.0 and sy <= 1.0 else "BICUBIC"


def colorspace_args(frame: av.VideoFrame) -> dict[str, Any]:
    """Untagged YUV read as the rest of chromakey reads it (HD → BT.709), not swscale's BT.601."""
    fmt = frame.format
    if fmt.is_rgb or len(fmt.components) < 3 or int(frame.colorspace) not in (0, 2):
        return {}
    spec = YuvSpec.for_frame(frame.colorspace, frame.color_range, frame.width, frame.height)
    return {"src_colorspace": spec.sws_colorspace}


class Fitter:
    """Scales decoded frames to the output size with one reusable swscale context."""

    def __init__(self, width: int, height: int, fit: str, letterbox: np.ndarray) -> None:
        self.width, self.height, self.fit = width, height, fit
        self.letterbox = letterbox
        self.reformatter = av.video.reformatter.VideoReformatter()

    def _scale(self, frame: av.VideoFrame, w: int, h: int, fmt: str) -> np.ndarray:
        out = self.reformatter.reformat(
            frame,
            width=w,
            height=h,
            format=fmt,
            interpolation=interpolation(w / frame.width, h / frame.height),
            **colorspace_args(frame),
        )
        return out.to_ndarray(format=fmt)

    def fit_frame(self, frame: av.VideoFrame) -> np.ndarray:
        """A decoded frame → read-only uint8 RGB(A) of exactly the output size, fitted."""
        fmt = "rgba" if has_alpha(frame.format) else "rgb24"
        W, H = self.width, self.height
        turns = quarter_turns(frame)
        w, h = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)

        def scaled(sw: int, sh: int) -> np.ndarray:
            if not turns:
                return self._scale(frame, sw, sh, fmt)
            img = self._scale(frame, sh, sw, fmt) if turns % 2 else self._scale(frame, sw, sh, fmt)
            return np.rot90(img, turns)

        if self.fit == "stretch" or (w, h) == (W, H):
            out = scaled(W, H)
        elif self.fit == "cover":
            s = max(W / w, H / h)
            sw, sh = max(W, round(w * s)), max(H, round(h * s))
            x0, y0 = (sw - W) // 2, (sh - H) // 2
            out = scaled(sw, sh)[y0 : y0 + H, x0 : x0 + W]
        else:
            s = min(W / w, H / h)
            sw, sh = min(W, max(1, round(w * s))), min(H, max(1, round(h * s)))
            out = letterboxed(scaled(sw, sh), W, H, self.letterbox)
        return readonly(np.ascontiguousarray(out))


def letterboxed(img: np.ndarray, W: int, H: int, color: np.ndarray) -> np.ndarray:
    """``img`` centred on a W×H canvas of the (opaque) letterbox colour."""
    channels = img.shape[2]
    canvas = np.empty((H, W, channels), np.uint8)
    canvas[..., :3] = color
    if channels == 4:
        canvas[..., 3] = 255
    h, w = img.shape[:2]
    x0, y0 = (W - w) // 2, (H - h) // 2
    canvas[y0 : y0 + h, x0 : x0 + w] = img
    return canvas


def premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight → premultiplied alpha, in bands (an 8K image stays within a few MB extra)."""
    out = rgba.copy()
    for y in range(0, out.shape[0], 256):
        band = out[y : y + 256]
        a = band[..., 3:4].astype(np.uint16)
        band[..., :3] = (band[..., :3].astype(np.uint16) * a + 127) // 255
    return out


def unpremultiply(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4].astype(np.uint32)
    c = (rgba[..., :3].astype(np.uint32) * 255 + a // 2) // np.maximum(a, 1)
    out = rgba.copy()
    out[..., :3] = np.minimum(c, 255) * (a > 0)
    return out


def readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a
