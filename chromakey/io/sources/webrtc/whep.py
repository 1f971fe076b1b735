"""WHEP pull: ``whep://HOST:PORT/PATH`` (plain http) or ``wheps://…`` (https).

A session POSTs a receive-only offer (video, and audio where the output takes it) with every
candidate gathered, takes the ``201 Created`` answer and the session URL from ``Location``,
and sends DELETE there when it is done. A lost session — the connection fails, or no media
for ``stall_timeout`` seconds — is re-opened with backoff (0.5 s doubling up to 8 s), the
last good frame staying on screen meanwhile; ``give_up`` seconds without a frame end the
stream with StreamError. A session the server closes itself (DTLS close: the stream is
over) ends a ``render`` (``once``) cleanly; a preview re-opens.

A first answer of 4xx is final (InputError: wrong path, token, or offer); 5xx and network
errors are retried. The server is a stranger too: an answer over ``MAX_SDP`` bytes, not
UTF-8, or failing :func:`chromakey.io.sources.webrtc.sdpcheck.check_lines` (too many
sections, a bad port or candidate) or aiortc is unusable (InputError on the first session);
its text is shown escaped and cut short; a ``Location`` on another origin is ignored (the
DELETE, which carries the token, goes only where the offer went).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urljoin, urlsplit

from ....core.errors import InputError, ParameterError, StreamError
from .peer import LoopThread, new_peer, require_aiortc
from .sdpcheck import OfferError, check_lines
from .serverlog import loop_exception_handler
from .shown import shown
from .track import LiveTrackSource
from .urls import WhepLocation, parse_location
from .whip import MAX_SDP, status_line

__all__ = ["WhepSource"]


class _Refused(Exception):
    """The server answered the offer with an error status."""

    def __init__(self, status: int, text: str) -> None:
        first = text.strip().splitlines()[0] if text.strip() else ""
        super().__init__(f"HTTP {status}: {shown(first)}")
        self.status = status


class _BadAnswer(Exception):
    """The server said 201 but its answer cannot be taken."""


async def _answer_text(response: Any) -> str:
    """The answer's text, read no further than :data:`MAX_SDP` bytes."""
    data = b""
    while len(data) <= MAX_SDP:
        chunk = await response.content.read(MAX_SDP + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > MAX_SDP:
        raise _BadAnswer(f"it is larger than {MAX_SDP} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadAnswer("it is not UTF-8 text") from None
    try:
        check_lines(text, "the answer")
    except OfferError as exc:
        raise _BadAnswer(str(exc)) from None
    return text


class WhepSource(LiveTrackSource):
    """Video (and audio) pulled from a WHEP server, re-opened with backoff when lost."""

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
        backoff: tuple[float, float] = (0.5, 8.0),
        give_up: float = 60.0,
        ice_servers: Sequence[str] = (),
        log: Callable[[str], Any] | None = None,
    ) -> None:
        require_aiortc()
        where = parse_location(location)
        if not isinstance(where, WhepLocation):
            raise ParameterError(f"{location!r}: a WHEP server is whep(s)://HOST:PORT/PATH")
        for name, value in (
            ("stall_timeout", stall_timeout),
            ("connect_timeout", connect_timeout),
            ("give_up", give_up),
        ):
            if not value > 0:
                raise ParameterError(f"{name} must be a positive number of seconds, got {value!r}")
        super().__init__(location, queue_size=queue_size, audio=audio)
        self.url = where.url
        self.once = once
        self.token = token
        self.stall_timeout = float(stall_timeout)
        self.connect_timeout = float(connect_timeout)
        self.backoff = backoff
        self.give_up = float(give_up)
        self.ice_servers = tuple(ice_servers)
        self.log = log or status_line
        self._reconnecting = False
        self._loop = LoopThread("chromakey-whep")
        self._loop.loop.set_exception_handler(loop_exception_handler("whep", self.log))
        self._task = self._loop.submit(self._pull())

    def idle_state(self) -> str:
        return "reconnecting" if self._reconnecting else "connecting"

    async def _pull(self) -> None:
        import aiohttp

        delay = self.backoff[0]
        lost_at = time.monotonic()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            while not self._stop.is_set():
                self.attempts += 1
                before = self.frames
                try:
                    closed_by_server = await self._session(http)
                except _Refused as exc:
                    if exc.status < 500 and self.frames == 0:
                        self.fail(InputError(f"{self.url}: the WHEP server refused ({exc})"))
                        return
                    self.last_error = str(exc)
                except _BadAnswer as exc:
                    if self.frames == 0:
                        why = f"{self.url}: the WHEP server's answer is unusable: {exc}"
                        self.fail(InputError(why))
                        return
                    self.last_error = f"an unusable answer: {exc}"
                except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                    self.last_error = shown(str(exc) or type(exc).__name__)
                    closed_by_server = False
                else:
                    if closed_by_server and self.once and self.frames:
                        self.finish()
                        return
                if self._stop.is_set():
                    return
                if self.frames > before:
                    lost_at, delay = time.monotonic(), self.backoff[0]
                elif time.monotonic() - lost_at >= self.give_up:
                    what = "could not be opened" if not self.frames else "could not be re-opened"
                    self.fail(
                        StreamError(
                            f"{self.url}: the WHEP stream {what} for {self.give_up:.0f} s "
                            f"({self.attempts} attempts; last error: {self.last_error}); "
                            "check the server"
                        )
                    )
                    return
                self._reconnecting = self.frames > 0
                self.log(f"whep: {self.last_error}; re-opening in {delay:g} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff[1])

    async def _session(self, http: Any) -> bool:
        """One session, to its end: True when the server closed it (the stream is over)."""
        from aiortc import RTCSessionDescription

        pc = new_peer(self.ice_servers)
        self._track_ended = False
        done = asyncio.Event()
        pumps: list[asyncio.Task] = []
        resource: str | None = None
        headers = {"Content-Type": "application/sdp"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"

        @pc.on("track")
        def on_track(track: Any) -> None:
            pumps.append(asyncio.ensure_future(self._pump(track, done)))

        @pc.on("connectionstatechange")
        def on_state() -> None:
            if pc.connectionState in ("failed", "closed"):
                done.set()

        try:
            pc.addTransceiver("video", direction="recvonly")
            if self.audio is not None:
                pc.addTransceiver("audio", direction="recvonly")
            await pc.setLocalDescription(await pc.createOffer())
            async with http.post(self.url, data=pc.localDescription.sdp, headers=headers) as r:
                if r.status != 201:
                    raise _Refused(r.status, (await r.content.read(4096)).decode(errors="replace"))
                text = await _answer_text(r)
                resource = self._resource(r.headers.get("Location"))
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=text, type="answer"))
            except Exception as exc:  # noqa: BLE001 - aiortc refuses answers with many types
                why = f"aiortc cannot take it ({type(exc).__name__}: {shown(exc)})"
                raise _BadAnswer(why) from None
            self.begin(self.url)
            self.log(f"whep: session open at {shown(resource or self.url)}")
            reason = await self._watch(pc, done)
            self.leave(reason)
            self.last_error = reason
            return reason == "the server closed the session"
        finally:
            for task in pumps:
                task.cancel()
            if resource is not None:
                try:
                    auth = {k: v for k, v in headers.items() if k == "Authorization"}
                    async with http.delete(resource, headers=auth, timeout=2):
                        pass
                except Exception:  # noqa: BLE001 - the session is gone either way
                    pass
            await pc.close()

    def _resource(self, location: str | None) -> str | None:
        """The session's URL, if on the endpoint's own origin: the DELETE carries the token."""
        if not location:
            return None
        try:
            url = urljoin(self.url, location)
            same = urlsplit(url)[:2] == urlsplit(self.url)[:2]
        except ValueError:
            url, same = location, False
        if not same:
            self.log(f"whep: the session URL {shown(url)} is on another origin; it is not used")
            return None
        return url

    async def _watch(self, pc: Any, done: asyncio.Event) -> str:
        started = time.monotonic()
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(done.wait(), 0.25)
            except TimeoutError:
                pass
            if done.is_set():
                if pc.connectionState == "closed" or self._track_ended:
                    return "the server closed the session"
                return f"the connection {pc.connectionState}"
            now = time.monotonic()
            if self._last_media is None and now - started > self.connect_timeout:
                return f"no media within {self.connect_timeout:g} s"
            if self._last_media is not None and now - self._last_media > self.stall_timeout:
                return f"no media for {self.stall_timeout:g} s"
        return "closing"

    async def _pump(self, track: Any, done: asyncio.Event) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                if track.kind == "video":
                    self._track_ended = True  # the server stopped sending: the stream is over
                    done.set()
                return
            if track.kind == "video":
                self.video(frame)
            else:
                self.sound(frame)

    def close(self) -> None:
        if self._stop.is_set():
            return
        super().close()
        try:
            self._task.result(timeout=5.0)  # the session's DELETE goes out on its way out
        except Exception:  # noqa: BLE001 - closing: the loop stops regardless
            self._task.cancel()
        self._loop.stop()
