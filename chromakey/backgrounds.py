"""What the subject is composited over: a colour, an image, a video, or nothing (transparent).

A ``Background`` gives its pixels for one output time with ``frame_at``: None
(transparent), a (3,) float32 colour, or an H×W×3 / H×W×4 uint8 image at exactly
the output size. Images are decoded once and fitted once per output size;
videos decode on their own thread into a small queue of frames already fitted
to the output size, each with its timestamp, and ``frame_at`` picks the frame
for the output time according to the play style.

Images and videos come from a file or an http(s) URL. A URL is downloaded with
urllib (never FFmpeg's own protocols) into a temporary file, with a timeout and
a size cap; nothing larger than ``MAX_BACKGROUND_PIXELS`` is decoded.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import queue
import re
import struct
import tempfile
import threading
import time as _time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Any

import av
import numpy as np

from .color import CSS_COLORS, YuvSpec, format_color, parse_color
from .errors import ChromakeyError, InputError, InputNotFoundError, ParameterError

FITS = ("cover", "contain", "stretch")
PLAY_STYLES = ("loop", "freeze", "fit_to_scene", "full_video")
# The only schemes a background URL may use; downloaded with urllib, not FFmpeg's protocols.
URL_SCHEMES = ("http", "https")
# Largest background picture decoded (8192×8192); FFmpeg's decoder is told too.
MAX_BACKGROUND_PIXELS = 8192 * 8192
# Seconds to connect, and to wait for each read, when downloading a background.
DOWNLOAD_TIMEOUT = 15.0
# A download may take this long in all, so a server trickling bytes cannot stall a render.
DOWNLOAD_DEADLINE = 600.0
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
# A background JSON file is small; anything bigger is not one.
MAX_JSON_BYTES = 1024 * 1024
# How long frame_at waits for the decoder: for the first frame, and for each later one.
FIRST_FRAME_WAIT = 10.0
FRAME_WAIT = 1.0

_EPS = 1e-6
# Stills come through image2 or a "*_pipe" demuxer (png_pipe, jpeg_pipe …); these may animate.
_ANIMATED_DEMUXERS = ("gif", "apng", "webp")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


# --- the contract -------------------------------------------------------------------------


class Background:
    """A layer under the subject; ``frame_at`` gives its pixels for one output time.

    ``frame_at(time, width, height)`` returns None (transparent), a (3,) float32
    colour, or an H×W×3 (opaque) / H×W×4 (with alpha) uint8 image of exactly
    ``width``×``height``. ``time`` is the output time in seconds (0 = the first
    foreground frame). Returned images are read-only and may be shared.
    """

    transparent = False

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray | None:
        raise NotImplementedError

    @property
    def duration(self) -> float | None:
        """Seconds of material: None for still layers, the video's duration for videos."""
        return None

    def bind(self, scene_duration: float | None) -> None:
        """Told the foreground's duration (None when unknown) before the first frame."""

    def close(self) -> None:
        pass

    def __enter__(self) -> Background:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ColorBackground(Background):
    def __init__(self, rgb: tuple[float, float, float]) -> None:
        self.rgb = np.asarray(rgb, np.float32)

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray:
        return self.rgb

    def __repr__(self) -> str:
        return f"ColorBackground({format_color(tuple(self.rgb))!r})"


class TransparentBackground(Background):
    transparent = True

    def frame_at(self, time: float, width: int, height: int) -> None:
        return None

    def __repr__(self) -> str:
        return "TransparentBackground()"


# --- checks ---------------------------------------------------------------------------------


def check_fit(fit: object) -> str:
    if fit not in FITS:
        raise ParameterError(f"fit {fit!r} is not known; use one of {', '.join(FITS)}")
    return fit  # type: ignore[return-value]


def check_play_style(play_style: object) -> str:
    if play_style not in PLAY_STYLES:
        raise ParameterError(
            f"play_style {play_style!r} is not known; use one of {', '.join(PLAY_STYLES)}"
        )
    return play_style  # type: ignore[return-value]


