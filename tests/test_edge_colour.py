"""The edge colour (reference.edge_colour): a partial pixel's colour unmixed again toward the
key excess of the subject beside it, so that a matte a little off leaves neither screen in a
strand nor takes the strand's own colour away; the compiled keyer and the shaders give the
reference's output.

Real cutouts with exact alpha (benchmarks/media, MIT) on a studio green with green light
wrapped round the hair, and on flat #008000 with the screen's light spilled, through libx264
4:2:0, keyed as the pipeline keys them: the screen tint of partial pixels
(benchmarks.metrics.screen_tint) falls, and the composite's error at the edges does not grow.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.footage import FootageClip, FootageSpec, encode
from benchmarks.metrics import TEST_COLOR, screen_tint
from chromakey.core.color import rgb_to_hsl
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import keyed_params
from chromakey.io.sources import VideoSource
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import ScreenCalibrator

F32 = np.float32
GREEN = np.array([0.1, 0.6, 0.2], F32)  # a studio green: R and B well above 0
BROWN = np.array([0.45, 0.3, 0.2], F32)  # hair: key excess G − max(R, B) = −0.15
SPILL = KeyerParams().spill  # full despill: a spilled neighbour's target is 0


def mixed(a_true: float, f: np.ndarray = BROWN, s: np.ndarray = GREEN) -> np.ndarray:
    return (a_true * f + (1 - a_true) * s).astype(F32).reshape(1, 1, 3)


def unmixed(rgb: np.ndarray, a: float, s: np.ndarray = GREEN) -> np.ndarray:
    fg = np.clip(rgb - (1 - a) * s, 0.0, None)
    return np.minimum(fg, F32(a))


def local(f: np.ndarray = BROWN, weight: float = 1.0) -> cpu.LocalColour:
    return cpu.LocalColour(f.reshape(1, 1, 3).astype(F32), np.full((1, 1), weight, F32))


def follow(a: float) -> float:
    """How far the colour moves at alpha ``a`` with F's whole weight."""
    return min(1.0, cpu.EDGE_FOLLOW * (1.0 - a))


# --- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize("a", [0.25, 0.35, 0.5, 0.65, 0.8, 0.9])
def test_a_matte_that_is_off_gives_the_subjects_colour_back_as_alpha_falls(a):
    """A pixel that is a*·F + (1 − a*)·S, keyed at a ≠ a*: unmixed again to F's key excess it
    is F itself (the line from S through the pixel passes F), and the colour moves that way
    by min(1, EDGE_FOLLOW·(1 − a)): all the way at a faint pixel, little at a nearly solid one."""
    rgb = mixed(0.4)
    a_arr = np.full((1, 1), a, F32)
    plain = unmixed(rgb, a)
    got = cpu.edge_colour(plain.copy(), a_arr, rgb, GREEN, local(), 1, SPILL)
    # F itself, unless that is an unmix with less than EDGE_ALPHA_SHARE of the matte's alpha:
    # then the unmix at that share, on the way to F.
    least = cpu.EDGE_ALPHA_SHARE * a
    target = BROWN if least <= 0.4 else np.clip(GREEN + (rgb[0, 0] - GREEN) / least, 0, 1)
    expect = plain + follow(a) * (a * target - plain)
    np.testing.assert_allclose(got, expect, atol=2e-6)
    if a <= 1.0 / cpu.EDGE_FOLLOW:
        np.testing.assert_allclose(got, a * BROWN.reshape(1, 1, 3), atol=2e-6)
    # Toward the subject's hue: its straight key excess is nearer F's than the plain unmix's.
    exc = float(cpu.key_excess(got / a, 1)[0, 0])
    assert abs(exc - (-0.15)) < abs(float(cpu.key_excess(plain / a, 1)[0, 0]) - (-0.15))


def test_a_spilled_subject_is_taken_to_a_neutral_excess_not_its_green():
    """Beside a subject whose own colour is greener than neutral (spill), the target is 0."""
    spilled = np.array([0.3, 0.5, 0.3], F32)
    for a_true in (0.5, 0.8):
        rgb = mixed(a_true)
        a = np.full((1, 1), a_true, F32)
        got = cpu.edge_colour(unmixed(rgb, a_true), a, rgb, GREEN, local(spilled), 1, SPILL)
        # Unmixed to excess 0: at alpha ½ the colour moves all the way there; at 0.8 (weight
        # 0.4) the plain excess (that of BROWN, −0.15) moves part way toward 0, not past it.
        exc = float(cpu.key_excess(got / a, 1)[0, 0])
        if follow(a_true) == 1.0:
            assert abs(exc) < 1e-5
        else:
            assert -0.15 < exc < 0.0


