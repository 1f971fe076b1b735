"""Bad input: one clear line on stderr, a non-zero exit status, and no output file left."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from media import write_clip


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def good_clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "good.mp4", frames=30, width=160, height=96)


def make_input(kind, folder, good_clip):
    path = folder / "input.mp4"
    if kind == "missing":
        return folder / "nope.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not a video\n" * 50)
    elif kind == "truncated":
        data = good_clip.read_bytes()
        path.write_bytes(data[: len(data) // 10])
    return path


@pytest.mark.parametrize(
    ("kind", "status", "words"),
    [
        ("missing", 3, "no such file"),
        ("empty", 4, "empty"),
        ("text", 4, "not a video file"),
        ("truncated", 4, "truncated or corrupt"),
    ],
)
def test_bad_input_files(kind, status, words, tmp_path, good_clip):
    src = make_input(kind, tmp_path, good_clip)
    out = tmp_path / "out.mp4"
    r = run_cli("render", src, "-o", out, "--backend", "cpu")
    assert r.returncode == status, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert "Traceback" not in r.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name] if src.exists() else [])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--background", "#12345"], "invalid colour"),
        (["--background", "notacolour"], "invalid colour"),
        (["--sat-min", "1.5"], "sat_min=1.5 is out of range"),
        (["--choke", "2.5"], "invalid int value"),
        (["--hue-min", "abc"], "invalid float value"),
        (["--backend", "metal"], "invalid choice"),
        (["--background", '{"type": "color"}'], 'needs a "value"'),
        (["--background", "{oops"], "JSON is malformed"),
    ],
)
def test_bad_parameters(args, words, tmp_path, good_clip):
    out = tmp_path / "out.mp4"
    r = run_cli("render", good_clip, "-o", out, "--backend", "cpu", *args)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], r.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "status", "words"),
    [
        ("missing/out.mp4", 5, "does not exist"),
        ("out.avi", 2, "unknown output type"),
        ("out%d.jpg", 2, "must be PNG"),
    ],
)
def test_bad_outputs(output, status, words, tmp_path, good_clip):
    r = run_cli("render", good_clip, "-o", tmp_path / output, "--backend", "cpu")
    assert r.returncode == status, r.stderr
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_output_equal_to_input_is_refused(tmp_path, good_clip):
    clip = tmp_path / "same.mp4"
    clip.write_bytes(good_clip.read_bytes())
    before = clip.read_bytes()
    r = run_cli("render", clip, "-o", clip, "--backend", "cpu")
    assert r.returncode == 2 and "output is the input" in r.stderr
    assert clip.read_bytes() == before


def test_transparent_into_h264_is_refused(tmp_path, good_clip):
    r = run_cli(
        "render", good_clip, "-o", tmp_path / "o.mp4", "-b", "transparent", "--backend", "cpu"
    )
    assert r.returncode == 2 and "no alpha" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_existing_output_survives_a_failed_render(tmp_path):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous result")
    (tmp_path / "in.mp4").write_text("not video")
    r = run_cli("render", tmp_path / "in.mp4", "-o", out, "--backend", "cpu")
    assert r.returncode == 4
    assert out.read_bytes() == b"previous result"


def signal_mid_render(tmp_path, sig, *extra, audio=False):
    """Start a long CPU render, send ``sig`` once it is writing; (exit status, stderr, out path)."""
    import time

    clip = write_clip(tmp_path / "long.mp4", frames=400, width=320, height=192, audio=audio)
    out = tmp_path / "out.mp4"
    cmd = [
        sys.executable,
        "-m",
        "chromakey",
        "render",
        str(clip),
        "-o",
        str(out),
        "--backend",
        "cpu",
    ]
    proc = subprocess.Popen([*cmd, *extra], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.partial-*")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.partial-*")), "the render never started writing"
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err, out


def test_interrupted_render_leaves_no_partial_file(tmp_path):
    import signal

    status, err, _ = signal_mid_render(tmp_path, signal.SIGINT)
    assert status == 130, err
    assert "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.mp4"]


def test_keep_partial_finishes_a_playable_file_on_ctrl_c(tmp_path):
    import signal

    import av

    status, err, out = signal_mid_render(tmp_path, signal.SIGTERM, "--keep-partial", audio=True)
    assert status == 128 + signal.SIGTERM, err
    assert "kept" in err
    with av.open(str(out)) as c:
        n = sum(1 for _ in c.decode(video=0))
    assert 0 < n < 400
    assert not list(tmp_path.glob(".out.partial-*"))


@pytest.mark.parametrize(
    ("args", "see"),
    [
        (["render", "in.mp4", "-o", "out.mp4", "--bogus"], "see 'chromakey render --help'"),
        (["--bogus"], "see 'chromakey --help'"),
        (["sample", "-o", "x.mp4", "--fps", "fast"], "see 'chromakey sample --help'"),
    ],
)
def test_an_unknown_option_points_at_the_right_help(tmp_path, args, see):
    r = subprocess.run(
        [sys.executable, "-m", "chromakey", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert r.returncode == 2, r.stderr
    assert see in r.stderr and "chromakey chromakey" not in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == []
