"""Pushing the composite to a streaming server: ``rtmp(s)://`` as FLV (H.264 and AAC), and
the base of the SRT push (:mod:`chromakey.io.sinks.srt`, MPEG-TS).

Frames go out at the source's own pace (as ``ffmpeg -re``): each is held until its time has
come on the wall clock from the first frame, so that a file source streams in real time and
a live source, which arrives in real time, is not held at all. A connection that drops
mid-stream is re-opened with backoff (``RECONNECT_FIRST`` doubling to ``RECONNECT_MAX``),
frames in between dropped, each new connection starting with a keyframe; after
``give_up`` seconds without a connection, or when the server refuses the first one, a
one-line StreamError.
"""

from __future__ import annotations

import contextlib
import logging
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np

from ...core.errors import StreamError
from ...core.frames import YuvImage
from .base import Sink
from .realtime import RealTime, SourceAudio

log = logging.getLogger(__name__)

PUSH_SCHEMES = ("rtmp", "rtmps", "srt")
RECONNECT_FIRST = 0.5  # s before the first re-open; doubles each failure
RECONNECT_MAX = 4.0
GIVE_UP = 15.0  # s without a connection after which the push fails
_H264 = {"preset": "veryfast", "tune": "zerolatency", "bf": "0"}
_KEYFRAME_SECONDS = 2  # a viewer joining mid-stream waits at most this for a picture


def is_push(location: str) -> bool:
    """Whether ``location`` names a streaming server to push to."""
    return location.split("://", 1)[0].lower() in PUSH_SCHEMES and "://" in location


class StreamSink(Sink):
    """The composite as FLV (H.264 yuv420p BT.709, AAC) pushed to an RTMP server."""

    pixel_format = "rgb24"

    def __init__(
        self,
        url: str,
        width: int,
        height: int,
        *,
        rate: Fraction | None = None,
        audio_stream: Any = None,
        give_up: float = GIVE_UP,
        clock: Any = time.monotonic,
        sleep: Any = time.sleep,
    ) -> None:
        self.url = url
        self.width, self.height = width - width % 2, height - height % 2
        self.rate = Fraction(rate) if rate else Fraction(30)
        self.give_up = give_up
        self.clock = clock
        self._pace = RealTime(clock, sleep)
        self._template = audio_stream
        self.frames = 0
        self.dropped = 0
        self.reconnects = 0
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._backoff = RECONNECT_FIRST
        self._container: Any = None
        self._last_ms: int | None = None
        # The source's audio for AAC, on the stream's clock across connections.
        self._sound = SourceAudio(audio_stream, "fltp") if audio_stream is not None else None
        try:
            self._connect()
        except (av.error.FFmpegError, OSError) as exc:
            raise StreamError(f"{url}: the server refused the stream ({_why(exc)})") from exc

    container_format = "flv"

    def _open_container(self) -> Any:
        """The output container of a new connection (connecting: a refusal raises here)."""
        return av.open(self.url, "w", format=self.container_format)

    def _connect(self) -> None:
        """A new connection: container, encoders (a keyframe first), audio re-encoder."""
        c = self._open_container()
        try:
            v = c.add_stream("libx264", rate=self.rate)
            v.width, v.height, v.pix_fmt = self.width, self.height, "yuv420p"
            v.options = dict(_H264, g=str(round(float(self.rate) * _KEYFRAME_SECONDS)))
            v.time_base = v.codec_context.time_base = Fraction(1, 1000)
            cc = v.codec_context
            cc.color_range, cc.colorspace, cc.color_primaries, cc.color_trc = 1, 1, 1, 1
            self._video = v
            self._audio = None
            if self._template is not None:
                a = c.add_stream("aac", rate=SourceAudio.RATE)
                a.layout = "stereo"
                self._audio = a
            c.start_encoding()  # connects: a refusal raises here
        except BaseException:
            with contextlib.suppress(Exception):
                c.close()
            raise
        self._container = c

    # --- the connection's life ------------------------------------------------------------

    def _lost(self, exc: BaseException) -> None:
        now = self.clock()
        if self._down_since is None:
            log.warning("%s: the connection dropped (%s); reconnecting", self.url, _why(exc))
            self._down_since = now
            self._backoff = RECONNECT_FIRST
            self._retry_at = now + self._backoff
        with contextlib.suppress(Exception):
            self._container.close()
        self._container = None

    def _ensure(self) -> bool:
        """Whether a connection is up; re-opens one when its backoff is over."""
        if self._container is not None:
            return True
        now = self.clock()
        assert self._down_since is not None
        if now - self._down_since > self.give_up:
            raise StreamError(
                f"{self.url}: the connection dropped and could not be re-opened for "
                f"{self.give_up:g} s ({self.reconnects} reconnects before); giving up"
            )
        if now < self._retry_at:
            return False
        try:
            self._connect()
        except (av.error.FFmpegError, OSError) as exc:
            self._backoff = min(self._backoff * 2, RECONNECT_MAX)
            self._retry_at = now + self._backoff
            log.info(
                "%s: reconnect failed (%s); next in %.1f s", self.url, _why(exc), self._backoff
            )
            return False
        self.reconnects += 1
        self._down_since = None
        log.warning("%s: reconnected", self.url)
        return True

    def _mux(self, packets: Any) -> None:
        try:
            for p in packets:
                self._container.mux(p)
        except (av.error.FFmpegError, OSError) as exc:
            self._lost(exc)

    # --- Sink -----------------------------------------------------------------------------

    def write(self, image: np.ndarray | YuvImage, time_s: float) -> None:
        if isinstance(image, YuvImage):
            raise TypeError("the stream sink takes RGB arrays (pixel_format 'rgb24')")
        self._pace.hold(time_s)
        if not self._ensure():
            self.dropped += 1
            return
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[..., :3]), format="rgb24")
        frame = frame.reformat(
            width=self.width,
            height=self.height,
            format="yuv420p",
            dst_colorspace=av.video.reformatter.Colorspace.ITU709,
            dst_color_range=av.video.reformatter.ColorRange.MPEG,
        )
        ms = round(time_s * 1000)
        if self._last_ms is not None and ms <= self._last_ms:
            ms = self._last_ms + 1
        self._last_ms = ms
        frame.pts, frame.time_base = ms, Fraction(1, 1000)
        frame.colorspace, frame.color_range = 1, 1
        self._mux(self._video.encode(frame))
        self.frames += 1

    def write_audio(self, packet: av.Packet) -> None:
        if self._container is None or self._audio is None or self._sound is None:
            return
        for f in self._sound.frames(packet):
            self._mux(self._audio.encode(f))

    def close(self) -> None:
        if self._container is None:
            if self._down_since is not None:
                raise StreamError(
                    f"{self.url}: the connection dropped after {self.frames} frames and "
                    "could not be re-opened before the input ended"
                )
            return
        self._mux(self._video.encode(None))
        if self._audio is not None and self._container is not None:
            self._mux(self._audio.encode(None))
        if self._container is not None:
            with contextlib.suppress(av.error.FFmpegError, OSError):
                self._container.close()
            self._container = None

    def abort(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None


def _why(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
