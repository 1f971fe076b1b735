"""The local colour model on the GPU (colour rows and colour model passes) against the
reference, on the case it exists for: a skin-coloured disc with an anti-aliased edge over
#008000. Skin has a green excess of its own below the screen's, so the screen's share reads the
edge's alpha off; the solid skin beside it tells where each edge pixel lies between skin and
screen. The GPU must match the reference (over many settings and screens), must not match the
same key with the colour model left out, and on the disc's edge the model must bring the
alpha nearer the disc's true coverage."""

from __future__ import annotations

import numpy as np
import pytest
from chains import reference_matte
from test_colour_model import soft_rim_frame
from test_gpu_parity import (
    assert_parity,
    make_background,
    pick_screen,
    random_params,
    to_frame,
)
from test_gpu_reach import SCREEN, SKIN, H, W, coverage

from chromakey.core.color import YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu
from chromakey.keying.kernels import CpuKeyer

from parity import TOL_BULK, TOL_MAX

F32 = np.float32
HAIR = np.array([0.09, 0.07, 0.06], F32)  # a near-black strand: no mix of skin and screen
STRAND = (slice(30, 34), slice(44, 56))  # rows, columns: touching the disc's right edge


def scene_rgb(strand: bool = False) -> np.ndarray:
    """The disc over the screen, a·skin + (1 − a)·screen (and a dark strand beside it), uint8."""
    a = coverage()[..., None]
    img = a * SKIN + (1 - a) * SCREEN
    if strand:
        img[STRAND] = HAIR
    return np.round(img * 255).astype(np.uint8)


def screen() -> ScreenMap:
    return ScreenMap.constant(SCREEN)


def reference_alpha(frame: Frame, p: KeyerParams, colour_model: bool) -> np.ndarray:
    """cpu.key_pixels' matte against the constant screen, with or without the colour model."""
    rgb = cpu.decode_rgb(frame)
    return reference_matte(rgb, SCREEN, p, cpu.luma_weights(frame), colour_model=colour_model)


def alpha8(alpha: np.ndarray) -> np.ndarray:
    return cpu.to_uint8(alpha[..., None])[..., 0].astype(np.int16)


def frame_of(layout: str, strand: bool = False) -> Frame:
    return to_frame(scene_rgb(strand), layout, YuvSpec("bt709", False))


@pytest.mark.parametrize("layout", ["rgb", "yuv420"])
def test_the_helper_is_the_reference_and_the_model_moves_the_edge_toward_the_truth(layout):
    """reference_alpha(…, True) is what ReferenceKeyer keys; with the model, the disc's edge
    pixels' alpha lies nearer their coverage (every pixel it moves, in RGB; on 4:2:0, whose
    chroma a pixel carries off the edge, nearly every one and their mean error), and the
    pixels it moves are edge pixels or, at most a pixel off the edge, the screen 4:2:0 chroma
    tints, which it moves toward 0."""
    frame = frame_of(layout)
    truth = coverage()
    edge = (truth > 0) & (truth < 1)
    padded = np.pad(edge, 1)
    near_edge = np.zeros_like(edge)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            near_edge |= padded[dy : dy + H, dx : dx + W]
    for p in (KeyerParams(), KeyerParams(guide_radius=0)):
        with_model = reference_alpha(frame, p, True)
        keyed = cpu.ReferenceKeyer(p).render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
        assert np.array_equal(keyed, alpha8(with_model))
        without = reference_alpha(frame, p, False)
        moved = np.abs(alpha8(with_model) - alpha8(without)) > TOL_MAX
        assert moved.sum() >= 20 and np.all(near_edge[moved])
        err_with = np.abs(with_model - truth)
        err_without = np.abs(without - truth)
        assert np.all(err_with[moved & ~edge] < err_without[moved & ~edge])
        assert err_with[edge].mean() < err_without[edge].mean()
        nearer = np.mean(err_with[moved] < err_without[moved])
        if layout == "rgb":
            assert nearer == 1.0
        else:  # 4:2:0 moves a pixel's chroma: a few overshoot, the mean error still falls
            assert nearer > 0.85
            assert err_with[moved].mean() < 0.7 * err_without[moved].mean()


