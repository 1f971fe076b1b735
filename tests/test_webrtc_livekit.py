"""The LiveKit source short of a room (no LiveKit server can run here): the SDK's real frame
objects into the keyer's planes, and the connection errors against real local TCP servers
that refuse, hang up, or refuse the token."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from chromakey.core.errors import InputError, ParameterError, StreamError

from webrtc_net import ROOT, require_livekit


def _jwt(claims: dict) -> str:
    def part(d: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


TOKEN = _jwt({"exp": time.time() + 3600, "sub": "viewer", "video": {"room": "r", "roomJoin": True}})


@pytest.mark.parametrize("size", [(640, 360), (5, 3), (1, 1)])
def test_sdk_rgba_frame_becomes_i420_planes(size):
    require_livekit()
    from livekit import rtc

    from chromakey.io.sources.webrtc.livekit import i420_planes

    w, h = size
    rgba = np.zeros((h, w, 4), np.uint8)
    rgba[..., 1], rgba[..., 3] = 128, 255  # #008000, the avatar screen's green
    owner, (y, u, v) = i420_planes(rtc.VideoFrame(w, h, rtc.VideoBufferType.RGBA, rgba.tobytes()))
    assert owner.type == rtc.VideoBufferType.I420
    assert y.shape == (h, w) and u.shape == v.shape == ((h + 1) // 2, (w + 1) // 2)
    # libyuv's RGB → I420 is BT.601 limited range: Y = 16 + 219 · 0.587 · 128/255.
    assert abs(int(y.mean()) - round(16 + 219 * 0.587 * 128 / 255)) <= 1
    assert u.mean() < 128 and v.mean() < 128


def test_sdk_i420_frame_planes_are_views_of_the_frame_not_copies():
    require_livekit()
    from livekit import rtc

    from chromakey.io.sources.webrtc.livekit import i420_planes
    from chromakey.io.sources.webrtc.track import LiveTrackSource

    w, h = 6, 4
    rng = np.random.default_rng(1)
    planes = [rng.integers(0, 256, s, dtype=np.uint8) for s in ((h, w), (2, 3), (2, 3))]
    frame = rtc.VideoFrame(w, h, rtc.VideoBufferType.I420, b"".join(p.tobytes() for p in planes))
    owner, (y, u, v) = i420_planes(frame)
    assert owner is frame  # already I420: not converted
    for got, want in zip((y, u, v), planes, strict=True):
        np.testing.assert_array_equal(got, want)
        assert not got.flags.owndata  # a view into the SDK's buffer: no copy, no RGB
    source = LiveTrackSource("livekit+wss://example.invalid", audio=False)
    source.begin("test")
    source.planes(y, u, v, 12.5, keepalive=frame)
    source.planes(y, u, v, 12.5 + 1 / 30, keepalive=frame)
    kind, first = source.get(timeout=1)
    kind2, second = source.get(timeout=1)
    assert (kind, kind2) == ("video", "video")
    assert first.layout == "yuv" and first.chroma_factors == (2, 2)
    assert first.time == 0.0 and abs(second.time - 1 / 30) < 1e-4  # the track's own clock
    assert first.keepalive is frame and first.decoded_at <= second.decoded_at
    assert source.info.width == w and source.info.height == h


@pytest.mark.parametrize(
    "token, message",
    [
        (None, "needs an access token"),
        ("not-a-jwt", "not a LiveKit access token"),
        ("a.b.c", "not a LiveKit access token"),
        (_jwt({"exp": 1_000_000_000}), "expired"),
    ],
)
def test_bad_tokens_are_one_line_parameter_errors(token, message):
    from chromakey.io.sources.webrtc.livekit import LiveKitSource

    with pytest.raises(ParameterError, match=message) as info:
        LiveKitSource("livekit+ws://127.0.0.1:1", token=token)
    assert "\n" not in str(info.value)


def _server(mode: str) -> tuple[socket.socket, int]:
    """A real TCP server on loopback: ``close`` hangs up after reading the request, ``401``
    answers the WebSocket upgrade as a LiveKit server does an invalid token."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()

    def run() -> None:
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            conn.recv(65536)
            if mode == "401":
                body = b"invalid token: signature is invalid"
                conn.sendall(
                    b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
            conn.close()

    threading.Thread(target=run, daemon=True).start()
    return s, s.getsockname()[1]


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "mode, error, message",
    [
        ("refused", StreamError, "Connection refused"),
        ("close", StreamError, "cannot join the LiveKit room"),
        ("401", InputError, "refused the token"),
    ],
)
@pytest.mark.parametrize("end", ["source", "output"])
def test_connection_errors_are_one_line_typed_errors(mode, error, message, end):
    """Joining as the source (reading the avatar) and as the output (publishing the composite,
    chromakey.io.sinks.livekit) fails the same way."""
    require_livekit()
    from chromakey.io.sinks.livekit import LiveKitSink
    from chromakey.io.sources.webrtc.livekit import LiveKitSource

    server = None
    if mode == "refused":
        port = _refused_port()
    else:
        server, port = _server(mode)
    url = f"livekit+ws://127.0.0.1:{port}"
    try:
        with pytest.raises(error, match=message) as info:
            if end == "source":
                LiveKitSource(url, token=TOKEN, connect_timeout=10)
            else:
                LiveKitSink(url, 64, 48, token=TOKEN, connect_timeout=10)
        assert "\n" not in str(info.value)
    finally:
        if server is not None:
            server.close()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_cli_refused_room_is_one_line_and_exit_status(tmp_path):
    require_livekit()
    out = tmp_path / "out.mp4"
    done = _cli(
        "render", f"livekit+ws://127.0.0.1:{_refused_port()}", "-o", str(out), "--token", TOKEN
    )
    assert done.returncode == StreamError.exit_status, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chromakey: error:"), done.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["livekit+wss://"], "give the server's host"),
        (["livekit+wss://h.example", "--whip-token", "x", "--token", TOKEN], "--whip-token is for"),
        (["whip://127.0.0.1:9/live", "--participant", "avatar"], "--token and --participant"),
        (["clip.mp4", "--participant", "avatar"], "do not apply"),
    ],
)
def test_cli_misused_webrtc_options_are_parameter_errors(tmp_path, args, message):
    (tmp_path / "clip.mp4").write_bytes(b"\0" * 16)
    args = [str(tmp_path / a) if a == "clip.mp4" else a for a in args]
    done = _cli("render", *args[:1], "-o", str(tmp_path / "o.mp4"), *args[1:])
    assert done.returncode == ParameterError.exit_status, done.stderr
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