def _letterbox_rgb(color: str | tuple[float, float, float] | Any) -> np.ndarray:
    """A colour string or 0–1 RGB floats → uint8 RGB."""
    if isinstance(color, str):
        rgb = parse_color(color)
    else:
        try:
            rgb = tuple(float(c) for c in color)
        except (TypeError, ValueError):
            rgb = ()
        if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
            raise ParameterError(
                f"letterbox colour must be '#RRGGBB', a CSS name or three numbers 0–1, got {color!r}"
            )
    return np.array([round(c * 255) for c in rgb], np.uint8)


def _check_url(text: str) -> None:
    """http(s) only, with a host: FFmpeg's protocols (file:, concat:, data: …) are refused."""
    accepted = " or ".join(s + "://" for s in URL_SCHEMES)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() not in URL_SCHEMES:
        raise ParameterError(
            f"{text!r}: the {parts.scheme}: scheme is not accepted for a background; "
            f"give a file path or an {accepted} URL"
        )
    if not parts.netloc or not text.lower().startswith(parts.scheme.lower() + "://"):
        raise ParameterError(f"{text!r}: not a valid URL; write it as {parts.scheme}://host/path")


def _is_url_like(text: str) -> bool:
    """Anything with a scheme prefix that is not an existing file (``concat:a.png`` included)."""
    m = _SCHEME.match(text)
    return m is not None and len(m.group(1)) > 1 and not Path(text).exists()