@pytest.mark.parametrize("spill", [0.0, 0.5])
def test_with_less_despill_a_green_subjects_edge_keeps_that_share_of_its_green(spill):
    """The despill's strength takes its share of F's excess above 0 off the target, so with
    ``--spill 0`` the edge of a green subject (a lime tie) is unmixed to the tie's own excess."""
    lime = np.array([0.45, 0.8, 0.2], F32)  # excess +0.35: above any grey
    rgb = mixed(0.7, lime)
    a = np.full((1, 1), 0.7, F32)
    got = cpu.edge_colour(unmixed(rgb, 0.7), a, rgb, GREEN, local(lime), 1, spill)
    # Unmixed at the true alpha, the pixel is the tie: the colour moves part of the way.
    expect = unmixed(rgb, 0.7)
    target_excess = (1 - spill) * 0.35
    exc = float(cpu.key_excess(got / 0.7, 1)[0, 0])
    plain = float(cpu.key_excess(expect / 0.7, 1)[0, 0])
    assert abs(plain - 0.35) < 1e-5  # the true alpha: the plain unmix is the tie itself
    if spill == 0:
        np.testing.assert_allclose(got, expect, atol=2e-6)  # already at the target
    else:
        assert target_excess < exc < plain


def test_no_weight_a_solid_pixel_or_no_solution_leaves_the_unmix():
    rgb = mixed(0.5)
    a = np.full((1, 1), 0.5, F32)
    plain = unmixed(rgb, 0.5)
    assert np.array_equal(
        cpu.edge_colour(plain.copy(), a, rgb, GREEN, local(weight=0), 1, SPILL), plain
    )
    one = np.ones((1, 1), F32)
    solid = unmixed(rgb, 1.0)
    assert np.array_equal(cpu.edge_colour(solid.copy(), one, rgb, GREEN, local(), 1, SPILL), solid)
    # A pixel greener than the screen: no alpha along the line lowers its excess to the target.
    greener = np.array([0.05, 0.8, 0.1], F32).reshape(1, 1, 3)
    odd = unmixed(greener, 0.5)
    assert np.array_equal(cpu.edge_colour(odd.copy(), a, greener, GREEN, local(), 1, SPILL), odd)


@pytest.mark.parametrize("a", [0.01, 0.1])
def test_the_colour_is_unmixed_with_no_less_than_the_least_alpha(a):
    """A pixel almost all screen cannot be unmixed by 1/alpha without bound: its colour is
    at most that of an unmix at EDGE_ALPHA_MIN or at EDGE_ALPHA_SHARE of the matte's alpha,
    whichever is more (clipped to [0, 1]): at 0.01 the first holds it, at 0.1 the second."""
    rgb = mixed(0.004)
    a_arr = np.full((1, 1), a, F32)
    got = cpu.edge_colour(unmixed(rgb, a), a_arr, rgb, GREEN, local(weight=1.0), 1, SPILL)
    d = rgb - GREEN
    least = max(cpu.EDGE_ALPHA_MIN, cpu.EDGE_ALPHA_SHARE * a)
    assert (least == cpu.EDGE_ALPHA_MIN) == (a == 0.01)
    bound = np.clip(GREEN + d / least, 0, 1)
    plain = unmixed(rgb, a)
    np.testing.assert_allclose(got, plain + follow(a) * (a * bound - plain), atol=2e-6)


def smooth(e0: float, e1: float, x: float) -> float:
    t = min(max((x - e0) / (e1 - e0), 0.0), 1.0)
    return t * t * (3 - 2 * t)


def off_line(rgb: np.ndarray, s: np.ndarray, f: np.ndarray) -> float:
    """The pixel's distance from the segment S–F (where along it: clipped to 0–1)."""
    d, line = rgb.reshape(3) - s, f - s
    a = min(max(float(d @ line) / float(line @ line), 0.0), 1.0)
    return float(np.linalg.norm(d - a * line))


def kept_key(line: np.ndarray, plain: np.ndarray, a: float, residual: float, key: int = 1):
    """The rule written out: the own unmix with its other channels shifted to the line's
    excess, EDGE_KEEP_LESS or EDGE_KEEP_MORE of the way (by the shift's sign, ramped over
    EDGE_KEEP_RAMP), times the residual's ramp."""
    own = plain.reshape(3) / max(a, cpu.EDGE_ALPHA_MIN)
    others = [c for c in range(3) if c != key]
    shift = (line[key] - max(line[others])) - (own[key] - max(own[others]))
    kept = own.copy()
    kept[others] -= shift
    kept = np.clip(kept, 0, 1)
    r = cpu.EDGE_KEEP_RAMP
    share = cpu.EDGE_KEEP_LESS + (cpu.EDGE_KEEP_MORE - cpu.EDGE_KEEP_LESS) * smooth(-r, r, shift)
    share *= smooth(*cpu.EDGE_KEEP_RESIDUAL, residual)
    return line + share * (kept - line)


