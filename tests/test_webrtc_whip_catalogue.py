"""Hostile requests to the WHIP endpoint, one row each: the next one is a line in CASES.

Each row is the raw bytes a peer sends to a fresh endpoint on 127.0.0.1 (a plain socket, so
malformed HTTP really is malformed) and the status it must get. For every row: that status
(or none, when the peer went away), at most one log line, printable and short, saying what
the row says; no traceback and no control byte anywhere (the endpoint's lines, logging's
records, the process's stderr); and then a good publisher still gets 201.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_webrtc_whip_http import _offer, _port

from webrtc_net import require_aiortc

TOKEN = "s3cret-token"
LINE_CHARS = 600  # a log line's bound: the longest of ours with a peer's text cut short


def _post(body: bytes | str, headers: bytes = b"", length: int | None = None) -> bytes:
    body = body.encode() if isinstance(body, str) else body
    size = len(body) if length is None else length
    return (
        b"POST /live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/sdp\r\n" + headers + b"Content-Length: %d\r\n\r\n" % size + body
    )


def _sections(offer: str, n: int) -> str:
    """``offer`` with ``n`` more audio sections, as small as aiortc still takes: the ICE
    credentials and fingerprint at session level, where every section inherits them."""
    lines = offer.split("\r\n")
    keep = ("a=ice-u", "a=ice-p", "a=fingerprint:sha-256", "a=setup")
    shared = [x for x in lines if x.startswith(keep)]
    head, _, media = offer.replace("a=group:BUNDLE 0 1\r\n", "").partition("m=")
    media = media.split("m=audio")[0]  # the video section, then n of the smallest audio ones
    extra = "".join(
        f"m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:{i}\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n"
        for i in range(1, n + 1)
    )
    return head + "".join(x + "\r\n" for x in dict.fromkeys(shared)) + "m=" + media + extra


def _candidate(offer: str, line: str) -> str:
    return offer.replace("a=mid:0\r\n", f"a=mid:0\r\na={line}\r\n", 1)


def _chunked(*chunks: bytes, expect: bool = False) -> list[bytes]:
    """A chunked POST; with ``expect`` the chunks follow the server's ``100 Continue``, so
    that they reach a handler already reading the body."""
    head = (
        b"POST /live HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/sdp\r\nTransfer-Encoding: chunked\r\n"
        + (b"Expect: 100-continue\r\n" if expect else b"")
        + b"\r\n"
    )
    return [head, b"".join(chunks)] if expect else [head + b"".join(chunks)]


@dataclass
class Case:
    id: str
    send: Callable[[str], bytes | list[bytes]]  # the good offer → what the peer sends
    status: int | None  # None: the peer goes away and gets nothing
    says: str | None = None  # what the one log line says (None: it may say nothing)
    options: dict = field(default_factory=dict)  # WhipSource's
    close: bool = False  # the peer closes its side after sending


CASES = [
    # Tokens: bytes that are not UTF-8, and escape sequences, are a wrong token.
    Case(
        "token-not-utf8",
        lambda o: _post(o, b"Authorization: Bearer \xff\xfe\xfd\r\n"),
        401,
        "wrong bearer token",
        {"token": TOKEN},
    ),
    Case(
        "token-escapes",
        lambda o: _post(o, b"Authorization: Bearer \x1b[2J\x1b]0;x\x07\r\n"),
        400,
        "header value",
        {"token": TOKEN},
    ),  # aiohttp's own refusal, escaped
    Case(
        "token-latin1-scheme",
        lambda o: _post(o, b"Authorization: B\xe9arer " + TOKEN.encode() + b"\r\n"),
        401,
        "bearer token",
        {"token": TOKEN},
    ),
    # Offers: too many sections, bad ports and candidates, nothing sent.
    Case("m-bomb-800", lambda o: _post(_sections(o, 800)), 400, "media sections"),
    Case("m-five", lambda o: _post(_sections(o, 4)), 400, "at most 4"),
    Case(
        "candidate-port-99999",
        lambda o: _post(_candidate(o, "candidate:1 1 udp 2130706431 10.0.0.1 99999 typ host")),
        400,
        "not valid",
    ),
    Case(
        "candidate-port-0",
        lambda o: _post(_candidate(o, "candidate:1 1 udp 2130706431 10.0.0.1 0 typ host")),
        400,
        "not valid",
    ),
    Case(
        "candidate-dns-name",
        lambda o: _post(_candidate(o, "candidate:1 1 udp 2130706431 example.com 5000 typ host")),
        400,
        "not valid",
    ),
    Case(
        "candidate-rport",
        lambda o: _post(
            _candidate(
                o, "candidate:1 1 udp 2130706431 10.0.0.1 5000 typ srflx raddr 1.2.3.4 rport 70000"
            )
        ),
        400,
        "not valid",
    ),
    Case("candidate-short", lambda o: _post(_candidate(o, "candidate:1 1 udp")), 400, "not valid"),
    Case(
        "candidate-escapes",
        lambda o: _post(_candidate(o, "candidate:1 1 udp 1 10.0.0.1 5000 typ \x1b[31mhost")),
        400,
        "\\x1b[31mhost",
    ),
    Case(
        "media-port-70000",
        lambda o: _post(o.replace("m=video 9 ", "m=video 70000 ", 1)),
        400,
        "valid port",
    ),
    Case(
        "rtcp-port", lambda o: _post(o.replace("a=rtcp:9 ", "a=rtcp:123456 ", 1)), 400, "valid port"
    ),
    Case("recvonly", lambda o: _post(o.replace("a=sendonly", "a=recvonly")), 422, "sends no video"),
    Case(
        "inactive", lambda o: _post(o.replace("a=sendonly", "a=inactive", 1)), 422, "sends no video"
    ),
    Case(
        "codec-escapes",
        lambda o: _post(re.sub(r"(VP8|H264)/90000", "VP8\x1b[31m\x07/90000", o)),
        400,
        "VP8\\x1b[31M\\x07",
    ),  # aiortc upper-cases codec names
    Case(
        "audio-codec-escapes",
        lambda o: _post(o.replace("opus/48000", "op\x1b[2Jus/48000")),
        201,
        "op\\x1b[2Jus",
    ),
    Case("sdp-not-utf8", lambda o: _post(o.encode() + b"a=x:\xff\xfe\r\n"), 400, "not UTF-8"),
    # Malformed HTTP.
    Case("length-short", lambda o: _post(o, length=10), 400),
    Case("length-long", lambda o: _post(o, length=len(o) + 500), 408, "did not arrive"),
    Case("body-never-arrives", lambda o: _post(b"", length=len(o)), 408, "did not arrive"),
    Case(
        "chunk-size-bad",
        lambda o: b"".join(_chunked(b"zz\r\n" + o.encode() + b"\r\n0\r\n\r\n")),
        400,
        "chunk",
    ),
    Case(
        "chunk-bad-after-good",
        lambda o: _chunked(b"14\r\n" + o.encode()[:20] + b"\r\n", b"zz\r\n\x1b[2J"),
        400,
        "chunk",
    ),
    # Once the handler reads the body, aiohttp's C parser fails the next message, not the
    # body being read: the body deadline ends it.
    Case(
        "chunk-bad-mid-read",
        lambda o: _chunked(
            b"14\r\n" + o.encode()[:20] + b"\r\n", b"zz\r\n" + b"\x1b[2J" * 30000, expect=True
        ),
        408,
        "did not arrive",
    ),
    Case(
        "header-128k", lambda o: _post(o, b"X-Big: " + b"a" * 131072 + b"\r\n"), 400, "LineTooLong"
    ),
    Case(
        "header-escapes",
        lambda o: _post(o, b"X-Evil: \x1b[2J" * 20000 + b"\r\n"),
        400,
        "header value",
    ),
    Case(
        "request-line-128k",
        lambda o: b"POST /" + b"a" * 131072 + b" HTTP/1.1\r\n\r\n",
        400,
        "LineTooLong",
    ),
    Case("headers-200", lambda o: _post(o, b"".join(b"X-%d: 1\r\n" % i for i in range(200))), 400),
    Case(
        "not-http",
        lambda o: b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x1b" * 64 + b"\r\n\r\n",
        400,
    ),
    Case("closes-mid-body", lambda o: _post(o)[:-200], None, "went away", close=True),
]


def _exchange(port: int, send: bytes | list[bytes], close: bool, deadline: float = 30.0):  # noqa: ANN202
    """(status or None, what came back, whether the server closed the connection)."""
    parts = [send] if isinstance(send, bytes) else send
    with socket.create_connection(("127.0.0.1", port), timeout=deadline) as s:
        for i, part in enumerate(parts):
            if i and b"Expect: 100-continue" in parts[0]:
                interim = b""
                while b"\r\n\r\n" not in interim:
                    interim += s.recv(1) or b"\r\n\r\n"
                assert interim.startswith(b"HTTP/1.1 100"), interim
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server refused before the rest: its answer is read below
        if close:
            return None, b"", True
        got = b""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                break  # closed: for 408 that is the point
            got += data
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", got)
    return (int(m.group(1)) if m else None), got, not data


def _good(port: int, offer: str, token: bytes = b"") -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    auth = {"Authorization": "Bearer " + token.decode()} if token else {}
    conn.request("POST", "/live", offer, {"Content-Type": "application/sdp"} | auth)
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    assert resp.status == 201, text
    conn.request("DELETE", resp.getheader("Location"), headers=auth)
    assert conn.getresponse().status == 200
    conn.close()


def _delete(port: int, location: str) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("DELETE", location)
    assert conn.getresponse().status == 200
    conn.close()


def _clean(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def _wait(predicate, deadline: float = 20.0) -> bool:  # noqa: ANN001
    end = time.monotonic() + deadline
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture(scope="module")
def offer():
    require_aiortc()
    return _offer()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request_gets_its_status_and_at_most_one_line(case, offer, caplog, capfd):
    from chromakey.io.sources.webrtc.whip import WhipSource

    port = _port()
    lines: list[str] = []
    src = WhipSource(f"whip://127.0.0.1:{port}/live", log=lines.append, **case.options)
    try:
        start = len(lines)
        status, got, closed = _exchange(port, case.send(offer), case.close)
        assert status == case.status, got[:300]
        if case.status == 408:
            assert closed  # the connection is closed, not left to linger
        if case.says is not None:
            assert _wait(lambda: any(case.says in line for line in lines[start:])), lines
        said = lines[start:]
        if case.status == 201:  # taken: it leaves, and its lines say who it was, escaped
            location = re.search(rb"\r\nLocation: (\S+)\r\n", got).group(1).decode()
            _delete(port, location)
        else:
            assert len(said) <= 1, said
        assert all(_clean(line) and len(line) <= LINE_CHARS for line in said), said
        before_good = len(lines)
        _good(port, offer, TOKEN.encode() if "token" in case.options else b"")
        assert len(lines) > before_good  # the good publisher's own lines
    finally:
        src.close()
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err and _clean((out + err).replace("\n", "")), err[-2000:]
    for record in caplog.records:
        assert record.exc_info is None and _clean(record.getMessage()), record.getMessage()[:300]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_section_bomb_is_refused_before_aiortc_and_memory_stays_flat(offer):
    """Twenty 800-section offers: each is refused before aiortc sees it, so the server's
    memory does not grow by what 800 transceivers cost (before the cap: 0.2-1 s and 2-15 MB
    an offer that stayed, 96 → 136 MB over ten; after: a few ms and no growth)."""
    from chromakey.io.sources.webrtc.whip import WhipSource

    port = _port()
    src = WhipSource(f"whip://127.0.0.1:{port}/live", log=lambda line: None)
    try:
        bomb = _post(_sections(offer, 800))
        assert len(bomb) < 64 * 1024
        assert _exchange(port, bomb, False)[0] == 400  # a first one: lazy imports and pools
        before = _rss_mb()
        for _ in range(20):
            assert _exchange(port, bomb, False)[0] == 400
        grown = _rss_mb() - before
        assert grown < 10, f"RSS grew {grown:.0f} MB over twenty refused offers"
        _good(port, offer)
    finally:
        src.close()
