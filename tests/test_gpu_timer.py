"""PassTimer: the GPU's own time of each pass by OpenGL timer queries, on llvmpipe. The spans
are the passes that ran, each measured, the frame's total their sum, and a keyer with the
timer draws the same pixels as one without. No timing value is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_gpu_parity import make_background, synthetic_rgb, to_frame

from chromakey.core.color import YuvSpec
from chromakey.core.errors import ParameterError
from chromakey.core.layers import CLEAR, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying.calibration import default_screen
from chromakey.keying.gpu import GpuKeyer, PassTimer, mean_ms, pass_graph

ROOT = Path(__file__).resolve().parent.parent
W, H = 48, 32

SETTINGS = [
    KeyerParams(),
    KeyerParams(choke=1, feather=1.5, spill_radius=6),  # choke, feather, near-screen rows
    KeyerParams(guide_radius=6, sat_max=0.9),  # the separable guide; a pale window's reach
]
LAYOUTS = ["yuv420", "rgb"]


def _frame(layout: str, seed: int = 0):
    return to_frame(synthetic_rgb(W, H, seed), layout, YuvSpec("bt709", False))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("params", SETTINGS, ids=["default", "choke-feather", "wide-guide"])
def test_spans_are_the_passes_that_ran_each_measured(gl_ctx, params, layout):
    frame = _frame(layout)
    screen = ScreenMap.constant(default_screen(params))
    timer = PassTimer()
    with GpuKeyer(params, gl_ctx, timer=timer) as keyer:
        for bg in ("none", "image_rgb"):
            keyer.render(frame, screen, make_background(bg, W, H, 0))
            graph = pass_graph(params, frame.chroma_factors)
            assert keyer.graph == graph
            times = timer.frames[-1]
            assert [n for n, _ in times.passes] == [ps.name for ps in graph]
            spans = times.spans()
            assert [n for n, _ in spans] == ["upload", *(ps.name for ps in graph), "readback"]
            assert all(ns > 0 for _, ns in spans), spans
            assert times.total == sum(ns for _, ns in spans)
            assert times.passes_total == sum(ns for _, ns in times.passes)
    assert len(timer.frames) == 2


def test_a_texture_frame_has_no_readback_span(gl_ctx):
    params = KeyerParams()
    timer = PassTimer()
    with GpuKeyer(params, gl_ctx, timer=timer) as keyer:
        keyer.render_texture(_frame("yuv420"), ScreenMap.constant(default_screen(params)), CLEAR)
    (times,) = timer.frames
    assert times.readback is None
    assert [n for n, _ in times.spans()] == ["upload", *(ps.name for ps in keyer.graph)]
    assert times.total == times.upload + times.passes_total


@pytest.mark.parametrize("layout", LAYOUTS)
def test_the_timer_changes_no_pixel(gl_ctx, layout):
    params = KeyerParams(choke=-1, feather=1.0)
    screen = ScreenMap.constant(default_screen(params))
    outs = []
    for timer in (None, PassTimer()):
        with GpuKeyer(params, gl_ctx, timer=timer) as keyer:
            frames = [_frame(layout, seed) for seed in (1, 2)]
            outs.append([keyer.render(f, screen, Solid((0.2, 0.3, 0.9))).tobytes() for f in frames])
            outs.append([keyer.render(f, screen, CLEAR).tobytes() for f in frames])
    assert outs[0] == outs[2] and outs[1] == outs[3]


def test_mean_rows_add_up_to_the_frame(gl_ctx):
    params = KeyerParams()
    timer = PassTimer()
    with GpuKeyer(params, gl_ctx, timer=timer) as keyer:
        for seed in range(3):
            keyer.render(_frame("yuv420", seed), ScreenMap.constant(default_screen(params)), CLEAR)
    rows = dict(mean_ms(timer.frames))
    spans = [n for n, _ in timer.frames[0].spans()]
    assert list(rows) == [*spans, "passes", "frame"]
    assert rows["frame"] == pytest.approx(sum(rows[n] for n in spans))
    assert rows["passes"] == pytest.approx(sum(rows[n] for n in spans[1:-1]))
    assert mean_ms([]) == []


def test_one_timer_times_one_keyers_context(gl_ctx):
    timer = PassTimer()
    with (
        GpuKeyer(KeyerParams(), gl_ctx, timer=timer),
        pytest.raises(ParameterError, match="one keyer"),
    ):
        GpuKeyer(KeyerParams(), timer=timer)  # a standalone context of its own


def test_a_frame_that_raised_leaves_no_span_behind(gl_ctx):
    params = KeyerParams()
    screen = ScreenMap.constant(default_screen(params))
    timer = PassTimer()
    with GpuKeyer(params, gl_ctx, timer=timer) as keyer:
        with pytest.raises(ParameterError, match="background"):
            keyer.render(_frame("yuv420"), screen, Picture(np.zeros((5, 5, 3), np.uint8)))
        keyer.render(_frame("yuv420"), screen, CLEAR)
    (times,) = timer.frames
    assert [n for n, _ in times.passes] == [ps.name for ps in keyer.graph]


def _run(args: list[str]) -> str:
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _table_rows(text: str) -> dict[str, str]:
    return {
        ln.split("|")[1].strip().strip("*"): ln.split("|")[2].strip()
        for ln in text.splitlines()
        if ln.startswith("| ") and not ln.startswith("| span")
    }


def test_bench_prints_the_gpu_time_per_pass(gl_ctx, tmp_path):
    report = tmp_path / "bench.json"
    out = _run(
        ["-m", "chromakey.bench", "--sizes", "64x48", "--kinds", "sample", "--seconds", "0.3", "--rounds", "1",
         "--backends", "gpu", "--no-mp4", "--no-pipe", "--gpu-passes",
         "--workdir", str(tmp_path), "--json", str(report)]
    )  # fmt: skip
    assert "### GPU time per pass" in out
    assert "#### sample 64x48:" in out
    names = ["upload", *(ps.name for ps in pass_graph(KeyerParams(), (2, 2))), "readback"]
    section = out.split("### GPU time per pass", 1)[1]
    assert list(_table_rows(section)) == [*names, "passes (key + composite)", "frame"]
    saved = json.loads(report.read_text())["gpu_passes"]["sample 64x48"]
    ms = dict(saved["gpu_ms"])
    assert ms["frame"] == pytest.approx(sum(ms[n] for n in names))
    assert saved["timed_frames"] >= 1
