"""The local colour model (issue 12): a partial pixel's alpha read against the solid
subject's colour beside it, in the reference and the compiled keyer."""

from __future__ import annotations

import numpy as np
import pytest
from chains import reference_matte
from test_screen_window import soft_disc_frame

from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap, keyed_params
from chromakey.keying import reference as cpu
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.kernels.common import TOLERANCE

SCREEN = np.array([0.0, 0.5, 0.0], np.float32)
SKIN = np.array([0.85, 0.65, 0.55], np.float32)
GREEN = 1  # the key channel of a green screen


def half_solid(
    pixel: np.ndarray, clipped: float, screen: np.ndarray = SCREEN, subject: np.ndarray = SKIN
) -> tuple[np.ndarray, ...]:
    """A 15×15 patch: solid ``subject`` (raw 1) in its left columns, the screen in its right
    ones, ``pixel`` at the centre with a clipped matte of ``clipped``."""
    n = 2 * cpu.COLOUR_RADIUS + 1
    rgb = np.tile(screen, (n, n, 1))
    raw = np.zeros((n, n), np.float32)
    rgb[:, : n // 2] = subject
    raw[:, : n // 2] = 1.0
    alpha = raw.copy()
    c = n // 2
    rgb[c, c] = pixel
    alpha[c, c] = clipped
    return alpha, raw, rgb, (c, c)


# The share of the way a pixel exactly on the line from S to F moves (COLOUR_FIT's ramp at 0).
ON_LINE = cpu.COLOUR_MIX_FIT


def test_a_mix_of_skin_and_screen_moves_toward_its_coverage():
    """0.3 skin + 0.7 screen, read as 0.6 by the matte, beside clear screen: the model's alpha
    is 0.3, and the pixel, exactly on the line, moves COLOUR_MIX_NEAR + COLOUR_MIX_FIT of the
    way there (every trust ramp is at 1)."""
    alpha, raw, rgb, c = half_solid(0.3 * SKIN + 0.7 * SCREEN, 0.6)
    out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
    mix = cpu.COLOUR_MIX_NEAR + ON_LINE
    assert out[c] == pytest.approx(0.6 + mix * (0.3 - 0.6), abs=1e-4)
    assert mix <= 1.0
    others = np.ones_like(alpha, bool)
    others[c] = False
    np.testing.assert_array_equal(out[others], alpha[others])  # exactly 0 and 1 stay


def test_away_from_clear_screen_a_mix_moves_less():
    """The same pixel with no clear screen within COLOUR_NEAR_RADIUS (a semi-transparent patch
    inside the subject: raw 0.5 around it) moves COLOUR_MIX (+ COLOUR_MIX_FIT) of the way; with
    clear screen only beyond the radius, too."""
    alpha, raw, rgb, c = half_solid(0.3 * SKIN + 0.7 * SCREEN, 0.6)
    r = cpu.COLOUR_NEAR_RADIUS
    inner = raw.copy()
    inner[c[0] - r : c[0] + r + 1, c[1] : c[1] + r + 1] = 0.5
    out = cpu.colour_model_matte(alpha, inner, rgb, SCREEN, GREEN)
    assert out[c] == pytest.approx(0.6 + (cpu.COLOUR_MIX + ON_LINE) * (0.3 - 0.6), abs=1e-4)
    assert cpu.COLOUR_MIX < cpu.COLOUR_MIX_NEAR


def test_the_outer_edge_reaches_further_in_on_a_vivid_screen():
    """How far in from clear screen a pixel is the outer edge: COLOUR_NEAR_RADIUS on a vivid
    screen's window, COLOUR_NEAR_RADIUS_PALE on a pale one's; neither past COLOUR_RADIUS,
    the window the bands' halo already holds."""
    assert cpu.near_radius(KeyerParams()) == cpu.COLOUR_NEAR_RADIUS
    assert cpu.near_radius(KeyerParams(sat_max=0.5)) == cpu.COLOUR_NEAR_RADIUS_PALE
    assert cpu.COLOUR_NEAR_RADIUS_PALE < cpu.COLOUR_NEAR_RADIUS <= cpu.COLOUR_RADIUS


@pytest.mark.parametrize("near", [cpu.COLOUR_NEAR_RADIUS, cpu.COLOUR_NEAR_RADIUS_PALE])
def test_clear_screen_a_few_pixels_away_is_beside_on_a_vivid_screen_only(near):
    """The mix with clear screen COLOUR_NEAR_RADIUS pixels away (a soft rim between, raw
    0.5): within a vivid screen's reach it moves COLOUR_MIX_NEAR (+ COLOUR_MIX_FIT) of the
    way, within a pale screen's COLOUR_MIX (+ COLOUR_MIX_FIT)."""
    alpha, raw, rgb, c = half_solid(0.3 * SKIN + 0.7 * SCREEN, 0.6)
    r = cpu.COLOUR_NEAR_RADIUS
    rim = raw.copy()
    rim[:, c[1] : c[1] + r] = 0.5
    out = cpu.colour_model(alpha, rim, rgb, SCREEN, GREEN, near)[0]
    mix = cpu.COLOUR_MIX_NEAR if near == r else cpu.COLOUR_MIX
    assert out[c] == pytest.approx(0.6 + (mix + ON_LINE) * (0.3 - 0.6), abs=1e-4)


def soft_rim_frame(width: float = 8.0) -> tuple[Frame, np.ndarray]:
    """A skin disc over #008000 whose coverage ramps to 0 over ``width`` pixels (a soft edge,
    loose hair's at 720p): its middle lies 3–4 pixels from clear screen."""
    yy, xx = np.mgrid[0:64, 0:96].astype(np.float32) + np.float32(0.5)
    cover = np.clip((20.0 - np.hypot(xx - 48.0, yy - 32.0)) / width + 0.5, 0.0, 1.0)
    img = cover[..., None] * SKIN + (1 - cover[..., None]) * SCREEN
    return Frame.from_rgb(np.round(img * 255).astype(np.uint8)), cover.astype(np.float32)


def test_the_compiled_keyer_reaches_in_as_far_as_the_window_says():
    """On a soft rim, the reference with the vivid screen's reach lies nearer the coverage
    than with the pale one's, and differs from it beyond the kernels' tolerance; the compiled
    keyer gives the reference's matte under either window (the reach is its int slot)."""
    f, cover = soft_rim_frame()
    rim = (cover > 0.02) & (cover < 0.98)
    screen = ScreenMap.constant(SCREEN)
    rgb = cpu.decode_rgb(f)
    vivid = KeyerParams(auto_hue=False, auto_sat=False)
    p = keyed_params(vivid, screen)
    far, near = (
        reference_matte(rgb, SCREEN, p, near=r)
        for r in (cpu.COLOUR_NEAR_RADIUS, cpu.COLOUR_NEAR_RADIUS_PALE)
    )
    assert np.abs(far - cover)[rim].mean() < np.abs(near - cover)[rim].mean()
    assert np.abs(cpu.levels(far) - cpu.levels(near).astype(int)).max() > 2 * TOLERANCE
    for params in (vivid, KeyerParams(auto_hue=False, auto_sat=False, sat_max=0.9)):
        ref = cpu.ReferenceKeyer(params, strips=False).render(f, screen, CLEAR)[..., 3]
        ours = CpuKeyer(params).render(f, screen, CLEAR)[..., 3]
        assert np.abs(ours.astype(int) - ref).max() <= TOLERANCE
        if params is vivid:  # the keyer reaches as far as near_radius says
            assert np.array_equal(ref, cpu.levels(far))


@pytest.mark.parametrize("off", [0.0, 0.01, cpu.COLOUR_FIT[1]])
def test_a_pixel_a_little_off_the_line_moves_less(off):
    """The mix moved off the line from S to F by ``off`` (along blue, square to the line):
    on it the pixel moves COLOUR_MIX_FIT more than colour_mix; that share ramps out over
    COLOUR_FIT, whose end is where COLOUR_RESIDUAL's distrust begins."""
    pixel = 0.3 * SKIN + 0.7 * SCREEN
    line = SKIN - SCREEN
    square = np.array([0.0, 0.0, 1.0], np.float32)
    square -= line * (square @ line) / (line @ line)
    pixel = pixel + np.float32(off) * square / np.linalg.norm(square)
    alpha, raw, rgb, c = half_solid(pixel.astype(np.float32), 0.6)
    out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
    fit = float(cpu.fit_mix(np.float32(off), np.float32(0.6)))
    assert fit == pytest.approx(ON_LINE * (1.0 - float(cpu.soft_step(*cpu.COLOUR_FIT, off))))
    assert out[c] == pytest.approx(0.6 + (cpu.COLOUR_MIX_NEAR + fit) * (0.3 - 0.6), abs=1e-4)
    assert cpu.COLOUR_FIT[1] <= cpu.COLOUR_RESIDUAL[0]
    if off >= cpu.COLOUR_FIT[1]:
        assert fit == 0.0


def test_a_pixel_on_the_line_read_nearly_solid_moves_no_more():
    """0.9 skin + 0.1 screen read as 0.97 (past COLOUR_FIT_SOLID's ramp): on the line,
    but as often skin whose chroma 4:2:0 smeared toward the screen, so it moves colour_mix's
    share only; read as 0.8, the whole COLOUR_MIX_FIT more."""
    assert cpu.COLOUR_FIT_SOLID[1] <= 0.97
    for clipped, extra in ((0.97, 0.0), (0.8, ON_LINE)):
        alpha, raw, rgb, c = half_solid(0.9 * SKIN + 0.1 * SCREEN, clipped)
        out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
        mix = cpu.COLOUR_MIX_NEAR + extra
        assert out[c] == pytest.approx(clipped + mix * (0.9 - clipped), abs=1e-4)
    assert cpu.COLOUR_FIT_SOLID[0] >= 0.8


def test_on_a_pale_screen_a_pale_subject_is_read_on_its_short_line():
    """A white shirt in shadow (RGB 142, 146, 131) before a pale muslin (hue 90°, saturation
    0.2, lightness 0.55, key excess 0.09): F lies under 0.09 from S, a line too short on a
    saturated screen, but on this one it counts against the screen's excess (COLOUR_PALE_EXCESS),
    and a half-and-half edge read as 0.8 moves toward 0.5."""
    muslin = np.array([0.55, 0.64, 0.46], np.float32)
    shirt = np.array([142, 146, 131], np.float32) / 255
    spread = np.float32(np.sum((shirt - muslin) ** 2))
    alpha, raw, rgb, c = half_solid(0.5 * shirt + 0.5 * muslin, 0.8, muslin, shirt)
    out = cpu.colour_model_matte(alpha, raw, rgb, muslin, GREEN)
    scale = float(cpu.spread_scale(muslin, GREEN))
    trust = float(cpu.soft_step(*cpu.COLOUR_SPREAD, np.float32(spread * scale)))
    assert spread < cpu.COLOUR_SPREAD[0] and scale > 10 and trust > 0.5
    mix = cpu.COLOUR_MIX_NEAR + ON_LINE  # the mix lies on the line
    assert out[c] == pytest.approx(0.8 + trust * mix * (0.5 - 0.8), abs=1e-4)
    # On #008000 a line as short is not read: the matte stays.
    near = SCREEN + (shirt - muslin)
    alpha, raw, rgb, c = half_solid(0.5 * near + 0.5 * SCREEN, 0.8, SCREEN, near)
    assert float(cpu.spread_scale(SCREEN, GREEN)) == 1.0
    assert cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)[c] == np.float32(0.8)


def test_a_colour_off_the_line_from_screen_to_subject_keeps_its_matte():
    """A dark strand over the screen beside skin is no mix of skin and screen."""
    alpha, raw, rgb, c = half_solid(0.7 * SCREEN, 0.3)
    assert cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)[c] == np.float32(0.3)


