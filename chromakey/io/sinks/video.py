"""Video files and raw streams: H.264 MP4 with the source's audio, VP9 or ProRes with alpha,
NUT or Y4M — to a file (under a partial name until complete) or streamed to standard output.
"""

from __future__ import annotations

import contextlib
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np
from av.video.stream import VideoStream

from ...core.errors import OutputError
from ...core.frames import YuvImage
from ..media import output_error
from ..stdio import StdoutWriter, describe, is_stdio, silence_stdout
from .base import Sink
from .formats import video_format
from .partial import Warn, check_folder, create_partial, discard, publish


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
        warn: Warn | None = None,
    ) -> None:
        self.path = Path(path)
        self.to_stdout = is_stdio(path)
        self.name = describe(path, output=True)
        self.format = video_format(self.path, alpha, output_format)
        self.alpha = alpha
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
        self._target = None if self.to_stdout else self.path  # what error messages name
        self._writer: StdoutWriter | None = None
        target: Any
        if self.to_stdout:
            if sys.stdout is not None and sys.stdout.isatty():
                raise OutputError(
                    "standard output is a terminal; send the video to a file or a program "
                    "(-o - > out.nut, -o - | ffplay -)"
                )
            target = self._writer = StdoutWriter()
        else:
            check_folder(self.path)
            self.tmp = create_partial(self.path, warn=warn)
            target = str(self.tmp)
        try:
            self._open(target, rate, time_base, audio_stream)
        except BaseException:
            if hasattr(self, "container"):
                with contextlib.suppress(Exception):
                    self.container.close()
            if self.tmp is not None:
                discard(self.tmp)  # a failure or a signal while setting up: no partial left
            raise

    def _open(
        self,
        target: Any,
        rate: Fraction | None,
        time_base: Fraction | None,
        audio_stream: av.audio.stream.AudioStream | None,
    ) -> None:
        try:
            self.container = av.open(
                target, "w", format=self.format.container, options=self.format.container_options
            )
            s = cast(
                VideoStream, self.container.add_stream(self.format.codec, rate=rate or Fraction(30))
            )
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.errno is not None:
                raise output_error(exc, self.name, path=self.path) from exc
            raise OutputError(
                f"{self.name}: cannot create the file ({exc})", path=self.path, detail=str(exc)
            ) from exc
        s.width, s.height, s.pix_fmt = self.width, self.height, self.format.pix_fmt
        # The encoder counts in the source's time base too, so VFR stamps survive unrounded;
        # a file that keeps only a frame rate (Y4M) counts frames, and writes that rate.
        if self.format.fixed_rate:
            time_base = 1 / Fraction(rate or 30)
        self.time_base = time_base or Fraction(1, 90000)
        s.time_base = s.codec_context.time_base = self.time_base
        s.options = dict(self.format.options)
        cc = s.codec_context
        cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
        s.thread_type = "AUTO"
        self.stream = s
        self.audio_out: Any = None
        self._audio_decoder: Any = None
        self._resampler: Any = None
        if audio_stream is not None and self.format.audio_codec is not None:
            self._add_audio(audio_stream, self.format.audio_codec)
        self._last_pts: int | None = None
        self.frames = 0

    def _add_audio(self, template: av.audio.stream.AudioStream, codec: str) -> None:
        if template.codec_context.name in self.format.audio_copy:
            self.audio_out = self.container.add_stream_from_template(template)
            return
        rate = 48000 if codec == "libopus" else (template.codec_context.sample_rate or 48000)
        self.audio_out = self.container.add_stream(codec, rate=rate)
        self.audio_out.layout = "stereo"
        self._audio_decoder = template.codec_context
        self._resampler = av.AudioResampler(
            format=self.audio_out.codec_context.format.name, layout="stereo", rate=rate
        )

    def _rgb_frame(self, image: np.ndarray) -> av.VideoFrame:
        if self.alpha or image.shape[2] == 3:
            pixels, fmt = np.ascontiguousarray(image), "rgba" if self.alpha else "rgb24"
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
        if a is not None and not self.alpha:
            y, u, v, a = (*_over_black(y, u, v, a), None)
        elif a is None and self.alpha:
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
            # A plane is a buffer (PyAV's stubs do not say so).
            view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)  # type: ignore[call-overload]
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
        pts = round(time / self.time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            pts = self._last_pts + 1  # decoders may repeat or reorder a stamp; keep order strict
        self._last_pts = pts
        if self._raw_as_is(image):
            self._mux([self._raw_packet(image, pts)])  # type: ignore[arg-type]
            self.frames += 1
            return
        yuv = isinstance(image, YuvImage)
        frame = self._yuv_frame(image) if yuv else self._rgb_frame(image)  # type: ignore[arg-type]
        frame.pts = pts
        frame.time_base = self.time_base
        frame.colorspace, frame.color_range = 1, 1
        self._mux(self.stream.encode(frame))
        self.frames += 1

    def _raw_as_is(self, image: np.ndarray | YuvImage) -> bool:
        """A rawvideo file whose pixels are ``image``'s bytes as they are (NUT RGB/RGBA at the
        stream's size): the packet can be the image itself."""
        return (
            self.format.codec == "rawvideo"
            and isinstance(image, np.ndarray)
            and image.dtype == np.uint8
            and image.shape == (self.height, self.width, 4 if self.alpha else 3)
            and image.flags.c_contiguous
        )

    def _raw_packet(self, image: np.ndarray, pts: int) -> av.Packet:
        """What the rawvideo encoder would make of ``image``, byte for byte, without copying
        it twice (into a frame, then into the packet): a packet over the array's own memory,
        which PyAV keeps alive until the muxer is done with it."""
        packet = av.Packet(image)  # type: ignore[arg-type]  # any buffer (the stubs: bytes)
        packet.pts = packet.dts = pts
        packet.time_base = self.time_base
        packet.stream = self.stream
        packet.is_keyframe = True
        return packet

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
        except (av.error.FFmpegError, OSError) as exc:
            self._raise_interrupt()
            raise output_error(exc, self.name, path=self._target) from exc

    def _raise_interrupt(self) -> None:
        """A signal that came while standard output's write waited: raise it as it came."""
        if self._writer is not None and self._writer.interrupted is not None:
            raise self._writer.interrupted

    def _reader_gone(self) -> OutputError:
        """Standard output's reader went away: nothing more can go there; say so once."""
        silence_stdout()
        return OutputError(
            f"{self.name}: the reader closed the pipe after {self.frames} "
            f"frame{'' if self.frames == 1 else 's'} (broken pipe)",
            errno=32,
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
            except (av.error.FFmpegError, OSError) as exc:
                self._raise_interrupt()
                raise output_error(exc, self.name, path=self._target) from exc
        except BaseException:
            self.abort()
            raise
        if self.tmp is not None:
            publish(self.tmp, self.path)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.stop()  # an abandoned stream: no trailer to wait on a stalled reader
        with contextlib.suppress(Exception):
            self.container.close()
        if self.tmp is not None:
            discard(self.tmp)


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
