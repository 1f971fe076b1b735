"""PyAV video frames → our ``Frame``: planes kept as views of the decoder's buffers where the
pixel format allows (no copy), deeper or packed formats narrowed to 8-bit planes, anything
else to RGB. Shared by the file and the network sources."""

from __future__ import annotations

import dataclasses
from typing import Any

import av
import numpy as np

from ...core.color import YuvSpec
from ...core.errors import InputError
from ...core.frames import Frame

# Largest frame we accept (8K UHD); the decoder is told too, so a crafted stream cannot exhaust memory.
MAX_PIXELS = 7680 * 4320

_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p"}
_FULL_RANGE_FORMATS = {"yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p"}


def _plane_view(plane: Any, width: int, height: int, dtype: Any = np.uint8) -> np.ndarray:
    """A plane's pixels as an H×W view of the decoder's buffer (line padding skipped, no copy)."""
    itemsize = np.dtype(dtype).itemsize
    buf: np.ndarray = np.frombuffer(plane, dtype)
    return buf.reshape(-1, plane.line_size // itemsize)[:height, :width]


def _chroma_size(av_frame: av.VideoFrame) -> tuple[int, int]:
    fmt = av_frame.format
    return fmt.chroma_width(av_frame.width), fmt.chroma_height(av_frame.height)


def to_frame(
    av_frame: av.VideoFrame, index: int, fallback_time: float, untagged: YuvSpec | None = None
) -> Frame:
    """PyAV frame → Frame: YUV stays YUV (8-bit views, deeper formats shifted), the rest → RGB.
    What the frame's tags leave unsaid comes from ``untagged`` (see YuvSpec.for_frame)."""
    w, h = av_frame.width, av_frame.height
    name = av_frame.format.name
    spec = YuvSpec.for_frame(av_frame.colorspace, av_frame.color_range, w, h, untagged)
    if name in _FULL_RANGE_FORMATS:
        spec = dataclasses.replace(spec, full_range=True)
    time = float(av_frame.time) if av_frame.pts is not None else fallback_time
    cw, ch = _chroma_size(av_frame)
    comps = av_frame.format.components
    if name in _PLANAR_8BIT:
        p = av_frame.planes
        planes = (_plane_view(p[0], w, h), _plane_view(p[1], cw, ch), _plane_view(p[2], cw, ch))
    elif name == "nv12":
        y = _plane_view(av_frame.planes[0], w, h)
        uv = _plane_view(av_frame.planes[1], 2 * cw, ch)
        planes = (y, uv[:, 0::2], uv[:, 1::2])
    elif (
        not av_frame.format.is_rgb
        and len(comps) == 3
        and name.endswith("le")
        and 8 < comps[0].bits <= 16
        and av_frame.format.is_planar
    ):
        shift = comps[0].bits - 8
        p = av_frame.planes

        def narrow(plane: Any, pw: int, ph: int) -> np.ndarray:
            v = _plane_view(plane, pw, ph, np.dtype("<u2"))
            return np.minimum((v.astype(np.uint32) + (1 << (shift - 1))) >> shift, 255).astype(
                np.uint8
            )

        planes = (narrow(p[0], w, h), narrow(p[1], cw, ch), narrow(p[2], cw, ch))
    elif not av_frame.format.is_rgb and len(comps) >= 3 and name not in ("pal8",):
        # Other YUV layouts (nv21, p010, yuva…): to 4:4:4 8-bit, values untouched by a matrix.
        rng = 2 if spec.full_range else 1
        conv = av_frame.reformat(format="yuv444p", src_color_range=rng, dst_color_range=rng)
        p = conv.planes
        planes = (_plane_view(p[0], w, h), _plane_view(p[1], w, h), _plane_view(p[2], w, h))
        av_frame = conv
    else:
        rgb = av_frame.to_ndarray(format="rgb24")
        frame = Frame.from_rgb(_rotate(rgb, av_frame), time, index)
        return frame
    turns = quarter_turns(av_frame)
    if turns:
        a, b, c = (np.ascontiguousarray(np.rot90(pl, turns)) for pl in planes)
        planes = (a, b, c)
    return Frame(planes, "yuv", spec, time, index, keepalive=av_frame)


def quarter_turns(av_frame: av.VideoFrame) -> int:
    """Quarter turns (0–3) the frame's display matrix (or a photo's EXIF orientation) asks for."""
    try:
        return int(round(av_frame.rotation / 90.0)) % 4
    except (AttributeError, TypeError, ValueError):
        return 0


def _rotate(a: np.ndarray, av_frame: av.VideoFrame) -> np.ndarray:
    turns = quarter_turns(av_frame)
    return np.ascontiguousarray(np.rot90(a, turns)) if turns else a


def decode_video_packet(packet: av.Packet, location: str) -> list[av.VideoFrame] | None:
    """The packet's frames; None for a corrupt packet (skipped and counted by the caller).

    A frame above MAX_PIXELS is an InputError: the stream changed size past the limit.
    """
    try:
        frames = packet.decode()
    except av.error.InvalidDataError:
        return None
    for f in frames:
        if f.width * f.height > MAX_PIXELS:
            raise InputError(
                f"{location}: a frame of {f.width}×{f.height} exceeds the {MAX_PIXELS} pixel limit"
            )
    return frames
