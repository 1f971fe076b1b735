"""Serving the composite to WebRTC viewers over WHEP: ``-o whep://HOST:PORT/PATH``.

A viewer (a browser, OBS, our own ``whep://`` source) POSTs a receive-only SDP offer to
``http://HOST:PORT/PATH`` and gets the answer with ``201 Created`` and its session's URL in
``Location``; DELETE there leaves. Each viewer gets its own peer and its own encoder (VP8 or
H.264, whichever its offer prefers; the source's audio as Opus), so a viewer that joins
mid-stream starts on a keyframe at once, and its own bounded queue, so that a slow viewer
drops its own oldest frames and holds back no one. Frames leave at the source's pace (as
``ffmpeg -re``): a file streams in real time, a live source as it arrives. The first frame
waits up to ``wait_first`` seconds for the first viewer (``--whep-wait``), so that a file
is watched from its start; a live source meanwhile drops what its queue cannot hold.

The HTTP policy is the WHIP endpoint's (:mod:`chromakey.io.sources.webrtc.endpoint`):
loopback unless told, ``--whep-token`` as a bearer token, CORS for pages of other origins,
offer limits and one-line refusals; beyond ``max_viewers`` a viewer gets 503 with
``Retry-After``. Colour goes out as browsers show an untagged frame
(:data:`chromakey.core.color.WEBRTC_DISPLAYED`, BT.601 limited range; our own WHEP source
reads untagged frames as Chromium's canvas capture sends them, so pulling this output back
takes ``--input-matrix bt601 --input-range limited``). A transparent composite goes packed
(colour left, alpha right as grey), as ``examples/web/`` unpacks it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import numpy as np

from ...core.color import WEBRTC_DISPLAYED
from ...core.errors import ParameterError
from ...core.frames import YuvImage
from ..sources.webrtc.endpoint import SdpEndpoint
from ..sources.webrtc.peer import LoopThread, new_peer, require_aiortc
from ..sources.webrtc.serverlog import loop_exception_handler
from ..sources.webrtc.shown import shown
from ..sources.webrtc.urls import parse_output
from .base import Sink
from .realtime import RealTime, SourceAudio

__all__ = ["MAX_VIEWERS", "VIDEO_DEPTH", "WhepSink"]

log = logging.getLogger(__name__)

MAX_VIEWERS = 4  # viewers at once by default: each costs an encoder on the same cores
WAIT_FIRST = 60.0  # s the first frame waits for the first viewer by default
VIDEO_DEPTH = 2  # frames a viewer's queue holds before its oldest is dropped
AUDIO_DEPTH = 50  # audio frames likewise (about a second)
CLOSE_TIMEOUT = 5.0  # s for aiortc to close a viewer's peer
RETRY_AFTER = 5  # s a refused viewer is told to wait
_VIDEO_TIME_BASE = Fraction(1, 90000)  # RTP video clock


def status_line(line: str) -> None:
    """The server's state for the user ("whep: …"): logged, printed by the command line."""
    log.info(line, extra={"lead": ""})


@dataclass
class _Viewer:
    id: str
    pc: Any
    peer: str
    video: Any
    audio: Any = None
    started: float = field(default_factory=time.monotonic)


