"""The GPU pass graph: few passes and narrow targets at default settings, extra passes only
for the settings that need them, and the keyer draws exactly the graph the table reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chromakey.core.color import YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import gpu
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import default_screen
from chromakey.keying.gpu import CARRIED, TARGETS, GpuKeyer, frame_bytes, pass_graph, pass_table

ROOT = Path(__file__).resolve().parent.parent

# Targets allowed to be float32, each for a reason the TARGETS table gives (parity).
FLOAT32_OK = {
    "guide",
    "sums_ab",
    "sums_w",
    "stack",
    "coef_ab",
    "coef_w",
    "matte",
    "alpha",
    "alpha_tmp",
    "chroma_guide",
    "keyed",
    "seed",
    "colour",
    "colour_rows",
}


def _narrow(graph) -> None:
    for ps in graph:
        for target, fmt in zip(ps.outputs, ps.formats, strict=True):
            assert not fmt.endswith("32F") or target in FLOAT32_OK, (target, fmt)


def test_default_settings_take_eight_narrow_passes():
    graph = pass_graph(KeyerParams())
    assert [ps.program for ps in graph] == [
        "key",
        "reach",
        "guide",
        "matte",
        "colour_rows",
        "colour_model",
        "hold",
        "composite",
    ]
    _narrow(graph)
    # Membership reaches cpu.MEMBER_REACH pixels: the key pass's terms, the reach pass's window.
    key, reach = graph[0], graph[1]
    assert key.outputs == ("keyed", "gate", "seed", "samples") and key.defines == ()
    assert reach.defines == (("REACH_RADIUS", cpu.MEMBER_REACH),)
    assert reach.outputs == ("guide", "colour")
    assert {t for _, t in reach.inputs} == {"keyed", "seed"}
    # The local colour model: row sums of the reach pass's terms, then the clip and the model
    # from the matte and those sums (and, for how far it moves, the raw matte's clear screen
    # around: the guide target), into the matte the composite reads, and the local colour its
    # unmix reads.
    rows, model, hold, composite = graph[4:]
    assert rows.inputs == (("src", "colour"),) and rows.outputs == ("colour_rows",)
    assert dict(model.inputs) == {
        "matte_tex": "matte",
        "rows_tex": "colour_rows",
        "raw_tex": "guide",
    }
    assert model.outputs == ("alpha", "local") and dict(hold.inputs)["alpha_tex"] == "alpha"
    assert dict(composite.inputs)["alpha_tex"] == "levels"
    assert dict(composite.inputs)["local_tex"] == "local"
    per_px = sum(ps.bytes_per_pixel for ps in graph)
    # key (RGBA32F + R8 + R32F + RGBA8), reach (RG32F + RGBA32F), guide (RG32F + R32F),
    # matte, colour rows (RGBA32F), colour model (R32F + RGBA16F), hold (R8), out
    assert per_px == 25 + 24 + 12 + 4 + 16 + 4 + 8 + 1 + 4
    assert frame_bytes(graph, 1920, 1080) == per_px * 1920 * 1080


def test_the_still_hold_is_one_narrow_pass_before_the_composite():
    """On by default: the key pass also writes the pixels' input bytes (RGBA8), and one pass reads
    the shaped matte, the colour and the previous frame's levels and colour (the keyer's
    carried targets) and writes the levels the composite shows, one byte a pixel; the
    composite's near-screen test still reads the matte before it. Off, neither is drawn."""
    off = pass_graph(KeyerParams(still_hold=0.0))
    assert "hold" not in [ps.program for ps in off]
    graph = pass_graph(KeyerParams())
    assert [ps.program for ps in graph][-2:] == ["hold", "composite"]
    hold, composite = graph[-2:]
    assert dict(hold.inputs) == {
        "alpha_tex": "alpha",
        "held_tex": "held",
        "samples_tex": "samples",
        "samples_held_tex": "samples_held",
    }
    assert {"held", "samples_held"} <= CARRIED
    assert hold.outputs == ("levels",) and hold.bytes_per_pixel == 1
    assert graph[0].outputs[-1] == "samples" and "samples" not in off[0].outputs
    assert dict(composite.inputs)["alpha_tex"] == "levels"
    assert dict(composite.inputs)["near_tex"] == "alpha"
    assert frame_bytes(graph) == frame_bytes(off) + 5 * 1920 * 1080


