"""A background file, local or downloaded, opened with PyAV and checked against the pixel
limit before anything is decoded: a crafted header cannot make us allocate gigabytes."""

from __future__ import annotations

import math
import os
import struct
import weakref
from pathlib import Path

import av

from ..core.errors import ChromakeyError, InputError
from ..core.quote import shown
from ..io.locations import check_file, scheme
from ..io.media import input_error, reading
from .download import DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES, download
from .fit import has_alpha

# Largest background picture decoded (8192×8192); FFmpeg's decoder is told too.
MAX_BACKGROUND_PIXELS = 8192 * 8192
# Stills come through image2 or a "*_pipe" demuxer (png_pipe, jpeg_pipe …); these may animate.
_ANIMATED_DEMUXERS = ("gif", "apng", "webp")


def sniff_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG, GIF, JPEG or WebP header, for a precise size error."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return None
    if head[:8] == b"\x89PNG\r\n\x1a\n" and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP" and len(head) >= 30:
        kind = head[12:16]
        if kind == b"VP8X":
            w = int.from_bytes(head[24:27], "little") + 1
            h = int.from_bytes(head[27:30], "little") + 1
            return w, h
        if kind == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
        if kind == b"VP8 ":
            w, h = struct.unpack("<HH", head[26:30])
            return w & 0x3FFF, h & 0x3FFF
    if head[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(head):
            if head[i] != 0xFF:
                i += 1
                continue
            marker = head[i + 1]
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
                i += 1 if marker == 0xFF else 2
                continue
            length = struct.unpack(">H", head[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", head[i + 5 : i + 9])
                return w, h
            i += 2 + length
    return None


def _remove(path: Path) -> None:
    """A downloaded background's temporary file gone (a finalizer: never raises)."""
    path.unlink(missing_ok=True)


class Media:
    """A background file, local or downloaded, opened with PyAV and checked against the limits."""

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        max_pixels: int = MAX_BACKGROUND_PIXELS,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        timeout: float = DOWNLOAD_TIMEOUT,
    ) -> None:
        text = os.fspath(location)
        self.location = text
        self.max_pixels = int(max_pixels)
        self.temp: Path | None = None
        self._finalizer: weakref.finalize[[Path], Media] | None = None
        if scheme(text) is not None:
            self.temp = download(text, max_bytes=max_bytes, timeout=timeout)
            # Removed at close, or when this object is collected if nobody closes it.
            self._finalizer = weakref.finalize(self, _remove, self.temp)
            self.path = self.temp
        else:
            path = check_file(text, kind="an image or video file", what="the background")
            # Absolute, so FFmpeg never reads a "name:" prefix as one of its protocols.
            self.path = path.resolve()
        try:
            container = self.open()
        except BaseException:
            self.remove()
            raise
        try:
            self._probe(container)
        except BaseException:
            container.close()
            self.remove()
            raise
        container.close()

    # -- opening

    def open(self) -> av.container.InputContainer:
        """The container, its video stream's decoder told the pixel limit."""
        limit = {"max_pixels": str(self.max_pixels)}
        with reading(
            self.location,
            doing="open the background",
            hint="check that it opens",
            corrupt="not an image or video that FFmpeg can read, or truncated",
        ):
            container = av.open(str(self.path), "r", options=limit)
        if not container.streams.video:
            container.close()
            raise InputError(
                f"{shown(self.location)}: has no picture; give an image or a video file"
            )
        stream = container.streams.video[0]
        if stream.codec_context is None:  # FFmpeg has no decoder for it: an SVG drawing is one
            container.close()
            raise InputError(
                f"{shown(self.location)}: FFmpeg cannot decode this picture (an SVG drawing or an "
                "unknown codec); give a PNG, JPEG or WebP image or a video"
            )
        stream.codec_context.options = dict(limit)
        return container

    def too_large(self, width: int, height: int) -> InputError:
        side = int(math.isqrt(self.max_pixels))
        return InputError(
            f"{shown(self.location)}: {width}×{height} is larger than the {self.max_pixels}-pixel "
            f"limit for a background ({side}×{side}); scale it down first"
        )

    def _probe(self, container: av.container.InputContainer) -> None:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = ctx.width, ctx.height
        if not (width and height):
            # The decoder refused to look (max_pixels) or the header is damaged: read it ourselves.
            sniffed = sniff_size(self.path)
            if sniffed:
                width, height = sniffed
        if width * height > self.max_pixels:
            raise self.too_large(width, height)
        fmt = container.format.name
        if fmt in _ANIMATED_DEMUXERS:
            self.is_image = stream.frames == 1
        else:
            self.is_image = fmt.endswith("_pipe") or fmt == "image2" or stream.frames == 1
        tb = stream.time_base
        self.time_base = float(tb) if tb else None
        start = stream.start_time
        self.start_time = float(start * tb) if (start is not None and tb) else None
        self.has_alpha = ctx.format is not None and has_alpha(ctx.format)
        rate = stream.average_rate or stream.guessed_rate
        self.rate = float(rate) if rate else None
        self.duration = self._duration(container) if not self.is_image else None

    def _duration(self, container: av.container.InputContainer) -> float | None:
        """The video stream's length: its own header, else its packets' end, else the container's."""
        stream = container.streams.video[0]
        if stream.duration and stream.time_base:
            return float(stream.duration * stream.time_base)
        end = None
        first = None
        try:
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                t0 = float(packet.pts * packet.time_base)
                t1 = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                first = t0 if first is None else min(first, t0)
                end = t1 if end is None else max(end, t1)
        except av.error.FFmpegError:
            pass
        if end is not None:
            start = self.start_time if self.start_time is not None else (first or 0.0)
            if end - start > 0:
                return end - start
        if container.duration:
            return container.duration / av.time_base
        return None

    def first_frame(self) -> av.VideoFrame:
        container = self.open()
        try:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                for frame in packet.decode():
                    return frame
        except av.error.FFmpegError as exc:
            raise self.decode_error(exc) from exc
        finally:
            container.close()
        raise InputError(
            f"{shown(self.location)}: no picture could be decoded; the file may be truncated or corrupt"
        )

    def decode_error(self, exc: av.error.FFmpegError) -> ChromakeyError:
        """What a failed decode means here: a picture over the limit (the header says so,
        or the decoder's max_pixels check refused it), else a damaged file."""
        sniffed = sniff_size(self.path)
        if sniffed and sniffed[0] * sniffed[1] > self.max_pixels:
            return self.too_large(*sniffed)
        if isinstance(exc, av.error.ArgumentError):  # what the decoder's max_pixels check raises
            return input_error(
                exc,
                self.location,
                doing="decode the picture",
                hint=f"it is larger than the {self.max_pixels}-pixel limit for a background, "
                "or corrupt",
            )
        return input_error(
            exc,
            self.location,
            doing="decode the picture",
            corrupt="not an image or video that FFmpeg can decode, or truncated or corrupt",
            hint="check that it opens",
        )

    def remove(self) -> None:
        """Delete the downloaded copy, if any."""
        if self._finalizer is not None:
            self._finalizer()
