"""Where composited frames go: an H.264 MP4 with the source's audio, raw NUT or Y4M (to a file
or standard output), a PNG sequence, a callback.

Files are written under a temporary name beside the target and moved into
place only when complete, so an interrupted render never leaves half a file
at the name the user asked for. Standard output is streamed as it is written.

Each sink names the pixel layout its ``write`` takes without converting (``pixel_format``:
``rgb24``/``rgba`` for an H×W×3/4 array, ``yuv420p``/``yuva420p`` for a ``YuvImage``), so
that a keyer can write that layout directly and no conversion runs twice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from .errors import OutputError, ParameterError
from .frames import YuvImage
from .stdio import STDOUT_URL, describe, is_stdio, silence_stdout


@dataclass(frozen=True)
class VideoFormat:
    """How one kind of video file is written: container, codec, pixels, audio it can carry."""

    container: str
    codec: str
    pix_fmt: str
    options: dict[str, str]
    audio_copy: frozenset[str]  # audio codecs the container takes as they are
    audio_codec: str | None  # what other audio is re-encoded to; None: the file has no audio
    input_format: str = ""  # what write() takes as it is (Sink.pixel_format); "": pix_fmt
    even: bool = True  # the codec needs an even width and height (4:2:0 chroma)
    fixed_rate: bool = False  # the file stores a frame rate, no timestamps: count in 1/rate
    container_options: dict[str, str] = field(default_factory=dict)

    @property
    def pixel_format(self) -> str:
        return self.input_format or self.pix_fmt


_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"})
_H264 = {"preset": "veryfast", "crf": "18"}
_NUT_AUDIO = _MP4_AUDIO | {"vorbis", "mp2", "pcm_s16le", "pcm_s24le", "pcm_f32le"}
# Y4M names the chroma siting in its header; ours (and H.264's default) is left: C420mpeg2.
_Y4M = {"chroma_sample_location": "left"}
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
        input_format="rgba",  # full-resolution chroma: RGBA → 4:4:4 loses nothing
    ),
    # Raw outputs for other tools (and speed runs without an encoder). NUT carries rawvideo
    # RGB(A) and the source's audio as it is; Y4M carries only video, BT.709 limited range.
    (".nut", False): VideoFormat(
        "nut", "rawvideo", "rgb24", {}, _NUT_AUDIO, "pcm_s16le", even=False
    ),
    (".nut", True): VideoFormat("nut", "rawvideo", "rgba", {}, _NUT_AUDIO, "pcm_s16le", even=False),
    (".y4m", False): VideoFormat(
        "yuv4mpegpipe",
        "wrapped_avframe",
        "yuv420p",
        _Y4M,
        frozenset(),
        None,
        even=False,
        fixed_rate=True,
    ),
    # yuva444p is Y4M's only alpha layout ("C444alpha"), an FFmpeg extension: strict -1.
    (".y4m", True): VideoFormat(
        "yuv4mpegpipe",
        "wrapped_avframe",
        "yuva444p",
        _Y4M,
        frozenset(),
        None,
        input_format="rgba",
        even=False,
        fixed_rate=True,
        container_options={"strict": "unofficial"},
    ),
}
# --format NAME → the extension it writes (for standard output and names without one).
RAW_FORMATS = {"nut": ".nut", "y4m": ".y4m"}


def video_format(path: Path, alpha: bool, output_format: str | None = None) -> VideoFormat:
    """The format ``path`` is written in: ``output_format`` (``nut``/``y4m``) when given, else
    the one its extension names. Standard output (``-``) and names without an extension
    need ``output_format``."""
    name = describe(path, output=True)
    if output_format is not None:
        if output_format not in RAW_FORMATS:
            raise ParameterError(
                f"--format {output_format!r} is unknown; use {' or '.join(RAW_FORMATS)}"
            )
        ext = RAW_FORMATS[output_format]
        given = "" if is_stdio(path) else path.suffix.lower()
        if given in {e for e, _ in VIDEO_FORMATS} and given != ext:
            raise ParameterError(
                f"{name}: --format {output_format} does not match its {given} extension; "
                "drop one of them"
            )
    elif is_stdio(path) or not path.suffix:
        raise ParameterError(
            f"{name}: the output has no extension to tell its format; "
            f"add --format {' or --format '.join(RAW_FORMATS)}"
        )
    else:
        ext = path.suffix.lower()
    fmt = VIDEO_FORMATS.get((ext, alpha))
    if fmt is not None:
        return fmt
    if alpha and (ext, False) in VIDEO_FORMATS:
        raise ParameterError(
            f"{name}: {ext} video has no alpha channel here; for transparent output use .webm "
            "(VP9 alpha), .mov (ProRes 4444), .nut, .y4m or a %05d.png pattern, or give a "
            "--background colour"
        )
    raise ParameterError(
        f"{name}: unknown output type {ext!r}; use .mp4, .mov, .mkv, .webm, .nut, .y4m "
        "or a %05d.png pattern"
    )


class Sink:
    """A consumer of composited frames; ``close`` publishes, ``abort`` discards."""

    wants_alpha = False
    pixel_format = "rgb24"  # the layout write() takes as it is; "rgba" when wants_alpha

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
    """A video file: H.264 (MP4/MOV/MKV), VP9 (WebM, with alpha), ProRes 4444 (MOV, with
    alpha), rawvideo RGB(A) in NUT, or Y4M — to a file, or streamed to standard output (``-``).

    The source's audio is muxed in as it is where the container takes it and
    re-encoded otherwise (Y4M has none); frame timestamps are kept, so variable frame rate
    and audio sync survive. ``write`` takes an H×W×3/4 uint8 array or a ``YuvImage``, whose
    planes go into the frame as they are.
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
        output_format: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.to_stdout = is_stdio(path)
        self.name = describe(path, output=True)
        self.format = video_format(self.path, alpha, output_format)
        self.wants_alpha = alpha
        self.pixel_format = self.format.pixel_format
        if self.format.even:
            self.width, self.height = width - width % 2, height - height % 2
        else:
            self.width, self.height = width, height
        if min(self.width, self.height) < (2 if self.format.even else 1):
            raise OutputError(
                f"{self.name}: {width}×{height} is too small for {self.format.codec}; use PNG output"
            )
        self.tmp: Path | None = None
        if self.to_stdout:
            if sys.stdout is not None and sys.stdout.isatty():
                raise OutputError(
                    "standard output is a terminal; send the video to a file or a program "
                    "(-o - > out.nut, -o - | ffplay -)"
                )
            target = STDOUT_URL
        else:
            _check_folder(self.path)
            self.tmp = create_partial(self.path)
            target = str(self.tmp)
        try:
            self.container = av.open(
                target, "w", format=self.format.container, options=self.format.container_options
            )
            s = self.container.add_stream(self.format.codec, rate=rate or Fraction(30))
        except (av.error.FFmpegError, ValueError) as exc:
            if self.tmp is not None:
                self.tmp.unlink(missing_ok=True)
            raise OutputError(f"{self.name}: cannot create the file ({exc})") from exc
        s.width, s.height, s.pix_fmt = self.width, self.height, self.format.pix_fmt
        # The encoder counts in the source's time base too, so VFR stamps survive unrounded;
        # a file that keeps only a frame rate (Y4M) counts frames, and writes that rate.
        if self.format.fixed_rate:
            time_base = 1 / Fraction(rate or 30)
        s.time_base = s.codec_context.time_base = time_base or Fraction(1, 90000)
        s.options = dict(self.format.options)
        cc = s.codec_context
        cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
        s.thread_type = "AUTO"
        self.stream = s
        self.audio_out: Any = None
        self._audio_decoder: Any = None
        self._resampler: Any = None
        if audio_stream is not None and self.format.audio_codec is not None:
            self._add_audio(audio_stream)
        self._last_pts: int | None = None
        self.frames = 0

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

    def _rgb_frame(self, image: np.ndarray) -> av.VideoFrame:
        if self.wants_alpha or image.shape[2] == 3:
            pixels, fmt = np.ascontiguousarray(image), "rgba" if self.wants_alpha else "rgb24"
        else:
            # A background with transparent parts into an opaque file: over black.
            a = image[..., 3:4].astype(np.uint16)
            pixels, fmt = ((image[..., :3] * a + 127) // 255).astype(np.uint8), "rgb24"
        frame = av.VideoFrame.from_ndarray(pixels, format=fmt)
        return frame.reformat(
            width=self.width,
            height=self.height,
            format=self.format.pix_fmt,
            dst_colorspace=av.video.reformatter.Colorspace.ITU709,
            dst_color_range=av.video.reformatter.ColorRange.MPEG,
        )

    def _yuv_frame(self, image: YuvImage) -> av.VideoFrame:
        """The planes copied into a frame as they are; converted only where the file stores
        another layout (RGB in NUT, 4:4:4 with alpha) or the picture changed size."""
        y, u, v, a = image.y, image.u, image.v, image.a
        if a is not None and not self.wants_alpha:
            y, u, v, a = (*_over_black(y, u, v, a), None)
        elif a is None and self.wants_alpha:
            a = np.full_like(y, 255)
        # An odd size into an even-only codec: drop the last row or column, as a crop.
        h, w = self.height, self.width
        if (h, w) != y.shape and y.shape[0] - h in (0, 1) and y.shape[1] - w in (0, 1):
            ch, cw = (h + 1) // 2, (w + 1) // 2
            y, u, v = y[:h, :w], u[:ch, :cw], v[:ch, :cw]
            a = None if a is None else a[:h, :w]
        layout = "yuv420p" if a is None else "yuva420p"
        frame = av.VideoFrame(y.shape[1], y.shape[0], layout)
        planes = (y, u, v) if a is None else (y, u, v, a)
        for plane, pixels in zip(frame.planes, planes, strict=True):
            view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
            view[: pixels.shape[0], : pixels.shape[1]] = pixels
        frame.colorspace, frame.color_range = 1, 1
        if (layout, frame.width, frame.height) == (self.format.pix_fmt, self.width, self.height):
            return frame
        return frame.reformat(
            width=self.width,
            height=self.height,
            format=self.format.pix_fmt,
            src_colorspace=av.video.reformatter.Colorspace.ITU709,
            src_color_range=av.video.reformatter.ColorRange.MPEG,
            dst_colorspace=av.video.reformatter.Colorspace.ITU709,
            dst_color_range=av.video.reformatter.ColorRange.MPEG,
        )

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        yuv = isinstance(image, YuvImage)
        frame = self._yuv_frame(image) if yuv else self._rgb_frame(image)  # type: ignore[arg-type]
        pts = round(time / self.stream.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # decoders may repeat or reorder a stamp; keep order strict
        self._last_pts = pts
        frame.pts = pts
        frame.time_base = self.stream.time_base
        frame.colorspace, frame.color_range = 1, 1
        self._mux(self.stream.encode(frame))
        self.frames += 1

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
        try:
            for p in packets:
                self.container.mux(p)
        except BrokenPipeError as exc:
            raise self._reader_gone() from exc

    def _reader_gone(self) -> OutputError:
        """Standard output's reader went away: nothing more can go there; say so once."""
        silence_stdout()
        return OutputError(
            f"{self.name}: the reader closed the pipe after {self.frames} "
            f"frame{'' if self.frames == 1 else 's'} (broken pipe)"
        )

    def close(self) -> None:
        try:
            self._mux(self.stream.encode(None))
            if self._audio_decoder is not None:
                for f in self._resampler.resample(None):
                    self._mux(self.audio_out.encode(f))
                self._mux(self.audio_out.encode(None))
            try:
                self.container.close()
            except BrokenPipeError as exc:
                raise self._reader_gone() from exc
        except BaseException:
            self.abort()
            raise
        if self.tmp is not None:
            os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        if self.tmp is not None:
            self.tmp.unlink(missing_ok=True)


def _over_black(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, a: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Straight-alpha YUV over black, in limited range: luma towards 16, chroma towards 128
    (each linear in RGB, so this is the RGB composite's), chroma by the 2×2 mean alpha."""
    h, w = a.shape
    pad = np.pad(a, ((0, h % 2), (0, w % 2)), mode="edge").astype(np.uint16)
    ac = (pad[0::2, 0::2] + pad[0::2, 1::2] + pad[1::2, 0::2] + pad[1::2, 1::2] + 2) // 4

    def scale(p: np.ndarray, alpha: np.ndarray, zero: int) -> np.ndarray:
        d = p.astype(np.float32) - zero
        return np.clip(zero + np.rint(d * alpha * np.float32(1 / 255)), 0, 255).astype(np.uint8)

    return scale(y, a, 16), scale(u, ac, 128), scale(v, ac, 128)


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
        self.pixel_format = "rgba" if alpha else "rgb24"
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
        self.pixel_format = "rgba" if alpha else "rgb24"

    def write(self, image: np.ndarray, time: float) -> None:
        self.fn(image, time)