# --- downloads ------------------------------------------------------------------------------


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (urllib alone would follow one to ftp:)."""

    def http_error_302(self, req, fp, code, msg, headers):
        target = headers.get("location") or headers.get("uri") or ""
        scheme = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, target)).scheme
        if scheme.lower() not in URL_SCHEMES:
            fp.close()
            raise InputError(
                f"{req.full_url}: the server redirects to a {scheme}: URL; "
                "only http:// and https:// are followed"
            )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _suffix(url: str) -> str:
    ext = os.path.splitext(urllib.parse.urlsplit(url).path)[1]
    return ext.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", ext) else ""


def download(
    url: str,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
    deadline: float = DOWNLOAD_DEADLINE,
) -> Path:
    """Fetch an http(s) URL into a temporary file (the caller removes it); InputError on failure."""
    _check_url(url)
    request = urllib.request.Request(url, headers={"User-Agent": "chromakey"})
    fd, name = tempfile.mkstemp(prefix="chromakey-bg-", suffix=_suffix(url))
    path = Path(name)
    start = _time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = _OPENER.open(request, timeout=timeout)
            except urllib.error.HTTPError as exc:
                raise InputError(
                    f"{url}: the server answered HTTP {exc.code} {exc.reason}; check the URL"
                ) from exc
            with response:
                length = response.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > max_bytes:
                    raise InputError(
                        f"{url}: {int(length)} bytes is more than the {max_bytes}-byte limit "
                        "for a background; use a smaller file"
                    )
                total = 0
                while True:
                    # read1: at most one recv, so the deadline is checked however slow the server.
                    chunk = response.read1(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise InputError(
                            f"{url}: the download passed the {max_bytes}-byte limit for a "
                            "background; use a smaller file"
                        )
                    if _time.monotonic() - start > deadline:
                        raise InputError(
                            f"{url}: the download took more than {deadline:g} s; "
                            "the server is too slow"
                        )
                    out.write(chunk)
        if total == 0:
            raise InputError(f"{url}: the server sent an empty file; check the URL")
        return path
    except ChromakeyError:
        path.unlink(missing_ok=True)
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            raise InputError(
                f"{url}: no answer within {timeout:g} s; the server is unreachable or stalled"
            ) from exc
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"{url}: cannot download the background ({reason})") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# --- opening media --------------------------------------------------------------------------


def _sniff_size(path: Path) -> tuple[int, int] | None:
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


def _rotation(frame: av.VideoFrame) -> int:
    """Quarter turns (0–3) the frame's display matrix (or a photo's EXIF orientation) asks for."""
    try:
        return int(round(frame.rotation / 90.0)) % 4
    except (AttributeError, TypeError, ValueError):
        return 0


def _has_alpha(fmt: av.VideoFormat) -> bool:
    return any(c.is_alpha for c in fmt.components) or fmt.name == "pal8"


class _Media:
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
        self._finalizer: weakref.finalize | None = None
        if _is_url_like(text):
            _check_url(text)
            self.temp = download(text, max_bytes=max_bytes, timeout=timeout)
            # Removed at close, or when this object is collected if nobody closes it.
            self._finalizer = weakref.finalize(self, self.temp.unlink, missing_ok=True)
            self.path = self.temp
        else:
            path = Path(text)
            if not path.exists():
                raise InputNotFoundError(f"{text}: no such file; check the path")
            if path.is_dir():
                raise InputError(f"{text}: is a folder, not an image or video file")
            if path.stat().st_size == 0:
                raise InputError(f"{text}: the file is empty (0 bytes); give an image or video")
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
        try:
            container = av.open(str(self.path), "r", options=limit)
        except FileNotFoundError as exc:
            raise InputNotFoundError(f"{self.location}: no such file; check the path") from exc
        except av.error.FFmpegError as exc:
            raise InputError(
                f"{self.location}: not an image or video that FFmpeg can read, or truncated "
                f"({exc.strerror}); check that it opens"
            ) from exc
        except OSError as exc:
            raise InputError(f"{self.location}: cannot open the background ({exc})") from exc
        if not container.streams.video:
            container.close()
            raise InputError(f"{self.location}: has no picture; give an image or a video file")
        stream = container.streams.video[0]
        stream.codec_context.options = dict(limit)
        return container

    def _too_large(self, width: int, height: int) -> InputError:
        side = int(math.isqrt(self.max_pixels))
        return InputError(
            f"{self.location}: {width}×{height} is larger than the {self.max_pixels}-pixel "
            f"limit for a background ({side}×{side}); scale it down first"
        )

    def _probe(self, container: av.container.InputContainer) -> None:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        width, height = ctx.width, ctx.height
        if not (width and height):
            # The decoder refused to look (max_pixels) or the header is damaged: read it ourselves.
            sniffed = _sniff_size(self.path)
            if sniffed:
                width, height = sniffed
        if width * height > self.max_pixels:
            raise self._too_large(width, height)
        fmt = container.format.name
        if fmt in _ANIMATED_DEMUXERS:
            self.is_image = stream.frames == 1
        else:
            self.is_image = fmt.endswith("_pipe") or fmt == "image2" or stream.frames == 1
        tb = stream.time_base
        self.time_base = float(tb) if tb else None
        start = stream.start_time
        self.start_time = float(start * tb) if (start is not None and tb) else None
        self.has_alpha = ctx.format is not None and _has_alpha(ctx.format)
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
            raise self._decode_error(exc) from exc
        finally:
            container.close()
        raise InputError(
            f"{self.location}: no picture could be decoded; the file may be truncated or corrupt"
        )

    def _decode_error(self, exc: av.error.FFmpegError) -> InputError:
        sniffed = _sniff_size(self.path)
        if sniffed and sniffed[0] * sniffed[1] > self.max_pixels:
            return self._too_large(*sniffed)
        if isinstance(exc, av.error.ArgumentError):  # what the decoder's max_pixels check raises
            return InputError(
                f"{self.location}: cannot decode the picture ({exc.strerror}); it is larger "
                f"than the {self.max_pixels}-pixel limit for a background, or corrupt"
            )
        return InputError(
            f"{self.location}: not an image or video that FFmpeg can decode, or truncated or "
            f"corrupt ({exc.strerror}); check that it opens"
        )

    def remove(self) -> None:
        """Delete the downloaded copy, if any."""
        if self._finalizer is not None:
            self._finalizer()


# --- fitting --------------------------------------------------------------------------------


def _interpolation(sx: float, sy: float) -> str:
    return "AREA" if sx <= 1.0 and sy <= 1.0 else "BICUBIC"


def _colorspace_args(frame: av.VideoFrame) -> dict[str, Any]:
    """Untagged YUV read as the rest of chromakey reads it (HD → BT.709), not swscale's BT.601."""
    fmt = frame.format
    if fmt.is_rgb or len(fmt.components) < 3 or int(frame.colorspace) not in (0, 2):
        return {}
    spec = YuvSpec.for_frame(frame.colorspace, frame.color_range, frame.width, frame.height)
    return {
        "src_colorspace": {"bt709": "ITU709", "bt601": "ITU601", "bt2020": "BT2020"}[spec.matrix]
    }


