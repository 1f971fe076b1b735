"""The footage truth's subject colour: the photograph's room unmixed from a cut-out's rims
(benchmarks.foreground), checked on a composite whose F and B are known, and on the four
real cut-outs."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.filters import dilate
from benchmarks.foreground import estimate

F32 = np.float32


def _known_cutout(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A disc with strands over a light room: (F, the file's straight colour, α, B), the file
    stored as rembg stores it: premultiplied, 8-bit, black where α is 0."""
    rng = np.random.default_rng(seed)
    h, w = 160, 200
    y, x = np.mgrid[0:h, 0:w].astype(F32)
    f = np.stack([0.45 + 0.1 * np.sin(x / 25), 0.30 + 0.05 * np.cos(y / 20), 0.25 + 0 * x], -1)
    b = np.stack([0.7 + 0.1 * np.cos(x / 30), 0.8 + 0 * x, 0.9 - 0.1 * np.sin(y / 35)], -1)
    cx, cy = 100, 80
    r = np.hypot(x - cx, y - cy)
    a = np.clip((50 - r) / 8 + 0.5, 0, 1)
    for _ in range(20):
        ang = rng.uniform(0, 2 * np.pi)
        across = np.abs((x - cx) * np.sin(ang) - (y - cy) * np.cos(ang))
        along = (x - cx) * np.cos(ang) + (y - cy) * np.sin(ang)
        a = np.maximum(a, np.clip(0.6 - across / 1.5, 0, 1) * ((along > 45) & (along < 75)))
    a = (np.round(a * 255) / 255).astype(F32)
    photo = a[..., None] * f + (1 - a[..., None]) * b
    prem = np.round(a[..., None] * photo * 255) / 255
    file_rgb = np.where(a[..., None] > 0, np.clip(prem / np.maximum(a[..., None], 1e-6), 0, 1), 0)
    return f.astype(F32), file_rgb.astype(F32), a, b.astype(F32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_subjects_colour_is_recovered_where_f_and_b_are_known(seed):
    f, file_rgb, a, b = _known_cutout(seed)
    fe, be = estimate(file_rgb, a)
    part = (a > 0.05) & (a < 0.95)
    err = np.abs(fe - f)[part].mean()
    photo_err = np.abs(file_rgb - f)[part].mean()
    assert err < 2 / 255, err * 255
    assert err < 0.05 * photo_err, (err, photo_err)
    assert np.abs(be - b)[part & (a < 0.5)].mean() < 4 / 255
    solid = a >= 1
    np.testing.assert_array_equal(fe[solid], file_rgb[solid])


def test_the_file_is_not_read_where_alpha_is_zero():
    """rembg's file is black where α is 0: that black is no photograph, and changing it
    changes nothing."""
    f, file_rgb, a, _ = _known_cutout(0)
    other = file_rgb.copy()
    other[a == 0] = np.random.default_rng(5).uniform(0, 1, ((a == 0).sum(), 3))
    fa, ba = estimate(file_rgb, a)
    fb, bb = estimate(other, a)
    np.testing.assert_array_equal(fa, fb)
    np.testing.assert_array_equal(ba[a > 0], bb[a > 0])


@pytest.mark.parametrize("name", ["girl-1", "girl-2", "girl-3", "animal-1"])
def test_a_real_cutouts_rims_take_the_subjects_colour_not_the_rooms(name):
    """Each photograph's rims mix in its room (lighter than girl-1's hair, darker than the
    animal's fur): the subject's unmixed rims lie nearer the solid subject beside them, the
    solid subject keeps the photograph, and the truth is rendered from the unmixed colour."""
    from benchmarks.footage import FootageSpec, render_truth
    from benchmarks.footage_subject import read_cutout, subject

    photo = read_cutout(name)
    s = subject(name)
    a = s[..., 3]
    solid, rim = a >= 1, (a > 0.05) & (a < 0.6)
    np.testing.assert_array_equal(s[..., :3][solid], photo[..., :3][solid])
    beside = s[..., :3][solid & dilate(rim, 6)].mean(0)
    unmixed = np.abs(s[..., :3][rim].mean(0) - beside).sum()
    as_photographed = np.abs(photo[..., :3][rim].mean(0) - beside).sum()
    assert unmixed < 0.7 * as_photographed, (unmixed, as_photographed)

    t = render_truth(FootageSpec(name, "avatar", False, 320, 180, 1), 0)
    trim = (t.alpha > 0.05) & (t.alpha < 0.6)
    truth_rim = t.foreground[trim].mean(0)
    assert (
        np.abs(truth_rim - s[..., :3][rim].mean(0)).sum()
        < np.abs(truth_rim - photo[..., :3][rim].mean(0)).sum()
    )
