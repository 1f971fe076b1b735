"""ReconnectingSource against a real HLS server on 127.0.0.1 that stalls, dies and returns.

The stream is made with PyAV (MPEG-TS segments of H.264, an .m3u8 playlist) and served by a
ThreadingHTTPServer on port 0 whose handler blocks while the test holds it stalled.
"""

from __future__ import annotations

import functools
import http.server
import socket
import threading
import time

import pytest

from chromakey.core.errors import InputError, ParameterError, StreamError
from chromakey.io.locations import is_network
from chromakey.io.sources import ReconnectingSource, VideoSource, open_source, stream_options
from chromakey.live import LiveCompositor
from chromakey.params import KeyerParams

from media import items_until_end, write_clip, write_hls

FPS = 25


class _Server:
    """Serves a folder; ``stall()`` makes every request (new or in flight) hang."""

    def __init__(self, folder) -> None:
        self.running = threading.Event()
        self.running.set()
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                held = time.monotonic() + 120  # a test that never resumes it: give up
                while not server.running.wait(0.05) and time.monotonic() < held:
                    pass
                try:
                    super().do_GET()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(folder))
        )
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/index.m3u8"

    def stall(self) -> None:
        self.running.clear()

    def resume(self) -> None:
        self.running.set()

    def close(self) -> None:
        self.running.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def hls_folder(tmp_path_factory):
    return write_hls(tmp_path_factory.mktemp("hls"), seconds=14, fps=FPS).parent


@pytest.fixture
def hls(hls_folder):
    server = _Server(hls_folder)
    yield server
    server.close()


FAST = dict(stall_timeout=1.0, open_timeout=1.0, backoff=(0.25, 2.0))


@pytest.mark.timed
def test_a_vod_stream_plays_to_its_end_paced_and_in_order(hls):
    with ReconnectingSource(hls.url, queue_size=64, drop=False, **FAST) as src:
        assert src.info.width == 160 and src.info.duration == pytest.approx(14, abs=0.1)
        start = time.monotonic()
        frames = [f for kind, f in items_until_end(src) if kind == "video"]
        elapsed = time.monotonic() - start
        assert src.state == "ended" and src.reconnects == 0
    times = [f.time for f in frames]
    assert len(frames) == 14 * FPS
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert [f.index for f in frames] == list(range(len(frames)))
    # FFmpeg would read a VOD playlist at the server's speed; it is paced to real time.
    assert elapsed > 10
    assert all(f.decoded_at is not None for f in frames)


def test_a_stall_is_bridged_and_the_compositor_stays_responsive(hls, gl_ctx):
    """The server hangs for 5 s: update() keeps returning the last frame at once; the source
    re-opens, resumes where it stopped, times stay monotonic, and the picture moves again."""
    src = ReconnectingSource(hls.url, **FAST)
    live = LiveCompositor(gl_ctx, KeyerParams(), "#202020")
    live.attach(src, own=True)
    try:
        seen: list[float] = []
        states: set[str] = set()
        slow: list[float] = []

        def run_until(cond, limit):
            end = time.monotonic() + limit
            while time.monotonic() < end:
                t0 = time.perf_counter()
                tex = live.update()
                spent = time.perf_counter() - t0
                if stalled_at is not None and not live.changed:
                    slow.append(spent)
                if live.changed:
                    seen.append(live.current.time)
                states.add(src.state)
                if cond(tex):
                    return True
                time.sleep(0.01)
            return False

        stalled_at = None
        assert run_until(lambda tex: live.stats.shown >= 2 * FPS, 15)
        hls.stall()
        stalled_at = time.monotonic()
        last_before = None
        # Five seconds of stall; only the last good frame is on show.
        run_until(lambda tex: time.monotonic() - stalled_at > 5.0, 6)
        last_before = seen[-1]
        hls.resume()
        resumed = time.monotonic()
        assert run_until(lambda tex: seen[-1] > last_before, 20), "no frame after the stall"
        recovery = time.monotonic() - resumed
        # Play on for a second after the recovery.
        count = live.stats.shown
        assert run_until(lambda tex: live.stats.shown >= count + FPS // 2, 5)
        print(
            f"recovery {recovery:.2f} s after the server returned; gap {src.last_gap:.2f} s; "
            f"{src.reconnects} reconnects in {src.attempts} attempts; {live.stats.summary()}"
        )
        assert slow and max(slow) < 0.1  # update() during the stall: the last frame, at once
        assert {"stalled", "reconnecting", "playing"} <= states
        assert src.reconnects >= 1 and src.last_gap and src.last_gap >= 2.0
        assert all(b > a for a, b in zip(seen, seen[1:], strict=False))
        # Resumed where it stopped (VOD): no jump back to the start, no big jump ahead.
        first_after = next(t for t in seen if t > last_before)
        assert first_after - last_before < 0.1  # the next frame: none lost, none repeated
        assert live.stats.resyncs >= 1
        assert src.status().state == "playing"
    finally:
        live.close()


def test_a_server_that_never_returns_gives_a_stream_error(hls):
    src = ReconnectingSource(
        hls.url, stall_timeout=0.5, open_timeout=0.5, backoff=(0.1, 0.4), give_up=2.0
    )
    try:
        item = src.get(timeout=5)
        assert item is not None and item[0] == "video"
        hls.stall()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            item = src.get(timeout=0.5)
            if item is not None and item[0] == "error":
                break
        else:
            pytest.fail("no error after giving up")
        assert isinstance(item[1], StreamError)
        assert "could not be re-opened for 2 s" in str(item[1])
        assert src.state == "failed"
    finally:
        hls.resume()
        src.close()


def test_refusals_are_quick_and_clear(hls, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    t0 = time.monotonic()
    with pytest.raises(StreamError, match="cannot connect"):
        ReconnectingSource(f"http://127.0.0.1:{port}/x.m3u8", connect_timeout=1.0, **FAST)
    assert time.monotonic() - t0 < 10
    with pytest.raises(InputError, match="404"):
        ReconnectingSource(hls.url.replace("index", "missing"), **FAST)
    with pytest.raises(ParameterError, match="ftp"):
        ReconnectingSource("ftp://example.com/a.m3u8")
    clip = write_clip(tmp_path / "c.mp4", frames=3)
    with pytest.raises(ParameterError, match="VideoSource"):
        ReconnectingSource(str(clip))
    src = open_source(clip)
    assert isinstance(src, VideoSource) and src.drop and src.audio is None
    src.close()
    with pytest.raises(ParameterError, match="network options"):
        open_source(clip, stall_timeout=1.0)


def test_stream_options_per_protocol():
    assert is_network("srt://host:9000") and not is_network("/tmp/a.mp4")
    http = stream_options("https://h/a.m3u8", io_timeout=2.5)
    assert http["rw_timeout"] == http["timeout"] == "2500000" and http["reconnect"] == "1"
    assert http["flags"] == "low_delay" and "fflags" not in http  # it drops an HLS start
    assert stream_options("srt://h:9000")["fflags"] == "nobuffer"
    rtmp = stream_options("rtmp://h/live/key")
    assert "timeout" not in rtmp  # RTMP reads it as "listen for a connection"
    assert stream_options("rtsp://h/s")["rtsp_transport"] == "tcp"
