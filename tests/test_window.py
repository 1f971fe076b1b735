"""``chromakey preview``: a real glfw window under Xvfb, its screenshot, its keys, its refusals."""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chromakey.app import preview, tuning
from chromakey.core.params import KeyerParams
from chromakey.live import LiveCompositor

from media import read_png, write_clip

ROOT = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))


def _run(args, display, timeout=120):
    env = {k: v for k, v in ENV.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display:
        env["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, timeout=timeout, env=env
    )


@pytest.mark.parametrize("backend", ["auto", "gpu"])
def test_the_preview_shows_the_keyed_frame_in_a_window(tmp_path, xvfb_display, backend):
    """The window's framebuffer, read back, is what `chromakey render` makes of that frame:
    under Xvfb (llvmpipe) ``auto`` keys with the CPU keyer, ``gpu`` with the shaders."""
    clip = write_clip(tmp_path / "clip.mp4", width=160, height=96, frames=40, fps=25)
    shot = tmp_path / "shot.png"
    # No still hold: the window may drop late frames that the render keys, and the hold
    # carries a matte from the frames each keyed (tests/test_still_hold.py tests it).
    opts = ["--background", "#3366cc", "--screen-color", "#008000", "--choke", "1"]
    opts += ["--still-hold", "0"]
    r = _run(
        ["chromakey.app.preview", str(clip), "--max-frames", "12", "--screenshot", str(shot), *opts]
        + ["--backend", backend],
        xvfb_display,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    # "backend: cpu (… OpenGL: llvmpipe (…))" or "backend: gpu (GLSL passes on llvmpipe (…))"
    m = re.search(r"^backend: (cpu|gpu) \(.*(?:OpenGL: |passes on )(.*)\)$", r.stderr, re.M)
    assert m, r.stderr
    software = any(s in m.group(2).lower() for s in ("llvmpipe", "softpipe", "swrast"))
    multicore = len(os.sched_getaffinity(0)) > 1
    want = "cpu" if backend == "auto" and software and multicore else "gpu"
    assert m.group(1) == want, r.stderr
    m = re.search(r"last frame index (\d+)", r.stderr)
    assert m, r.stderr
    index = int(m.group(1))
    assert index >= 11
    assert re.search(r"fps \| shown \d+ \| dropped \d+ late", r.stderr)  # the status line
    assert "--choke 1" in r.stderr  # the settings as render options
    out = tmp_path / "ref"
    r2 = _run(
        ["chromakey", "render", str(clip), "-o", str(out / "%05d.png"), "--backend", "cpu", *opts],
        None,
    )
    assert r2.returncode == 0, r2.stdout + r2.stderr
    want = read_png(out / f"{index + 1:05d}.png")  # the sequence counts from 1
    got = read_png(shot)
    assert got.shape == want.shape == (96, 160, 3)
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 3, diff.max()
    # And not the frame next to it: the figure moves one pixel a frame.
    other = read_png(out / f"{index:05d}.png")
    assert np.abs(got.astype(int) - other.astype(int)).max() > 50


def test_without_a_display_it_says_how_to_get_one(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=3)
    r = _run(["chromakey.app.preview", str(clip), "--max-frames", "1"], None, timeout=60)
    assert r.returncode == 6, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "xvfb-run -a chromakey preview" in lines[0] and "chromakey render" in lines[0]


def test_bad_arguments_are_refused_before_a_window_opens(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", frames=3)
    r = _run(["chromakey.app.preview", str(clip), "--background", "#zz0000"], None, timeout=60)
    assert r.returncode == 2 and "zz0000" in r.stderr
    r = _run(["chromakey.app.preview", str(tmp_path / "none.mp4")], None, timeout=60)
    assert r.returncode == 3


def _args(clip, *extra):
    parser = argparse.ArgumentParser()
    preview.add_arguments(parser)
    return parser.parse_args([str(clip), *extra])


class _FakeWindow:
    handle = None

    def __init__(self, keys):
        self.keys = [(k, 0) for k in keys]


def test_keys_tune_the_keyer_and_print_render_options(tmp_path, gl_ctx):
    import glfw

    clip = write_clip(tmp_path / "clip.mp4", frames=3)
    shown = preview.Preview(_args(clip, "-b", "#112233", "-b", "transparent"))
    shown.out = io.StringIO()
    live = LiveCompositor(gl_ctx, shown.params, shown.background)
    try:
        keys = [glfw.KEY_RIGHT_BRACKET, glfw.KEY_APOSTROPHE, glfw.KEY_S, glfw.KEY_F, glfw.KEY_C]
        keys += [glfw.KEY_H, glfw.KEY_P, glfw.KEY_B]
        assert shown.handle_keys(_FakeWindow(keys), live)
        p = shown.params
        assert (p.hue_min, p.hue_max, p.sat_min, p.feather, p.choke, p.spill) == (
            102,
            142,
            0.42,
            0.5,
            1,
            1.0,  # spill is at its maximum already
        )
        assert p.guide_radius == KeyerParams().guide_radius - 1
        assert shown.background == "transparent" and shown.view_mode == 2
        text = shown.out.getvalue()
        assert "--hue-min 102 --hue-max 142 --sat-min 0.42 --feather 0.5 --choke 1" in text
        assert f"--guide-radius {p.guide_radius}" in text
        assert "spill stays at 1 (limit)" in text
        assert "--background transparent" in text.splitlines()[-1]
        shown.handle_keys(_FakeWindow([glfw.KEY_M]), live)
        assert shown.view_mode == 1  # the matte, as grey
        shown.handle_keys(_FakeWindow([glfw.KEY_SPACE]), live)
        assert live.paused
        assert live.params == KeyerParams()  # pending: applied on the GL thread's next update
        live.update(now=0.0)
        assert live.params == shown.params
    finally:
        live.close()


def test_render_options_and_steps():
    p = KeyerParams(screen_color="#00ff00", clip_black=0.4)
    text = tuning.render_options(p, "#ff0000")
    assert text.startswith("--background '#ff0000' --hue-min 100 --hue-max 140")
    assert "--clip-black 0.4" in text and "--screen-color #00ff00" in text.replace("'", "")
    assert tuning.step_param(KeyerParams(), "choke", -1).choke == -1
    assert tuning.step_param(KeyerParams(choke=-10), "choke", -1).choke == -10  # clamped
    tight = KeyerParams(hue_min=100, hue_max=102)
    assert tuning.step_param(tight, "hue_min", 2) == tight  # would close the window: refused
