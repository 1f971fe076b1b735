"""The bad-input catalogue in the preview window (under Xvfb): broken files are refused with
the CLI's exit status before a window opens; odd but legitimate video plays and is shot."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from media import figure_frame, read_png, write_clip

ROOT = Path(__file__).resolve().parent.parent


def preview(args, display, timeout=120):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = display
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "chromakey", "preview", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def broken(kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("not a video\n" * 40)
    elif kind == "truncated":
        data = write_clip(folder / "full.mp4", frames=30).read_bytes()
        path.write_bytes(data[: len(data) // 10])
    return path


@pytest.mark.parametrize(
    ("kind", "status"), [("missing", 3), ("empty", 4), ("text", 4), ("truncated", 4)]
)
def test_broken_files_are_refused_before_a_window_opens(kind, status, tmp_path, xvfb_display):
    r = preview([broken(kind, tmp_path), "--max-frames", "3"], xvfb_display)
    assert r.returncode == status, r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.startswith("chromakey: error")]) == 1


def write_raw(path: Path, pix_fmt: str, w: int, h: int, frames: int = 6) -> Path:
    with av.open(str(path), "w", format="nut") as c:
        s = c.add_stream("rawvideo", rate=25)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        s.time_base = s.codec_context.time_base = Fraction(1, 25)
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(figure_frame(i, w, h), format="rgb24").reformat(
                format=pix_fmt
            )
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
    return path


@pytest.mark.parametrize(
    ("pix_fmt", "size"),
    [("yuv420p10le", (64, 36)), ("yuv444p", (33, 17)), ("rgb24", (63, 35)), ("gray", (32, 32))],
)
def test_legitimate_odd_video_plays_in_the_window(pix_fmt, size, tmp_path, xvfb_display):
    w, h = size
    src = write_raw(tmp_path / "odd.nut", pix_fmt, w, h)
    shot = tmp_path / "shot.png"
    r = preview([src, "--max-frames", "3", "--screenshot", shot, "-b", "#ff0000"], xvfb_display)
    assert r.returncode == 0, r.stderr
    img = read_png(shot)
    assert img.shape[:2] == (h, w)
    if pix_fmt != "gray":
        assert np.abs(img[1, 1, :3].astype(int) - [255, 0, 0]).max() <= 8
