"""Alpha through outputs that carry none (H.264 in MP4, live streams, WebRTC): the packed
layout, twice the width — the colour on the left, the alpha on the right as grey (white
opaque). A player unpacks it (examples/web/ in WebGL; :func:`unpack_alpha` here).

The colour is straight (not multiplied by alpha), so that compression noise in the alpha
half does not darken edges; where alpha is 0 it is left as the keyer wrote it.
"""

from __future__ import annotations

import av
import numpy as np

from ...core.frames import YuvImage
from .base import Sink


def pack_alpha(rgba: np.ndarray) -> np.ndarray:
    """H×W×4 straight RGBA → H×2W×3: colour left, alpha as grey right."""
    h, w, _ = rgba.shape
    out = np.empty((h, 2 * w, 3), np.uint8)
    out[:, :w] = rgba[..., :3]
    out[:, w:] = rgba[..., 3:4]
    return out


def unpack_alpha(packed: np.ndarray) -> np.ndarray:
    """H×2W×3 → H×W×4 straight RGBA: the alpha is the right half's mean of R, G and B."""
    h, w2, _ = packed.shape
    w = w2 // 2
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = packed[:, :w]
    grey = packed[:, w : 2 * w].astype(np.uint16).sum(axis=2)
    out[..., 3] = ((grey + 1) // 3).astype(np.uint8)
    return out


class PackedAlphaSink(Sink):
    """Takes straight RGBA, hands ``inner`` (an opaque sink twice as wide) the packed frame."""

    pixel_format = "rgba"

    def __init__(self, inner: Sink) -> None:
        self.inner = inner

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        if isinstance(image, YuvImage):
            raise TypeError("the packed-alpha sink takes RGBA arrays (pixel_format 'rgba')")
        if image.shape[2] == 3:
            rgba = np.empty(image.shape[:2] + (4,), np.uint8)
            rgba[..., :3], rgba[..., 3] = image, 255
            image = rgba
        self.inner.write(pack_alpha(image), time)

    def write_audio(self, packet: av.Packet) -> None:
        self.inner.write_audio(packet)

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        self.inner.abort()
