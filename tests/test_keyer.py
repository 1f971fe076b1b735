"""The numpy reference on synthetic frames whose true alpha is known."""

import colorsys

import numpy as np
import pytest

from chromakey.core.color import rgb_to_hsl
from chromakey.core.errors import ParameterError
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Solid
from chromakey.core.params import KeyerParams
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import (
    ScreenCalibrator,
    ScreenMap,
    catch_up_weight,
    cell_size,
    estimate_screen,
    estimate_screen_map,
    fill_unknown,
    map_interval,
)

SCREEN = np.array([0.02, 0.5, 0.04], np.float32)
HAIR = np.array([0.04, 0.035, 0.03], np.float32)
LIME = np.array(colorsys.hls_to_rgb(80 / 360, 0.5, 0.8), np.float32)
TEAL = np.array(colorsys.hls_to_rgb(175 / 360, 0.4, 0.7), np.float32)
SKIN = np.array([0.85, 0.65, 0.55], np.float32)


def scene():
    """A 160×240 screen with patches; returns (rgb, true alpha)."""
    h, w = 160, 240
    rgb = np.tile(SCREEN, (h, w, 1))
    alpha = np.zeros((h, w), np.float32)

    def patch(y, x, size, color):
        rgb[y : y + size, x : x + size] = color
        alpha[y : y + size, x : x + size] = 1

    patch(10, 10, 30, LIME)
    patch(10, 60, 30, TEAL)
    patch(10, 110, 30, HAIR)
    patch(10, 160, 30, SKIN)
    # Hair strands: one-pixel lines that are half hair, half screen, 4 px apart.
    for x in range(20, 100, 4):
        rgb[70:110, x] = 0.5 * HAIR + 0.5 * SCREEN
        alpha[70:110, x] = 0.5
    # A shadow on the screen at 60 % brightness, away from the subject.
    rgb[120:, 150:] *= 0.6
    return rgb, alpha


@pytest.fixture(scope="module")
def keyed():
    rgb, truth = scene()
    fg, alpha = cpu.key_pixels(rgb, SCREEN, KeyerParams())
    return rgb, truth, fg, alpha


def test_pure_screen_is_transparent(keyed):
    _, _, _, alpha = keyed
    assert alpha[130:150, 10:140].max() == 0


def test_subject_colours_stay_solid(keyed):
    _, _, fg, alpha = keyed
    for (y, x), colour in [
        ((25, 25), LIME),
        ((25, 75), TEAL),
        ((25, 125), HAIR),
        ((25, 175), SKIN),
    ]:
        assert alpha[y, x] == pytest.approx(1.0), colour
        np.testing.assert_allclose(fg[y, x], colour, atol=1e-5)


def test_half_hair_strands_get_half_alpha(keyed):
    _, _, _, alpha = keyed
    strands = alpha[75:105, 20:100:4]
    assert np.abs(strands - 0.5).max() < 0.08
    gaps = alpha[75:105, 22:100:4]
    assert gaps.max() < 0.05


def test_shadowed_screen_is_keyed(keyed):
    _, _, _, alpha = keyed
    assert alpha[125:158, 155:238].max() == 0


def test_partial_pixels_lose_the_screen_colour(keyed):
    rgb, _, fg, alpha = keyed
    strand = fg[90, 20] / max(alpha[90, 20], 1e-6)
    # The observed pixel is strongly green; the recovered hair colour is not.
    assert rgb[90, 20, 1] - rgb[90, 20, 0] > 0.2
    assert strand[1] - max(strand[0], strand[2]) < 0.01
    np.testing.assert_allclose(strand, HAIR, atol=0.03)


def test_spill_on_edge_pixels_is_removed():
    # Skin lit by the screen: a green cast that is not part of the subject.
    spilled = SKIN + np.array([0.0, 0.25, 0.0], np.float32)
    rgb = np.tile(SCREEN, (20, 40, 1))
    rgb[:, 20:] = np.clip(spilled, 0, 1)
    p = KeyerParams()
    fg, alpha = cpu.key_pixels(rgb, SCREEN, p)
    edge = 20 + p.spill_radius - 1  # inside the subject, within spill_radius of the screen
    assert alpha[10, edge] == 1
    out = fg[10, edge]
    assert out[1] <= max(out[0], out[2]) + 1e-6
    fg0, _ = cpu.key_pixels(rgb, SCREEN, p.replace(spill=0.0))
    assert fg0[10, edge, 1] == pytest.approx(spilled[1], abs=1e-5)
    # Beyond spill_radius a saturated colour is the subject's own: untouched.
    assert fg[10, 36, 1] == pytest.approx(spilled[1], abs=1e-5)
    wide, _ = cpu.key_pixels(rgb, SCREEN, p.replace(spill_radius=12))
    assert wide[10, 30, 1] <= max(wide[10, 30, 0], wide[10, 30, 2]) + 1e-6


