"""Where composited frames go: an H.264 MP4 with the source's audio, a PNG sequence, a callback.

Files are written under a temporary name beside the target and moved into
place only when complete, so an interrupted render never leaves half a file
at the name the user asked for.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .errors import OutputError, ParameterError


@dataclass(frozen=True)
class VideoFormat:
    """How one kind of video file is written: container, codec, pixels, audio it can carry."""

    container: str
    codec: str
    pix_fmt: str
    options: dict[str, str]
    audio_copy: frozenset[str]  # audio codecs the container takes as they are
    audio_codec: str  # what other audio is re-encoded to


_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"})
_H264 = {"preset": "veryfast", "crf": "18"}
# (extension, with alpha) → format. VP9 alpha must be decoded with libvpx-vp9 (FFmpeg's own vp9
# decoder drops it); ProRes 4444 is the dependable alternative for editors.
VIDEO_FORMATS: dict[tuple[str, bool], VideoFormat] = {
    (".mp4", False): VideoFormat("mp4", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".m4v", False): VideoFormat("mp4", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".mov", False): VideoFormat("mov", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".mkv", False): VideoFormat("matroska", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".webm", False): VideoFormat(
        "webm",
        "libvpx-vp9",
        "yuv420p",
        {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
        frozenset({"opus", "vorbis"}),
        "libopus",
    ),
    (".webm", True): VideoFormat(
        "webm",
        "libvpx-vp9",
        "yuva420p",
        {
            "crf": "30",
            "b": "0",
            "deadline": "realtime",
            "cpu-used": "8",
            "row-mt": "1",
            "auto-alt-ref": "0",
        },
        frozenset({"opus", "vorbis"}),
        "libopus",
    ),
    (".mov", True): VideoFormat(
        "mov",
        "prores_ks",
        "yuva444p10le",
        {"profile": "4", "vendor": "apl0"},
        _MP4_AUDIO | {"pcm_s16le", "pcm_s24le"},
        "aac",
    ),
}


def video_format(path: Path, alpha: bool) -> VideoFormat:
    ext = path.suffix.lower()
    fmt = VIDEO_FORMATS.get((ext, alpha))
    if fmt is not None:
        return fmt
    if alpha and (ext, False) in VIDEO_FORMATS:
        raise ParameterError(
            f"{path}: {ext} video has no alpha channel here; for transparent output use .webm "
            "(VP9 alpha), .mov (ProRes 4444) or a %05d.png pattern, or give a --background colour"
        )
    raise ParameterError(
        f"{path}: unknown output type {ext or '(no extension)'!r}; use .mp4, .mov, .mkv, .webm "
        "or a %05d.png pattern"
    )


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


def create_partial(path: Path) -> Path:
    """A new empty file ``.{stem}.partial-XXXXXXXX{ext}`` beside ``path``, to write and then
    move into place; its mode comes from the umask, as the finished output's should."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    for _ in range(100):
        tmp = folder / f".{path.stem}.partial-{secrets.token_hex(4)}{path.suffix}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(
                f"{path}: cannot write in {folder} ({exc.strerror or exc}); choose another output"
            ) from exc
        os.close(fd)
        return tmp
    raise OutputError(f"{path}: cannot create a temporary file in {folder}; choose another output")


class VideoFileSink(Sink):
    """A video file: H.264 (MP4/MOV/MKV), VP9 (WebM, with alpha) or ProRes 4444 (MOV, with alpha).

    The source's audio is muxed in as it is where the container takes it and
    re-encoded otherwise; frame timestamps are kept, so variable frame rate
    and audio sync survive.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        *,
        alpha: bool = False,
        rate: Fraction | None = None,
        time_base: Fraction | None = None,
        audio_stream: av.audio.stream.AudioStream | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = video_format(self.path, alpha)
        _check_folder(self.path)
        self.wants_alpha = alpha
        self.width, self.height = width - width % 2, height - height % 2
        if self.width < 2 or self.height < 2:
            raise OutputError(
                f"{self.path}: {width}×{height} is too small for {self.format.codec}; use PNG output"
            )
        self.tmp = create_partial(self.path)
        try:
            self.container = av.open(str(self.tmp), "w", format=self.format.container)
            s = self.container.add_stream(self.format.codec, rate=rate or Fraction(30))
        except (av.error.FFmpegError, ValueError) as exc:
            self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.path}: cannot create the file ({exc})") from exc
        s.width, s.height, s.pix_fmt = self.width, self.height, self.format.pix_fmt
        # The encoder counts in the source's time base too, so VFR stamps survive unrounded.
        s.time_base = s.codec_context.time_base = time_base or Fraction(1, 90000)
        s.options = dict(self.format.options)
        cc = s.codec_context
        cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
        s.thread_type = "AUTO"
        self.stream = s
        self.audio_out: Any = None
        self._audio_decoder: Any = None
        self._resampler: Any = None
        if audio_stream is not None:
            self._add_audio(audio_stream)
        self._last_pts: int | None = None

    def _add_audio(self, template: av.audio.stream.AudioStream) -> None:
        if template.codec_context.name in self.format.audio_copy:
            self.audio_out = self.container.add_stream_from_template(template)
            return
        rate = (
            48000
            if self.format.audio_codec == "libopus"
            else (template.codec_context.sample_rate or 48000)
        )
        self.audio_out = self.container.add_stream(self.format.audio_codec, rate=rate)
        self.audio_out.layout = "stereo"
        self._audio_decoder = template.codec_context
        self._resampler = av.AudioResampler(
            format=self.audio_out.codec_context.format.name, layout="stereo", rate=rate
        )

    def write(self, image: np.ndarray, time: float) -> None:
        if self.wants_alpha or image.shape[2] == 3:
            pixels, fmt = np.ascontiguousarray(image), "rgba" if self.wants_alpha else "rgb24"
        else:
            # A background with transparent parts into an opaque file: over black.
            a = image[..., 3:4].astype(np.uint16)
            pixels, fmt = ((image[..., :3] * a + 127) // 255).astype(np.uint8), "rgb24"
        frame = av.VideoFrame.from_ndarray(pixels, format=fmt)
        frame = frame.reformat(
            width=self.width,
            height=self.height,
            format=self.format.pix_fmt,
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
        if self._audio_decoder is None:
            packet.stream = self.audio_out
            self._mux([packet])
            return
        for decoded in self._audio_decoder.decode(packet):
            decoded.pts = None
            for f in self._resampler.resample(decoded):
                self._mux(self.audio_out.encode(f))

    def _mux(self, packets: Any) -> None:
        for p in packets:
            self.container.mux(p)

    def close(self) -> None:
        try:
            self._mux(self.stream.encode(None))
            if self._audio_decoder is not None:
                for f in self._resampler.resample(None):
                    self._mux(self.audio_out.encode(f))
                self._mux(self.audio_out.encode(None))
            self.container.close()
        except BaseException:
            self.abort()
            raise
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        self.tmp.unlink(missing_ok=True)


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
        try:
            self.tmpdir = Path(
                tempfile.mkdtemp(prefix=f".{self.folder.name or 'frames'}.partial-", dir=parent)
            )
        except OSError as exc:
            raise OutputError(
                f"{self.pattern}: cannot write in {parent} ({exc.strerror}); choose another output"
            ) from exc
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