class _Fitter:
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
            interpolation=_interpolation(w / frame.width, h / frame.height),
            **_colorspace_args(frame),
        )
        return out.to_ndarray(format=fmt)

    def fit_frame(self, frame: av.VideoFrame) -> np.ndarray:
        """A decoded frame → read-only uint8 RGB(A) of exactly the output size, fitted."""
        fmt = "rgba" if _has_alpha(frame.format) else "rgb24"
        W, H = self.width, self.height
        turns = _rotation(frame)
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
            out = _letterboxed(scaled(sw, sh), W, H, self.letterbox)
        return _readonly(np.ascontiguousarray(out))


def _letterboxed(img: np.ndarray, W: int, H: int, color: np.ndarray) -> np.ndarray:
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


def _premultiply(rgba: np.ndarray) -> np.ndarray:
    """Straight → premultiplied alpha, in bands (an 8K image stays within a few MB extra)."""
    out = rgba.copy()
    for y in range(0, out.shape[0], 256):
        band = out[y : y + 256]
        a = band[..., 3:4].astype(np.uint16)
        band[..., :3] = (band[..., :3].astype(np.uint16) * a + 127) // 255
    return out


def _unpremultiply(rgba: np.ndarray) -> np.ndarray:
    a = rgba[..., 3:4].astype(np.uint32)
    c = (rgba[..., :3].astype(np.uint32) * 255 + a // 2) // np.maximum(a, 1)
    out = rgba.copy()
    out[..., :3] = np.minimum(c, 255) * (a > 0)
    return out


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


# --- images ---------------------------------------------------------------------------------


class ImageBackground(Background):
    """A still picture (PNG, JPEG, WebP … as FFmpeg decodes them), fitted to the output size.

    Decoded once, at construction (so a bad file fails early); fitted once per
    output size and cached, so a still costs nothing per frame. An image whose
    alpha is not fully opaque stays H×W×4 (scaled premultiplied, no dark fringes).
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | _Media,
        fit: str = "cover",
        letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
        *,
        max_pixels: int = MAX_BACKGROUND_PIXELS,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        timeout: float = DOWNLOAD_TIMEOUT,
    ) -> None:
        self.fit = check_fit(fit)
        self.letterbox = _letterbox_rgb(letterbox)
        media = (
            location
            if isinstance(location, _Media)
            else _Media(location, max_pixels=max_pixels, max_bytes=max_bytes, timeout=timeout)
        )
        self.location = media.location
        try:
            frame = media.first_frame()
            if frame.width * frame.height > media.max_pixels:
                raise media._too_large(frame.width, frame.height)
            alpha = _has_alpha(frame.format)
            img = frame.to_ndarray(format="rgba" if alpha else "rgb24", **_colorspace_args(frame))
            turns = _rotation(frame)
            if turns:
                img = np.ascontiguousarray(np.rot90(img, turns))
            del frame
            if alpha and bool((img[..., 3] == 255).all()):
                img = np.ascontiguousarray(img[..., :3])  # opaque after all: cheaper to composite
                alpha = False
        except av.error.FFmpegError as exc:
            raise media._decode_error(exc) from exc
        finally:
            media.remove()  # decoded: the downloaded copy is not needed any more
        self.has_alpha = alpha
        self._source = np.ascontiguousarray(_premultiply(img) if alpha else img)
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        """The picture's own (width, height)."""
        return self._source.shape[1], self._source.shape[0]

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray:
        key = (int(width), int(height))
        with self._lock:
            img = self._cache.get(key)
            if img is None:
                img = _readonly(self._fit(*key))
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
            out = _unpremultiply(out)
        if (tw, th) != (W, H):
            out = _letterboxed(out, W, H, self.letterbox)
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
            interpolation=_interpolation(w / src.shape[1], h / src.shape[0]),
        )
        return out.to_ndarray(format=fmt)

    def close(self) -> None:
        with self._lock:
            self._cache.clear()

    def __repr__(self) -> str:
        return f"ImageBackground({self.location!r}, fit={self.fit!r})"


