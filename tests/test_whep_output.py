"""``-o whep://``: the composite served to WHEP viewers. Real peers: our own WHEP source as
the viewer (recording what it receives), inside a private network namespace; the HTTP policy
checked on loopback against a real aiortc offer."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest

from chromakey.pipeline import render

from webrtc_media import check_like_reference, decode
from webrtc_net import ROOT, Lines, chromium, chromium_command, free_port, require_aiortc

pytestmark = pytest.mark.slow
BLUE = (0x1E, 0x90, 0xFF)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The built-in avatar, 640×360, 10 s with its audio, and that clip keyed from the file."""
    folder = tmp_path_factory.mktemp("whep-clip")
    path = folder / "clip.mp4"
    subprocess.run(
        [sys.executable, "-m", "chromakey", "sample", "-o", str(path), "--size", "640x360",
         "--seconds", "10"],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    keyed = folder / "reference.mp4"
    render(path, keyed, background="#1e90ff", backend="cpu")
    return path, decode(keyed)[0]


def _serve(netns, clip, port, *extra):  # noqa: ANN001, ANN002, ANN202
    proc = netns.chromakey(
        "render", str(clip), "-o", f"whep://{netns.a}:{port}/live", "--backend", "cpu", *extra,
        stdout=-1, stderr=-1,
    )  # fmt: skip
    log = Lines(proc, "stderr")
    log.wait_for(lambda line: "whep: listening on" in line, 60)
    return proc, log


def _watch(netns, port, out, *extra):  # noqa: ANN001, ANN002, ANN202
    """Our WHEP source as a viewer, recording what it receives into ``out``."""
    proc = netns.chromakey(
        "render", f"whep://{netns.a}:{port}/live", "-o", str(out), "-b", "#000000",
        "--backend", "cpu", *extra, stdout=-1, stderr=-1,
    )  # fmt: skip
    return proc, Lines(proc, "stderr")


def test_a_viewer_receives_the_keyed_stream_with_its_audio(netns, tmp_path, clip):
    require_aiortc()
    port = free_port()
    server, served = _serve(netns, clip[0], port, "-b", "#1e90ff")
    out = tmp_path / "viewer.mp4"
    viewer, seen = _watch(netns, port, out)
    served.wait_for(lambda line: "viewer" in line and "joined (1 of 4)" in line, 60)
    assert served.wait(60) == 0, served.text()
    # The stream's end closes the viewer's session: its recording is finished, not cut.
    assert seen.wait(60) == 0, seen.text()
    assert "left (the stream ended)" in served.text()
    frames, audio, rate = decode(out)
    # The stream waited for its viewer; what is lost is what came before the connection was
    # up (a bounded queue: the oldest goes), well under half of the 300.
    assert len(frames) >= 150, seen.text()
    # Re-keyed by the viewer over black: the served blue has nothing green left to key.
    check_like_reference(frames, clip[1], BLUE)
    assert audio is not None and np.sqrt(np.mean(audio**2)) > 0.005  # Opus, back to AAC


def test_transparent_goes_packed_colour_left_alpha_right(netns, tmp_path, clip):
    require_aiortc()
    port = free_port()
    server, served = _serve(netns, clip[0], port, "-b", "transparent")
    out = tmp_path / "packed.mp4"
    viewer, seen = _watch(netns, port, out)
    assert served.wait(60) == 0, served.text()
    assert seen.wait(60) == 0, seen.text()
    frames, _, _ = decode(out)
    assert frames and frames[-1].shape == (360, 1280, 3)
    alpha = frames[-1][:, 640:].astype(int).mean(axis=2)
    reference_alpha = np.abs(clip[1][-1].astype(int) - BLUE).max(axis=2) > 40  # the subject
    assert alpha[~reference_alpha].mean() < 20  # the screen: alpha 0, black
    assert alpha[reference_alpha].mean() > 180  # the subject: mostly opaque, white


def test_a_second_viewer_waits_for_a_place_and_gets_a_picture_at_once(netns, tmp_path, clip):
    """One place: a second viewer is told 503 (and retries, as our WHEP source does with a
    5xx); when the first leaves mid-stream (DELETE), the second joins and its recording
    starts with a picture (each viewer's encoder starts on a keyframe)."""
    require_aiortc()
    port = free_port()
    server, served = _serve(netns, clip[0], port, "-b", "#1e90ff", "--whep-viewers", "1")
    first, first_log = _watch(netns, port, tmp_path / "first.mp4")
    served.wait_for(lambda line: "joined (1 of 1)" in line, 60)
    second, second_log = _watch(netns, port, tmp_path / "second.mp4")
    served.wait_for(lambda line: "503" in line and "viewers are watching already" in line, 60)
    first.send_signal(signal.SIGINT)  # the first leaves: its WHEP source sends DELETE
    served.wait_for(lambda line: "left (it sent DELETE)" in line, 30)
    served.until(lambda lines: sum("joined (1 of 1)" in line for line in lines) == 2, 60)
    assert served.wait(60) == 0, served.text()
    assert second_log.wait(60) == 0, second_log.text()
    assert served.text().count("joined (1 of 1)") == 2
    frames, _, _ = decode(tmp_path / "second.mp4")
    assert len(frames) >= 15, second_log.text()
    check_like_reference(frames, clip[1], BLUE)


# --- the HTTP policy, on loopback (no ICE: the offers are refused or answered, not connected) --


def _offer(direction: str = "recvonly", video: str | None = None) -> str:
    """A real aiortc offer to receive (or to send) video and audio; ``video`` keeps only that
    codec (``H264``) in the video section."""
    from aiortc import RTCPeerConnection, RTCRtpSender

    async def make() -> str:
        pc = RTCPeerConnection()
        t = pc.addTransceiver("video", direction=direction)
        if video is not None:
            codecs = RTCRtpSender.getCapabilities("video").codecs
            t.setCodecPreferences(
                [c for c in codecs if c.mimeType in (f"video/{video}", "video/rtx")]
            )
        pc.addTransceiver("audio", direction=direction)
        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        await pc.close()
        return sdp

    return asyncio.run(make())


def _post(url: str, body: str, token: str | None = None, ctype: str = "application/sdp"):  # noqa: ANN202
    headers = {"Content-Type": ctype} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def test_token_cors_limits_and_refusals(tmp_path):
    require_aiortc()
    from chromakey.io.sinks.whep import WhepSink

    port = 30000 + (tmp_path.stat().st_ino % 20000)
    lines: list[str] = []
    sink = WhepSink(f"whep://:{port}/live", 64, 48, token="s3cret", max_viewers=1,
                    wait_first=0, log=lines.append)  # fmt: skip
    url = f"http://127.0.0.1:{port}/live"
    assert sink.http.bound == [f"http://127.0.0.1:{port}"]
    stop = threading.Event()

    def feed() -> None:
        t = 0.0
        while not stop.is_set():
            sink.write(np.full((48, 64, 3), 120, np.uint8), t)
            t += 1 / 30

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        pre = urllib.request.Request(url, method="OPTIONS", headers={"Origin": "http://a.test"})
        with urllib.request.urlopen(pre, timeout=10) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == "*"
            assert "POST" in resp.headers["Access-Control-Allow-Methods"]
            assert "Location" in resp.headers["Access-Control-Expose-Headers"]
        offer = _offer()
        status, headers, text = _post(url, offer)
        assert status == 401 and headers["WWW-Authenticate"].startswith("Bearer")
        assert _post(url, offer, "s3cret", "text/plain")[0] == 415
        status, _, text = _post(url, _offer("sendonly"), "s3cret")
        assert status == 422 and "receives no video" in text
        status, headers, answer = _post(url, offer, "s3cret")
        assert status == 201, answer
        assert answer.startswith("v=0") and headers["Location"].startswith("/live/")
        assert headers["Content-Type"].startswith("application/sdp")
        session = f"http://127.0.0.1:{port}{headers['Location']}"
        status, headers, text = _post(url, _offer(), "s3cret")  # the one place is taken
        assert status == 503 and headers["Retry-After"] and "watching already" in text
        leave = urllib.request.Request(
            session, method="DELETE", headers={"Authorization": "Bearer s3cret"}
        )
        with urllib.request.urlopen(leave, timeout=10) as resp:
            assert resp.status == 200
        status, headers, answer = _post(url, _offer(video="H264"), "s3cret")  # free again
        assert status == 201, answer
        # A viewer that takes H.264 only is answered in H.264 (VP8 otherwise, as offered first).
        video = answer.split("m=video", 1)[1].split("m=audio", 1)[0]
        assert "H264/90000" in video and "VP8/90000" not in video
    finally:
        stop.set()
        writer.join(10)
        sink.close()
    assert sink.refused == {401: 1, 415: 1, 422: 1, 503: 1}
    assert sum("joined (1 of 1)" in line for line in lines) == 2
    assert any("left (it sent DELETE)" in line for line in lines)
    assert any("stopped after" in line for line in lines)
    with pytest.raises(urllib.error.URLError):  # closed: nothing listens any more
        urllib.request.urlopen(urllib.request.Request(url, method="OPTIONS"), timeout=5)


def test_a_whep_output_is_refused_in_one_line_before_any_input_opens(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(tmp_path / "missing.mp4"), "-o",
         "whep://127.0.0.1:8890/live?x=1"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0
    assert "takes no query" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    done = subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(tmp_path / "in.mp4"), "-o",
         str(tmp_path / "out.mp4"), "--whep-viewers", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode != 0 and "applies to a live output" in done.stderr


# --- a browser as the viewer: examples/web/ on a page of another origin -----------------------


def test_chromium_plays_the_transparent_stream_on_a_page_of_another_origin(netns, tmp_path):
    """The page (on the namespace's second address) plays ``-o whep://`` (on the first) with
    examples/web/ and reads its own canvas back: where the screen was, the page shows through;
    where the subjects were drawn, their colour, opaque."""
    require_aiortc()
    exe = chromium()
    from test_web_unpack import SCREEN_POINTS, SUBJECTS, _clip

    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "web", site)
    clip = tmp_path / "green.mp4"
    _clip(clip, seconds=12)
    port = free_port()
    server, served = _serve(netns, clip, port, "-b", "transparent")
    page_server = netns.python("tests/webrtc_page.py", netns.b, "8000", str(site), stdout=-1)
    reports = Lines(page_server)
    reports.wait_for(lambda line: line == "serving", 30)
    points = [*SUBJECTS, *SCREEN_POINTS]
    probe = ";".join(f"{x},{y}" for x, y in points)
    page = f"http://{netns.b}:8000/index.html?whep=http://{netns.a}:{port}/live&probe={probe}"
    cmd = chromium_command(exe, tmp_path / "profile", page)
    cmd[1:1] = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
    netns.popen(cmd, stdout=-3, stderr=-3)
    probed = reports.wait_for(lambda line: line.startswith(("report probed", "report error")), 120)
    served.wait_for(lambda line: "joined (1 of 4)" in line, 10)
    assert probed.startswith("report probed "), probed
    got = {}
    for item in probed.split(" ", 2)[2].split(";"):
        x, y, *rgba = (int(v) for v in item.split(","))
        got[(x, y)] = np.array(rgba)
    for point, colour in SUBJECTS.items():
        assert got[point][3] >= 250, (point, got[point])
        assert np.abs(got[point][:3] - colour).max() <= 8, (point, got[point], colour)
    for point in SCREEN_POINTS:
        assert got[point][3] <= 2, (point, got[point])  # the page shows through


def test_a_slow_viewers_queue_drops_its_oldest_and_holds_no_one_back():
    """The queue a viewer's encoder pulls from: bounded; offering never waits; the newest
    frames are what a viewer that fell behind gets next."""
    require_aiortc()
    from chromakey.io.sinks.whep_track import FeedTrack

    async def run() -> tuple[list[int], int]:
        track = FeedTrack("video", 2)
        for n in range(5):
            track.offer(n)  # returns at once, however far behind the viewer is
        got = [await track.recv(), await track.recv()]
        track.end()
        from aiortc.mediastreams import MediaStreamError

        with pytest.raises(MediaStreamError):  # ended: the sender stops
            await track.recv()
        return got, track.dropped

    got, dropped = asyncio.run(run())
    assert got == [3, 4] and dropped == 3