class WhepSink(Sink):
    """The composite (opaque RGB) served to WHEP viewers while the render runs."""

    pixel_format = "rgb24"

    def __init__(
        self,
        location: str,
        width: int,
        height: int,
        *,
        audio_stream: Any = None,
        token: str | None = None,
        max_viewers: int = MAX_VIEWERS,
        wait_first: float = WAIT_FIRST,
        ice_servers: Sequence[str] = (),
        log: Callable[[str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        require_aiortc()
        where = parse_output(location)
        if token is not None and not token.strip():
            raise ParameterError("--whep-token is empty; give a token or leave the option out")
        if max_viewers < 1:
            raise ParameterError(f"--whep-viewers must be at least 1, got {max_viewers}")
        if not wait_first >= 0:
            raise ParameterError(f"--whep-wait must be 0 or more seconds, got {wait_first!r}")
        self.wait_first = float(wait_first)
        self._joined = threading.Event()  # set when the first viewer joins
        self.where = where
        self.width, self.height = width - width % 2, height - height % 2
        self.max_viewers = int(max_viewers)
        self.ice_servers = tuple(ice_servers)
        self.log = log or status_line
        self.frames = 0
        self.viewers_seen = 0
        self.http = SdpEndpoint("whep", where, token, self.log)
        self.refused = self.http.refused
        self._viewers: dict[str, _Viewer] = {}
        self._pace = RealTime(clock, sleep)
        self._sound = SourceAudio(audio_stream, "s16") if audio_stream is not None else None
        self._closed = False
        self._loop = LoopThread("chromakey-whep")
        self._loop.loop.set_exception_handler(loop_exception_handler("whep", self.log))
        serving = self.http.serve(
            receives=True, busy=self._busy, answer=self._answer, leave=self._leave_by_id
        )
        self.http.start(
            self._loop, serving, f"up to {self.max_viewers} viewers (WHEP)", "--whep-token"
        )

    # --- HTTP ------------------------------------------------------------------------------

    def _busy(self, request: Any) -> Any | None:
        if self._closed:
            return self.http.reply(request, 503, "the stream has ended")
        if len(self._viewers) >= self.max_viewers:
            return self.http.reply(
                request,
                503,
                f"{self.max_viewers} viewers are watching already; try again later",
                Retry_After=str(RETRY_AFTER),
            )
        return None

    async def _answer(self, request: Any, sdp: str, offer: Any) -> Any:
        from aiortc import RTCSessionDescription

        from .whep_track import FeedTrack

        pc = new_peer(self.ice_servers)
        viewer = _Viewer(
            secrets.token_urlsafe(12), pc, request.remote, FeedTrack("video", VIDEO_DEPTH)
        )
        wants_audio = any(m.kind == "audio" for m in offer.media)
        if self._sound is not None and wants_audio:
            viewer.audio = FeedTrack("audio", AUDIO_DEPTH)
        self._viewers[viewer.id] = viewer  # counted before the first await: the limit holds

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._leave(viewer, f"the connection {pc.connectionState}")

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            for t in pc.getTransceivers():
                track = viewer.video if t.kind == "video" else viewer.audio
                if track is not None and t.sender.track is None:
                    t.sender.replaceTrack(track)
                    t.direction = "sendonly"
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # noqa: BLE001 - aiortc refuses offers with many types
            self._viewers.pop(viewer.id, None)
            await pc.close()
            return self.http.reply(
                request, 400, f"malformed offer: cannot answer it ({shown(exc)})"
            )
        self.viewers_seen += 1
        self._joined.set()
        self.log(
            f"whep: viewer {request.remote} joined ({len(self._viewers)} of {self.max_viewers})"
        )
        return self.http.reply(
            request,
            201,
            pc.localDescription.sdp,
            Content_Type="application/sdp",
            Location=self.http.session_path(viewer.id),
            ETag=f'"{viewer.id}"',
        )

    async def _leave_by_id(self, viewer_id: str) -> bool:
        viewer = self._viewers.get(viewer_id)
        if viewer is None:
            return False
        await self._leave(viewer, "it sent DELETE")
        return True

    async def _leave(self, viewer: _Viewer, reason: str) -> None:
        if self._viewers.pop(viewer.id, None) is None:
            return
        for track in (viewer.video, viewer.audio):
            if track is not None:
                track.end()
        sent, dropped = viewer.video.sent, viewer.video.dropped
        self.log(
            f"whep: viewer {viewer.peer} left ({reason}) after {sent} frames"
            + (f", {dropped} dropped as it fell behind" if dropped else "")
        )
        try:
            await asyncio.wait_for(viewer.pc.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self.log(f"whep: a viewer's connection did not close within {CLOSE_TIMEOUT:g} s")

    # --- frames, from the render thread ----------------------------------------------------

    def _to_viewers(self, frame: Any, kind: str) -> None:
        """On the loop: the frame into every viewer's queue."""
        for viewer in self._viewers.values():
            track = viewer.video if kind == "video" else viewer.audio
            if track is not None:
                track.offer(frame)

    def write(self, image: np.ndarray | YuvImage, time_s: float) -> None:
        if isinstance(image, YuvImage):
            raise TypeError("the WHEP sink takes RGB arrays (pixel_format 'rgb24')")
        if self.frames == 0 and self.wait_first > 0 and not self._joined.is_set():
            self.log(f"whep: waiting up to {self.wait_first:g} s for the first viewer")
            if not self._joined.wait(self.wait_first):
                self.log("whep: no viewer yet; streaming anyway")
        self._pace.hold(time_s)
        self.frames += 1
        if not self._viewers:
            return
        rgb = np.ascontiguousarray(image[: self.height, : self.width, :3])
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
            format="yuv420p",
            dst_colorspace=WEBRTC_DISPLAYED.sws_colorspace,
            dst_color_range=WEBRTC_DISPLAYED.sws_range,
        )
        frame.pts, frame.time_base = round(time_s * 90000), _VIDEO_TIME_BASE
        self._loop.loop.call_soon_threadsafe(self._to_viewers, frame, "video")

    def write_audio(self, packet: av.Packet) -> None:
        if self._sound is None:
            return
        frames = self._sound.frames(packet)
        if frames and self._viewers:
            for f in frames:
                self._loop.loop.call_soon_threadsafe(self._to_viewers, f, "audio")

    async def _shutdown(self) -> None:
        for viewer in list(self._viewers.values()):
            await self._leave(viewer, "the stream ended")
        await self.http.cleanup()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._loop.run(self._shutdown(), timeout=15.0)
        except Exception as exc:  # noqa: BLE001 - closing: the loop stops regardless
            self.log(f"whep: the server did not stop cleanly ({shown(exc)})")
        self._loop.stop()
        self.log(f"whep: stopped after {self.frames} frames, {self.viewers_seen} viewers")

    def abort(self) -> None:
        self.close()