# --- videos ---------------------------------------------------------------------------------


class _Decoder:
    """One decoding run on its own thread: frames fitted to one size, from one start time.

    Queue items: ("video", t, image) with t the frame's time on the background's
    own running clock (a looped video keeps counting: lap k adds k·period),
    ("end", None, None) when no frame will follow, ("error", exc, None).
    """

    def __init__(
        self, owner: VideoBackground, width: int, height: int, start: float, queue_size: int
    ) -> None:
        # Weakly: a background dropped without close() lets its thread end instead of leaking it.
        self.owner = weakref.ref(owner)
        self.media = owner._media
        self.loop = owner._loops
        self.period = owner._period
        self.fitter = _Fitter(width, height, owner.fit, owner.letterbox)
        self.start = start
        self.queue: queue.Queue[tuple[str, Any, Any]] = queue.Queue(maxsize=max(1, queue_size))
        self.stop = threading.Event()
        self.target = start  # the newest time frame_at asked for; frames before it need no fitting
        self.held: tuple[float, av.VideoFrame] | None = None  # decoded, not yet fitted and queued
        self.last_time = -math.inf
        self.thread = threading.Thread(target=self._run, name="chromakey-background", daemon=True)
        self.thread.start()

    def _put(self, item: tuple[str, Any, Any]) -> bool:
        while not self.stop.is_set() and self.owner() is not None:
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def _run(self) -> None:
        media, loop, period = self.media, self.loop, self.period
        lap = int(self.start // period) if (loop and period) else 0
        seek = self.start - lap * period if (loop and period) else self.start
        try:
            while not self.stop.is_set():
                offset = lap * period if (loop and period) else 0.0
                seeked = seek > 0.5 and media.start_time is not None and bool(media.time_base)
                count, lap_end = self._decode_pass(offset, seek if seeked else 0.0)
                if self.stop.is_set():
                    return
                seek = 0.0
                if count == 0:
                    if seeked:
                        continue  # sought past the last frame: this pass again, from its start
                    if self.held is None:
                        raise InputError(
                            f"{media.location}: no video frame could be decoded; "
                            "the file may be truncated or corrupt"
                        )
                    break
                owner = self.owner()
                if owner is None:
                    return
                owner._learn_end(lap_end)
                if not loop or (count <= 1 and not seeked):
                    break  # played once, or a single picture (looping it would change nothing)
                period = owner._period = max(period or 0.0, lap_end)
                del owner
                lap += 1
            if self.held is not None and not self._emit_held():
                return
            self._put(("end", None, None))
        except ChromakeyError as exc:
            self._put(("error", exc, None))
        except av.error.FFmpegError as exc:
            self._put(("error", media._decode_error(exc), None))
        except Exception as exc:  # noqa: BLE001 - handed to frame_at's thread
            self._put(("error", exc, None))

    def _emit_held(self) -> bool:
        assert self.held is not None
        t, frame = self.held
        self.held = None
        return self._put(("video", t, self.fitter.fit_frame(frame)))

    def _decode_pass(self, offset: float, seek: float) -> tuple[int, float]:
        """Decode the file once (from ``seek`` s); (frames decoded, end of the last frame)."""
        media = self.media
        count, end = 0, 0.0
        container = media.open()
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin = media.start_time
            if seek > 0:
                pts = int((seek + (origin or 0.0)) / media.time_base)
                with contextlib.suppress(av.error.FFmpegError):
                    container.seek(pts, stream=stream, backward=True)
            step = 1.0 / media.rate if media.rate else 1.0 / 30.0
            for packet in container.demux(stream):
                if self.stop.is_set():
                    return count, end
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # a damaged packet: skip it, as the foreground does
                for frame in frames:
                    if frame.width * frame.height > media.max_pixels:
                        raise media._too_large(frame.width, frame.height)
                    if frame.pts is not None and frame.time_base:
                        ft = float(frame.pts * frame.time_base)
                        origin = ft if origin is None else origin
                        ts = ft - origin
                    else:
                        ts = count * step
                    dur = float(frame.duration * frame.time_base) if frame.duration else step
                    count += 1
                    end = max(end, ts + dur)
                    t = offset + max(ts, 0.0)
                    if t <= self.last_time:
                        continue  # out of order, or behind what was already queued: never shown
                    self.last_time = t
                    # The held frame is needed only if this one comes after the newest asked time.
                    if self.held is not None and t > self.target + _EPS and not self._emit_held():
                        return count, end
                    self.held = (t, frame)
        finally:
            container.close()
        return count, end

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5.0)


