"""The foreground source: PyAV demux and decode on its own thread into a bounded queue.

Container → stream → frame, as PyAV names them. Video frames become ``Frame``
objects (planes as views where the pixel format allows); audio packets pass
through untouched, in demux order, for sinks that mux them.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .color import YuvSpec
from .errors import ChromakeyError, InputError, InputNotFoundError, ParameterError
from .frames import Frame
from .stdio import STDIN_URL, describe, is_stdio

# Schemes a foreground may use: files and the streaming protocols an avatar service serves.
STREAM_SCHEMES = ("http", "https", "rtmp", "rtmps", "rtsp", "rtsps", "srt", "udp", "tcp")
# FFmpeg network options: fail a dead server within seconds instead of hanging.
NETWORK_OPTIONS = {"rw_timeout": "10000000", "timeout": "10000000"}
# Largest frame we accept (8K UHD); the decoder is told too, so a crafted stream cannot exhaust memory.
MAX_PIXELS = 7680 * 4320

_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv440p"}
_FULL_RANGE_FORMATS = {"yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p"}


def _plane_view(plane: Any, width: int, height: int, dtype: type = np.uint8) -> np.ndarray:
    """A plane's pixels as an H×W view of the decoder's buffer (line padding skipped, no copy)."""
    itemsize = np.dtype(dtype).itemsize
    buf = np.frombuffer(plane, dtype)
    return buf.reshape(-1, plane.line_size // itemsize)[:height, :width]


def _chroma_size(av_frame: av.VideoFrame) -> tuple[int, int]:
    fmt = av_frame.format
    return fmt.chroma_width(av_frame.width), fmt.chroma_height(av_frame.height)


def to_frame(av_frame: av.VideoFrame, index: int, fallback_time: float) -> Frame:
    """PyAV frame → Frame: YUV stays YUV (8-bit views, deeper formats shifted), the rest → RGB."""
    w, h = av_frame.width, av_frame.height
    name = av_frame.format.name
    spec = YuvSpec.for_frame(av_frame.colorspace, av_frame.color_range, w, h)
    if name in _FULL_RANGE_FORMATS:
        spec = YuvSpec(spec.matrix, True)
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
    rot = _rotation(av_frame)
    if rot:
        planes = tuple(np.ascontiguousarray(np.rot90(pl, rot // 90)) for pl in planes)
    return Frame(planes, "yuv", spec, time, index, keepalive=av_frame)


def _rotation(av_frame: av.VideoFrame) -> int:
    try:
        rot = int(round(av_frame.rotation / 90.0)) * 90 % 360
    except (AttributeError, TypeError, ValueError):
        return 0
    return rot


def _rotate(a: np.ndarray, av_frame: av.VideoFrame) -> np.ndarray:
    rot = _rotation(av_frame)
    return np.ascontiguousarray(np.rot90(a, rot // 90)) if rot else a


def check_location(
    location: str | os.PathLike[str], *, schemes: tuple[str, ...] = STREAM_SCHEMES
) -> str:
    """A path that exists and is not empty, a URL with an allowed scheme, or ``-`` (standard
    input; no other FFmpeg protocol name)."""
    text = os.fspath(location)
    if is_stdio(text):
        if sys.stdin is not None and sys.stdin.isatty():
            raise InputError(
                "standard input is a terminal; pipe a video into it (… | chromakey render - …)"
            )
        return text
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme not in schemes:
            raise ParameterError(
                f"{text!r}: the {scheme}: protocol is not accepted; use a file path or "
                f"one of {', '.join(s + '://' for s in schemes)}"
            )
        return text
    if ":" in text.split("/", 1)[0] and not Path(text).exists():
        scheme = text.split(":", 1)[0]
        raise ParameterError(
            f"{text!r}: FFmpeg's '{scheme}:' protocol is not accepted; give a file path"
        )
    path = Path(text)
    if not path.exists():
        raise InputNotFoundError(f"{text}: no such file; check the path")
    if path.is_dir():
        raise InputError(f"{text}: is a folder, not a video file")
    if path.stat().st_size == 0:
        raise InputError(f"{text}: the file is empty (0 bytes); give a video file")
    return text


def open_container(location: str, *, what: str = "input") -> av.container.InputContainer:
    """av.open with network timeouts, every failure turned into a one-line InputError.

    ``-`` is standard input, read by FFmpeg itself (``pipe:0``). A pipe cannot seek: stream
    formats (NUT, Matroska, MPEG-TS, Y4M) suit it; an MP4 wants its index first (faststart).
    """
    options = dict(NETWORK_OPTIONS) if "://" in location else {}
    if location.lower().startswith("rtmp"):
        options.pop("timeout")  # FFmpeg's RTMP client reads 'timeout' as "listen for a peer"
    url = STDIN_URL if is_stdio(location) else location
    location = describe(location)
    try:
        return av.open(url, "r", options=options, timeout=(15.0, 15.0), metadata_errors="replace")
    except FileNotFoundError as exc:
        raise InputNotFoundError(f"{location}: no such file; check the path") from exc
    except av.error.InvalidDataError as exc:
        raise InputError(
            f"{location}: not a video file, or truncated or corrupt ({exc.strerror}); "
            "check that it plays"
        ) from exc
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        msg = getattr(exc, "strerror", None) or str(exc)
        raise InputError(
            f"{location}: cannot open the {what} ({msg}); check that it plays"
        ) from exc


def bounded_put(
    q: queue.Queue, item: tuple[str, Any], stop: threading.Event, drop: bool
) -> tuple[bool, int]:
    """Put into a bounded queue, waiting while it is full — or, with ``drop``, making room by
    dropping the oldest video frame. Returns (queued, frames dropped); not queued when stopping.
    """
    dropped = 0
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True, dropped
        except queue.Full:
            if drop and item[0] == "video":
                try:
                    old = q.get_nowait()
                    if old[0] == "video":
                        dropped += 1
                    else:
                        q.put_nowait(old)
                except (queue.Empty, queue.Full):
                    pass
    return False, dropped


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


class QueuedItems:
    """The consumer side of a source whose decode thread fills ``self._queue``."""

    _queue: queue.Queue

    def start(self) -> QueuedItems:
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        self.start()
        while True:
            kind, item = self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield kind, item

    def get(self, timeout: float | None = None) -> tuple[str, Any] | None:
        """The next item, or None when nothing arrived within ``timeout`` (live use)."""
        self.start()
        try:
            return self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        except queue.Empty:
            return None


@dataclass(frozen=True)
class SourceInfo:
    """What is known of a source before its first frame."""

    width: int
    height: int
    rate: Fraction | None
    time_base: Fraction
    duration: float | None
    frame_count: int | None
    has_audio: bool


def source_info(container: Any, video: Any, *, has_audio: bool) -> SourceInfo:
    """What a container's video stream says of its size, rate and length."""
    rate = video.average_rate or video.guessed_rate
    duration = None
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    frames = video.frames or (round(duration * float(rate)) if duration and rate else None)
    return SourceInfo(
        width=video.codec_context.width,
        height=video.codec_context.height,
        rate=Fraction(rate) if rate else None,
        time_base=Fraction(video.time_base) if video.time_base else Fraction(1, 90000),
        duration=duration,
        frame_count=frames or None,
        has_audio=has_audio,
    )