def test_near_black_noise_never_keys():
    rng = np.random.default_rng(3)
    rgb = np.clip(HAIR + rng.normal(0, 0.012, (64, 64, 3)), 0, 1).astype(np.float32)
    rgb[:, :, 1] += 0.015  # a slight green cast from the screen in the dark
    _, alpha = cpu.key_pixels(rgb, SCREEN, KeyerParams())
    assert alpha.min() > 0.97


def test_composite_over_colour_and_transparent():
    rgb, _ = scene()
    fg, alpha = cpu.key_pixels(rgb, SCREEN, KeyerParams())
    over = cpu.composite(fg, alpha, Solid((1.0, 0.0, 0.0)))
    np.testing.assert_allclose(over[130, 20], [1, 0, 0])
    np.testing.assert_allclose(over[25, 175], SKIN, atol=1e-6)
    straight = cpu.composite(fg, alpha, CLEAR)
    assert straight.shape[-1] == 4
    np.testing.assert_allclose(straight[25, 175], [*SKIN, 1.0], atol=1e-6)
    assert straight[130, 20, 3] == 0


def test_choke_and_feather_change_the_matte():
    rgb, _ = scene()
    base = cpu.key_pixels(rgb, SCREEN, KeyerParams())[1]
    choked = cpu.key_pixels(rgb, SCREEN, KeyerParams(choke=2))[1]
    grown = cpu.key_pixels(rgb, SCREEN, KeyerParams(choke=-2))[1]
    feathered = cpu.key_pixels(rgb, SCREEN, KeyerParams(feather=3.0))[1]
    assert choked.sum() < base.sum() < grown.sum()
    assert choked[10:40, 160:190].sum() == pytest.approx(26 * 26)
    assert np.count_nonzero((feathered > 0) & (feathered < 1)) > np.count_nonzero(
        (base > 0) & (base < 1)
    )


def test_hue_window_wraps_through_zero():
    red = np.tile(np.array([0.8, 0.05, 0.1], np.float32), (8, 8, 1))
    p = KeyerParams(hue_min=340, hue_max=20)
    assert cpu.key_channel(p) == 0
    _, alpha = cpu.key_pixels(red, np.array([0.8, 0.05, 0.1], np.float32), p)
    assert alpha.max() == 0
    h, *_ = rgb_to_hsl(red)
    assert cpu.hue_membership(h, p).min() == 1


def test_calibration_finds_the_screen_and_stays_steady():
    rgb, _ = scene()
    other = SCREEN * np.array([1.0, 0.8, 1.0], np.float32)
    est = estimate_screen(rgb, KeyerParams())
    np.testing.assert_allclose(est, SCREEN, atol=0.01)
    cal = ScreenCalibrator(KeyerParams(screen_adapt=0.1))
    f1 = Frame.from_rgb((rgb * 255).round().astype(np.uint8))
    first = cal.update(f1).mean.copy()
    f2 = Frame.from_rgb((np.tile(other, (64, 64, 1)) * 255).round().astype(np.uint8))
    second = cal.update(f2).mean
    # One frame of a different green moves the estimate by a tenth of the way, not all of it.
    np.testing.assert_allclose(second, first + 0.1 * (other - first), atol=0.01)
    fixed = ScreenCalibrator(KeyerParams(screen_color="#00ff00"))
    np.testing.assert_allclose(fixed.update(f1).mean, [0, 1, 0])


# --- the screen map: an unevenly lit screen -----------------------------------------------------


