"""A LiveKit room as the foreground: HeyGen LiveAvatar (and Synthesia, Simli) publish there.

``chromakey preview livekit+wss://HOST --token T [--participant IDENTITY]`` joins the room
with the LiveKit Python SDK (``pip install 'chromakey[livekit]'``), subscribes to the first
remote video track (or that of ``--participant``) and that participant's audio. The SDK
hands frames as I420 (``rtc.VideoStream(format=I420)``); :func:`i420_planes` views their
three planes without a copy or an RGB round trip, and the frames keep the track's own
timestamps (``timestamp_us``). The SDK reconnects by itself; the status line shows it
("reconnecting"). A room that closes, or an avatar that leaves, ends a ``render`` (the file
is finished); the preview then fails with a one-line StreamError, as a session token is
single-use.

Connection errors are one line each: a malformed URL or token is a ParameterError before any
connection; a refused connection or a server that hangs up is a StreamError; a server that
refuses the token (HTTP 401/403) an InputError.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, cast

import av
import numpy as np

from ....core.errors import BackendUnavailableError, InputError, ParameterError, StreamError
from .peer import LoopThread
from .track import AUDIO_RATE, LiveTrackSource
from .urls import LiveKitLocation, parse_location
from .whip import status_line

__all__ = [
    "LiveKitSource",
    "check_token",
    "connect_error",
    "i420_planes",
    "release_sdk",
    "require_livekit",
]


def require_livekit() -> Any:
    """The SDK's ``rtc`` module, its own log kept out of the terminal (its failures reach the
    user as our one-line errors; ``logging.getLogger("livekit")`` still has them)."""
    try:
        from livekit import rtc
    except ImportError as exc:
        raise BackendUnavailableError(
            f"LiveKit rooms need the livekit SDK ({exc}); install it with: "
            "pip install 'chromakey[livekit]'"
        ) from exc
    sdk_log = logging.getLogger("livekit")
    if not sdk_log.handlers:
        sdk_log.addHandler(logging.NullHandler())
        sdk_log.propagate = False
    return rtc


def release_sdk() -> None:
    """Shut the SDK's native runtime down now, while Python is whole.

    Left to the SDK's own atexit handler, livekit 1.2's runtime can call back into a Python
    that is finalizing and abort the process ("panic in a function that cannot unwind",
    SIGABRT instead of our exit status): seen in 3 of 24 parallel runs of a refused
    connection (the CLI, and the bare SDK too), and still in 4 of 160 with this call before
    exit, so the command also ends without teardown (chromakey.app.cli.run). The CLI calls it
    on its way out; a library user who is done with rooms may too. Uses the SDK's private
    handle, so it does nothing where that is not there.
    """
    module = sys.modules.get("livekit.rtc._ffi_client")
    client = getattr(getattr(module, "FfiClient", None), "_instance", None)
    dispose = getattr(client, "_dispose", None)
    if dispose is not None:
        dispose()


def i420_planes(frame: Any) -> tuple[Any, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(owner, (Y, U, V)): an ``rtc.VideoFrame``'s planes as H×W uint8 views, converted to
    I420 first if the SDK gave another layout. The views point into ``owner``'s buffer (the
    frame, or its I420 conversion), which must live as long as they do."""
    rtc = require_livekit()
    if frame.type != rtc.VideoBufferType.I420:
        frame = frame.convert(rtc.VideoBufferType.I420)
    w, h = frame.width, frame.height
    cw, ch = (w + 1) // 2, (h + 1) // 2
    y = np.frombuffer(frame.get_plane(0), np.uint8)[: w * h].reshape(h, w)
    u = np.frombuffer(frame.get_plane(1), np.uint8)[: cw * ch].reshape(ch, cw)
    v = np.frombuffer(frame.get_plane(2), np.uint8)[: cw * ch].reshape(ch, cw)
    return frame, (y, u, v)


def check_token(token: str | None, now: float | None = None) -> dict[str, Any]:
    """The claims of a LiveKit access token (a JWT), or ParameterError: missing, not a JWT,
    expired. The signature is the server's to check."""
    if not token:
        raise ParameterError(
            "a LiveKit room needs an access token: --token T (LiveAvatar's livekit_client_token)"
        )
    parts = token.strip().split(".")
    try:
        if len(parts) != 3:
            raise ValueError
        pad = "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + pad))
        if not isinstance(claims, dict):
            raise ValueError
    except (ValueError, UnicodeDecodeError):
        raise ParameterError(
            "--token is not a LiveKit access token (a JWT: three base64url parts separated by "
            "dots); pass livekit_client_token as it came"
        ) from None
    exp = claims.get("exp")
    if isinstance(exp, (int, float)) and exp < (time.time() if now is None else now):
        raise ParameterError(
            f"--token expired at {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(exp))}; "
            "start a new session for a fresh token"
        )
    return claims


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def connect_error(url: str, exc: BaseException) -> Exception:
    """A failed join as one typed line: the token refused (401/403) is an InputError, any
    other failure a StreamError; our own typed errors as they are."""
    if isinstance(exc, (ParameterError, InputError, StreamError)):
        return exc
    text = _one_line(exc)
    if any(code in text for code in ("401", "403", "nauthorized", "orbidden")):
        return InputError(
            f"{url}: the LiveKit server refused the token ({text}); start a new session for a "
            "fresh access token"
        )
    return StreamError(
        f"{url}: cannot join the LiveKit room ({text}); check the URL and that the server is "
        "reachable"
    )