def plane_coefficients(pixel: np.ndarray, f: np.ndarray, s: np.ndarray) -> np.ndarray:
    """(u, v) of pixel ≈ u·F + v·S, by least squares."""
    return np.linalg.lstsq(np.stack([f, s], 1).astype(np.float64), pixel, rcond=None)[0]


def test_the_subject_in_shade_over_the_screen_reads_as_its_coverage():
    """0.3 of skin in shade (at half its light) over 0.7 screen, read as 0.1: far off the line
    from S to F (which reads it as 0.14), but u·F + v·S + (1 − u − v)·black with u = 0.15,
    v = 0.7, so the model's alpha is 1 − v = 0.3, trusted as on the line (beside clear screen:
    COLOUR_MIX_NEAR of the way; not on the line: no COLOUR_MIX_FIT)."""
    pixel = 0.3 * 0.5 * SKIN + 0.7 * SCREEN
    line_a, residual = cpu.line_fit(pixel - SCREEN, SKIN - SCREEN, np.sum((SKIN - SCREEN) ** 2))
    assert residual > cpu.COLOUR_RESIDUAL[1] and line_a < 0.15
    alpha, raw, rgb, c = half_solid(pixel.astype(np.float32), 0.1)
    out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
    assert out[c] == pytest.approx(0.1 + cpu.COLOUR_MIX_NEAR * (0.3 - 0.1), abs=1e-4)
    # The same shaded skin read as 0.5, above its coverage: it moves down to it.
    alpha, raw, rgb, c = half_solid(pixel.astype(np.float32), 0.5)
    out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
    assert out[c] == pytest.approx(0.5 + cpu.COLOUR_MIX_NEAR * (0.3 - 0.5), abs=1e-4)