@pytest.mark.parametrize("layout", ["rgb", "yuv420", "yuv422", "yuv444"])
@pytest.mark.parametrize(
    "p",
    [
        KeyerParams(),
        KeyerParams(guide_radius=0),
        KeyerParams(guide_radius=6),
        KeyerParams(choke=1, feather=1.5),
        KeyerParams(spill_radius=6, sat_max=0.9),
    ],
    ids=["guided", "raw", "separable", "choke_feather", "pale_wide_spill"],
)
@pytest.mark.parametrize("strand", [False, True], ids=["disc", "strand"])
def test_the_gpu_colour_model_matches_the_reference(gpu, layout, p, strand):
    frame = frame_of(layout, strand)
    bg = Solid((0.2, 0.3, 0.9))
    gpu.set_params(p)
    for background in (CLEAR, bg):
        actual = gpu.render(frame, screen(), background)
        assert "colour_model" in [ps.program for ps in gpu.graph]
        expected = cpu.ReferenceKeyer(p).render(frame, screen(), background)
        assert_parity(expected, actual, f"colour_{layout}_{p.guide_radius}_{strand}")


@pytest.mark.parametrize("layout", ["rgb", "yuv420"])
def test_the_colour_model_changes_the_gpu_matte_where_the_reference_says(gpu, layout):
    """Against the key with the colour model left out: where the two reference mattes differ by
    well over the parity tolerance, the GPU's follows the model (guide_radius 0, so that the
    difference is the model's own); at default settings the GPU output differs from the
    model-less reference's beyond the parity tolerance too."""
    frame = frame_of(layout)
    p = KeyerParams(guide_radius=0)
    gpu.set_params(p)
    gpu_alpha = gpu.render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
    with_model = alpha8(reference_alpha(frame, p, True))
    without = alpha8(reference_alpha(frame, p, False))
    moved = np.abs(with_model - without) > 3 * TOL_MAX
    assert moved.sum() >= 10, "the scene must be one where the colour model matters"
    assert np.all(np.abs(gpu_alpha[moved] - with_model[moved]) <= TOL_MAX)
    assert np.all(np.abs(gpu_alpha[moved] - without[moved]) > 2 * TOL_MAX)
    truth = coverage()[moved]
    assert np.all((truth > 0) & (truth < 1))  # on the edge only
    # Toward the truth: the GPU's partial pixels lie nearer the disc's coverage.
    assert (
        np.abs(gpu_alpha[moved] / 255 - truth).mean() < np.abs(without[moved] / 255 - truth).mean()
    )
    p = KeyerParams()
    gpu.set_params(p)
    gpu_alpha = gpu.render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
    without = alpha8(reference_alpha(frame, p, False))
    assert np.abs(gpu_alpha - alpha8(reference_alpha(frame, p, True))).max() <= TOL_MAX
    assert (np.abs(gpu_alpha - without) > TOL_BULK).sum() >= 20


def test_a_dark_strand_beside_the_skin_is_not_read_as_a_mix(gpu):
    """The strand (partial where the guide blends it with the screen) lies far off the line from
    the screen to the skin: the residual gate leaves most of its pixels as the clip made them,
    and none moves toward the screen, on the GPU as in the reference."""
    frame = frame_of("rgb", strand=True)
    p = KeyerParams()
    gpu.set_params(p)
    gpu_alpha = gpu.render(frame, screen(), CLEAR)[..., 3].astype(np.int16)[STRAND]
    with_model = alpha8(reference_alpha(frame, p, True))[STRAND]
    without = alpha8(reference_alpha(frame, p, False))[STRAND]
    partial = without < 255
    assert partial.sum() >= 20
    assert np.all(with_model >= without)
    assert np.mean(with_model[partial] == without[partial]) >= 0.75
    assert np.abs(gpu_alpha - with_model).max() <= TOL_BULK


# Brown hair whose soft edge is lit 1.4 times (a blond rim): the edge is a mix of the lit colour
# and the screen, off the line from S to the solid brown beside it, on the plane of the two.
BROWN = np.array([0.5, 0.35, 0.25], F32)
LIT = F32(1.4)
RIM = 8.0  # the width of its soft edge, pixels


def rim_coverage() -> np.ndarray:
    """The disc's share of each pixel, its edge a ramp RIM pixels wide."""
    yy, xx = np.mgrid[0:H, 0:W].astype(F32) + F32(0.5)
    cx, cy, r = 30.0, 32.0, 20.0
    return np.clip((r - np.hypot(xx - cx, yy - cy)) / RIM + 0.5, 0.0, 1.0).astype(F32)