class LiveKitSource(LiveTrackSource):
    """The avatar's video (and audio) track from a LiveKit room."""

    def __init__(
        self,
        location: str,
        *,
        token: str | None,
        participant: str | None = None,
        once: bool = False,
        queue_size: int = 8,
        audio: bool = True,
        stall_timeout: float = 5.0,
        connect_timeout: float = 15.0,
        log: Callable[[str], Any] | None = None,
    ) -> None:
        where = parse_location(location)
        if not isinstance(where, LiveKitLocation):
            raise ParameterError(f"{location!r}: a LiveKit room is livekit+wss://HOST")
        check_token(token)
        self.rtc = require_livekit()
        super().__init__(location, queue_size=queue_size, audio=audio)
        self.url = where.url
        self.participant = participant
        self.once = once
        self.stall_timeout = stall_timeout
        self.log = log or status_line
        self._reconnecting = False
        self._chosen: str | None = None  # the identity whose tracks are keyed
        self._tasks: list[asyncio.Task] = []
        self._loop = LoopThread("chromakey-livekit")
        self.room: Any = None
        try:
            # check_token refused a missing token above.
            self._loop.run(
                self._connect(cast(str, token), connect_timeout), timeout=connect_timeout + 30
            )
        except BaseException as exc:
            self._loop.run(self._disconnect(), timeout=5.0) if self.room else None
            self._loop.stop()
            raise self._connect_error(exc) from None
        self.log(f"livekit: joined the room at {self.url}; waiting for the avatar's video")

    def idle_state(self) -> str:
        return "reconnecting" if self._reconnecting else "waiting"

    def _connect_error(self, exc: BaseException) -> Exception:
        return connect_error(self.url, exc)

    async def _connect(self, token: str, timeout: float) -> None:
        rtc = self.rtc
        self.room = room = rtc.Room()
        room.on("track_subscribed", self._on_track)
        room.on("reconnecting", lambda: self._set_reconnecting(True))
        room.on("reconnected", lambda: self._set_reconnecting(False))
        room.on("participant_disconnected", self._on_participant_left)
        room.on("disconnected", self._on_disconnected)
        options = rtc.RoomOptions(auto_subscribe=True, connect_timeout=timeout)
        await room.connect(self.url, token, options)

    def _set_reconnecting(self, value: bool) -> None:
        self._reconnecting = value
        self.log(f"livekit: {'reconnecting' if value else 'reconnected'}")
        if value:
            self.leave("reconnecting")
        else:
            self.reconnects += 1

    def _on_track(self, track: Any, publication: Any, participant: Any) -> None:
        rtc = self.rtc
        who = participant.identity
        if self.participant is not None and who != self.participant:
            return
        if track.kind == rtc.TrackKind.KIND_VIDEO and self._chosen in (None, who):
            if self._chosen is None:
                self._chosen = who
                self.begin(f"participant {who}")
                self.log(f"livekit: keying {who}'s video track {track.sid}")
                stream = rtc.VideoStream(track, format=rtc.VideoBufferType.I420)
                self._tasks.append(asyncio.ensure_future(self._pump_video(stream)))
        elif (
            track.kind == rtc.TrackKind.KIND_AUDIO
            and self.audio is not None
            and self._chosen in (None, who)
        ):
            stream = rtc.AudioStream(track, sample_rate=AUDIO_RATE, num_channels=2)
            self._tasks.append(asyncio.ensure_future(self._pump_audio(stream)))

    async def _pump_video(self, stream: Any) -> None:
        async for event in stream:
            owner, (y, u, v) = i420_planes(event.frame)
            self.planes(y, u, v, event.timestamp_us / 1e6, keepalive=owner)

    async def _pump_audio(self, stream: Any) -> None:
        samples = 0
        async for event in stream:
            f = event.frame
            data = np.frombuffer(f.data, np.int16).reshape(1, -1)
            out = av.AudioFrame.from_ndarray(data, format="s16", layout="stereo")
            out.sample_rate = f.sample_rate
            out.pts = samples
            samples += f.samples_per_channel
            self.sound(out)

    def _on_participant_left(self, participant: Any) -> None:
        if participant.identity == self._chosen:
            self._chosen = None
            self.leave(f"{participant.identity} left the room")
            self.log(f"livekit: {participant.identity} left the room")
            if self.once and self.frames:
                self.finish()

    def _on_disconnected(self, reason: Any = None) -> None:
        self.leave(f"disconnected ({reason})")
        self.log(f"livekit: disconnected from the room ({reason})")
        if self.once and self.frames:
            self.finish()
        else:
            self.fail(StreamError(f"{self.url}: the LiveKit room disconnected ({reason})"))

    async def _disconnect(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self.room is not None:
            await self.room.disconnect()

    def close(self) -> None:
        if self._stop.is_set():
            return
        super().close()
        try:
            self._loop.run(self._disconnect(), timeout=5.0)
        except Exception:  # noqa: BLE001 - closing: the loop stops regardless
            pass
        self._loop.stop()