# Dark brown hair: a strand lit brighter than the window's mean is a blond one, or a curl's lit side.
HAIR = np.array([0.5, 0.35, 0.25], np.float32)


@pytest.mark.parametrize("clipped", [0.9, 0.3])
def test_the_subject_lit_beyond_its_window_mean_reads_as_its_coverage(clipped):
    """Half a strand 1.4 times as bright as the dark hair beside it, over half screen: off the
    line from S to F (which reads it as 0.66), but u·F + v·S with u = 0.7 = 1.4·(1 − v), a
    colour: the model's alpha is 1 − v = 0.5, whether the matte read it more or less opaque."""
    pixel = (0.5 * 1.4 * HAIR + 0.5 * SCREEN).astype(np.float32)
    line = HAIR - SCREEN
    line_a, residual = cpu.line_fit(pixel - SCREEN, line, np.sum(line * line))
    assert residual > cpu.COLOUR_RESIDUAL[1] and line_a > 0.65
    u, v = plane_coefficients(pixel.astype(np.float64), HAIR, SCREEN)
    assert u > 1 - v and u <= cpu.COLOUR_LIT * (1 - v) - cpu.COLOUR_SHADE
    alpha, raw, rgb, c = half_solid(pixel, clipped, subject=HAIR)
    out = cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)
    assert out[c] == pytest.approx(clipped + cpu.COLOUR_MIX_NEAR * (0.5 - clipped), abs=1e-4)


