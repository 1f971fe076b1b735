"""Where composited frames go: an H.264 MP4 with the source's audio, a PNG sequence, a callback.

Files are written under a temporary name beside the target and moved into
place only when complete, so an interrupted render never leaves half a file
at the name the user asked for.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .errors import OutputError, ParameterError

# Audio codecs MP4 carries as they are; anything else is re-encoded to AAC.
_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"}


class Sink:
    """A consumer of composited frames; ``close`` publishes, ``abort`` discards."""

    wants_alpha = False

    def write(self, image: np.ndarray, time: float) -> None:
        raise NotImplementedError

    def write_audio(self, packet: av.Packet) -> None:
        """Audio packets of the source, in order; sinks without audio ignore them."""

    def close(self) -> None:
        """Finish and publish the output."""

    def abort(self) -> None:
        """Stop and leave nothing behind (or what was there before)."""


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: the folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{path}: the folder {folder} is not writable; choose another output")


def _temp_name(path: Path) -> Path:
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.partial-", suffix=path.suffix, dir=path.parent or "."
    )
    os.close(fd)
    return Path(name)


class VideoFileSink(Sink):
    """H.264 yuv420p in MP4/MKV/MOV with the source's audio muxed in; timestamps kept (VFR-safe)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        *,
        rate: Fraction | None = None,
        time_base: Fraction | None = None,
        audio_stream: av.audio.stream.AudioStream | None = None,
        crf: int = 18,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        _check_folder(self.path)
        self.width, self.height = width - width % 2, height - height % 2
        if self.width < 2 or self.height < 2:
            raise OutputError(
                f"{self.path}: {width}×{height} is too small for H.264; use PNG output"
            )
        self.tmp = _temp_name(self.path)
        rate = rate or Fraction(30)
        try:
            self.container = av.open(str(self.tmp), "w", format=_format_for(self.path))
        except (av.error.FFmpegError, ValueError) as exc:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot create the file ({exc})") from exc
        s = self.container.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = self.width, self.height, "yuv420p"
        s.time_base = time_base or Fraction(1, 90000)
        s.options = {"crf": str(crf), "preset": preset}
        cc = s.codec_context
        cc.color_range = 1
        cc.colorspace = 1
        cc.color_primaries = 1
        cc.color_trc = 1
        s.thread_type = "AUTO"
        self.stream = s
        self.audio_in = audio_stream
        self.audio_out: Any = None
        self._audio_codec: Any = None
        self._resampler: Any = None
        if audio_stream is not None:
            self._add_audio(audio_stream)
        self._last_pts: int | None = None
        self._pending_audio: list[av.Packet] = []

    def _add_audio(self, template: av.audio.stream.AudioStream) -> None:
        if template.codec_context.name in _MP4_AUDIO:
            self.audio_out = self.container.add_stream_from_template(template)
        else:
            rate = template.codec_context.sample_rate or 48000
            self.audio_out = self.container.add_stream("aac", rate=rate)
            self._audio_codec = template.codec_context
            self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
            self.audio_out.layout = "stereo"

    def write(self, image: np.ndarray, time: float) -> None:
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[..., :3]), format="rgb24")
        frame = frame.reformat(
            width=self.width,
            height=self.height,
            format="yuv420p",
            dst_colorspace=av.video.reformatter.Colorspace.ITU709,
            dst_color_range=av.video.reformatter.ColorRange.MPEG,
        )
        pts = round(time / self.stream.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # decoders may repeat or reorder a stamp; keep order strict
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = self.stream.time_base
        frame.colorspace, frame.color_range = 1, 1
        self._mux(self.stream.encode(frame))

    def write_audio(self, packet: av.Packet) -> None:
        if self.audio_out is None:
            return
        if self._audio_codec is None:
            packet.stream = self.audio_out
            self._mux([packet])
            return
        for decoded in self._audio_codec.decode(packet):
            decoded.pts = None
            for f in self._resampler.resample(decoded):
                self._mux(self.audio_out.encode(f))

    def _mux(self, packets: Any) -> None:
        for p in packets:
            self.container.mux(p)

    def close(self) -> None:
        try:
            self._mux(self.stream.encode(None))
            if self._audio_codec is not None:
                for f in self._resampler.resample(None):
                    self._mux(self.audio_out.encode(f))
                self._mux(self.audio_out.encode(None))
            self.container.close()
        except BaseException:
            self.abort()
            raise
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the file is being thrown away
            pass
        self.tmp.unlink(missing_ok=True)


def _format_for(path: Path) -> str:
    ext = path.suffix.lower()
    formats = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}
    if ext not in formats:
        raise ParameterError(
            f"{path}: unknown output type {ext!r}; use .mp4, .mov, .mkv or a %05d.png pattern"
        )
    return formats[ext]


class PngSequenceSink(Sink):
    """Numbered PNGs (RGB, or straight RGBA when transparent), published together at the end."""

    def __init__(self, pattern: str | os.PathLike[str], *, alpha: bool, start: int = 1) -> None:
        self.pattern = str(pattern)
        try:
            self.pattern % 1
        except (TypeError, ValueError) as exc:
            raise ParameterError(
                f"{self.pattern}: a PNG sequence needs one %d-style number, like out/%05d.png"
            ) from exc
        self.folder = Path(self.pattern).parent
        parent = self.folder.parent if str(self.folder) not in ("", ".") else Path(".")
        if not parent.is_dir():
            raise OutputError(
                f"{self.pattern}: the folder {parent} does not exist; create it first"
            )
        if self.folder.exists() and not self.folder.is_dir():
            raise OutputError(f"{self.pattern}: {self.folder} is a file, not a folder")
        self.wants_alpha = alpha
        self.index = start
        self.tmpdir = Path(
            tempfile.mkdtemp(prefix=f".{self.folder.name or 'frames'}.partial-", dir=parent)
        )
        self._codec: Any = None
        self.written: list[str] = []

    def write(self, image: np.ndarray, time: float) -> None:
        fmt = "rgba" if image.shape[2] == 4 else "rgb24"
        h, w = image.shape[:2]
        if self._codec is None or (self._codec.width, self._codec.height, self._codec.pix_fmt) != (
            w,
            h,
            fmt,
        ):
            self._codec = av.CodecContext.create("png", "w")
            self._codec.width, self._codec.height, self._codec.pix_fmt = w, h, fmt
            self._codec.time_base = Fraction(1, 1000)
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=fmt)
        name = Path(self.pattern % self.index).name
        with open(self.tmpdir / name, "wb") as fh:
            for packet in self._codec.encode(frame):
                fh.write(bytes(packet))
        self.written.append(name)
        self.index += 1

    def close(self) -> None:
        self.folder.mkdir(exist_ok=True)
        for name in self.written:
            os.replace(self.tmpdir / name, self.folder / name)
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.tmpdir, ignore_errors=True)


class CallbackSink(Sink):
    """Hands each composited frame to a Python function: ``fn(image, time)``."""

    def __init__(self, fn: Callable[[np.ndarray, float], Any], *, alpha: bool = False) -> None:
        self.fn = fn
        self.wants_alpha = alpha

    def write(self, image: np.ndarray, time: float) -> None:
        self.fn(image, time)
