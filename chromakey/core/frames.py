"""A decoded frame as the keyer sees it: planes, how to read them, and when to show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from .color import YuvSpec

# The frame rate assumed where a stream states none (FFmpeg's own default for raw video).
DEFAULT_RATE = 30


def frame_interval(rate: Fraction | float | None) -> float:
    """Seconds between frames at ``rate``, or at DEFAULT_RATE where the stream gives none."""
    return 1.0 / float(rate) if rate else 1.0 / DEFAULT_RATE


@dataclass
class Frame:
    """One picture of the foreground stream.

    ``layout`` is ``"yuv"`` (planes Y, U, V as uint8; chroma at full, half-width
    or half-size resolution) or ``"rgb"`` (one H×W×3 uint8 plane). Planes may
    be views into the decoder's buffers; ``keepalive`` holds what owns them.
    ``decoded_at`` is ``time.perf_counter()`` when the frame left its decoder (None until a
    source or feed stamps it): declared here so that latency is measured from a field every
    frame has, not from an attribute some sources add.
    """

    planes: tuple[np.ndarray, ...]
    layout: str
    yuv: YuvSpec | None
    time: float
    index: int = 0
    keepalive: Any = field(default=None, repr=False)
    decoded_at: float | None = field(default=None, compare=False)

    @property
    def width(self) -> int:
        return int(self.planes[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.planes[0].shape[0])

    @property
    def spec(self) -> YuvSpec:
        """The matrix and range the planes are read with: the frame's own, else the default
        (an RGB frame has none; an untagged YUV frame is taken as YuvSpec() reads it)."""
        return self.yuv if self.yuv is not None else YuvSpec()

    @property
    def chroma_factors(self) -> tuple[int, int]:
        """(horizontal, vertical) chroma subsampling: (2, 2) for 4:2:0, (1, 1) for 4:4:4."""
        if self.layout != "yuv":
            return (1, 1)
        y, u = self.planes[0], self.planes[1]
        fx = 2 if u.shape[1] != y.shape[1] else 1
        fy = 2 if u.shape[0] != y.shape[0] else 1
        return fx, fy

    @classmethod
    def from_rgb(cls, rgb: np.ndarray, time: float = 0.0, index: int = 0) -> Frame:
        """A frame from an H×W×3 uint8 array (tests, callbacks, host applications)."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"expected an H×W×3 uint8 array, got shape {rgb.shape}")
        return cls((rgb,), "rgb", None, time, index)

    @classmethod
    def from_yuv(
        cls,
        y: np.ndarray,
        u: np.ndarray,
        v: np.ndarray,
        spec: YuvSpec,
        time: float = 0.0,
        index: int = 0,
    ) -> Frame:
        return cls((y, u, v), "yuv", spec, time, index)

    @classmethod
    def from_yuv420p(cls, stacked: np.ndarray, spec: YuvSpec) -> Frame:
        """A yuv420p picture in one (H·3/2)×W buffer, as PyAV's ``to_ndarray`` and
        sample.rgb_to_yuv420p give it (even W and H): Y's H rows, then U's and V's quarters."""
        h, w = stacked.shape[0] * 2 // 3, stacked.shape[1]
        chroma = stacked[h:].reshape(2, h // 2, w // 2)
        return cls.from_yuv(stacked[:h], chroma[0], chroma[1], spec)


@dataclass(frozen=True)
class YuvImage:
    """A composited picture as YUV planes, for sinks that store YUV: written as it is, with no
    RGB round trip (a keyer that writes the planes spares the sink a conversion per frame).

    uint8 planes, BT.709 limited range; ``u`` and ``v`` are 4:2:0, ceil(w/2)×ceil(h/2), sited
    as H.264's default (left, centred between rows); ``a`` is straight alpha at full
    resolution, or None for an opaque picture.
    """

    y: np.ndarray
    u: np.ndarray
    v: np.ndarray
    a: np.ndarray | None = None

    SPEC = YuvSpec("bt709", False)

    def __post_init__(self) -> None:
        h, w = self.y.shape if self.y.ndim == 2 else (0, 0)
        chroma = ((h + 1) // 2, (w + 1) // 2)
        planes = {"y": (self.y, (h, w)), "u": (self.u, chroma), "v": (self.v, chroma)}
        if self.a is not None:
            planes["a"] = (self.a, (h, w))
        for name, (plane, shape) in planes.items():
            if plane.dtype != np.uint8 or plane.shape != shape or min(shape) < 1:
                raise ValueError(
                    f"YuvImage.{name}: expected a {shape[0]}×{shape[1]} uint8 plane "
                    f"(4:2:0 chroma), got {plane.dtype} {plane.shape}"
                )

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])

    @property
    def pixel_format(self) -> str:
        """FFmpeg's name for the layout: ``yuv420p``, or ``yuva420p`` with alpha."""
        return "yuv420p" if self.a is None else "yuva420p"

    @property
    def planes(self) -> tuple[np.ndarray, ...]:
        return (self.y, self.u, self.v) if self.a is None else (self.y, self.u, self.v, self.a)