def test_on_a_pale_screen_the_colour_is_not_taken_far_past_its_own_unmix():
    """A pale muslin's key excess is 0.09: along the line from it, the excess falls slowly,
    and a dark strand keyed too opaque (0.75, truly 0.4) next to skin (excess −0.16) would be
    unmixed to the skin's excess at an alpha of 0.22, below even the truth: darker than the
    strand itself. The unmix stops at EDGE_ALPHA_SHARE of the matte's alpha (0.45), between
    the matte and the truth, still darker than the plain unmix."""
    muslin = np.array([0.55, 0.64, 0.55], F32)
    strand = np.array([0.25, 0.2, 0.17], F32)
    skin = np.array([0.7, 0.54, 0.38], F32)
    rgb = mixed(0.4, strand, muslin)
    a = 0.75
    plain = unmixed(rgb, a, muslin)
    got = cpu.edge_colour(plain.copy(), np.full((1, 1), a, F32), rgb, muslin, local(skin), 1, SPILL)
    d = rgb[0, 0] - muslin
    # Without the share: the u whose excess (G − R here) is the skin's.
    free = (-0.16 - (muslin[1] - muslin[0])) / (d[1] - d[0])
    least = cpu.EDGE_ALPHA_SHARE * a
    assert 1.0 / free < 0.4 < least  # the excess alone unmixes past the truth; the share not
    at_share = np.clip(muslin + d / least, 0, 1)
    # The strand lies off the line from the muslin to the skin: keep_key moves that colour on.
    straight = kept_key(at_share, plain, a, off_line(rgb, muslin, skin))
    np.testing.assert_allclose(
        got[0, 0], plain[0, 0] + follow(a) * (a * straight - plain[0, 0]), atol=2e-6
    )
    assert float(got.sum()) < float(plain.sum())  # darker than the plain unmix, toward the strand


@pytest.mark.parametrize("a", [0.3, 0.8])
def test_a_pixel_off_the_line_keeps_its_own_key_channel(a):
    """A strand whose chroma the codec shifted (off the line from the screen to the hair
    beside it, by more than EDGE_KEEP_RESIDUAL's end): its colour takes the line's key excess
    through its other channels, its own unmix's key channel kept, all the way where the line
    asks for more excess than the unmix has (a matte too low, 0.3 against a true 0.4) and
    EDGE_KEEP_LESS of the way where less (0.8)."""
    rgb = (mixed(0.4) + np.array([0.14, 0.0, -0.14], F32)).astype(F32)
    residual = off_line(rgb, GREEN, BROWN)
    assert residual > cpu.EDGE_KEEP_RESIDUAL[1]
    a_arr = np.full((1, 1), a, F32)
    plain = unmixed(rgb, a)
    got = cpu.edge_colour(plain.copy(), a_arr, rgb, GREEN, local(), 1, SPILL)
    d = rgb[0, 0] - GREEN
    u = min((-0.15 - (GREEN[1] - GREEN[c])) / (d[1] - d[c]) for c in (0, 2) if d[1] - d[c] < 0)
    u = min(max(u, 1.0), 1.0 / max(cpu.EDGE_ALPHA_MIN, cpu.EDGE_ALPHA_SHARE * a))
    line = np.clip(GREEN + d * u, 0, 1)
    straight = kept_key(line, plain, a, residual)
    np.testing.assert_allclose(
        got[0, 0], plain[0, 0] + follow(a) * (a * straight - plain[0, 0]), atol=2e-6
    )
    own_excess = float(cpu.key_excess(plain[0, 0] / a, 1))
    line_excess = float(cpu.key_excess(line, 1))
    if a < 0.4:
        assert line_excess > own_excess + cpu.EDGE_KEEP_RAMP  # the full share: the key kept
        assert abs(straight[1] - plain[0, 0, 1] / a) < 1e-6
    else:
        assert line_excess < own_excess - cpu.EDGE_KEEP_RAMP
        kept = kept_key(line, plain, a, 1.0)  # the residual's ramp at its end
        np.testing.assert_allclose(straight, kept, atol=1e-6)
    assert abs(float(cpu.key_excess(straight, 1)) - line_excess) < 1e-5  # the line's excess


def test_a_pixel_on_the_line_takes_the_lines_colour():
    """On the line from the screen to the subject beside it the pixel is a mix of the two, and
    the line's colour is the subject's own: keep_key leaves it (residual 0, share 0)."""
    rgb = mixed(0.4)
    a = 0.3
    assert off_line(rgb, GREEN, BROWN) < 1e-6
    plain = unmixed(rgb, a)
    got = cpu.edge_colour(plain.copy(), np.full((1, 1), a, F32), rgb, GREEN, local(), 1, SPILL)
    np.testing.assert_allclose(got, a * BROWN.reshape(1, 1, 3), atol=2e-6)


