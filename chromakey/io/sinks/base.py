"""What every sink is. Each sink names the pixel layout its ``write`` takes without converting
(``pixel_format``: ``rgb24``/``rgba`` for an H×W×3/4 array, ``yuv420p``/``yuva420p`` for a
``YuvImage``), so that a keyer can write that layout directly and no conversion runs twice.
"""

from __future__ import annotations

import av
import numpy as np

from ...core.frames import YuvImage


class Sink:
    """A consumer of composited frames; ``close`` publishes, ``abort`` discards."""

    pixel_format = "rgb24"  # the layout write() takes as it is

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        raise NotImplementedError

    def write_audio(self, packet: av.Packet) -> None:
        """Audio packets of the source, in order; sinks without audio ignore them."""

    def close(self) -> None:
        """Finish and publish the output."""

    def abort(self) -> None:
        """Stop and leave nothing behind (or what was there before)."""


def rgb_image(image: np.ndarray | YuvImage) -> np.ndarray:
    """The RGB(A) image a sink of ``rgb24``/``rgba`` was handed: the pipeline hands YUV planes
    only to a sink whose ``pixel_format`` is YUV, so planes here are a caller's mistake."""
    if isinstance(image, YuvImage):
        raise TypeError(f"this sink takes an RGB(A) image, not {image.pixel_format} planes")
    return image