def test_on_a_pale_screen_a_pale_subject_lit_brighter_keeps_the_line():
    """The white shirt (RGB 142, 146, 131) lit 1.2 times, half over a pale muslin: F and S lie
    nearly parallel (sine² under COLOUR_LIT_APART), and the plane would read a brightening
    as screen: the pixel keeps the line's reading and trust."""
    muslin = np.array([0.55, 0.64, 0.46], np.float32)
    shirt = np.array([142, 146, 131], np.float32) / 255
    pixel = (0.5 * 1.2 * shirt + 0.5 * muslin).astype(np.float32)
    sine2 = 1 - np.dot(shirt, muslin) ** 2 / (np.dot(shirt, shirt) * np.dot(muslin, muslin))
    assert sine2 < cpu.COLOUR_LIT_APART[0]
    line_a, residual = cpu.line_fit(pixel - muslin, shirt - muslin, np.sum((shirt - muslin) ** 2))
    alpha, far = cpu.shade_fit(pixel, shirt, muslin, line_a, residual)
    assert (alpha, far) == (line_a, residual)


@pytest.mark.parametrize(
    "pixel",
    [
        0.3 * SKIN + 0.7 * SCREEN + np.float32(0.1),  # brighter than any mix: u > LIT·(1 − v)
        0.5 * np.float32(1.3) * SKIN + 0.5 * SCREEN,  # skin lit 1.3 times: brighter than white
        0.7 * SCREEN,  # the screen in shade, or a black strand: u = 0
        0.3 * 0.5 * SKIN + 0.7 * SCREEN - np.array([0.0, 0.0, 0.12], np.float32),  # off the plane
    ],
)
def test_a_colour_outside_the_shaded_mixes_keeps_its_matte(pixel):
    """Off the line, and no mix of the subject in light or shade with the screen: outside the
    triangle of F, S and black and the subject lit (COLOUR_LIT, a colour), or too far off its
    plane (COLOUR_RESIDUAL): the matte stays."""
    alpha, raw, rgb, c = half_solid(np.clip(pixel, 0, 1).astype(np.float32), 0.4)
    u, v = plane_coefficients(rgb[c].astype(np.float64), SKIN, SCREEN)
    line_a, residual = cpu.line_fit(rgb[c] - SCREEN, SKIN - SCREEN, np.sum((SKIN - SCREEN) ** 2))
    _, far = cpu.shade_fit(rgb[c], SKIN, SCREEN, line_a, residual)
    assert residual > cpu.COLOUR_RESIDUAL[1]
    lit_colour = u * SKIN.max() <= 1 - v and u <= cpu.COLOUR_LIT * (1 - v)
    assert (u + v > 1 and not lit_colour) or u <= 0 or far > cpu.COLOUR_RESIDUAL[1], (u, v, far)
    assert cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)[c] == np.float32(0.4)