def uneven_scene(h: int = 96, w: int = 320):
    """A screen lit from −20 % (left) to +20 % (right), with half-hair strands near both sides.

    Returns (rgb, true alpha, per-pixel screen colour).
    """
    light = np.linspace(0.8, 1.2, w, dtype=np.float32)
    screen = np.clip(SCREEN[None, None, :] * light[None, :, None], 0, 1) * np.ones(
        (h, 1, 1), np.float32
    )
    rgb = screen.copy()
    alpha = np.zeros((h, w), np.float32)
    for x in [*range(24, 60, 4), *range(w - 60, w - 24, 4)]:
        rgb[30:70, x] = 0.5 * HAIR + 0.5 * screen[30:70, x]
        alpha[30:70, x] = 0.5
    return rgb.astype(np.float32), alpha, screen


def frame_of(rgb: np.ndarray) -> Frame:
    return Frame.from_rgb((rgb * 255).round().astype(np.uint8))


def test_uneven_screen_keys_everywhere_and_strands_stay_half():
    rgb, truth, _ = uneven_scene()
    p = KeyerParams()
    screen = ScreenCalibrator(p).update(frame_of(rgb))
    assert screen.shape == (6, 20) and screen.cell == 16
    rgb8 = frame_of(rgb).planes[0].astype(np.float32) / 255
    fg, alpha = cpu.key_frame(rgb8, screen, p)
    bare = truth == 0
    assert alpha[bare & (np.arange(rgb.shape[1]) % 4 != 0)[None, :]].max() < 0.02
    assert alpha[:25].max() == 0 and alpha[75:].max() == 0  # the screen alone keys to 0
    for x0, x1 in ((24, 60), (260, 296)):
        strands = alpha[35:65, x0:x1:4]
        assert np.abs(strands - 0.5).max() < 0.08, (x0, strands.min(), strands.max())
        hair = fg[35:65, x0:x1:4] / alpha[35:65, x0:x1:4, None]
        np.testing.assert_allclose(hair, np.broadcast_to(HAIR, hair.shape), atol=0.03)
    # One global colour cannot do both sides: strands on the dark side read as too solid.
    _, flat = cpu.key_pixels(rgb8, screen.mean, p)
    dark_map = abs(float(alpha[35:65, 24:60:4].mean()) - 0.5)
    dark_flat = abs(float(flat[35:65, 24:60:4].mean()) - 0.5)
    assert dark_flat > 0.08 and dark_flat > 4 * dark_map


