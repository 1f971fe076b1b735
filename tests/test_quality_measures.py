"""Issue 23's measures (benchmarks.metrics) on arrays whose answer is known by construction,
and issue 23's footage cases (benchmarks.footage) doing what their names say."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from benchmarks.footage import (
    HAIR_SPILL,
    SLIDE_PX,
    issue23_specs,
    render_truth,
)
from benchmarks.footage_subject import SHADOW_RGB
from benchmarks.metrics import (
    BIAS,
    LOST_ALPHA,
    LOST_ERODE,
    TINT_MIN_ALPHA,
    Acc,
    accumulate,
    edge_shift,
    largest_component,
    largest_lost_patch,
    matte_lag,
    screen_tint,
    truth_ctx,
)
from chromakey.sample import TruthFrame

F32 = np.float32


def disc(h: int, w: int, cx: float, cy: float, r: float, ramp: float = 2.0) -> np.ndarray:
    """A disc's alpha with a linear edge ``ramp`` px wide, centred on (cx, cy)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    d = np.hypot(xx - cx, yy - cy)
    return np.clip((r - d) / ramp + 0.5, 0, 1).astype(F32)


# --- the largest lost patch -----------------------------------------------------------------


def test_largest_component_counts_4_connected_pixels():
    m = np.zeros((40, 50), bool)
    m[2:7, 3:10] = True  # 35
    m[20, 5:25] = True  # 20, a line
    m[21, 25] = True  # touches the line's end only diagonally: not part of it
    # A U (needs labels to travel around a bend): 2 arms of 15 and a base of 9.
    m[25:40, 20] = m[25:40, 28] = True
    m[39, 21:28] = True
    assert largest_component(m) == 15 + 15 + 7
    assert largest_component(np.zeros((5, 5), bool)) == 0
    m2 = np.zeros((40, 50), bool)
    m2[20, 5:45] = True
    m2[21, 45] = True
    assert largest_component(m2) == 40


def test_a_spiral_is_one_component():
    n = 31
    m = np.zeros((n, n), bool)
    top, left, bottom, right = 0, 0, n - 1, n - 1
    while top <= bottom and left <= right:  # every other ring, joined into a spiral
        m[top, left : right + 1] = True
        m[top : bottom + 1, right] = True
        m[bottom, left : right + 1] = True
        m[top + 2 : bottom + 1, left] = True
        top, left, bottom, right = top + 2, left + 2, bottom - 2, right - 2
        if top <= bottom:
            m[top - 1, left] = True
    assert largest_component(m) == int(m.sum())


def test_a_hole_of_known_size_inside_the_subject():
    g = disc(120, 120, 60, 60, 45)
    a = g.copy()
    a[40:49, 50:59] = 0.5  # 81 px, far inside
    a[70:80, 30:34] = LOST_ALPHA + 0.02  # keyed a little low, but not lost
    ys, xs = np.nonzero((g > 0) & (g < 1))
    a[ys, xs] = 0  # the whole soft edge eaten: not the sure subject
    # and the first LOST_ERODE px inside it too
    inner = (g >= 1) & (disc(120, 120, 60, 60, 45 - LOST_ERODE + 0.5, 0.01) < 1)
    a[inner] = 0
    assert largest_lost_patch(a, g) == 81
    a[45, 59:70] = 0.1  # a crack from the hole: 11 more px
    assert largest_lost_patch(a, g) == 81 + 11


# --- the screen tint ----------------------------------------------------------------------------