class VideoSource(QueuedItems):
    """Decodes a file or stream on a thread; iterate it for ``("video", Frame)`` and
    ``("audio", av.Packet)`` items in demux order.

    The queue is small and bounded: when the consumer is slower the decoder
    waits (``drop=False``, for files) or the oldest frame is dropped and counted
    (``drop=True``, for live display).
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        queue_size: int = 8,
        drop: bool = False,
        audio: bool = True,
    ) -> None:
        self.location = check_location(location)
        self.name = describe(self.location)  # what messages call it: "standard input" for -
        self.container = open_container(self.location)
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{self.name}: has no video stream; give a video file")
        self.video = self.container.streams.video[0]
        ctx = self.video.codec_context
        if ctx is None:
            self.container.close()
            raise InputError(
                f"{self.name}: its video codec is unknown or unsupported; "
                "re-encode it (H.264, VP9, ProRes…) or check the file is not corrupt"
            )
        self.video.thread_type = "AUTO"
        # The decoder refuses larger pictures itself, so a crafted stream cannot exhaust memory.
        ctx.options = {**ctx.options, "max_pixels": str(MAX_PIXELS)}
        if ctx.width * ctx.height > MAX_PIXELS:
            self.container.close()
            raise InputError(
                f"{self.name}: {ctx.width}×{ctx.height} is larger than the "
                f"{MAX_PIXELS} pixel limit (8K); scale it down first"
            )
        self.audio = (
            self.container.streams.audio[0] if (audio and self.container.streams.audio) else None
        )
        self.drop = drop
        self.dropped = 0
        self.corrupt = 0
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def info(self) -> SourceInfo:
        return source_info(self.container, self.video, has_audio=self.audio is not None)

    def start(self) -> VideoSource:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="chromakey-decode", daemon=True)
            self._thread.start()
        return self

    def _put(self, item: tuple[str, Any]) -> bool:
        """Queue an item; False when stopping. Live sources drop the oldest video frame."""
        queued, dropped = bounded_put(self._queue, item, self._stop, self.drop)
        self.dropped += dropped
        return queued

    def _run(self) -> None:
        rate = self.info.rate
        step = 1.0 / float(rate) if rate else 1.0 / 30.0
        index = 0
        streams = [self.video] + ([self.audio] if self.audio is not None else [])
        try:
            for packet in self.container.demux(streams):
                if self._stop.is_set():
                    return
                if packet.stream is self.audio:
                    if packet.dts is not None and not self._put(("audio", packet)):
                        return
                    continue
                decoded = decode_video_packet(packet, self.name)
                if decoded is None:
                    self.corrupt += 1
                    continue
                for av_frame in decoded:
                    frame = to_frame(av_frame, index, index * step)
                    index += 1
                    if not self._put(("video", frame)):
                        return
            if index == 0:
                raise InputError(
                    f"{self.name}: no video frame could be decoded; the file may be truncated or corrupt"
                )
            self._put(("end", None))
        except ChromakeyError as exc:
            self._put(("error", exc))
        except av.error.FFmpegError as exc:
            if index == 0:
                err: Exception = InputError(
                    f"{self.name}: cannot decode the video ({exc.strerror}); the file may be truncated or corrupt"
                )
            else:
                err = InputError(
                    f"{self.name}: decoding failed after {index} frames ({exc.strerror})"
                )
            self._put(("error", err))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer's thread
            self._put(("error", exc))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self.container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
