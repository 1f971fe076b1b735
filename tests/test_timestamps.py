"""Sources whose timestamps jump — forward by 10⁹ frames, back by 30 s, across the MPEG-TS
33-bit wrap — render to MP4 and MKV whose timing is monotonic and sane (every step one
frame, the duration the frames' own), audio still in sync, and the jump reported once.

The inputs are written with PyAV: packets given crafted pts and dts, muxed into NUT,
Matroska or MPEG-TS; a jump back is two MPEG-TS recordings joined byte for byte, as a
broadcast splice is (no muxer writes time backwards)."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.io.sources.timeline import MAX_GAP

from media import figure_frame

ROOT = Path(__file__).resolve().parent.parent
FPS = 25
FRAMES = 40  # 1.6 s, the jump after the 20th
RATE = 48000
WRAP = 2**33  # MPEG-TS timestamps: 33 bits of a 90 kHz clock


def write_jumping(path: Path, fmt: str, shift, *, audio: bool = True, frames: int = FRAMES) -> Path:
    """``frames`` frames at FPS (H.264, no B-frames) and their AAC audio into ``fmt``;
    ``shift(t)`` (seconds) is added to the pts and dts of every packet whose own time is
    ``t``: the jump."""
    with av.open(str(path), "w", format=fmt) as c:
        vs = c.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = 160, 96, "yuv420p"
        vs.time_base = Fraction(1, FPS)
        vs.codec_context.options = {"bframes": "0"}
        packets = []
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(figure_frame(i, 160, 96), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts, f.time_base = i, Fraction(1, FPS)
            packets += vs.encode(f)
        packets += vs.encode(None)
        if audio:
            a = c.add_stream("aac", rate=RATE)
            a.layout = "mono"
            n = frames * RATE // FPS
            pcm = (0.2 * np.sin(2 * np.pi * 440 * np.arange(n) / RATE)).astype(np.float32)
            for k in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(
                    pcm[None, k : k + 1024], format="fltp", layout="mono"
                )
                af.sample_rate, af.pts, af.time_base = RATE, k, Fraction(1, RATE)
                packets += a.encode(af)
            packets += a.encode(None)
        for p in packets:
            extra = round(shift(float(p.pts * p.time_base)) / p.time_base)
            p.pts, p.dts = p.pts + extra, (p.pts if p.dts is None else p.dts) + extra
        packets.sort(key=lambda p: float(p.dts * p.time_base))
        for p in packets:
            c.mux(p)
    return path


def write_spliced(path: Path, back: float) -> Path:
    """Two MPEG-TS recordings of FRAMES frames joined byte for byte, the second's clock
    starting ``back`` s before the first one's end: a splice where the clock steps back."""
    first = write_jumping(path.with_suffix(".a.ts"), "mpegts", lambda t: 100.0)
    again = 100.0 + FRAMES / FPS - back
    second = write_jumping(path.with_suffix(".b.ts"), "mpegts", lambda t: again)
    path.write_bytes(first.read_bytes() + second.read_bytes())
    return path


JUMP_FORWARD = 10**9 / FPS  # 10⁹ frames
CASES = {
    "mkv-forward-1e9-frames": (
        "mkv", "matroska", lambda t: JUMP_FORWARD if t >= FRAMES / FPS / 2 else 0.0, FRAMES,
    ),
    "nut-forward-1e9-frames": (
        "nut", "nut", lambda t: JUMP_FORWARD if t >= FRAMES / FPS / 2 else 0.0, FRAMES,
    ),
    "ts-forward-1e9-frames": (
        "ts", "mpegts", lambda t: 3600.0 + (JUMP_FORWARD if t >= FRAMES / FPS / 2 else 0.0), FRAMES,
    ),
    "ts-across-the-33-bit-wrap": ("ts", "mpegts", lambda t: WRAP / 90000 - 0.8, FRAMES),
}  # fmt: skip


