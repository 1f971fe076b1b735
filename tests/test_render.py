"""End to end through the CLI: sample → render → real files decoded back."""

import subprocess
import sys

import numpy as np
import pytest

from media import decode_rgb_frames, read_png, stream_summary, write_clip


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def sample_clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("sample") / "sample.mp4"
    r = run_cli("sample", "-o", path, "--size", "320x180", "--fps", "25", "--seconds", "2")
    assert r.returncode == 0, r.stderr
    return path


def test_sample_then_render_keeps_frames_audio_and_duration(sample_clip, tmp_path):
    out = tmp_path / "keyed.mp4"
    r = run_cli("render", sample_clip, "-o", out, "--backend", "cpu", "--background", "#ff00ff")
    assert r.returncode == 0, r.stderr
    assert "frames" in r.stdout
    src, dst = stream_summary(sample_clip), stream_summary(out)
    assert set(dst) == {"video", "audio"}
    assert dst["video"][0] == "h264"
    assert dst["video"][1] == src["video"][1] == 50
    assert abs(dst["video"][2] - src["video"][2]) <= 1 / 25 + 1e-6
    assert abs(dst["audio"][2] - src["audio"][2]) <= 1 / 25 + 1e-6
    # No stray temporary files beside the output.
    assert [p.name for p in tmp_path.iterdir()] == ["keyed.mp4"]


def test_render_composites_over_the_colour(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", width=160, height=96, frames=5)
    out = tmp_path / "out.mp4"
    r = run_cli("render", clip, "-o", out, "--backend", "cpu", "-b", "#ff0000")
    assert r.returncode == 0, r.stderr
    frames = decode_rgb_frames(out)
    assert len(frames) == 5
    corner = frames[2][4:12, 4:12].reshape(-1, 3).mean(0)
    np.testing.assert_allclose(corner, [255, 0, 0], atol=12)
    subject = frames[2][40:56, 70:80].reshape(-1, 3).mean(0)
    np.testing.assert_allclose(subject, [205, 160, 130], atol=12)


def test_transparent_png_sequence_is_straight_rgba(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", width=160, height=96, frames=4)
    r = run_cli(
        "render",
        clip,
        "-o",
        tmp_path / "frames" / "%05d.png",
        "--backend",
        "cpu",
        "-b",
        "transparent",
    )
    assert r.returncode == 0, r.stderr
    names = sorted(p.name for p in (tmp_path / "frames").iterdir())
    assert names == ["00001.png", "00002.png", "00003.png", "00004.png"]
    img = read_png(tmp_path / "frames" / "00002.png")
    assert img.shape == (96, 160, 4)
    assert img[5, 5, 3] == 0
    assert img[48, 75, 3] == 255
    np.testing.assert_allclose(img[48, 75, :3], [205, 160, 130], atol=12)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_numpy_callback_sink_gets_every_frame(tmp_path):
    from chromakey.backgrounds import parse_background
    from chromakey.core.params import KeyerParams
    from chromakey.io.sinks import CallbackSink
    from chromakey.io.sources import VideoSource
    from chromakey.keying.kernels import CpuKeyer
    from chromakey.pipeline import Pipeline

    clip = write_clip(tmp_path / "in.mp4", frames=6)
    got = []
    source = VideoSource(clip)
    sink = CallbackSink(lambda img, t: got.append((img.shape, t)))
    stats = Pipeline(
        source, CpuKeyer(KeyerParams()), parse_background("#000"), [sink], KeyerParams()
    ).run()
    assert stats.frames == 6
    assert [g[0] for g in got] == [(96, 160, 3)] * 6
    np.testing.assert_allclose([g[1] for g in got], np.arange(6) / 25)
