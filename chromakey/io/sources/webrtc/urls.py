"""The WebRTC locations a user gives, parsed and checked without importing a WebRTC stack.

- ``whip://HOST:PORT/PATH`` — serve a WHIP endpoint (RFC 9725) at ``http://HOST:PORT/PATH``;
  an empty host is loopback (``whip://:8889/live``), the port defaults to 8889;
- ``whep://HOST:PORT/PATH`` (plain http: loopback, tests) and ``wheps://…`` (https) — pull
  from a WHEP server;
- ``livekit+wss://HOST`` (``livekit+ws://`` for a local server) — join a LiveKit room; the
  access token travels apart from the URL (``--token``), never inside it.

As an output, ``whep://HOST:PORT/PATH`` serves the composite to WHEP viewers at
``http://HOST:PORT/PATH`` (:func:`parse_output`): an empty host is loopback, the port
defaults to 8890.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from ....core.errors import ParameterError

__all__ = [
    "WEBRTC_SCHEMES",
    "LiveKitLocation",
    "WhepLocation",
    "WhipLocation",
    "is_webrtc",
    "is_room",
    "is_webrtc_output",
    "parse_location",
    "parse_output",
]

WEBRTC_SCHEMES = ("whip", "whep", "wheps", "livekit+ws", "livekit+wss")
DEFAULT_WHIP_PORT = 8889
DEFAULT_WHEP_PORT = 8890
OUTPUT_SCHEMES = ("whep",)
ROOM_SCHEMES = ("livekit+ws", "livekit+wss")


def is_webrtc(location: str | os.PathLike[str]) -> bool:
    text = os.fspath(location)
    return "://" in text and text.split("://", 1)[0].lower() in WEBRTC_SCHEMES


@dataclass(frozen=True)
class WhipLocation:
    host: str
    port: int
    path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    @property
    def loopback(self) -> bool:
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return self.host == "localhost"


@dataclass(frozen=True)
class WhepLocation:
    url: str  # http(s)://…


@dataclass(frozen=True)
class LiveKitLocation:
    url: str  # ws(s)://…


def is_webrtc_output(location: str | os.PathLike[str]) -> bool:
    """Whether an output names a WebRTC endpoint to serve (``whep://``)."""
    text = os.fspath(location)
    return "://" in text and text.split("://", 1)[0].lower() in OUTPUT_SCHEMES


def is_room(location: str | os.PathLike[str]) -> bool:
    """Whether a location names a LiveKit room (as an input or as an output)."""
    text = os.fspath(location)
    return "://" in text and text.split("://", 1)[0].lower() in ROOM_SCHEMES


def parse_output(text: str) -> WhipLocation:
    """Where ``-o whep://HOST:PORT/PATH`` serves its viewers; ParameterError otherwise."""
    scheme, parts, port = _split(
        text, OUTPUT_SCHEMES, "a WebRTC output is whep://HOST:PORT/PATH", "give viewers a token "
        "with --whep-token", "a WHEP output"
    )  # fmt: skip
    return WhipLocation(parts.hostname or "127.0.0.1", port or DEFAULT_WHEP_PORT, parts.path or "/")


def _split(
    text: str, schemes: tuple[str, ...], unknown: str, token: str, what: str
) -> tuple[str, SplitResult, int | None]:
    """(scheme, parts, port) of a location of one of ``schemes``, its port a number and no
    credentials, query or fragment in it; ParameterError (``unknown``, ``token``: what to do
    instead) otherwise."""
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme not in schemes:
        raise ParameterError(f"{text!r}: {unknown}")
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError:
        raise ParameterError(f"{text!r}: the port is not a number from 1 to 65535") from None
    if parts.username or parts.password:
        raise ParameterError(f"{text!r}: credentials do not belong in the URL; {token}")
    if parts.query or parts.fragment:
        raise ParameterError(f"{text!r}: {what} takes no query or fragment")
    return scheme, parts, port


def parse_location(text: str) -> WhipLocation | WhepLocation | LiveKitLocation:
    """A checked WebRTC location; ParameterError says what is wrong with one that is not."""
    scheme, parts, port = _split(
        text, WEBRTC_SCHEMES,
        f"not a WebRTC location; use {', '.join(s + '://' for s in WEBRTC_SCHEMES)}",
        "pass the token with --token (or --whip-token for a WHIP endpoint)",
        "a WebRTC location",
    )  # fmt: skip
    host = parts.hostname or ""
    if scheme == "whip":
        path = parts.path or "/"
        return WhipLocation(host or "127.0.0.1", port or DEFAULT_WHIP_PORT, path)
    if not host:
        raise ParameterError(f"{text!r}: give the server's host, like {scheme}://HOST:PORT/PATH")
    rest = text.split("://", 1)[1]
    if scheme in ("whep", "wheps"):
        return WhepLocation(("https" if scheme == "wheps" else "http") + "://" + rest)
    return LiveKitLocation(scheme.split("+", 1)[1] + "://" + rest)
