"""Membership's reach on the GPU (the key pass's seeds, the reach pass's window) against the
reference, on the case it exists for: a skin-coloured disc with an anti-aliased edge over
#008000, whose half-and-half mixes have a hue near 90°, outside the window, and a lime patch
(hue about 82°) right beside the screen that the gamut gate must keep opaque. The GPU must
match the reference, must not match the same key with the reach left out (so the reach pass
runs and its result reaches the matte), and must leave the lime patch solid."""

from __future__ import annotations

import numpy as np
import pytest
from chains import reference_matte
from test_gpu_parity import assert_parity, make_background, to_frame

from chromakey.core.color import YuvSpec, rgb_to_hsl
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu

from parity import TOL_MAX

F32 = np.float32
SCREEN = np.array([0, 128, 0], F32) / F32(255)  # #008000
SKIN = np.array([0.8, 0.6, 0.5], F32)
LIME = np.array([0.6, 0.9, 0.1], F32)
W, H = 96, 64
DISC = (30.0, 32.0, 16.0)  # centre x, y and radius
EDGE = 3.0  # width of the disc's anti-aliased edge, pixels
LIME_BOX = (65, 84, 21, 44)  # x0, x1, y0, y1 (half-open)


def coverage() -> np.ndarray:
    """The disc's share of each pixel: 1 inside, 0 outside, a ramp EDGE pixels wide."""
    yy, xx = np.mgrid[0:H, 0:W].astype(F32) + F32(0.5)
    cx, cy, r = DISC
    return np.clip((r - np.hypot(xx - cx, yy - cy)) / EDGE + 0.5, 0.0, 1.0).astype(F32)


def lime_mask() -> np.ndarray:
    x0, x1, y0, y1 = LIME_BOX
    mask = np.zeros((H, W), bool)
    mask[y0:y1, x0:x1] = True
    return mask


def scene_rgb() -> np.ndarray:
    """The disc over the screen (a·skin + (1 − a)·screen) and the lime patch, H×W×3 uint8."""
    a = coverage()[..., None]
    img = a * SKIN + (1 - a) * SCREEN
    img[lime_mask()] = LIME
    return np.round(img * 255).astype(np.uint8)


def screen() -> ScreenMap:
    return ScreenMap.constant(SCREEN)


def terms(rgb: np.ndarray, p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's membership, share of the screen's colour and luma for an RGB frame."""
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    member = cpu.screen_membership(cpu.hue_membership(hue, p), sat, light, chroma, p)
    share = cpu.screen_share(cpu.key_excess(rgb, 1), cpu.screen_excess(SCREEN, 1))
    return member, share, cpu.luma(rgb, cpu.BT709_LUMA)


def alpha_without_reach(rgb: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The reference's matte with membership's reach left out (raw alpha of the pixel's own
    membership), everything else as cpu.key_pixels does it: guide, clip, the local colour
    model (on that raw matte), choke and feather."""
    return reference_matte(rgb, SCREEN, p, reach=False)


@pytest.mark.parametrize("sat_max", [1.0, 0.9], ids=["vivid", "pale"])
def test_the_chain_with_its_reach_is_the_reference_keyer(sat_max):
    """reference_matte (whose reach alpha_without_reach leaves out) is cpu.key_pixels' chain:
    with the reach, it is the reference keyer's own matte, on either kind of window."""
    p = KeyerParams(sat_max=sat_max, guide_radius=0)
    rgb8 = scene_rgb()
    keyed = cpu.ReferenceKeyer(p).render(Frame.from_rgb(rgb8), screen(), CLEAR)[..., 3]
    alpha = reference_matte(rgb8.astype(F32) / F32(255), SCREEN, p)
    assert np.array_equal(keyed, cpu.to_uint8(alpha[..., None])[..., 0])


def test_the_scene_is_the_case_the_reach_is_for():
    """Mixes on the disc's edge fall outside the hue window; the lime patch's border is beside
    surely-screen pixels with a share of the screen's colour the reach would take as a mix:
    only the gamut gate tells it from one."""
    p = KeyerParams()
    rgb = scene_rgb().astype(F32) / F32(255)
    a = coverage()
    hue = rgb_to_hsl(rgb)[0]
    half = (a > 0.4) & (a < 0.6)
    assert half.sum() > 20 and abs(float(hue[half].mean()) - 90.0) < 5.0
    assert np.all(cpu.hue_membership(hue[half], p) < 1.0)  # outside the window, all of them
    member, share, _ = terms(rgb, p)
    assert np.median(member[half]) < 0.5  # membership alone reads them as mostly subject
    lime = lime_mask()
    near = cpu.window_reduce(
        member * cpu.soft_step(*cpu.REACH_SHARE, share), cpu.MEMBER_REACH, np.maximum
    )
    border = lime & (near > 0.99)
    assert border.sum() > 40
    assert np.all(member[lime] == 0.0)
    assert np.all(cpu.soft_step(*cpu.REACH_MIX, share[border]) == 1.0)


@pytest.mark.parametrize("layout", ["rgb", "yuv420"])
@pytest.mark.parametrize("p", [KeyerParams(), KeyerParams(guide_radius=0)], ids=["guided", "raw"])
@pytest.mark.parametrize("bg_kind", ["none", "color"])
def test_the_gpu_reach_matches_the_reference(gpu, layout, p, bg_kind):
    frame = to_frame(scene_rgb(), layout, YuvSpec("bt709", False))
    bg = make_background(bg_kind, W, H, 3)
    gpu.set_params(p)
    actual = gpu.render(frame, screen(), bg)
    assert "reach" in [ps.program for ps in gpu.graph]
    expected = cpu.ReferenceKeyer(p).render(frame, screen(), bg)
    assert_parity(expected, actual, f"reach_{layout}_r{p.guide_radius}_{bg_kind}")


def test_the_reach_changes_the_gpu_matte_where_the_reference_says(gpu):
    """Against the key with the reach left out: where the two reference mattes differ by well
    over the parity tolerance, the GPU's follows the reach (the raw matte, guide_radius 0, so the
    difference is the reach's own)."""
    p = KeyerParams(guide_radius=0)
    rgb8 = scene_rgb()
    frame = Frame.from_rgb(rgb8)
    gpu.set_params(p)
    gpu_alpha = gpu.render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
    with_reach = cpu.ReferenceKeyer(p).render(frame, screen(), CLEAR)[..., 3].astype(np.int16)
    without = np.round(alpha_without_reach(rgb8.astype(F32) / F32(255), p) * 255).astype(np.int16)
    moved = np.abs(with_reach - without) > 3 * TOL_MAX
    assert moved.sum() >= 10, "the scene must be one where the reach matters"
    assert np.all(with_reach[moved] < without[moved])  # more of the screen's share comes off
    assert np.all(np.abs(gpu_alpha[moved] - with_reach[moved]) <= TOL_MAX)
    assert np.all(np.abs(gpu_alpha[moved] - without[moved]) > 2 * TOL_MAX)
    assert (coverage()[moved] < 1).all() and (coverage()[moved] > 0).all()  # on the edge only


@pytest.mark.parametrize("p", [KeyerParams(), KeyerParams(guide_radius=0)], ids=["guided", "raw"])
def test_the_lime_patch_beside_the_screen_stays_opaque(gpu, p):
    gpu.set_params(p)
    out = gpu.render(Frame.from_rgb(scene_rgb()), screen(), CLEAR)
    assert "reach" in [ps.program for ps in gpu.graph]
    assert out[..., 3][lime_mask()].min() == 255
