"""WebRTC foregrounds: WHIP ingest, WHEP pull, LiveKit rooms (HeyGen LiveAvatar and others).

:func:`open_webrtc` opens a location of :data:`WEBRTC_SCHEMES` (see
:mod:`chromakey.io.sources.webrtc.urls`) as a live source with the interface of the network sources.
Nothing here imports aiortc or the LiveKit SDK until a source is opened, so the rest of
chromakey runs without them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ....core.errors import ParameterError
from .urls import (
    WEBRTC_SCHEMES,
    LiveKitLocation,
    WhepLocation,
    WhipLocation,
    is_webrtc,
    parse_location,
)

__all__ = [
    "WEBRTC_SCHEMES",
    "add_arguments",
    "is_webrtc",
    "open_webrtc",
    "options_from",
    "parse_location",
]

if TYPE_CHECKING:
    from .track import LiveTrackSource


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The WebRTC options of ``render`` and ``preview`` (their own group)."""
    g = parser.add_argument_group(
        "webrtc", "whip://HOST:PORT/PATH, whep(s)://HOST:PORT/PATH, livekit+wss://HOST inputs"
    )
    g.add_argument(
        "--token",
        default=os.environ.get("CHROMAKEY_TOKEN"),
        metavar="T",
        help="LiveKit access token (LiveAvatar's livekit_client_token), or a WHEP server's "
        "bearer token; with -o livekit+wss://… and another input, the output room's token "
        "[$CHROMAKEY_TOKEN]",
    )
    g.add_argument(
        "--participant",
        metavar="IDENTITY",
        help="LiveKit: the participant whose video to key [the first remote video track]",
    )
    g.add_argument(
        "--whip-token",
        default=os.environ.get("CHROMAKEY_WHIP_TOKEN"),
        metavar="T",
        help="WHIP: the bearer token publishers must send (401 without it) "
        "[$CHROMAKEY_WHIP_TOKEN; none]",
    )
    g.add_argument(
        "--ice-server",
        action="append",
        default=[],
        metavar="URL",
        help="a STUN/TURN server (stun:HOST:PORT, turn:…); repeatable [none: no server is "
        "contacted, host candidates only]",
    )


def options_from(args: argparse.Namespace) -> dict[str, Any]:
    """The parsed options :func:`open_webrtc` takes; an error for ones given without use."""
    opts = {
        "token": args.token,
        "participant": args.participant,
        "whip_token": args.whip_token,
        "ice_servers": tuple(args.ice_server),
    }
    if not is_webrtc(args.input):
        env = {"token": "CHROMAKEY_TOKEN", "whip_token": "CHROMAKEY_WHIP_TOKEN"}
        given = [
            "--" + k.replace("_", "-")
            for k, v in opts.items()
            if v and not (k in env and v == os.environ.get(env[k]))
        ]
        if given:
            raise ParameterError(f"{', '.join(given)}: WebRTC options do not apply to {args.input}")
        return {}
    return {k: v for k, v in opts.items() if v}


def open_webrtc(
    location: str,
    *,
    once: bool,
    queue_size: int = 8,
    audio: bool = True,
    token: str | None = None,
    whip_token: str | None = None,
    participant: str | None = None,
    ice_servers: Sequence[str] = (),
    stall_timeout: float = 5.0,
    log: Callable[[str], Any] | None = None,
) -> LiveTrackSource:
    """A live source for ``location``. ``once`` (``render``): the stream ends when its
    publisher leaves; otherwise (``preview``) a WHIP endpoint waits for the next one and a
    pull re-opens."""
    where = parse_location(location)
    if isinstance(where, WhipLocation):
        if token is not None or participant is not None:
            raise ParameterError(
                "--token and --participant are for LiveKit; a WHIP endpoint takes --whip-token"
            )
        from .whip import WhipSource

        return WhipSource(
            location,
            once=once,
            queue_size=queue_size,
            audio=audio,
            token=whip_token,
            stall_timeout=stall_timeout,
            ice_servers=ice_servers,
            log=log,
        )
    if whip_token is not None:
        raise ParameterError("--whip-token is for a WHIP endpoint (whip://); use --token here")
    if isinstance(where, WhepLocation):
        if participant is not None:
            raise ParameterError("--participant is for LiveKit rooms, not WHEP")
        from .whep import WhepSource

        return WhepSource(
            location,
            once=once,
            queue_size=queue_size,
            audio=audio,
            token=token,
            stall_timeout=stall_timeout,
            ice_servers=ice_servers,
            log=log,
        )
    assert isinstance(where, LiveKitLocation)
    if ice_servers:
        raise ParameterError("--ice-server does not apply to LiveKit: the room's server sets them")
    from .livekit import LiveKitSource

    return LiveKitSource(
        location,
        token=token,
        participant=participant,
        once=once,
        queue_size=queue_size,
        audio=audio,
        stall_timeout=stall_timeout,
        log=log,
    )