def test_a_pale_screen_window_reaches_farther_through_the_same_passes():
    """sat_max < 1: the same passes as a vivid screen's window, the reach's square
    cpu.PALE_REACH pixels each way (a pale subject's mixes beside the screen, not its inside)."""
    p = KeyerParams(sat_max=0.9)
    assert cpu.pale_window(p) and cpu.member_reach(p) == cpu.PALE_REACH != cpu.MEMBER_REACH
    graph = pass_graph(p)
    assert [ps.program for ps in graph] == [ps.program for ps in pass_graph(KeyerParams())]
    assert graph[1].program == "reach" and graph[1].defines == (("REACH_RADIUS", cpu.PALE_REACH),)
    _narrow(graph)
    assert sum(ps.bytes_per_pixel for ps in graph) == sum(
        ps.bytes_per_pixel for ps in pass_graph(KeyerParams())
    )


@pytest.mark.parametrize("chroma", [(2, 2), (2, 1)])
def test_subsampled_frames_take_the_chroma_guide_first_on_the_chroma_grid(chroma):
    p = KeyerParams(choke=1)
    plain, graph = pass_graph(p), pass_graph(p, chroma)
    assert pass_graph(p, (1, 1)) == plain and "chroma_guide" not in [ps.program for ps in plain]
    first = graph[0]
    assert (first.program, first.outputs, first.grid) == ("chroma_guide", ("chroma_guide",), chroma)
    assert graph[1:] == plain
    assert "chroma_guide" in gpu.CHROMA_GRID
    # Its RGBA32F texel per chroma sample, over the chroma grid of an odd-sized frame.
    fx, fy = chroma
    assert first.fragments(33, 17) == -(-33 // fx) * -(-17 // fy)
    assert frame_bytes(graph, 33, 17) == frame_bytes(plain, 33, 17) + 16 * first.fragments(33, 17)
    table = pass_table(graph, 1920, 1080)
    assert f"| 1 | chroma guide | chroma_guide | chroma_guide (RGBA32F) at 1/{fx}×1/{fy} |" in table


@pytest.mark.parametrize(
    ("change", "extra"),
    [
        # Choke and feather work on the colour model pass's matte: two passes each.
        ({"choke": 2}, 2),
        ({"choke": -1}, 2),
        ({"feather": 1.5}, 2),
        ({"choke": 1, "feather": 0.5}, 2 + 2),
        ({"spill_radius": 1}, 0),
        ({"spill_radius": 0}, 0),
        ({"spill_radius": gpu.FUSED_SPILL_RADIUS}, 0),
        ({"spill_radius": gpu.FUSED_SPILL_RADIUS + 1}, 1),
        ({"spill": 0.0, "spill_radius": 30}, 0),  # no spill: no near-screen test at all
        ({"guide_radius": gpu.FUSED_GUIDE_RADIUS}, 0),
        ({"guide_radius": 1}, 0),
        ({"guide_radius": gpu.FUSED_GUIDE_RADIUS + 1}, 3),
        ({"guide_radius": 0}, -2),  # no guide, no matte pass: the colour model clips the raw matte
        ({"choke": 1, "feather": 3.0, "spill_radius": 20, "guide_radius": 16}, 2 + 2 + 1 + 3),
        ({"sat_max": 0.9}, 0),  # a pale screen's window: the same passes, a wider reach
        ({"sat_max": 0.9, "guide_radius": 0}, -2),
    ],
)
def test_other_settings_add_passes_only_for_themselves(change, extra):
    assert len(pass_graph(KeyerParams(**change))) == 8 + extra


@pytest.mark.parametrize(
    "p",
    [
        KeyerParams(),
        KeyerParams(guide_radius=0, choke=-3),
        KeyerParams(guide_radius=9, feather=2.0, spill_radius=12),
        KeyerParams(choke=2, feather=10.0, spill=0.0),
        KeyerParams(sat_max=0.5, guide_radius=0),
        KeyerParams(still_hold=0.2, choke=1),
    ],
)
def test_every_input_is_written_before_it_is_read_and_never_by_its_reader(p):
    written: set[str] = set()
    for ps in pass_graph(p):
        assert set(ps.outputs) <= set(TARGETS)
        for _, target in ps.inputs:
            # A target carried from the previous frame is the keyer's, not a pass's.
            assert target in written | CARRIED, f"{ps.name} reads {target} before it is written"
            assert target not in ps.outputs, f"{ps.name} reads and writes {target}"
        written |= set(ps.outputs)
    assert pass_graph(p)[-1].outputs == ("out",)


@pytest.mark.parametrize(
    "p",
    [KeyerParams(), KeyerParams(choke=1, guide_radius=7, spill_radius=9), KeyerParams(sat_max=0.8)],
)
@pytest.mark.parametrize("layout", ["rgb", "yuv420"])
def test_the_keyer_draws_exactly_the_graph(gl_ctx, p, layout):
    img = np.zeros((12, 16, 3), np.uint8)
    img[...] = (0, 128, 0)
    img[3:9, 4:12] = (200, 150, 120)
    if layout == "rgb":
        frame = Frame.from_rgb(img)
    else:
        y = img[..., 1].copy()
        frame = Frame.from_yuv(y, y[::2, ::2].copy(), y[::2, ::2].copy(), YuvSpec())
    with GpuKeyer(p, ctx=gl_ctx) as keyer:
        keyer.render(frame, ScreenMap.constant(default_screen(p)), CLEAR)  # compiles what p needs
        keyer.render(frame, ScreenMap.constant(default_screen(p)), CLEAR)
        graph = pass_graph(p, frame.chroma_factors)
        assert keyer.drawn == tuple((ps.program, ps.defines) for ps in graph)
        assert keyer.graph == graph
        assert (graph[0].program == "chroma_guide") == (layout == "yuv420")


def test_pass_table_names_passes_formats_and_bytes():
    table = pass_table(pass_graph(KeyerParams()), 1920, 1080)
    assert (
        "| 1 | key | key | keyed (RGBA32F) + gate (R8) + seed (R32F) + samples (RGBA8) | 25 |"
        in table
    )
    assert "| 2 | reach | reach | guide (RG32F) + colour (RGBA32F) | 24 |" in table
    assert "| 5 | colour rows | colour_rows | colour_rows (RGBA32F) | 16 |" in table
    assert "| 6 | colour model | colour_model | alpha (R32F) + local (RGBA16F) | 12 |" in table
    assert "| 7 | hold | hold | levels (R8) | 1 |" in table
    assert "**8 passes**" in table and "**98**" in table
    assert f"(98 B per picture pixel) = {98 * 1920 * 1080:,} B (203.2 MB)" in table


def test_passes_script_prints_the_table():
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.passes", "--set", "choke=2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    # 4:2:0 frames by default: the chroma guide pass first, 4 B per picture pixel.
    assert "9 passes" in proc.stdout and "11 passes" in proc.stdout
    assert "choke rows" in proc.stdout
    assert (
        "| 1 | chroma guide | chroma_guide | chroma_guide (RGBA32F) at 1/2×1/2 | 4 |" in proc.stdout
    )
    plain = subprocess.run(
        [sys.executable, "-m", "benchmarks.passes", "--chroma", "444"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert "8 passes" in plain.stdout and "chroma guide" not in plain.stdout


def test_pass_times_script_times_every_pass_of_the_graph(gl_ctx):
    """benchmarks/pass_times.py: one row per pass the keyer drew, named as in the pass table
    (the reach pass at default settings, none for a pale screen's window), between the
    upload and the read-back, then the passes' and the frame's totals; on a repeated frame,
    every pixel a mix, and frames with a camera's noise."""
    for extra, p in (
        ([], KeyerParams()),
        (["--scene", "mixed", "--set", "sat_max=0.9"], KeyerParams(sat_max=0.9)),
        (["--scene", "camera"], KeyerParams()),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "benchmarks.pass_times", "--size", "64x48", "--frames", "2", *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        rows = [
            line.split("|")[1].strip() for line in proc.stdout.splitlines() if line.startswith("| ")
        ]
        names = [ps.name for ps in pass_graph(p, (2, 2))]
        totals = ["**passes (key + composite)**", "**frame**"]
        assert rows == ["span", "upload", *names, "readback", *totals]
        assert "Wall clock per render()" in proc.stdout
