"""``-o livekit+wss://``: the composite published into a LiveKit room, short of a room (no
LiveKit server can run here), as the LiveKit source is tested: the SDK's real frame objects
made from the composite and the audio, and the command line's refusals (the joining errors
against real local TCP servers: tests/test_webrtc_livekit.py, for the source and the output)."""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest
from test_webrtc_livekit import TOKEN, _refused_port

from chromakey.core.errors import ParameterError, StreamError
from chromakey.io.sinks.realtime import SourceAudio
from chromakey.sample import SampleSpec, write_sample

from webrtc_net import ROOT, require_livekit


@pytest.mark.parametrize("channels", [3, 4])
def test_the_composite_becomes_the_sdks_frame_and_back(channels):
    """RGB(A) → the SDK's RGBA frame → its own I420 (what it encodes): the colours survive."""
    require_livekit()
    from livekit import rtc

    from chromakey.io.sinks.livekit import rgba_frame
    from chromakey.io.sources.webrtc.livekit import i420_planes

    img = np.zeros((64, 96, channels), np.uint8)
    img[:, :48, :3] = (220, 40, 200)
    img[:, 48:, :3] = (30, 144, 255)
    if channels == 4:
        img[..., 3] = 255
    frame = rgba_frame(rtc, img)
    assert (frame.width, frame.height, frame.type) == (96, 64, rtc.VideoBufferType.RGBA)
    back = np.frombuffer(frame.data, np.uint8).reshape(64, 96, 4)
    np.testing.assert_array_equal(back[..., :3], img[..., :3])
    assert (back[..., 3] == 255).all()
    _, (y, u, v) = i420_planes(frame)
    # The SDK's I420 is BT.601 limited range: a flat patch keeps its colour within a level.
    yuv = av.VideoFrame.from_ndarray(
        np.concatenate([y, u.reshape(-1, 96)[:16], v.reshape(-1, 96)[:16]]), format="yuv420p"
    ).to_ndarray(format="rgb24")
    assert np.abs(yuv[32, 10].astype(int) - (220, 40, 200)).max() <= 3, yuv[32, 10]
    assert np.abs(yuv[32, 80].astype(int) - (30, 144, 255)).max() <= 3, yuv[32, 80]


def test_the_sources_audio_becomes_the_sdks_frames(tmp_path):
    require_livekit()
    from livekit import rtc

    from chromakey.io.sinks.livekit import pcm_frame

    clip = tmp_path / "a.mp4"
    write_sample(clip, SampleSpec(width=64, height=48, fps=30, seconds=1.0), audio=True)
    with av.open(str(clip)) as c:
        stream = c.streams.audio[0]
        sound = SourceAudio(stream, "s16")
        frames = [pcm_frame(rtc, f) for p in c.demux(stream) for f in sound.frames(p)]
    assert frames and all(f.sample_rate == 48000 and f.num_channels == 2 for f in frames)
    total = sum(f.samples_per_channel for f in frames)
    assert abs(total - 48000) < 4800  # about the clip's second
    pcm = np.concatenate([np.frombuffer(f.data, np.int16) for f in frames]).astype(float)
    assert np.sqrt(np.mean(pcm**2)) > 100  # the tone, not silence


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_cli_refusals(tmp_path):
    require_livekit()
    clip = tmp_path / "c.mp4"
    write_sample(clip, SampleSpec(width=64, height=48, fps=30, seconds=0.5), audio=False)
    room = f"livekit+ws://127.0.0.1:{_refused_port()}"
    done = _cli("render", str(clip), "-o", room, "--token", TOKEN, "--backend", "cpu")
    assert done.returncode == StreamError.exit_status, done.stderr
    # One error line (a first run may note before it that it compiles the CPU kernels).
    errors = [line for line in done.stderr.splitlines() if line.startswith("chromakey: error:")]
    assert len(errors) == 1 and "cannot join" in errors[0], done.stderr
    done = _cli("render", str(clip), "-o", room)
    assert done.returncode == ParameterError.exit_status
    assert "needs an access token" in done.stderr
    done = _cli("render", str(clip), "-o", str(tmp_path / "o.mp4"), "--output-token", TOKEN)
    assert done.returncode == ParameterError.exit_status
    assert "applies to a live output" in done.stderr