class VideoBackground(Background):
    """A video under the subject, decoded on its own thread, timed by a HeyGen play style.

    ``loop`` repeats it; ``freeze`` stops on its last frame; ``fit_to_scene``
    retimes it to the foreground's duration (from ``bind``; with no known
    duration it loops); ``full_video`` plays it once and holds its last frame
    (the pipeline runs on until the longer of the two ends).

    ``frame_at(t)`` shows the newest frame whose timestamp is ≤ the background
    time for ``t``. It waits for the decoder when it is behind (at most
    ``FIRST_FRAME_WAIT`` s for the first frame, ``frame_wait`` s later), so a
    file render shows the right frame at each time.
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | _Media,
        play_style: str = "loop",
        fit: str = "cover",
        letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
        *,
        max_pixels: int = MAX_BACKGROUND_PIXELS,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        timeout: float = DOWNLOAD_TIMEOUT,
        queue_size: int = 4,
        frame_wait: float = FRAME_WAIT,
    ) -> None:
        self.play_style = check_play_style(play_style)
        self.fit = check_fit(fit)
        self.letterbox = _letterbox_rgb(letterbox)
        self._media = (
            location
            if isinstance(location, _Media)
            else _Media(location, max_pixels=max_pixels, max_bytes=max_bytes, timeout=timeout)
        )
        self.location = self._media.location
        # Frames carry alpha (H×W×4) when the decoder's pixel format has it.
        self.has_alpha = self._media.has_alpha
        self.queue_size = queue_size
        self.frame_wait = float(frame_wait)
        self._duration = self._media.duration
        self._period = self._duration or 0.0
        self._scene: float | None = None
        self._decoder: _Decoder | None = None
        self._size: tuple[int, int] | None = None
        self._current: tuple[float, np.ndarray] | None = None
        self._peek: tuple[float, np.ndarray] | None = None
        self._ended = False
        self._last_target = -math.inf
        self._closed = False

    # -- timing

    @property
    def duration(self) -> float | None:
        return self._duration

    def _learn_end(self, end: float) -> None:
        """The decoder's measure of one pass, when the header had none."""
        if end > 0 and not self._duration:
            self._duration = end
            self._period = end

    def bind(self, scene_duration: float | None) -> None:
        self._scene = scene_duration if scene_duration and scene_duration > 0 else None

    @property
    def _loops(self) -> bool:
        return self.play_style == "loop" or (self.play_style == "fit_to_scene" and not self._scene)

    def background_time(self, time: float) -> float:
        """The background's own running time shown at output time ``time``.

        For ``loop`` this keeps counting past the end (lap k is k·duration
        later); the frame shown is the one at that time modulo the duration.
        """
        t = max(float(time), 0.0)
        if self.play_style == "fit_to_scene" and self._scene and self._duration:
            return t * self._duration / self._scene
        return t

    # -- frames

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray:
        if self._closed:
            raise InputError(f"{self.location}: the background was closed")
        target = self.background_time(time)
        size = (int(width), int(height))
        if self._decoder is None or size != self._size or target < self._last_target - _EPS:
            self._restart(size, target)
        self._last_target = target
        decoder = self._decoder
        assert decoder is not None
        decoder.target = target
        wait = FIRST_FRAME_WAIT if self._current is None else self.frame_wait
        deadline = _time.monotonic() + wait
        while True:
            if self._peek is None:
                if self._ended:
                    break
                remaining = deadline - _time.monotonic()
                try:
                    kind, a, b = decoder.queue.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    break  # the decoder is behind: show what we have, catch up next time
                if kind == "end":
                    self._ended = True
                    break
                if kind == "error":
                    raise a
                self._peek = (a, b)
            if self._current is None or self._peek[0] <= target + _EPS:
                self._current, self._peek = self._peek, None
                continue
            break
        if self._current is None:
            raise InputError(
                f"{self.location}: the background video gave no frame within {wait:g} s"
            )
        return self._current[1]

    def _restart(self, size: tuple[int, int], target: float) -> None:
        if self._decoder is not None:
            self._decoder.close()
        self._size = size
        self._current = self._peek = None
        self._ended = False
        self._decoder = _Decoder(self, size[0], size[1], target, self.queue_size)

    def close(self) -> None:
        self._closed = True
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        self._current = self._peek = None
        self._media.remove()

    def __repr__(self) -> str:
        return (
            f"VideoBackground({self.location!r}, play_style={self.play_style!r}, fit={self.fit!r})"
        )


