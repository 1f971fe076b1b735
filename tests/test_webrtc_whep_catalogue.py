"""Hostile WHEP servers against our WHEP client, one row each: the next one is a line in CASES.

Each row is the raw HTTP response a server on 127.0.0.1 sends to the client's offer (a plain
socket: what it sends is exactly what arrives). The client must end with one typed line
(InputError) that says what the row says, escaped and short, at most one log line, no
traceback, and not a byte read past the bound of an answer.
"""

from __future__ import annotations

import socket
import threading

import pytest
from test_webrtc_whip_http import _offer, _port

from chromakey.core.errors import InputError

from webrtc_net import require_aiortc

LINE_CHARS = 600


def _response(status: str, body: bytes, headers: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 "
        + status.encode()
        + b"\r\nContent-Type: application/sdp\r\n"
        + headers
        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        + body
    )


def _sections(offer: str, n: int) -> str:
    extra = "".join(f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:x{i}\r\n" for i in range(n))
    return offer + extra


CASES = [
    ("m-bomb", lambda o: _response("201 Created", _sections(o, 800).encode()), "media sections"),
    (
        "candidate-port",
        lambda o: _response(
            "201 Created",
            o.replace(
                "a=mid:0\r\n", "a=mid:0\r\na=candidate:1 1 udp 1 10.0.0.1 99999 typ host\r\n"
            ).encode(),
        ),
        "not valid",
    ),
    ("not-utf8", lambda o: _response("201 Created", o.encode() + b"a=x:\xff\r\n"), "not UTF-8"),
    ("too-large", lambda o: _response("201 Created", b"v=0\r\n" + b"a" * 200_000), "larger than"),
    ("garbage", lambda o: _response("201 Created", b"v=0\r\nhello\r\n"), "cannot take it"),
    (
        "refused-escapes",
        lambda o: _response("403 Forbidden", b"\x1b[2J\x1b]0;pwned\x07" * 9000),
        "HTTP 403: \\x1b[2J",
    ),
    ("refused-empty", lambda o: _response("404 Not Found", b""), "HTTP 404"),
]


class _Server:
    """Answers every request on 127.0.0.1 with ``response``, then closes the connection."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                got = b""
                while b"\r\n\r\n" not in got:
                    data = conn.recv(65536)
                    if not data:
                        break
                    got += data
                head, _, body = got.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                while len(body) < length:
                    data = conn.recv(65536)
                    if not data:
                        break
                    body += data
                try:
                    conn.sendall(self.response)
                except OSError:
                    pass  # the client stopped reading: that is its bound at work

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def answer():
    require_aiortc()
    return _offer()  # an SDP of the right shape to make hostile answers of


@pytest.mark.parametrize("row", CASES, ids=[row[0] for row in CASES])
def test_hostile_whep_answer_is_one_typed_line(row, answer, capfd, caplog):
    from chromakey.io.sources.webrtc.whep import WhepSource

    _, respond, says = row
    server = _Server(respond(answer))
    lines: list[str] = []
    src = WhepSource(f"whep://127.0.0.1:{server.port}/whep", once=True, log=lines.append)
    try:
        item = src.get(timeout=30)
        assert item is not None and item[0] == "error", item
        message = str(item[1])
        assert isinstance(item[1], InputError), message
        assert says in message, message
        assert "\n" not in message and message.isprintable() and len(message) <= LINE_CHARS
        assert len(lines) <= 1 and all(line.isprintable() for line in lines), lines
    finally:
        src.close()
        server.close()
    out, err = capfd.readouterr()
    assert "Traceback" not in err and "\x1b" not in out + err, err[-2000:]
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()[:300]


def test_session_url_on_another_origin_is_not_used():
    """The DELETE carries the bearer token: it goes only to the endpoint's own origin."""
    require_aiortc()
    from chromakey.io.sources.webrtc.whep import WhepSource

    port = _port()  # nothing listens: the client's attempts fail, which is not the point here
    lines: list[str] = []
    src = WhepSource(f"whep://127.0.0.1:{port}/whep", log=lines.append)
    try:
        assert src._resource("/whep/abc") == f"http://127.0.0.1:{port}/whep/abc"
        for hostile in (
            "http://203.0.113.9/steal",
            "//203.0.113.9/x",
            "https://127.0.0.1/x",
            f"http://127.0.0.1:{port + 1}/x",
            "http://[::1",
        ):
            assert src._resource(hostile) is None
        said = [line for line in lines if "another origin" in line]
        assert len(said) == 5 and all(line.isprintable() for line in said), lines
    finally:
        src.close()
