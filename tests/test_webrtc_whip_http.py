"""The WHIP endpoint's HTTP side over real HTTP on loopback: CORS, tokens, limits, refusals.

The offers are real (aiortc's own, with the candidates taken out, so that no connectivity
check leaves this machine); the endpoint is the one ``chromakey render whip://…`` serves.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
from pathlib import Path

import pytest

from chromakey.core.errors import ParameterError, StreamError

from webrtc_net import require_aiortc


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _offer(video: bool = True) -> str:
    """A real offer from aiortc (sendonly video and audio), without candidates."""
    from aiortc import RTCConfiguration, RTCPeerConnection

    async def make() -> str:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        if video:
            pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendonly")
        offer = await pc.createOffer()
        await pc.close()
        return offer.sdp

    sdp = asyncio.run(make())
    return "".join(line + "\r\n" for line in sdp.splitlines() if not line.startswith("a=candidate"))


def _request(port, method, path, body=None, headers=None):  # noqa: ANN001, ANN202
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    data = resp.read().decode(errors="replace")
    conn.close()
    return resp, data


SDP = {"Content-Type": "application/sdp"}


@pytest.fixture
def endpoint():
    require_aiortc()
    from chromakey.io.sources.webrtc.whip import WhipSource

    made = []

    def make(**kwargs):  # noqa: ANN003, ANN202
        lines: list[str] = []
        port = _port()
        src = WhipSource(f"whip://127.0.0.1:{port}/live", log=lines.append, **kwargs)
        made.append(src)
        return src, port, lines

    yield make
    for src in made:
        src.close()


def test_preflight_allows_another_origin_and_exposes_location(endpoint):
    src, port, _ = endpoint()
    resp, _ = _request(
        port,
        "OPTIONS",
        "/live",
        headers={
            "Origin": "http://10.0.0.9:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert resp.status == 204
    assert resp.getheader("Access-Control-Allow-Origin") == "*"
    assert "POST" in resp.getheader("Access-Control-Allow-Methods")
    allowed = resp.getheader("Access-Control-Allow-Headers").lower()
    assert "content-type" in allowed and "authorization" in allowed
    assert "Location" in resp.getheader("Access-Control-Expose-Headers")


def test_offer_answered_with_location_then_second_publisher_409_then_delete(endpoint):
    src, port, lines = endpoint()
    offer = _offer()
    resp, answer = _request(port, "POST", "/live", offer, SDP)
    assert resp.status == 201, answer
    assert resp.getheader("Content-Type").startswith("application/sdp")
    assert answer.startswith("v=0") and "a=fingerprint" in answer
    location = resp.getheader("Location")
    assert location.startswith("/live/")
    assert "Location" in resp.getheader("Access-Control-Expose-Headers")
    # aiortc answers with its host candidates; no STUN server was configured or contacted.
    assert "typ srflx" not in answer and "typ relay" not in answer
    second, text = _request(port, "POST", "/live", _offer(), SDP)
    assert second.status == 409, text
    assert "another publisher" in text
    patch, _ = _request(
        port, "PATCH", location, "a=x", {"Content-Type": "application/trickle-ice-sdpfrag"}
    )
    assert patch.status == 405
    gone, _ = _request(port, "DELETE", location)
    assert gone.status == 200
    again, _ = _request(port, "DELETE", location)
    assert again.status == 404
    third, _ = _request(port, "POST", "/live", _offer(), SDP)
    assert third.status == 201  # the slot is free again once the first has left
    assert any("409" in line for line in lines)


def test_bearer_token_is_required_when_set(endpoint):
    src, port, _ = endpoint(token="s3cret-token")
    offer = _offer()
    resp, text = _request(port, "POST", "/live", offer, SDP)
    assert resp.status == 401, text
    assert resp.getheader("WWW-Authenticate").startswith("Bearer")
    resp, _ = _request(port, "POST", "/live", offer, SDP | {"Authorization": "Bearer wrong"})
    assert resp.status == 401
    # The preflight carries no credentials (browsers never send them there): it is answered.
    pre, _ = _request(port, "OPTIONS", "/live", headers={"Origin": "http://x"})
    assert pre.status == 204
    resp, text = _request(
        port, "POST", "/live", offer, SDP | {"Authorization": "Bearer s3cret-token"}
    )
    assert resp.status == 201, text
    # DELETE needs the token too.
    location = resp.getheader("Location")
    assert _request(port, "DELETE", location)[0].status == 401
    assert (
        _request(port, "DELETE", location, headers={"Authorization": "Bearer s3cret-token"})[
            0
        ].status
        == 200
    )


def test_offer_over_64_kib_is_413(endpoint):
    src, port, lines = endpoint()
    big = _offer() + "a=x-padding:" + "p" * (64 * 1024) + "\r\n"
    resp, text = _request(port, "POST", "/live", big, SDP)
    assert resp.status == 413, text
    # Chunked, with no Content-Length: the cap holds as the body is read.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.putrequest("POST", "/live")
    conn.putheader("Content-Type", "application/sdp")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    chunk = big.encode()
    conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n")
    assert conn.getresponse().status == 413
    conn.close()
    assert src._session is None  # nothing was created for it


@pytest.mark.parametrize(
    "body",
    [
        "hello, not sdp",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nm=video notaport UDP/TLS/RTP/SAVPF 96\r\n",
        None,  # an audio-only offer: there is nothing to key
    ],
)
def test_malformed_offer_is_400_and_one_log_line(endpoint, body):
    src, port, lines = endpoint()
    body = _offer(video=False) if body is None else body
    resp, text = _request(port, "POST", "/live", body, SDP)
    assert resp.status == 400, text
    assert "malformed offer" in text
    refusals = [line for line in lines if " 400 " in line]
    assert len(refusals) == 1 and "\n" not in refusals[0]
    # Nothing crashed: the endpoint still answers a good offer.
    assert _request(port, "POST", "/live", _offer(), SDP)[0].status == 201


def test_wrong_content_type_is_415(endpoint):
    src, port, _ = endpoint()
    resp, _ = _request(port, "POST", "/live", _offer(), {"Content-Type": "text/plain"})
    assert resp.status == 415


def test_default_bind_is_loopback_only():
    require_aiortc()
    from chromakey.io.sources.webrtc.whip import WhipSource

    port = _port()
    lines: list[str] = []
    src = WhipSource(f"whip://:{port}/live", log=lines.append)
    try:
        bound = src.http.bound
        assert bound == [f"http://127.0.0.1:{port}"]
        assert src.endpoint.loopback
        # No socket listens on a wildcard address for it.
        listening = Path("/proc/net/tcp").read_text().lower()
        assert f"00000000:{port:04x}" not in listening
        assert f"0100007f:{port:04x}" in listening
        assert not any("reachable from the network" in line for line in lines)
    finally:
        src.close()


def test_port_in_use_is_one_line_stream_error():
    require_aiortc()
    from chromakey.io.sources.webrtc.whip import WhipSource

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(StreamError, match="cannot listen there") as info:
            WhipSource(f"whip://127.0.0.1:{port}/live", log=lambda line: None)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "location, message",
    [
        ("whip://127.0.0.1:99999/live", "port"),
        ("whip://user:pw@127.0.0.1:8889/live", "credentials"),
        ("whep://:8889/live", "host"),
        ("whip://127.0.0.1:8889/live?x=1", "query"),
    ],
)
def test_bad_locations_are_parameter_errors(location, message):
    from chromakey.io.sources.webrtc import parse_location

    with pytest.raises(ParameterError, match=message):
        parse_location(location)