def test_a_known_tint_of_partial_pixels():
    g = disc(80, 80, 40, 40, 25, ramp=6.0)
    fg = np.broadcast_to(np.asarray((0.40, 0.25, 0.15), F32), g.shape + (3,)).copy()
    ours = fg.copy()
    ours[..., 1] += 4 / 255  # four levels greener everywhere
    assert screen_tint(g, ours, g, fg) == pytest.approx(4.0, abs=1e-3)
    # Solid and open pixels, and partial ones shown below TINT_MIN_ALPHA, do not count.
    solid = (g >= 0.95) | (g <= 0.05)
    ours[solid] = (0.0, 1.0, 0.0)
    a = g.copy()
    faint = (g > 0.05) & (g < 0.5)
    a[faint] = TINT_MIN_ALPHA / 2
    ours[faint] = (0.0, 1.0, 0.0)
    assert screen_tint(a, ours, g, fg) == pytest.approx(4.0, abs=1e-3)
    # Olive hair: G clamped up to max(R, B) is a tint of +(R − G) = 0.15 → 38.25 levels.
    olive = fg.copy()
    olive[..., 1] = olive[..., 0]
    assert screen_tint(g, olive, g, fg) == pytest.approx(0.15 * 255, abs=1e-2)
    assert math.isnan(screen_tint(g, fg, np.ones_like(g), fg))
    # On a blue screen the tint is the blue excess, B − max(R, G).
    bluer = fg.copy()
    bluer[..., 2] += 0.2  # B 0.35 now, 0.05 over R: the excess goes from −0.25 to −0.05
    assert screen_tint(g, bluer, g, fg, channel=2) == pytest.approx(0.2 * 255, abs=1e-2)
    assert screen_tint(g, bluer, g, fg) == pytest.approx(0.0, abs=1e-3)


# --- the lag of a moving edge -----------------------------------------------------------------


@pytest.mark.parametrize("shift", [0.0, 0.3, -0.6, 2.5])
def test_a_known_shift_of_the_matte(shift):
    g = disc(100, 140, 70, 50, 30)
    a = disc(100, 140, 70 + shift, 50, 30)
    assert edge_shift(a, g) == pytest.approx(shift, abs=0.03)
    # Moving right, a matte shifted left trails the truth: a positive lag.
    assert matte_lag(a, g, +1.0) == pytest.approx(-shift, abs=0.03)
    assert matte_lag(a, g, -1.0) == pytest.approx(shift, abs=0.03)
    assert math.isnan(matte_lag(a, g, None))


def test_an_error_the_same_on_both_edges_is_not_a_lag():
    g = disc(100, 140, 70, 50, 30)
    assert edge_shift(0.9 * g, g) == pytest.approx(0.0, abs=0.01)  # too low everywhere
    assert edge_shift(disc(100, 140, 70, 50, 31.5), g) == pytest.approx(0.0, abs=0.01)  # a halo


# --- through Acc, as the benchmarks score ------------------------------------------------------


def _truth(g: np.ndarray, i: int) -> TruthFrame:
    fg = np.broadcast_to(np.asarray((0.40, 0.25, 0.15), F32), g.shape + (3,)).copy()
    return TruthFrame(i, i / 30, fg, g, fg * (g[..., None] > 0), np.zeros_like(g))