def test_without_solid_subject_in_reach_nothing_moves():
    alpha, raw, rgb, c = half_solid(0.3 * SKIN + 0.7 * SCREEN, 0.6)
    raw[:] = 0.9  # nothing is solid: below COLOUR_SOLID's ramp
    assert cpu.COLOUR_SOLID[0] > 0.9
    np.testing.assert_array_equal(cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN), alpha)


def test_the_model_is_continuous_at_0_and_1():
    """A matte a rounding away from 1 moves by about a rounding, not by the model's step."""
    alpha, raw, rgb, c = half_solid(0.3 * SKIN + 0.7 * SCREEN, 1.0)
    alpha[c] = np.nextafter(np.float32(1.0), np.float32(0.0))
    assert abs(cpu.colour_model_matte(alpha, raw, rgb, SCREEN, GREEN)[c] - 1.0) < 1e-6


@pytest.mark.parametrize("color", [tuple(SKIN), (0.95, 0.85, 0.2), (0.2, 0.25, 0.6)])
def test_an_anti_aliased_edge_reads_closer_to_its_coverage(color):
    """A digital composite's anti-aliased disc over #008000 (skin, yellow, navy): the model
    brings the edge's alpha closer to the exact coverage, and the compiled keyer gives the
    reference's result."""
    f, cover = soft_disc_frame(color)
    edge = (cover > 0.02) & (cover < 0.98)
    p = KeyerParams(auto_hue=False, auto_sat=False)
    screen = ScreenMap.constant(SCREEN)
    rgb = cpu.decode_rgb(f)
    without = reference_matte(rgb, SCREEN, keyed_params(p, screen), colour_model=False)
    ref = cpu.ReferenceKeyer(p, strips=False).render(f, screen, CLEAR)[..., 3] / 255.0
    ours = CpuKeyer(p).render(f, screen, CLEAR)[..., 3] / 255.0

    def err(a: np.ndarray) -> float:
        return float(np.abs(a - cover)[edge].mean())

    assert err(ref) < 0.9 * err(without), (err(ref), err(without))
    assert np.abs(ours - ref).max() <= TOLERANCE / 255 + 1e-9  # the kernels follow it …
    assert np.abs(ours - without).max() > 1.5 * TOLERANCE / 255  # … model and all


def test_a_given_colour_reads_the_mix_the_window_mean_cannot():
    """A dark strand at 0.4 over the screen beside skin is no mix of skin and screen; given its
    own colour (``known``: benchmarks.bounds' study of what the estimate of F costs), it is
    read as that mix, and moves the way a skin mix moves toward its coverage. Exactly 0 and 1
    stay, as without."""
    hair = np.array([0.35, 0.22, 0.12], np.float32)
    alpha, raw, rgb, c = half_solid(0.4 * hair + 0.6 * SCREEN, 0.7)
    own = cpu.colour_model(alpha, raw, rgb, SCREEN, GREEN)[0]
    given = cpu.colour_model(
        alpha, raw, rgb, SCREEN, GREEN, known=np.broadcast_to(hair, rgb.shape)
    )[0]
    mix = min(cpu.COLOUR_MIX_NEAR + ON_LINE, 1.0)
    assert given[c] == pytest.approx(0.7 + mix * (0.4 - 0.7), abs=1e-4)
    assert abs(own[c] - 0.4) > 0.1
    others = np.ones_like(alpha, bool)
    others[c] = False
    np.testing.assert_array_equal(given[others], alpha[others])