def test_on_a_blue_screen_the_key_channel_is_blue():
    blue = np.array([0.1, 0.3, 0.7], F32)
    rgb = mixed(0.4, BROWN, blue)
    a = np.full((1, 1), 0.3, F32)
    got = cpu.edge_colour(unmixed(rgb, 0.3, blue), a, rgb, blue, local(), 2, SPILL)
    exc = float(cpu.key_excess(got / 0.3, 2)[0, 0])
    plain = float(cpu.key_excess(unmixed(rgb, 0.3, blue) / 0.3, 2)[0, 0])
    truth = float(cpu.key_excess(BROWN, 2))
    assert abs(exc - truth) < abs(plain - truth)


# --- real cutouts through H.264 ----------------------------------------------------------------


@pytest.fixture(scope="module", params=["hair spill", "avatar"])
def clip(request, tmp_path_factory) -> FootageClip:
    """girl-3 with green light wrapped round her hair on a studio green (camera noise), and
    girl-2 on flat #008000 lit by the screen (the presenter case, camera noise and spill):
    320×180, 4 frames, libx264 4:2:0. The clean composites' plain unmix holds no screen tint
    to take out: their edges are the photograph's own colour, which takes no screen light
    (girl-1 on flat #008000: +1.9 levels, benchmarks/RESULTS.md "Issue 23, stop 52")."""
    folder = tmp_path_factory.mktemp("edge")
    if request.param == "hair spill":
        spec = FootageSpec("girl-3", "studio", True, 320, 180, 4, look="hair spill")
    else:
        spec = FootageSpec("girl-2", "avatar", True, 320, 180, 4)
    return FootageClip(encode(folder / "clip.mp4", spec), spec)


def test_real_edges_take_the_subjects_colour_not_the_screens(clip):
    """Against the plain unmix of the same matte: the partial pixels' screen tint at most 60%
    of its size, and the composite over magenta no worse at the edges."""
    p0 = KeyerParams()
    cal = ScreenCalibrator(p0)
    src = VideoSource(clip.path, audio=False)
    tints: dict[str, list[float]] = {"edge": [], "plain": []}
    errors = {"edge": 0.0, "plain": 0.0}
    try:
        for i, frame in enumerate(f for kind, f in src if kind == "video"):
            screen = cal.update(frame)
            p = keyed_params(p0, screen)
            rgb = cpu.decode_rgb(frame)
            colors = cpu.screen_colors(screen, frame.height, frame.width)
            fg, alpha = cpu.key_frame(rgb, screen, p, cpu.luma_weights(frame))
            hue, sat, _, _ = rgb_to_hsl(rgb)
            gate = cpu.spill_gate(cpu.hue_membership(hue, p), sat, alpha, p)
            none = cpu.LocalColour(np.zeros_like(rgb), np.zeros_like(alpha))
            plain = cpu.unmix_despill(rgb, alpha, gate, colors, cpu.key_channel(p), p, none)
            truth = clip.truth(i)
            g = truth.alpha
            comp_truth = g[..., None] * truth.foreground + (1 - g[..., None]) * TEST_COLOR
            edge = (g > 0) & (g < 1)
            for name, premult in (("edge", fg), ("plain", plain)):
                straight = premult / np.maximum(alpha, F32(1e-6))[..., None]
                tints[name].append(screen_tint(alpha, straight, g, truth.foreground))
                comp = premult + (1 - alpha[..., None]) * np.asarray(TEST_COLOR, F32)
                errors[name] += float(((comp - comp_truth)[edge] ** 2).sum())
    finally:
        src.close()
    edge_tint, plain_tint = float(np.mean(tints["edge"])), float(np.mean(tints["plain"]))
    assert abs(plain_tint) > 2, "the clip's plain unmix is tinted: a test of something"
    assert errors["edge"] <= errors["plain"], errors
    tint_taken = abs(edge_tint) <= 0.6 * abs(plain_tint)
    if clip.spec.look == "hair spill":
        # A known miss of issue 23, kept in sight: on footage truth 3 (the subject's own colour
        # at the rims) girl-3's spilled hair comes out greener than the truth (+14 levels; the
        # plain unmix −7). The edge colour takes its key excess from the solid subject beside
        # the edge, which carries screen here: the spill wrapped round the hair, and rim
        # pixels the raw matte reads as solid (benchmarks/RESULTS.md, "Issue 23, stop 53").
        assert not tint_taken, "the hair-spill tint is met now: drop this known miss"
        pytest.xfail(f"hair-spill edge tint {edge_tint:+.1f} vs plain {plain_tint:+.1f}")
    assert tint_taken, (edge_tint, plain_tint)