def test_the_clip_measures_through_acc():
    acc = Acc()
    prev = None
    h, w = 90, 120
    c = 0.02  # our matte flickers by ±c on the left half of the frame; the truth is still
    for i in range(4):
        g = disc(h, w, 60, 45, 30)
        t = truth_ctx(_truth(g, i), prev, None, motion_x=1.0)
        a = disc(h, w, 60 - 0.4, 45, 30)  # 0.4 px behind a subject moving right
        a[40:46, 55:61] = 0.0  # a 36 px hole
        a[:, : w // 2] += c if i % 2 else -c
        rgb = t.fg.copy()
        rgb[..., 1] += 3 / 255
        accumulate(acc, t, np.clip(a, 0, 1), rgb)
        prev = g
    r = acc.result()
    assert r["lost patch px"] == 36
    assert r["tint levels"] == pytest.approx(3.0, abs=1e-3)
    assert r["lag px"] == pytest.approx(0.4, abs=0.05)
    # dtSSD: |Δα| = 2c on the left half, where α was not clipped (inside (c, 1 − c) or open).
    assert 0 < r["dtSSD×100"] <= 100 * math.sqrt(0.5 * (2 * c) ** 2) + 1e-6


def test_dtssd_of_a_still_truth_is_the_matte_s_own_flicker():
    acc = Acc()
    g = np.full((20, 30), 0.5, F32)
    prev = None
    for i in range(5):
        a = g + (0.01 if i % 2 else -0.01) * (np.arange(30)[None, :] < 15)
        accumulate(acc, truth_ctx(_truth(g, i), prev, None), a.astype(F32), _truth(g, i).foreground)
        prev = g
    assert acc.result()["dtSSD×100"] == pytest.approx(100 * math.sqrt(0.5 * 0.02**2), rel=1e-4)
    assert math.isnan(acc.result()["lag px"])


# --- issue 23's footage cases ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def specs():
    return {s.name: s for s in issue23_specs(frames=6, width=320, height=180)}


def _by(specs, **kw):
    return next(s for s in specs.values() if all(getattr(s, k) == v for k, v in kw.items()))


def test_the_pale_shirt_has_a_shadowed_near_grey(specs):
    from chromakey.core.color import rgb_to_hsl

    tf = render_truth(_by(specs, look="pale"), 0)
    solid = tf.alpha >= 1
    _, sat, light, _ = rgb_to_hsl(tf.foreground)
    near = np.abs(tf.foreground - np.asarray(SHADOW_RGB, F32)).max(-1) < 12 / 255
    assert (solid & near).sum() > 100  # the shadowed side, in the sure subject
    assert (solid & (sat < 0.05) & (light > 0.75)).sum() > 100  # and the lit white
    _, ssat, _, _ = rgb_to_hsl(tf.observed[tf.alpha == 0])
    assert 0.15 < float(np.median(ssat)) < 0.35  # on a pale screen


def test_hair_spill_is_screen_light_on_partial_pixels(specs):
    spec = _by(specs, look="hair spill")
    tf = render_truth(spec, 0)
    plain = render_truth(replace(spec, look=""), 0)  # the camera's edge spill only
    partial = (tf.alpha > 0) & (tf.alpha < 1)
    assert partial.sum() > 50
    assert np.all(tf.spill >= plain.spill)
    assert float(tf.spill[partial].mean()) > 2 * float(plain.spill[partial].mean())
    assert float(tf.spill.max()) <= HAIR_SPILL
    # The observed strands are greener than without it, by the screen light they reflect.
    excess = tf.observed[..., 1] - tf.observed[..., 0]
    assert float(excess[partial].mean()) > float(
        (plain.observed[..., 1] - plain.observed[..., 0])[partial].mean()
    )


def test_the_still_subject_does_not_move_and_the_slide_moves_by_slide_px(specs):
    still = _by(specs, motion="still")
    g0, g1 = render_truth(still, 0), render_truth(still, 3)
    assert np.array_equal(g0.alpha, g1.alpha)
    assert not np.array_equal(g0.observed, g1.observed)  # sensor noise every frame
    slide = _by(specs, motion="slide")
    a0, a1 = render_truth(slide, 2).alpha, render_truth(slide, 3).alpha
    assert edge_shift(a1, a0) == pytest.approx(SLIDE_PX, abs=0.05)


# --- the joined table and the pictures ---------------------------------------------------------


def test_the_issue_23_table_joins_quality_and_bounds_on_the_clip():
    from types import SimpleNamespace

    from benchmarks.bounds import GIVEN, METHODS, tables
    from benchmarks.issue23_table import join
    from benchmarks.quality_tables import issue23_table

    def result(sad, lost, tint, dt, lag):
        r = {"SAD": sad, "lost patch px": lost, "tint levels": tint, "dtSSD×100": dt}
        r |= {"lag px": lag, "edge PSNR dB": 25.0}
        return r | {k: float("nan") for k in BIAS}

    clip = SimpleNamespace(name="girl-9 on studio (camera)")
    keyed = {
        "ours cpu": result(1.2, 80, -3.5, 0.4, 0.02),
        "FFmpeg (tuned)": result(2.4, 7, 6.0, 0.9, -0.5),
        "floor": {"SAD": 0.1, "screen-coloured px": 60.0},
    }
    quality = "### Issue 23's measures per clip\n\n" + issue23_table([(clip, keyed)], ["cpu"])
    bounds = {m: result(1.0, 80, -3.5, 0.4, 0.02) for m in METHODS}
    bounds["oracle"] = result(0.8, 80, -12.0, 0.4, 0.0)
    bounds[GIVEN] = result(0.88, 80, 1.5, 0.4, 0.0)
    text = join(quality, tables([(clip.name, bounds)]))
    line = next(ln for ln in text.splitlines() if ln.startswith(f"| {clip.name} |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[1:7] == ["1.200", "2.400", "0.50×", "1.000", "0.800", "1.25×"]
    assert cells[7:9] == ["1.10×", "80 · 7 · 60"]  # our keyer given F*, ÷ the oracle
    assert cells[9] == "−3.50 · +6.00 · −12.00"  # ours, FFmpeg, the oracle
    assert cells[10:] == ["0.40 · 0.90", "+0.02 · −0.50"]
    assert text.splitlines()[1].count("|") == len(cells) + 1


def test_frame_png_crops_a_keyed_frame(tmp_path):
    import av

    from benchmarks import frame_png
    from benchmarks.footage import make_clips

    spec = replace(issue23_specs(frames=3, width=320, height=180)[1], frames=3)
    clip = make_clips(tmp_path, [spec])[0]
    out = tmp_path / "crop.png"
    assert (
        frame_png.main([str(clip.path), "--frame", "1", "--crop", "100,20,121,90", "-o", str(out)])
        == 0
    )
    with av.open(str(out)) as c:
        f = next(c.decode(video=0))
    assert (f.width, f.height) == (120, 90)  # even sizes
    with pytest.raises(SystemExit):
        frame_png.main([str(clip.path), "--crop", "1,2,3", "-o", str(out)])


def test_the_lost_patch_floor_is_the_subject_that_is_screen_coloured():
    """A studio-green spot in a sure subject is lost by any colour key: the floor counts it
    (eroded as the lost patch is), and a skin-coloured subject has none."""
    from benchmarks.footage import SCREENS
    from benchmarks.metrics import LOST_ERODE, screen_coloured_patch
    from chromakey.core.params import KeyerParams

    g = np.zeros((40, 40), np.float32)
    g[5:35, 5:35] = 1.0
    fg = np.tile(np.array([0.85, 0.65, 0.55], np.float32), (40, 40, 1))
    screen = SCREENS["studio"].rgb
    assert screen_coloured_patch(g, fg, screen, KeyerParams()) == 0
    fg[15:25, 15:25] = screen * 0.9  # the screen's colour, a little darker
    fg[5:8, 5:35] = screen  # on the edge: eroded away
    assert screen_coloured_patch(g, fg, screen, KeyerParams()) == 100
    assert LOST_ERODE >= 3


# --- the cut-outs' colour ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["girl-1", "girl-2", "girl-3", "animal-1"])
def test_the_cutouts_colour_is_read_as_premultiplied(name):
    """rembg writes the photograph times α (no pixel's RGB above its α, as premultiplied
    colour is; a straight photograph's faint edge pixels would be as bright as its others).
    read_cutout's straight colour times α gives the file back, and its faint pixels are as
    bright as the photograph's, not darkened by their own α."""
    from benchmarks.footage_subject import MEDIA, read_cutout, read_rgba

    raw = read_rgba(MEDIA / f"rembg-{name}.png")
    a = raw[..., 3]
    assert (raw[..., :3].max(-1) <= a + 1.5 / 255).all()
    rgba = read_cutout(name)
    np.testing.assert_array_equal(rgba[..., 3], a)
    np.testing.assert_allclose(rgba[..., :3] * a[..., None], raw[..., :3], atol=0.5 / 255 + 1e-6)
    faint = (a > 0.05) & (a < 0.3)
    assert rgba[..., :3][faint].max(-1).mean() > 2 * raw[..., :3][faint].max(-1).mean()