def _render(src: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(src), "-o", str(out), "--backend", "cpu"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def _timing(path: Path) -> tuple[list[float], list[tuple[float, float]], float]:
    """Video frame times, audio packets' (start, end), the container's duration (s)."""
    with av.open(str(path)) as c:
        duration = c.duration / av.time_base if c.duration is not None else float("nan")
        v = c.streams.video[0]
        frames = [float(f.pts * f.time_base) for f in c.decode(v)]
    with av.open(str(path)) as c:
        audio = []
        if c.streams.audio:
            for p in c.demux(c.streams.audio[0]):
                if p.pts is not None:
                    audio.append(
                        (float(p.pts * p.time_base), float((p.pts + p.duration) * p.time_base))
                    )
    return frames, audio, duration


def _assert_sane(path: Path, frames: int, with_audio: bool) -> None:
    times, audio, duration = _timing(path)
    step = 1 / FPS
    assert len(times) == frames
    assert abs(times[0]) < step, times[0]  # from zero, whatever the source's clock read
    steps = np.diff(times)
    assert np.all(steps > 0), steps  # monotonic
    assert np.allclose(steps, step, atol=2e-3), steps  # each one frame: the jump closed
    span = times[-1] - times[0] + step
    assert abs(duration - span) < 0.2, (duration, span)  # no claimed hours or years
    if with_audio:
        starts = [a for a, _ in audio]
        assert np.all(np.diff(starts) > 0)
        gaps = [b - a for (_, a), (b, _) in zip(audio, audio[1:], strict=False)]
        assert max(abs(g) for g in gaps) < 0.005, gaps  # audio continuous too
        # in sync: the audio spans the video's time, within an audio packet and a frame
        assert abs(audio[0][0] - times[0]) < 0.05, (audio[0], times[0])
        assert abs(audio[-1][1] - (times[-1] + step)) < 0.05, (audio[-1], times[-1])


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_a_jump_forward_is_closed_and_said_once(tmp_path, case, ext):
    suffix, fmt, shift, frames = CASES[case]
    src = write_jumping(tmp_path / f"in.{suffix}", fmt, shift)
    out = tmp_path / f"out.{ext}"
    r = _render(src, out)
    assert r.returncode == 0, r.stderr
    _assert_sane(out, frames, with_audio=True)
    notes = [ln for ln in r.stderr.splitlines() if "timestamps jump" in ln]
    if "wrap" in case:
        assert notes == [], r.stderr  # FFmpeg's demuxer unwraps the clock itself
    else:
        assert len(notes) == 1 and notes[0].startswith("chromakey: note:"), r.stderr
        if suffix != "ts":  # 33 bits cannot hold the jump: wrapped, it may read as one back
            assert "jump forward" in notes[0], notes


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_a_splice_that_steps_back_30_s_goes_on_one_frame_later(tmp_path, ext):
    src = write_spliced(tmp_path / "in.ts", back=30.0)
    out = tmp_path / f"out.{ext}"
    r = _render(src, out)
    assert r.returncode == 0, r.stderr
    _assert_sane(out, 2 * FRAMES, with_audio=True)
    notes = [ln for ln in r.stderr.splitlines() if "timestamps jump" in ln]
    assert len(notes) == 1 and "jump back" in notes[0], r.stderr


def test_a_gap_under_the_limit_is_kept(tmp_path):
    """A pause shorter than MAX_GAP is the stream's own timing: kept as it is, no note."""
    gap = MAX_GAP / 2
    src = write_jumping(tmp_path / "in.mkv", "matroska",
                        lambda t: gap if t >= FRAMES / FPS / 2 else 0.0, audio=False)  # fmt: skip
    r = _render(src, tmp_path / "out.mkv")
    assert r.returncode == 0, r.stderr
    times, _, _ = _timing(tmp_path / "out.mkv")
    steps = np.diff(times)
    assert np.all(steps > 0)
    assert abs(steps.max() - (gap + 1 / FPS)) < 2e-3, steps.max()
    assert "timestamps jump" not in r.stderr