def lit_rim_rgb() -> np.ndarray:
    """The disc of brown over the screen, lit LIT times where it is partial, uint8."""
    a = rim_coverage()
    f = np.where((a < 1)[..., None], LIT * BROWN, BROWN)
    img = a[..., None] * f + (1 - a[..., None]) * SCREEN
    return np.round(img * 255).astype(np.uint8)


@pytest.mark.parametrize("layout", ["rgb", "yuv420"])
def test_the_lit_rim_matches_the_reference_and_moves_toward_its_coverage(gpu, layout):
    """The GPU and the compiled keyer give the reference's matte on the lit rim, and the colour
    model brings the rim's partial pixels nearer the disc's coverage than the key without it."""
    frame = to_frame(lit_rim_rgb(), layout, YuvSpec("bt709", False))
    p = KeyerParams()
    gpu.set_params(p)
    expected = cpu.ReferenceKeyer(p).render(frame, screen(), CLEAR)
    assert_parity(expected, gpu.render(frame, screen(), CLEAR), f"lit_rim_{layout}")
    assert_parity(expected, CpuKeyer(p).render(frame, screen(), CLEAR), f"lit_rim_cpu_{layout}")
    truth = rim_coverage()
    edge = (truth > 0.1) & (truth < 0.9)
    with_model = reference_alpha(frame, p, True)[edge]
    without = reference_alpha(frame, p, False)[edge]
    assert np.abs(with_model - truth[edge]).mean() < np.abs(without - truth[edge]).mean()


def test_the_gpu_reaches_in_from_clear_screen_as_far_as_the_window_says(gpu):
    """A skin disc with a soft rim RIM pixels wide (test_colour_model's): where the reference read with the vivid
    screen's reach (COLOUR_NEAR_RADIUS) and with the pale one's differ beyond the parity
    tolerance, the GPU gives the former under a vivid window (the colour_near_radius
    uniform); under a pale window it matches the reference too."""
    frame, _ = soft_rim_frame(RIM)
    p = KeyerParams()
    rgb = cpu.decode_rgb(frame)
    far, near = (
        alpha8(reference_matte(rgb, SCREEN, p, cpu.luma_weights(frame), near=r))
        for r in (cpu.COLOUR_NEAR_RADIUS, cpu.COLOUR_NEAR_RADIUS_PALE)
    )
    apart = np.abs(far - near) > TOL_MAX
    assert apart.sum() >= 10, "the scene must be one where the reach matters"
    gpu.set_params(p)
    gpu_alpha = gpu.render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
    assert np.all(np.abs(gpu_alpha - far)[apart] < np.abs(gpu_alpha - near)[apart])
    assert np.abs(gpu_alpha - far).max() <= TOL_MAX
    pale = KeyerParams(sat_max=0.9)
    gpu.set_params(pale)
    expected = cpu.ReferenceKeyer(pale).render(frame, screen(), CLEAR)
    assert_parity(expected, gpu.render(frame, screen(), CLEAR), "near_pale")


N_RANDOM = 16
LAYOUTS = ("yuv420", "rgb", "yuv422", "yuv444")


@pytest.mark.parametrize("i", range(N_RANDOM))
def test_random_settings_and_screens_over_the_disc_match_the_reference(gpu, i):
    """Seeded random settings (tests/test_gpu_parity.py's), screens (constant, estimated,
    random, a random map, the calibrated map) and backgrounds over the disc and strand."""
    rng = np.random.default_rng(4321 + i)
    p = random_params(rng, i)
    layout = LAYOUTS[i % len(LAYOUTS)]
    rgb = scene_rgb(strand=i % 2 == 1)
    frame = to_frame(rgb, layout, YuvSpec("bt709", i % 3 == 2), padded=i % 3 == 1)
    scr = pick_screen(rng, rgb, p, frame)
    kind = ("none", "color", "image_rgb", "image_rgba")[(i // 4) % 4]
    bg = make_background(kind, W, H, i)
    gpu.set_params(p)
    actual = gpu.render(frame, scr, bg)
    assert [ps.program for ps in gpu.graph].count("colour_model") == 1
    expected = cpu.ReferenceKeyer(p).render(frame, scr, bg)
    assert_parity(expected, actual, f"colour_random{i}_{layout}_{kind}")
