"""benchmarks/bounds.py on a small real clip: strands on the studio green through libx264
4:2:0, the reference keyer and the oracle scored by benchmarks.metrics.

No benchmark figure is asserted: only what must hold on any clip (the oracle on the frames
before compression does no worse than us), and that our row is what benchmarks.quality
measures for the compiled keyer's output on the same frames.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks.bounds import (
    METHODS,
    OWN_COLOURS,
    TINT_MIXES,
    TINT_TITLE,
    bound_clip,
    keyed_frames,
    nearest_sample,
    project,
    tables,
)
from benchmarks.footage import FootageSpec
from benchmarks.footage import make_clips as make_footage
from benchmarks.quality import clip_params, evaluate, ours_frames
from chromakey.core.layers import CLEAR
from chromakey.io.sources import VideoSource
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import ScreenCalibrator

FRAMES = 3


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    spec = FootageSpec("strands", "studio", False, 480, 270, FRAMES)
    return make_footage(tmp_path_factory.mktemp("bounds"), [spec])[0]


@pytest.fixture(scope="module")
def bounds(clip):
    return bound_clip(clip, FRAMES)


def test_every_method_has_finite_scores(bounds):
    assert set(bounds) == {*METHODS, "tint with the truth's α"}
    for m in METHODS:
        r = bounds[m]
        for k in ("SAD", "edge PSNR dB", "dtSSD×100"):
            assert math.isfinite(r[k]), (m, k, r[k])
        assert r["edge PSNR dB"] > 0, m


def test_the_oracle_before_compression_is_no_worse_than_us(bounds):
    assert bounds["oracle, before H.264"]["SAD"] <= bounds["ours"]["SAD"]
    assert bounds["oracle, before H.264"]["edge PSNR dB"] >= bounds["ours"]["edge PSNR dB"]


def test_our_row_is_what_the_quality_benchmark_measures(clip, bounds):
    """The reference in float against the compiled keyer's uint8 straight RGBA: the same
    metrics within the output's rounding."""
    q = evaluate(clip, {"ours": ours_frames(clip.path, "cpu", clip_params(clip))})["ours"]
    ours = bounds["ours"]
    assert ours["SAD"] == pytest.approx(q["SAD"], rel=0.05)
    assert ours["edge PSNR dB"] == pytest.approx(q["edge PSNR dB"], abs=0.3)
    assert ours["dtSSD×100"] == pytest.approx(q["dtSSD×100"], abs=0.1)


def test_our_matte_is_the_reference_keyers_hold_and_all(clip):
    """bounds keys "ours" as ReferenceKeyer does, the still hold's state carried from frame
    to frame (its input bytes included), to the output's rounding; and the hold acts on this
    clip, so a keying without it would differ."""
    params = clip_params(clip)
    ref, free = (
        cpu.ReferenceKeyer(params, strips=False),
        cpu.ReferenceKeyer(params.replace(still_hold=0.0), strips=False),
    )
    calib = ScreenCalibrator(params)
    with VideoSource(clip.path, audio=False) as src:
        frames = [f for kind, f in src if kind == "video"][:FRAMES]
    held_somewhere = False
    for (_, _, _, _, a), f in zip(keyed_frames(clip, FRAMES), frames, strict=True):
        screen = calib.update(f)
        want = ref.render(f, screen, CLEAR)[..., 3]
        assert np.array_equal(cpu.levels(a), want)
        held_somewhere |= bool(np.any(free.render(f, screen, CLEAR)[..., 3] != want))
    assert held_somewhere


def test_the_tables_have_a_line_per_clip(clip, bounds):
    text = tables([(clip.name, bounds)])
    lines = [ln for ln in text.splitlines() if ln.startswith(f"| {clip.name} |")]
    assert len(lines) == 4
    assert TINT_TITLE in text
    assert all(ln.count(" · ") == len(METHODS) for ln in lines[:2])
    assert lines[2].count(" · ") == 2 * len(METHODS)  # lost patch · tint · lag


def test_issue_23_measures_are_scored_for_every_method(bounds):
    """The oracle changes α only on the truth's partial pixels: inside the sure subject its
    lost patch is ours."""
    for m in METHODS:
        r = bounds[m]
        assert math.isfinite(r["tint levels"]), m
        assert math.isfinite(r["lag px"]), m  # the strands drift to the right
        assert r["lost patch px"] == bounds["ours"]["lost patch px"], m


def test_the_tint_with_the_truths_alpha_tries_every_fixed_mix(bounds):
    """Both colours read off the pixel go from t = 0 to the subject beside at t = 1; the
    despill only takes excess off, so the despilled colour's tint is never above the plain
    one's."""
    mix = bounds["tint with the truth's α"]
    assert len(mix) == len(OWN_COLOURS) * (TINT_MIXES + 1)
    assert all(math.isfinite(v) for v in mix.values())
    own, spilled = OWN_COLOURS
    assert mix[f"{spilled} t=0"] <= mix[f"{own} t=0"] + 1e-9


def test_the_nearest_fitting_sample_is_the_colour_the_pixel_is_a_mix_of():
    """Skin above, navy below a pixel that is 0.3 skin over the screen: their mean is neither,
    the skin sample's line passes through the pixel, and its alpha reads 0.3."""
    screen = np.array([0.0, 0.5, 0.0], np.float32)
    skin = np.array([0.85, 0.65, 0.55], np.float32)
    navy = np.array([0.2, 0.25, 0.6], np.float32)
    c = np.tile(screen, (9, 9, 1))
    c[:4] = skin
    c[5:] = navy
    c[4, 4] = 0.3 * skin + 0.7 * screen
    s = np.broadcast_to(screen, c.shape)
    solid = np.ones((9, 9), bool)
    solid[4] = False
    edge = np.zeros((9, 9), bool)
    edge[4, 4] = True
    f, found = nearest_sample(c, s, solid, edge, 3)
    assert found[4, 4] and not found[0, 0]
    np.testing.assert_allclose(f[4, 4], skin)
    alpha = project(c, s, f, np.zeros((9, 9), np.float32), edge & found)
    assert alpha[4, 4] == pytest.approx(0.3, abs=1e-5)
