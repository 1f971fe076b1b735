"""Network faults against local servers on 127.0.0.1: a progressive HTTP file whose connection
is reset, a server that restarts, and a server that accepts and never answers. Each case is
bounded in time; no traffic leaves the loopback."""

from __future__ import annotations

import http.server
import os
import socket
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.core.errors import StreamError
from chromakey.io.sources import ReconnectingSource, VideoSource

from media import figure_frame, items_until_end

FPS = 25


def faststart_clip(path: Path, frames: int = 150) -> Path:
    """An MP4 with its index first (as served for progressive download), big enough to stream."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        s = c.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = 320, 180, "yuv420p"
        s.options = {"crf": "18", "g": "25"}
        for i in range(frames):
            img = figure_frame(i, 320, 180) ^ rng.integers(0, 24, (180, 320, 3), dtype=np.uint8)
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


class FileServer:
    """Serves one file with Range support; can reset a connection mid-body, stop and restart."""

    def __init__(self, path: Path, port: int = 0) -> None:
        self.data = path.read_bytes()
        self.reset_at: int | None = None  # cut the next response after this many bytes
        self.pace = 4.0 * 8192 / len(self.data)  # seconds per 8 KiB: the whole file in ~4 s
        self.requests = 0
        self.connections: set[socket.socket] = set()
        self._start(port)

    def _start(self, port: int) -> None:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests += 1
                server.connections.add(self.connection)
                start = 0
                rng = self.headers.get("Range")
                if rng and rng.startswith("bytes="):
                    start = int(rng[6:].split("-")[0] or 0)
                body = server.data[start:]
                self.send_response(206 if rng else 200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(len(body)))
                if rng:
                    self.send_header(
                        "Content-Range", f"bytes {start}-{len(server.data) - 1}/{len(server.data)}"
                    )
                self.end_headers()
                cut = server.reset_at
                try:
                    if cut is not None and start < cut:
                        server.reset_at = None
                        self.wfile.write(body[: cut - start])
                        self.wfile.flush()
                        # An abrupt close: RST instead of FIN.
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                        )
                        self.connection.close()
                        return
                    for k in range(0, len(body), 8192):
                        self.wfile.write(body[k : k + 8192])
                        time.sleep(server.pace)  # a paced server: the body takes seconds
                except (BrokenPipeError, ConnectionResetError, OSError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/clip.mp4"

    def stop(self) -> None:
        """Like a killed server process: the port closes and every open connection drops."""
        self.httpd.shutdown()
        self.httpd.server_close()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connections.clear()

    def restart(self) -> None:
        self.httpd.allow_reuse_address = True
        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._start(self.port)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return faststart_clip(tmp_path_factory.mktemp("net") / "clip.mp4")


def drain(src, seconds: float) -> tuple[list[float], list]:
    """Frame times and errors from a source for at most ``seconds``."""
    times, errors = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = src.get(timeout=0.2)
        if item is None:
            continue
        kind, payload = item
        if kind == "video":
            times.append(payload.time)
        elif kind == "error":
            errors.append(payload)
            break
        elif kind == "end":
            break
    return times, errors


def test_progressive_http_file_plays_whole(clip):
    server = FileServer(clip)
    try:
        src = VideoSource(server.url)
        frames = sum(1 for kind, _ in items_until_end(src) if kind == "video")
        assert frames == 150
    finally:
        server.stop()


def test_connection_reset_mid_body_is_survived_with_monotonic_time(clip):
    server = FileServer(clip)
    server.reset_at = len(server.data) // 3
    src = ReconnectingSource(
        server.url, drop=False, stall_timeout=1.0, backoff=(0.1, 0.5), give_up=20, realtime=False
    )
    try:
        times, errors = drain(src, 60)
    finally:
        src.close()
        server.stop()
    assert not errors, errors
    assert len(times) >= 140  # every frame, or nearly, after the reset
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert server.requests >= 2  # it came back for the rest


def test_server_restart_is_survived(clip):
    server = FileServer(clip)
    src = ReconnectingSource(
        server.url, drop=False, stall_timeout=1.0, backoff=(0.2, 1.0), give_up=30, realtime=False
    )
    try:
        first, errors = drain(src, 0.8)
        assert first and not errors
        server.stop()
        t_down = time.monotonic()
        time.sleep(2.0)
        server.restart()
        rest, errors = drain(src, 60)
        recovered = time.monotonic() - t_down
    finally:
        src.close()
        server.stop()
    assert not errors, errors
    times = first + rest
    assert len(rest) > 0, "nothing after the restart"
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert src.reconnects >= 1 and len(times) >= 140
    assert src.last_gap is not None and src.last_gap < 2.0 + 5.0
    print(f"\nserver down 2 s: gap {src.last_gap:.2f} s, all frames after {recovered:.2f} s")


@pytest.mark.timed
def test_a_server_that_never_answers_fails_within_the_timeout():
    # It accepts connections (the kernel's backlog) and never says a word.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/live.m3u8"
    try:
        t0 = time.monotonic()
        with pytest.raises(StreamError):
            ReconnectingSource(
                url, open_timeout=2.0, connect_timeout=3.0, backoff=(0.2, 0.5), give_up=3.0
            )
        took = time.monotonic() - t0
        assert took < 12, f"took {took:.1f} s"
    finally:
        silent.close()


def test_plain_source_on_a_silent_server_fails_within_its_documented_timeout():
    from chromakey.core.errors import InputError
    from chromakey.io.sources.file import NETWORK_OPTIONS

    limit = int(NETWORK_OPTIONS["rw_timeout"]) / 1e6
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        t0 = time.monotonic()
        with pytest.raises(InputError):
            VideoSource(f"http://127.0.0.1:{silent.getsockname()[1]}/x.mp4")
        assert time.monotonic() - t0 < limit + 10
    finally:
        silent.close()


if os.environ.get("CHROMAKEY_NET_DEBUG"):
    av.logging.set_level(av.logging.DEBUG)


def test_a_playlist_that_points_at_local_files_is_refused(tmp_path, clip):
    """An HLS playlist fetched over http may not make FFmpeg read this machine's files."""
    import functools

    from chromakey.core.errors import InputError

    (tmp_path / "index.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"
        f"#EXTINF:2.0,\nfile://{clip}\n#EXTINF:2.0,\n{clip}\n#EXT-X-ENDLIST\n"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/index.m3u8"
    try:
        with pytest.raises((InputError, StreamError)):
            src = VideoSource(url)
            frames = sum(1 for kind, _ in items_until_end(src) if kind == "video")
            pytest.fail(f"read {frames} frames of a local file through an http playlist")
    finally:
        httpd.shutdown()
        httpd.server_close()