# --- parsing --------------------------------------------------------------------------------


def open_media_background(
    location: str | os.PathLike[str],
    *,
    fit: str | None = None,
    play_style: str | None = None,
    letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
    kind: str | None = None,
) -> Background:
    """An image or a video background from a path or URL; ``kind`` forces one, else PyAV decides."""
    media = _Media(location)
    try:
        if kind == "image" or (kind is None and media.is_image):
            return ImageBackground(media, fit or "cover", letterbox)
        return VideoBackground(media, play_style or "loop", fit or "cover", letterbox)
    except BaseException:
        media.remove()
        raise


_HINT = (
    "use #RRGGBB, a CSS colour name, 'transparent', an image or video path or http(s) URL, "
    'or JSON such as {"type": "color", "value": "#FAFAFA"}'
)


def parse_background(
    spec: str | os.PathLike[str] | dict | Background,
    *,
    fit: str | None = None,
    play_style: str | None = None,
) -> Background:
    """A background from a CLI/API spec.

    ``#RRGGBB`` / ``#RGB`` / a CSS name, ``transparent``, an image or video path
    or http(s) URL, HeyGen's JSON object (a dict, inline text, or a ``.json``
    file), or a ``Background`` as is. ``fit`` and ``play_style`` (the CLI's
    ``--fit`` and ``--play-style``) apply to image and video specs; in JSON
    they fill in what the object does not say. Besides HeyGen's keys, an image
    or video object may give ``"letterbox"``: the colour of ``contain``'s bars.
    A relative path inside a ``.json`` file is relative to that file.
    """
    if fit is not None:
        check_fit(fit)
    if play_style is not None:
        check_play_style(play_style)
    if isinstance(spec, Background):
        return spec
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
        if spec.lower().endswith(".json"):
            return _from_json_file(spec, fit, play_style)
        return open_media_background(spec, fit=fit, play_style=play_style)
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise ParameterError(f"the background is empty; {_HINT}")
        if text.startswith("{"):
            return _from_dict(_loads(text, "background JSON"), fit, play_style, None)
        if text.lower() == "transparent":
            return TransparentBackground()
        if text.startswith("#") or text.lower() in CSS_COLORS:
            return ColorBackground(parse_color(text))
        if _is_url_like(text):
            _check_url(text)
            return open_media_background(text, fit=fit, play_style=play_style)
        if text.lower().endswith(".json"):
            return _from_json_file(text, fit, play_style)
        if not Path(text).exists() and "/" not in text and "." not in text:
            raise ParameterError(
                f"invalid colour {text!r} (and no such file) for the background; {_HINT}"
            )
        return open_media_background(text, fit=fit, play_style=play_style)
    if isinstance(spec, dict):
        return _from_dict(spec, fit, play_style, None)
    raise ParameterError(
        f"background must be a string, a JSON object or a Background, got {spec!r}"
    )


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParameterError(
            f"{what} is malformed: {exc.msg} at line {exc.lineno} column {exc.colno}; "
            'write it like {"type": "image", "url": "https://…/bg.png"}'
        ) from exc


