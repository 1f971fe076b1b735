"""-o rtmp://…: the composite pushed to a real FFmpeg RTMP listener on loopback (paced, with
the source's audio as AAC), a server that refuses, a listener that goes away mid-stream; the
same over SRT to a real FFmpeg SRT listener (through the ffmpeg command's libsrt)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.sample import SampleSpec, write_sample

from webrtc_net import Lines

ROOT = Path(__file__).resolve().parent.parent
BLUE = (0x1E, 0x90, 0xFF)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("push") / "sample.mp4"
    write_sample(path, SampleSpec(width=320, height=180, fps=30, seconds=2.0), audio=True)
    return path


def _listening(port: int, state: str = "0A") -> bool:
    """Whether a socket on ``port`` is in ``state`` (0A listening, 01 connected): the kernel's
    table, read without connecting."""
    table = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(
        line.split()[1].endswith(f":{port:04X}") and line.split()[3] == state for line in table
    )


def _listener(ffmpeg_cli: str, port: int, out: Path, quick: bool = False) -> subprocess.Popen:
    """``ffmpeg -listen 1`` copying what it receives into ``out``. ``quick``: it probes the
    first packets only and says ``Input #0`` on stderr as soon as media has arrived."""
    probe = ["-probesize", "32", "-analyzeduration", "0"] if quick else []
    cmd = [
        ffmpeg_cli,
        "-hide_banner",
        "-loglevel",
        "info" if quick else "error",
        *probe,
        "-listen",
        "1",
        "-i",
        f"rtmp://127.0.0.1:{port}/live/x",
        "-c",
        "copy",
        "-y",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # a connection would be its one client: read the state
        if _listening(port):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("the FFmpeg listener did not start")
    return proc


def _render(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chromakey", "render", *args, "--backend", "cpu"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("background", ["#1e90ff", "transparent"])
def test_push_to_an_ffmpeg_rtmp_listener(clip, tmp_path, ffmpeg_cli, background):
    port = _port()
    out = tmp_path / "got.flv"
    listener = _listener(ffmpeg_cli, port, out)
    t0 = time.monotonic()
    done = _render(str(clip), "-o", f"rtmp://127.0.0.1:{port}/live/x", "-b", background)
    took = time.monotonic() - t0
    assert done.returncode == 0, done.stderr
    assert listener.wait(30) == 0, listener.stderr.read()
    assert took >= 1.5  # paced as the file's 2 s play (as ffmpeg -re), not as fast as it keys
    with av.open(str(out)) as c:
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "aac"
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
    assert len(frames) == 60
    rgb = frames[-1].astype(int)
    if background == "transparent":  # packed: colour left, alpha right as grey
        assert rgb.shape == (180, 640, 3)
        alpha = rgb[:, 320:].mean(axis=2)
        assert alpha[5, 5] <= 20  # the screen's corner: clear
        assert (alpha <= 20).mean() > 0.3 and (alpha >= 235).mean() > 0.05  # screen, subject
    else:
        assert rgb.shape == (180, 320, 3)
        assert np.abs(rgb[5, 5] - BLUE).max() <= 6, rgb[5, 5]


def test_refused_push_is_one_line_exit_7(clip, tmp_path):
    done = _render(str(clip), "-o", f"rtmp://127.0.0.1:{_port()}/live/x", timeout=60)
    assert done.returncode == 7, done.stderr
    assert done.stderr.count("\n") <= 2 and "refused" in done.stderr.splitlines()[-1]


# --- SRT: MPEG-TS, through the ffmpeg command where PyAV's FFmpeg has no libsrt ---------------


def _udp_bound(port: int) -> bool:
    table = Path("/proc/net/udp").read_text().splitlines()[1:]
    return any(line.split()[1].endswith(f":{port:04X}") for line in table)


def _srt_listener(ffmpeg_cli: str, port: int, out: Path, quick: bool = False) -> subprocess.Popen:
    """``ffmpeg`` as an SRT listener, copying what it receives into ``out`` (MPEG-TS).
    ``quick``: it probes the first packets only (the video) and says ``Input #0`` on stderr
    as soon as media has arrived."""
    probe = ["-probesize", "32", "-analyzeduration", "0"] if quick else []
    cmd = [ffmpeg_cli, "-hide_banner", "-loglevel", "info", *probe,
           "-i", f"srt://127.0.0.1:{port}?mode=listener", "-c", "copy", "-y", str(out)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not _udp_bound(port):
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the SRT listener did not start")
        time.sleep(0.05)
    return proc


def test_push_to_an_ffmpeg_srt_listener(clip, tmp_path, ffmpeg_cli):
    port = _port()
    out = tmp_path / "got.ts"
    listener = _srt_listener(ffmpeg_cli, port, out)
    done = _render(str(clip), "-o", f"srt://127.0.0.1:{port}", "-b", "#1e90ff")
    assert done.returncode == 0, done.stderr
    listener.wait(30)  # it ends when the stream does (ffmpeg says so as an I/O error)
    with av.open(str(out)) as c:
        assert c.streams.audio and c.streams.audio[0].codec_context.name == "aac"
        v = c.streams.video[0]
        assert v.codec_context.name == "h264"
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
    # SRT drops what is still in flight when the caller closes: most of the 60, not all.
    assert len(frames) >= 45, len(frames)
    rgb = frames[len(frames) // 2].astype(int)
    assert rgb.shape == (180, 320, 3)
    assert np.abs(rgb[5, 5] - BLUE).max() <= 6, rgb[5, 5]


def test_refused_srt_push_is_one_line_exit_7(clip):
    done = _render(str(clip), "-o", f"srt://127.0.0.1:{_port()}", timeout=60)
    assert done.returncode == 7, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "refused" in last and done.stderr.count("chromakey: error:") == 1, done.stderr


def test_srt_without_an_ffmpeg_that_has_it_is_refused_naming_why(clip, tmp_path):
    """No ffmpeg command on PATH (and PyAV's FFmpeg without libsrt): refused before any input
    opens, in one line that says what to install."""
    env = dict(os.environ, PATH=str(tmp_path))  # nothing there
    done = subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(clip), "-o", "srt://127.0.0.1:9000",
         "--backend", "cpu"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "libsrt" in done.stderr and "install ffmpeg" in done.stderr
    assert done.stderr.count("\n") == 1


def test_srt_listener_gone_mid_stream_ends_with_exit_7(tmp_path, ffmpeg_cli):
    long = tmp_path / "long.mp4"
    write_sample(long, SampleSpec(width=320, height=180, fps=30, seconds=14.0), audio=False)
    port = _port()
    listener = _srt_listener(ffmpeg_cli, port, tmp_path / "got.ts", quick=True)
    render = subprocess.Popen(
        [sys.executable, "-m", "chromakey", "render", str(long), "-o", f"srt://127.0.0.1:{port}",
         "--backend", "cpu"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    Lines(listener, "stderr").wait_for(lambda line: line.startswith("Input #0"), 60)
    listener.kill()
    listener.wait(10)
    _, err = render.communicate(timeout=90)  # the source's 14 s bound the retries
    assert render.returncode == 7, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("chromakey: error: srt://") and "dropped" in last, err


def test_listener_gone_mid_stream_ends_with_exit_7(tmp_path, ffmpeg_cli):
    long = tmp_path / "long.mp4"
    write_sample(long, SampleSpec(width=320, height=180, fps=30, seconds=10.0), audio=False)
    port = _port()
    out = tmp_path / "got.flv"
    listener = _listener(ffmpeg_cli, port, out, quick=True)
    render = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chromakey",
            "render",
            str(long),
            "-o",
            f"rtmp://127.0.0.1:{port}/live/x",
            "--backend",
            "cpu",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Media has arrived and the listener has read it: the stream is under way.
    Lines(listener, "stderr").wait_for(lambda line: line.startswith("Input #0"), 60)
    listener.kill()
    listener.wait(10)
    _, err = render.communicate(timeout=60)  # the source's 10 s bound the retries
    assert render.returncode == 7, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("chromakey: error: rtmp://") and "dropped" in last, err
