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
    assert "| ours cpu → NUT stdout, whole process |" in out
    if HAS_FFMPEG:
        assert "| FFmpeg chromakey+overlay → raw |" in out
        assert "| FFmpeg chromakey+overlay → NUT stdout, whole process |" in out
        assert "FFmpeg keys 0x" in out
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
    if HAS_FFMPEG:  # the peer keys what an eyedropper reads on this clip's border
        from chromakey.bench import border_key_color, ffmpeg_color

        assert f"FFmpeg keys {ffmpeg_color(border_key_color(str(clip)))}" in out


def _screen_frame(screen: tuple[int, int, int], i: int, w: int, h: int) -> np.ndarray:
    """A skin block moving over a screen of colour ``screen`` (not the sample's), RGB uint8."""
    from media import SKIN

    img = np.empty((h, w, 3), np.uint8)
    img[...] = screen
    img[h // 4 : 3 * h // 4, w // 4 + i : w // 4 + i + w // 3] = SKIN
    return img


def _bt709_clip(path: Path, screen: tuple[int, int, int], w: int, h: int, frames: int) -> Path:
    """An HD H.264 clip encoded with BT.709 limited range and tagged so."""
    from fractions import Fraction

    import av

    from chromakey.sample import bt709_frame, rgb_to_yuv420p

    rate = Fraction(25)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        cc = s.codec_context
        cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
        for i in range(frames):
            rgb = _screen_frame(screen, i, w, h).astype(np.float32) / 255
            for p in s.encode(bt709_frame(rgb_to_yuv420p(rgb), i, rate)):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


@pytest.mark.parametrize("screen", [(40, 170, 70), (120, 150, 40)])
@pytest.mark.parametrize("hd", [False, True])
def test_ffmpeg_peer_keys_the_colour_sampled_from_the_border(tmp_path, screen, hd):
    """An eyedropper on the border: the screen's colour through the stream's own matrix (an
    untagged SD clip is BT.601, a tagged HD one BT.709), not the sample's constant."""
    from fractions import Fraction

    from chromakey.bench import FFMPEG_KEY, border_key_color, ffmpeg_color, ffmpeg_command

    from media import write_clip

    w, h = (1280, 720) if hd else (160, 96)
    if hd:
        clip = _bt709_clip(tmp_path / "screen.mp4", screen, w, h, 3)
    else:  # PyAV's default conversion: BT.601 limited, untagged
        make = lambda i, w, h: _screen_frame(screen, i, w, h)  # noqa: E731
        clip = write_clip(tmp_path / "screen.mp4", width=w, height=h, frames=3, make=make)
    rgb = border_key_color(str(clip))
    assert np.abs(np.subtract(rgb, screen)).max() <= 2, rgb
    key = ffmpeg_color(rgb)
    cmd = ffmpeg_command("ffmpeg", str(clip), w, h, Fraction(25), "nut", "-", key=key)
    graph = cmd[cmd.index("-filter_complex") + 1]
    assert f"chromakey=color={key}:" in graph and FFMPEG_KEY not in graph
    assert cmd[-3:] == ["nut", "-y", "-"] and "rgb24" in cmd


@pytest.mark.parametrize(
    "text,size",
    [("720p", (1280, 720)), ("160x96", (160, 96)), ("4K", (3840, 2160)), ("2160p", (3840, 2160))],
)
def test_parse_size(text, size):
    from chromakey.bench import parse_size

    assert parse_size(text) == size


def test_bench_measures_the_camera_and_avatar_clip_kinds(tmp_path):
    out = _run(
        ["-m", "chromakey.bench", "--sizes", "160x96", "--seconds", "0.3", "--rounds", "1"]
        + ["--backends", "cpu", "--kinds", "camera,avatar", "--workdir", str(tmp_path)],
        tmp_path,
    )
    for kind in ("camera", "avatar"):
        assert f"### {kind} 160x96: 160×96" in out
    assert out.count("| ours cpu → NUT stdout, whole process |") == 2
    assert out.count("| ours cpu → MP4 file, whole process |") == 2
    if HAS_FFMPEG:
        assert out.count("| FFmpeg chromakey+overlay → MP4 file, whole process |") == 2


def test_bench_refuses_an_unknown_clip_kind(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "chromakey.bench", "--kinds", "studio", "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "--kinds: studio" in proc.stderr


def test_the_clip_kinds_look_as_they_say(tmp_path):
    """avatar: a still, flat #008000 screen around a moving figure; camera: the sample's
    scene with more noise on its screen than the sample itself."""
    import av

    from chromakey.bench import sample_clip

    def frames(kind):
        clip = sample_clip(tmp_path, 320, 180, 0.4, kind=kind)
        with av.open(str(clip)) as c:
            return [f.to_ndarray(format="rgb24").astype(np.int16) for f in c.decode(video=0)]

    avatar = frames("avatar")
    corner = np.concatenate([f[:16, :16].reshape(-1, 3) for f in avatar])
    assert np.abs(np.median(corner, axis=0) - (0, 128, 0)).max() <= 3
    moved = np.abs(avatar[-1] - avatar[0]).max(axis=2) > 24
    assert 0.005 < moved.mean() < 0.5  # the figure moves; the screen stays
    sample, camera = frames("sample"), frames("camera")
    assert len(camera) == len(sample) == len(avatar)

    def screen_noise(fs):  # frame-to-frame change on the top-left screen corner
        return float(
            np.mean(
                [np.abs(b[:24, :24] - a[:24, :24]).mean() for a, b in zip(fs, fs[1:], strict=False)]
            )
        )

    assert screen_noise(camera) > screen_noise(sample)


def test_streams_quick_reports_the_largest_n_within_the_drop_limit(tmp_path):
    out = _run(["-m", "benchmarks.streams", "--quick", "--workdir", str(tmp_path)], tmp_path)
    assert "## Streams: paced 160×96 avatar streams at once, CPU path" in out
    assert "| streams | frames | dropped | dropped % | worst stream % | ≤ limit |" in out
    rows = [ln for ln in out.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert 1 <= len(rows) <= 2
    assert [int(r.split("|")[1]) for r in rows] == list(range(1, len(rows) + 1))
    best = int(out.split("frames dropped: ")[1].split()[0])
    passed = [r for r in rows if r.rstrip().endswith("| yes |")]
    assert best == len(passed)
    for r in rows:  # frames counted: 30 a stream (1 s at 30 fps), every one keyed or dropped
        n, frames = int(r.split("|")[1]), int(r.split("|")[2])
        assert frames == 30 * n
