"""Other real WebRTC stacks against ours, in a private network namespace: FFmpeg's own (PyAV's
``whip`` muxer) publishing to the WHIP endpoint, and an aiortc WHEP server we pull from."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import pytest

from chromakey.pipeline import render

from webrtc_media import check_like_reference, decode
from webrtc_net import ROOT, Lines, free_port, require_aiortc

pytestmark = pytest.mark.slow
BLUE = (0x1E, 0x90, 0xFF)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The built-in avatar, 640×360, 6 s with its audio, and that clip keyed from the file."""
    folder = tmp_path_factory.mktemp("webrtc-clip")
    path = folder / "clip.mp4"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "chromakey",
            "sample",
            "-o",
            str(path),
            "--size",
            "640x360",
            "--seconds",
            "6",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    keyed = folder / "reference.mp4"
    render(path, keyed, background="#1e90ff", backend="cpu")
    return path, decode(keyed)[0]


def _render(netns, url, out, *extra):  # noqa: ANN001, ANN002, ANN202
    proc = netns.chromakey(
        "render",
        url,
        "-o",
        str(out),
        "-b",
        "#1e90ff",
        "--backend",
        "cpu",
        *extra,
        stdout=-1,
        stderr=-1,
    )
    return proc, Lines(proc, "stderr"), Lines(proc)


def test_ffmpeg_whip_publisher_with_audio_renders_keyed_mp4(netns, tmp_path, clip):
    require_aiortc()
    port = free_port()
    out = tmp_path / "ffmpeg.mp4"
    proc, log, report = _render(netns, f"whip://{netns.a}:{port}/live", out)
    log.wait_for(lambda line: "listening on" in line, 60)
    # A P-256 certificate for the muxer's DTLS: see test_ffmpeg_whip_default_certificate….
    pub = netns.python(
        "tests/webrtc_ffmpeg_whip.py",
        str(clip[0]),
        f"http://{netns.a}:{port}/live",
        stdout=-1,
        stderr=-1,
    )
    pub_out, pub_err = pub.communicate(timeout=120)
    assert pub.returncode == 0, pub_err[-3000:]
    assert log.wait(60) == 0, log.text()
    assert "left (it sent DELETE)" in log.text()  # the muxer ends its session politely
    frames, audio, rate = decode(out)
    assert len(frames) >= 90, report.text()
    check_like_reference(frames, clip[1], BLUE)
    # The clip's audio came through FFmpeg's Opus and aiortc into the file's AAC.
    assert audio is not None and rate == 48000
    assert abs(audio.size / rate - len(frames) / 30) < 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.005


def test_ffmpeg_whip_default_certificate_is_refused_and_endpoint_stays_up(netns, tmp_path, clip):
    """FFmpeg's GnuTLS DTLS makes an ECDSA P-224 certificate, which OpenSSL (aiortc's DTLS)
    refuses with an illegal_parameter alert, P-224 not being among its groups. The endpoint
    says so in one line and takes the next publisher."""
    require_aiortc()
    port = free_port()
    proc, log, _ = _render(netns, f"whip://{netns.a}:{port}/live", tmp_path / "no.mp4")
    log.wait_for(lambda line: "listening on" in line, 60)
    pub = netns.python(
        "tests/webrtc_ffmpeg_whip.py",
        str(clip[0]),
        f"http://{netns.a}:{port}/live",
        "--seconds",
        "2",
        "--gnutls-cert",
        stdout=-1,
        stderr=-1,
    )
    _, pub_err = pub.communicate(timeout=120)
    assert pub.returncode != 0
    assert "DTLS session failed" in pub_err or "fatal alert" in pub_err, pub_err[-2000:]
    log.wait_for(lambda line: "left (the connection failed) after 0 frames" in line, 60)
    log.wait_for(lambda line: "waiting for the next publisher" in line, 10)
    assert proc.poll() is None  # still serving: a failed publisher does not end a render
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) != 0
    assert not (tmp_path / "no.mp4").exists()


def _whep_server(netns, port, clip):  # noqa: ANN001, ANN202
    server = netns.python("tests/webrtc_whep_server.py", netns.a, str(port), str(clip), stdout=-1)
    lines = Lines(server)
    lines.wait_for(lambda line: line == "serving", 30)
    return server, lines


def test_whep_pull_renders_keyed_mp4_with_audio_and_deletes_its_session(netns, tmp_path, clip):
    require_aiortc()
    port = free_port()
    server, served = _whep_server(netns, port, clip[0])
    out = tmp_path / "whep.mp4"
    proc, log, report = _render(netns, f"whep://{netns.a}:{port}/whep", out)
    assert log.wait(120) == 0, log.text()
    session = served.wait_for(lambda line: line.startswith("session "), 5).split()[1]
    served.wait_for(lambda line: line == f"deleted {session}", 10)
    frames, audio, rate = decode(out)
    assert len(frames) >= 120, report.text()
    check_like_reference(frames, clip[1], BLUE)
    assert audio is not None and np.sqrt(np.mean(audio**2)) > 0.005


def test_whep_pull_reopens_after_the_server_goes_away(netns, tmp_path, clip):
    require_aiortc()
    port = free_port()
    server, served = _whep_server(netns, port, clip[0])
    out = tmp_path / "whep.mp4"
    proc, log, report = _render(netns, f"whep://{netns.a}:{port}/whep", out, "--stall-timeout", "1")
    served.wait_for(lambda line: line == "frames 60", 60)
    server.send_signal(signal.SIGKILL)  # gone without a word: no BYE, no DTLS close
    server.wait()
    log.wait_for(lambda line: "re-opening in" in line, 30)
    server, served = _whep_server(netns, port, clip[0])
    served.wait_for(lambda line: line.startswith("session "), 60)
    assert log.wait(120) == 0, log.text()
    frames, _, _ = decode(out)
    assert len(frames) >= 60 + 120, report.text()  # both sessions' frames, one after the other
    check_like_reference(frames, clip[1], BLUE)