def test_screen_map_follows_the_light():
    rgb, _, screen = uneven_scene()
    colors, cell, glob = estimate_screen_map(frame_of(rgb), KeyerParams())
    assert glob is not None and cell == 16
    centres = screen[0, cell // 2 :: cell]  # the true colour at each block's centre column
    for i in range(colors.shape[0]):
        np.testing.assert_allclose(colors[i], centres, atol=0.012)


def test_screen_map_fills_the_subject_from_its_neighbours():
    h, w = 128, 192
    light = np.linspace(0.8, 1.2, w, dtype=np.float32)
    rgb = SCREEN[None, None, :] * light[None, :, None] * np.ones((h, 1, 1), np.float32)
    rgb[32:96, 64:128] = SKIN  # a 4×4-block subject: no screen there
    colors, cell, _ = estimate_screen_map(frame_of(rgb), KeyerParams())
    assert colors.shape == (8, 12, 3) and np.isfinite(colors).all()
    inside = colors[2:6, 4:8]
    # Filled with screen colours from the left and right neighbours, not the skin.
    assert (inside[..., 1] > 0.35).all() and (inside[..., 0] < 0.1).all()
    assert colors[4, 4, 1] < colors[4, 7, 1]  # the gradient carries into the hole
    # With nothing measured at all, the fallback everywhere.
    fb = np.array([0.1, 0.6, 0.1], np.float32)
    filled = fill_unknown(np.zeros((3, 4, 3), np.float32), np.zeros((3, 4), bool), fb)
    np.testing.assert_array_equal(filled, np.broadcast_to(fb, (3, 4, 3)))
    # A single known block spreads to every other.
    known = np.zeros((3, 4), bool)
    known[0, 0] = True
    spread = fill_unknown(np.ones((3, 4, 3), np.float32) * fb, known, np.zeros(3, np.float32))
    np.testing.assert_allclose(spread, np.broadcast_to(fb, (3, 4, 3)), atol=1e-6)


def test_screen_map_smooths_over_time_and_override_is_constant():
    rgb, _, _ = uneven_scene()
    p = KeyerParams(screen_adapt=0.25)
    cal = ScreenCalibrator(p)
    first = cal.update(frame_of(rgb)).colors.copy()
    darker = frame_of(rgb * np.float32(0.7))
    target, _, _ = estimate_screen_map(darker, p)
    second = cal.update(darker).colors
    np.testing.assert_allclose(second, first + 0.25 * (target - first), atol=1e-5)
    frozen = ScreenCalibrator(p.replace(screen_adapt=0.0))
    a = frozen.update(frame_of(rgb)).colors.copy()
    np.testing.assert_array_equal(frozen.update(darker).colors, a)
    fixed = ScreenCalibrator(p.replace(screen_color="#00ff00")).update(frame_of(rgb))
    assert fixed.is_constant
    np.testing.assert_allclose(fixed.colors[0, 0], [0, 1, 0])
    np.testing.assert_allclose(fixed.mean, [0, 1, 0])  # the one colour, read explicitly


def test_a_large_frame_is_measured_every_few_frames_with_the_same_time_constant():
    """At 720p the map is measured every few frames, each measurement weighted for the frames
    it stands for: after n frames of a new screen the old map keeps (1 − adapt)ⁿ, as when
    measured every frame."""
    rgb, _, _ = uneven_scene(720, 1280)
    p = KeyerParams()
    a = p.screen_adapt
    n = map_interval(a, 1280, 720)
    assert n > 1 and map_interval(a, 640, 360) == 1  # small frames: every frame, as before
    assert map_interval(0.5, 1280, 720) == 1  # an average that follows at once is not skipped
    assert map_interval(0.01, 1280, 720) <= n + 1  # no more samples a frame than SAMPLES
    cal = ScreenCalibrator(p)
    first = cal.update(frame_of(rgb)).colors.copy()
    darker = frame_of(rgb * np.float32(0.7))
    target, _, glob = estimate_screen_map(darker, p)
    glob0 = cal.screen.copy()
    for k in range(1, 3 * n + 1):
        screen = cal.update(darker)
        keep = (1 - a) ** (k - k % n)  # the darker frames the map has taken in so far
        np.testing.assert_allclose(screen.colors, target + keep * (first - target), atol=2e-5)
        np.testing.assert_allclose(screen.mean, glob + keep * (glob0 - glob), atol=2e-5)
    assert catch_up_weight(a, 1) == np.float32(a)
    np.testing.assert_allclose(catch_up_weight(a, 4), 1 - (1 - a) ** 4, rtol=1e-6)


def test_cell_size_grows_with_the_frame():
    assert cell_size(640, 360) == cell_size(1920, 1080) == 16
    assert cell_size(3840, 2160) == 32
    assert cell_size(7680, 4320) == 64
    assert cell_size(1, 1) == 16


def test_screen_at_is_bilinear_between_block_centres():
    colors = np.zeros((2, 2, 3), np.float32)
    colors[0, 1] = 1.0  # top-right block white
    m = ScreenMap(colors, 4, colors.mean((0, 1)))
    up = cpu.screen_at(m, 8, 8)
    # Block centres at pixels 1.5 and 5.5: pixels 0–1 hold block 0, 6–7 block 1, in between linear.
    np.testing.assert_allclose(up[0, :, 0], [0, 0, 0.125, 0.375, 0.625, 0.875, 1, 1])
    np.testing.assert_allclose(up[:, 7, 0], [1, 1, 0.875, 0.625, 0.375, 0.125, 0, 0])
    # A constant map, and a plain colour, key exactly as the colour does.
    rgb, _ = scene()
    const = ScreenMap(np.tile(SCREEN, (3, 5, 1)), 50, SCREEN)
    a = cpu.key_pixels(rgb, SCREEN, KeyerParams())
    b = cpu.key_frame(rgb, const, KeyerParams())
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_array_equal(a[0], b[0])


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("hue_min", 400, "hue_min=400 is out of range"),
        ("sat_min", -0.1, "sat_min"),
        ("choke", 1.5, "choke must be an integer"),
        ("spill", "high", "spill must be a number"),
        ("feather", float("nan"), "feather"),
        ("clip_black", 0.95, "clip_black=0.95 must be below clip_white"),
        ("screen_color", "#zzz", "invalid colour"),
        ("screen_color", (2, 0, 0), "screen_color must be"),
        ("hue_max", 100, "equal"),
    ],
)
def test_invalid_parameters_name_the_field(field, value, match):
    with pytest.raises(ParameterError, match=match):
        KeyerParams(**{field: value})
    with pytest.raises(ValueError):
        KeyerParams(**{field: value})
