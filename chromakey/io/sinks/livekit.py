"""Publishing the composite into a LiveKit room: ``-o livekit+wss://HOST --token T``.

The keyed avatar joins the room as a participant of its own (the token's identity) and
publishes a video track ("chromakey", as a camera) and, where the source has audio, an audio
track ("chromakey-audio"), so that a web client subscribed to the room — LiveAvatar's own
page, for one — receives the keyed avatar as an ordinary track. Frames are handed to the
SDK's ``VideoSource`` as RGBA at the source's pace (as ``ffmpeg -re``); the SDK encodes them.
A transparent composite goes packed (colour left, alpha right as grey), as ``examples/web/``
unpacks it. Joining errors are one typed line, as for the LiveKit source.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np

from ...core.errors import ParameterError
from ...core.frames import YuvImage
from ..sources.webrtc.livekit import check_token, connect_error, require_livekit
from ..sources.webrtc.peer import LoopThread
from ..sources.webrtc.urls import LiveKitLocation, parse_location
from ..sources.webrtc.whip import status_line
from .base import Sink
from .realtime import RealTime, SourceAudio

__all__ = ["LiveKitSink", "pcm_frame", "rgba_frame"]

CONNECT_TIMEOUT = 15.0  # s to join the room


def rgba_frame(rtc: Any, image: np.ndarray) -> Any:
    """The SDK's RGBA video frame of an H×W×3 (opaque) or H×W×4 uint8 composite."""
    if image.shape[2] == 3:
        rgba = np.empty(image.shape[:2] + (4,), np.uint8)
        rgba[..., :3], rgba[..., 3] = image, 255
        image = rgba
    h, w = image.shape[:2]
    return rtc.VideoFrame(w, h, rtc.VideoBufferType.RGBA, np.ascontiguousarray(image).tobytes())


def pcm_frame(rtc: Any, frame: av.AudioFrame) -> Any:
    """The SDK's audio frame of a packed s16 stereo PyAV frame (:class:`SourceAudio`'s)."""
    pcm = frame.to_ndarray()  # (1, 2 · samples), interleaved
    return rtc.AudioFrame(pcm.tobytes(), frame.sample_rate, 2, frame.samples)


class LiveKitSink(Sink):
    """The composite (RGBA) published to a LiveKit room as a video track, with the audio."""

    pixel_format = "rgba"

    def __init__(
        self,
        location: str,
        width: int,
        height: int,
        *,
        token: str | None,
        audio_stream: Any = None,
        connect_timeout: float = CONNECT_TIMEOUT,
        log: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        where = parse_location(location)
        if not isinstance(where, LiveKitLocation):
            raise ParameterError(f"{location!r}: a LiveKit room is livekit+wss://HOST")
        claims = check_token(token)
        self.rtc = require_livekit()
        self.url = where.url
        self.width, self.height = width, height
        self.log = log or status_line
        self.frames = 0
        self._pace = RealTime(clock, sleep)
        self._sound = SourceAudio(audio_stream, "s16") if audio_stream is not None else None
        self._loop = LoopThread("chromakey-livekit-out")
        self.room: Any = None
        self._video: Any = None
        self._audio: Any = None
        try:
            self._loop.run(self._join(str(token), connect_timeout), timeout=connect_timeout + 30)
        except BaseException as exc:
            if self.room is not None:
                self._loop.run(self.room.disconnect(), timeout=5.0)
            self._loop.stop()
            raise connect_error(self.url, exc) from None
        who = claims.get("sub") or "the token's identity"
        self.log(f"livekit: publishing the composite into the room at {self.url} as {who}")

    async def _join(self, token: str, timeout: float) -> None:
        rtc = self.rtc
        self.room = room = rtc.Room()
        await room.connect(self.url, token, rtc.RoomOptions(auto_subscribe=False,
                                                            connect_timeout=timeout))  # fmt: skip
        self._video = rtc.VideoSource(self.width, self.height)
        video = rtc.LocalVideoTrack.create_video_track("chromakey", self._video)
        camera = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_CAMERA)
        await room.local_participant.publish_track(video, camera)
        if self._sound is not None:
            self._audio = rtc.AudioSource(SourceAudio.RATE, 2)
            audio = rtc.LocalAudioTrack.create_audio_track("chromakey-audio", self._audio)
            mic = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
            await room.local_participant.publish_track(audio, mic)

    def write(self, image: np.ndarray | YuvImage, time_s: float) -> None:
        if isinstance(image, YuvImage):
            raise TypeError("the LiveKit sink takes RGB(A) arrays (pixel_format 'rgba')")
        self._pace.hold(time_s)
        frame = rgba_frame(self.rtc, image)
        stamp = round(time_s * 1e6)
        self._loop.loop.call_soon_threadsafe(
            lambda: self._video.capture_frame(frame, timestamp_us=stamp)
        )
        self.frames += 1

    def write_audio(self, packet: av.Packet) -> None:
        if self._sound is None or self._audio is None:
            return
        for f in self._sound.frames(packet):
            frame = pcm_frame(self.rtc, f)
            asyncio.run_coroutine_threadsafe(self._audio.capture_frame(frame), self._loop.loop)

    async def _leave(self) -> None:
        if self.room is not None:
            await self.room.disconnect()

    def close(self) -> None:
        if self.room is None:
            return
        try:
            self._loop.run(self._leave(), timeout=10.0)
        except Exception:  # noqa: BLE001 - closing: the loop stops regardless
            pass
        self.room = None
        self._loop.stop()
        self.log(f"livekit: left the room after {self.frames} frames")

    def abort(self) -> None:
        self.close()
