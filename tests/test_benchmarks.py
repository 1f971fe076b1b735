"""Smoke tests of the benchmark harnesses: they run on a tiny clip and print their tables.

No timing is asserted: benchmarks measure, tests check behaviour.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
HAS_FFMPEG = shutil.which("ffmpeg") is not None


def _run(args: list[str], tmp_path: Path) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_speed_harness_prints_its_tables(tmp_path):
    out = _run(
        [
            "-m",
            "benchmarks.speed",
            "--sizes",
            "160x96",
            "--seconds",
            "0.5",
            "--rounds",
            "1",
            "--backends",
            "cpu,gpu",
            "--workdir",
            str(tmp_path),
        ],
        tmp_path,
    )
    assert "| PyAV decode only |" in out
    assert "| ours cpu → raw |" in out
    assert "| ours cpu → mp4 |" in out
    assert "Per-stage ms/frame" in out
    assert "| cpu |" in out  # the machine table
    if HAS_FFMPEG:
        assert "| FFmpeg chromakey+overlay → raw |" in out
    else:
        assert "ffmpeg CLI not found" in out


def test_speed_harness_takes_a_recorded_stream(tmp_path):
    from chromakey.bench import sample_clip

    clip = sample_clip(tmp_path, 160, 96, 0.3)
    out = _run(
        ["-m", "chromakey.bench", str(clip), "--rounds", "1", "--backends", "cpu", "--no-mp4"],
        tmp_path,
    )
    assert clip.name in out
    assert "| ours cpu → raw |" in out
    assert "→ mp4" not in out


def test_quality_harness_prints_its_tables(tmp_path):
    out = _run(
        [
            "benchmarks/quality.py",
            "--sizes",
            "160x96",
            "--seeds",
            "0",
            "--seconds",
            "0.5",
            "--small-grid",
            "--backends",
            "cpu",
            "--workdir",
            str(tmp_path),
            "--png-dir",
            str(tmp_path / "png"),
        ],
        tmp_path,
    )
    for metric in ("SAD", "Grad", "edge PSNR dB", "dtSSD×100", "SAD hair"):
        assert f"| {metric} |" in out
    assert "Mean over 1 clips" in out
    assert list((tmp_path / "png").glob("err_*.png"))
    if HAS_FFMPEG:
        assert "FFmpeg (tuned)" in out and "Targets (issue 6)" in out


def test_quality_metrics_are_zero_for_the_truth():
    from benchmarks import quality
    from chromakey.sample import SampleSpec, render_truth

    spec = SampleSpec(96, 64, 30, 0.1, 0)
    acc = quality.Acc()
    prev = None
    for i in range(2):
        tf = render_truth(spec, i)
        t = quality.truth_ctx(tf, prev, None)
        quality.accumulate(acc, t, tf.alpha, tf.foreground)
        prev = tf.alpha
    r = acc.result()
    assert r["SAD"] == 0 and r["Grad"] == 0 and r["dtSSD×100"] == 0
    assert r["PSNR dB"] == float("inf")


def test_spill_floor_is_the_error_of_reading_the_screen_share():
    from benchmarks import quality
    from chromakey.sample import SampleSpec, render_truth

    tf = render_truth(SampleSpec(320, 180, 30, 0.1, 0), 1)
    partial = (tf.alpha > 1e-4) & (tf.alpha < quality.FLOOR_MAX_ALPHA)
    share_reading = np.where(partial, tf.alpha * (1 - tf.spill), tf.alpha)
    floor = quality.spill_floor_sad(tf)
    assert floor > 0
    assert floor == pytest.approx(float(np.abs(share_reading - tf.alpha).sum()) / 1000, rel=1e-4)


@pytest.mark.parametrize("text,size", [("720p", (1280, 720)), ("160x96", (160, 96))])
def test_parse_size(text, size):
    from chromakey.bench import parse_size

    assert parse_size(text) == size
