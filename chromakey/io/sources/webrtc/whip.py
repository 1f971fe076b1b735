"""WHIP ingest (RFC 9725): any WebRTC publisher pushes its stream to us.

``chromakey render whip://127.0.0.1:8889/live -o out.mp4`` (or ``preview``) serves an endpoint
at ``http://127.0.0.1:8889/live``; a publisher (OBS 30+, a browser, FFmpeg's ``whip`` muxer)
POSTs its SDP offer there and gets the answer with ``201 Created`` and the session's URL in
``Location``; DELETE on that URL ends the session. aiortc is the peer: it decodes VP8 or
H.264 into PyAV frames, which :class:`chromakey.io.sources.webrtc.track.LiveTrackSource` queues for the
keyer as they are.

Policy:
- it listens only where told (an empty host is loopback) and takes one publisher at a time:
  a second gets 409 until the first leaves;
- ``token`` (``--whip-token``) is checked as WHIP says: ``Authorization: Bearer TOKEN``, else
  401 with ``WWW-Authenticate: Bearer``;
- the offer is at most 64 KiB (413 above), ``application/sdp`` (415 otherwise), arrives
  within ``BODY_TIMEOUT`` seconds (408, and the connection closed), and must pass
  :func:`chromakey.io.sources.webrtc.sdpcheck.check_offer`: at most ``MAX_SECTIONS``
  sections, valid ports and candidates, a video section in VP8 or H.264 (400 otherwise)
  that sends (422 for a recvonly or inactive one, which would hold the slot for nothing);
- malformed HTTP (bad chunks, a lying Content-Length, headers past ``MAX_HEADER_BYTES``) is
  aiohttp's 400; a client that goes away mid-offer gets nothing. Every refusal is at most
  one log line, and what a peer sent is shown escaped and cut short
  (:mod:`chromakey.io.sources.webrtc.shown`), never raw: aiohttp's own log and the event
  loop's exception handler are routed through :mod:`chromakey.io.sources.webrtc.serverlog`;
- browsers on other origins may publish: OPTIONS answers the CORS preflight, and ``Location``
  is exposed to scripts;
- no trickle ICE (aiortc gathers every candidate before it answers): PATCH gets 405;
- a publisher leaves by DELETE, by closing its connection, or by sending no media for
  ``stall_timeout`` seconds (one that never sends any is let go after ``connect_timeout``).
  With ``once`` (``render``) the first publisher that sent frames ends the stream when it
  leaves, so the file is finished; otherwise (``preview``) the endpoint waits for the next.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ....core.errors import ParameterError
from .endpoint import BODY_TIMEOUT, MAX_HEADER_BYTES, MAX_SDP, SdpEndpoint
from .peer import LoopThread, new_peer, require_aiortc
from .serverlog import loop_exception_handler
from .shown import shown
from .track import LiveTrackSource
from .urls import WhipLocation, parse_location

__all__ = ["BODY_TIMEOUT", "MAX_HEADER_BYTES", "MAX_SDP", "WhipSource"]

_log = logging.getLogger(__name__)
CLOSE_TIMEOUT = 5.0  # s for aiortc to close a publisher's peer (one that vanished can hang it)


def status_line(line: str) -> None:
    """A server's or a room's state for the user ("whip: …", "livekit: …"): logged, and
    printed by the command line as it is, after "chromakey: "."""
    _log.info(line, extra={"lead": ""})


@dataclass
class _Session:
    id: str
    pc: Any
    peer: str
    started: float = field(default_factory=time.monotonic)
    frames_before: int = 0  # the source's frame count when the session began
    tracks: set[str] = field(default_factory=set)
    tasks: list[asyncio.Task] = field(default_factory=list)


class WhipSource(LiveTrackSource):
    """A WHIP endpoint whose first publisher's video (and audio) is the foreground."""

    def __init__(
        self,
        location: str,
        *,
        once: bool = False,
        queue_size: int = 8,
        audio: bool = True,
        token: str | None = None,
        stall_timeout: float = 5.0,
        connect_timeout: float = 15.0,
        ice_servers: Sequence[str] = (),
        log: Callable[[str], Any] | None = None,
    ) -> None:
        require_aiortc()
        where = parse_location(location)
        if not isinstance(where, WhipLocation):
            raise ParameterError(f"{location!r}: a WHIP endpoint is whip://HOST:PORT/PATH")
        if token is not None and not token.strip():
            raise ParameterError("--whip-token is empty; give a token or leave the option out")
        for name, value in (("stall_timeout", stall_timeout), ("connect_timeout", connect_timeout)):
            if not value > 0:
                raise ParameterError(f"{name} must be a positive number of seconds, got {value!r}")
        super().__init__(location, queue_size=queue_size, audio=audio)
        self.endpoint = where
        self.once = once
        self.token = token
        self.stall_timeout = float(stall_timeout)
        self.connect_timeout = float(connect_timeout)
        self.ice_servers = tuple(ice_servers)
        self.log = log or status_line
        self.http = SdpEndpoint("whip", where, token, self.log)
        self.refused = self.http.refused  # HTTP status → count, for tests and the status line
        self._session: _Session | None = None
        self._loop = LoopThread("chromakey-whip")
        self._loop.loop.set_exception_handler(loop_exception_handler("whip", self.log))
        self.http.start(self._loop, self._serve(), "one publisher", "--whip-token")

    # --- HTTP ------------------------------------------------------------------------------------

    async def _serve(self) -> None:
        await self.http.serve(
            receives=False, busy=self._busy, answer=self._answer, leave=self._leave_by_id
        )
        self._watchdog = asyncio.ensure_future(self._watch())

    def _busy(self, request: Any) -> Any | None:
        if self._session is None:
            return None
        return self.http.reply(
            request, 409, "another publisher is live here; try again when it has left"
        )

    async def _answer(self, request: Any, sdp: str, offer: Any) -> Any:
        from aiortc import RTCSessionDescription

        session = _Session(secrets.token_urlsafe(12), new_peer(self.ice_servers), request.remote)
        self._session = session  # reserved before the first await: a racing POST gets 409
        pc = session.pc
        pc.on("track", lambda track: self._on_track(session, track))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                await self._end(session, f"the connection {pc.connectionState}")

        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except Exception as exc:  # noqa: BLE001 - aiortc refuses offers with many types
            self._session = None
            await pc.close()
            return self.http.reply(
                request, 400, f"malformed offer: cannot answer it ({shown(exc)})"
            )
        codecs = sorted({shown(c.mimeType, 40) for m in offer.media for c in m.rtp.codecs})
        self.begin(f"publisher {request.remote}")
        session.frames_before = self.frames
        self.log(f"whip: publisher {request.remote} connected (offers {', '.join(codecs[:6])})")
        location = self.http.session_path(session.id)
        return self.http.reply(
            request,
            201,
            pc.localDescription.sdp,
            Content_Type="application/sdp",
            Location=location,
            ETag=f'"{session.id}"',
        )

    async def _leave_by_id(self, session_id: str) -> bool:
        session = self._session
        if session is None or session_id != session.id:
            return False
        await self._end(session, "it sent DELETE")
        return True

    # --- media -------------------------------------------------------------------------------------

    def _on_track(self, session: _Session, track: Any) -> None:
        if track.kind in session.tracks or (track.kind == "audio" and self.audio is None):
            return  # one video and one audio track per publisher
        session.tracks.add(track.kind)
        session.tasks.append(asyncio.ensure_future(self._pump(session, track)))

    async def _pump(self, session: _Session, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while self._session is session:
            try:
                frame = await track.recv()
            except MediaStreamError:
                break
            if self._session is not session:
                break
            if track.kind == "video":
                self.video(frame)
            else:
                self.sound(frame)
        if track.kind == "video":
            await self._end(session, "its video track ended")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(0.25)
            session = self._session
            if session is None:
                continue
            now = time.monotonic()
            if self._last_media is None:
                if now - session.started > self.connect_timeout:
                    await self._end(session, f"no media within {self.connect_timeout:g} s")
            elif now - self._last_media > self.stall_timeout:
                await self._end(session, f"no media for {self.stall_timeout:g} s")

    async def _end(self, session: _Session, reason: str) -> None:
        if self._session is not session:
            return
        self._session = None
        frames = self.frames - session.frames_before
        self.leave(reason)
        self.log(f"whip: publisher {session.peer} left ({reason}) after {frames} frames")
        current = asyncio.current_task()
        for task in session.tasks:
            if task is not current:
                task.cancel()
        if self.once and frames:
            self.finish()  # the recording is complete: closing the peer is only cleanup
        try:
            await asyncio.wait_for(session.pc.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self.log(f"whip: the peer connection did not close within {CLOSE_TIMEOUT:g} s")
        if not (self.once and frames) and not self._stop.is_set():
            self.log("whip: waiting for the next publisher")

    # --- the end ------------------------------------------------------------------------------

    async def _shutdown(self) -> None:
        self._watchdog.cancel()
        if self._session is not None:
            await self._end(self._session, "chromakey stopped")
        await self.http.cleanup()

    def close(self) -> None:
        if self._stop.is_set():
            return
        super().close()
        try:
            self._loop.run(self._shutdown(), timeout=10.0)
        except Exception:  # noqa: BLE001 - closing: the loop stops regardless
            pass
        self._loop.stop()