def _from_json_file(path: str, fit: str | None, play_style: str | None) -> Background:
    p = Path(path)
    if not p.is_file():
        raise InputNotFoundError(f"{path}: no such file; check the path")
    if p.stat().st_size > MAX_JSON_BYTES:
        raise ParameterError(f"{path}: too large for a background JSON file; it holds one object")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"{path}: not UTF-8 text; a background JSON file is text") from exc
    return _from_dict(_loads(text, f"{path}"), fit, play_style, p.resolve().parent)


def _media_location(spec: dict, kind: str, base: Path | None) -> str:
    loc = spec.get("url", spec.get("path"))
    if loc is None:
        asset = spec.get(f"{kind}_asset_id")
        extra = " (HeyGen asset ids only work inside HeyGen)" if asset else ""
        raise ParameterError(
            f'background {{"type": "{kind}"}} needs a "url": an http(s) URL or a file path{extra}'
        )
    if not isinstance(loc, str) or not loc.strip():
        raise ParameterError(
            f'background {kind} "url" must be a non-empty string (a URL or a path), got {loc!r}'
        )
    loc = loc.strip()
    if base is not None and not _is_url_like(loc) and not Path(loc).is_absolute():
        loc = str(base / loc)  # a path in a .json file is relative to that file
    return loc


def _from_dict(spec: Any, fit: str | None, play_style: str | None, base: Path | None) -> Background:
    if not isinstance(spec, dict):
        raise ParameterError(
            f'background JSON must be an object like {{"type": "color", "value": "#FAFAFA"}}, '
            f"got {type(spec).__name__}"
        )
    kinds = "color, image, video or transparent"
    if "type" not in spec:
        raise ParameterError(f'background JSON needs a "type": {kinds}')
    kind = spec["type"]
    if not isinstance(kind, str) or kind.lower() not in (
        "color",
        "colour",
        "image",
        "video",
        "transparent",
    ):
        raise ParameterError(f"background type {kind!r} is not supported; use {kinds}")
    kind = "color" if kind.lower() == "colour" else kind.lower()
    if kind == "transparent":
        return TransparentBackground()
    if kind == "color":
        if "value" not in spec:
            raise ParameterError('background {"type": "color"} needs a "value" such as "#FAFAFA"')
        value = spec["value"]
        if not isinstance(value, str):
            raise ParameterError(
                f'background color "value" must be a string such as "#FAFAFA", got {value!r}'
            )
        return ColorBackground(parse_color(value))
    loc = _media_location(spec, kind, base)
    obj_fit = spec.get("fit", fit)
    if obj_fit is not None:
        check_fit(obj_fit)
    letterbox = spec.get("letterbox", (0.0, 0.0, 0.0))
    if kind == "image":
        return open_media_background(loc, fit=obj_fit, letterbox=letterbox, kind="image")
    style = spec.get("play_style", play_style)
    if style is not None:
        check_play_style(style)
    return open_media_background(
        loc, fit=obj_fit, play_style=style, letterbox=letterbox, kind="video"
    )
