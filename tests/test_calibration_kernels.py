"""Calibration's compiled functions (keying/kernels/calibrate.py) against the numpy reference
(keying/calibration.py): the samples, their HSL, the window and the global colour exactly; the
block colours within CALIBRATE_TOLERANCE (their sums add in another order); the fill and the
dead band exactly. Real H.264 of the sample and random frames and settings."""

from __future__ import annotations

import numpy as np
import pytest

from chromakey.core.color import YuvSpec, rgb_to_hsl
from chromakey.core.frames import Frame
from chromakey.core.params import KeyerParams
from chromakey.io.sources import VideoSource
from chromakey.keying import calibration as cal
from chromakey.keying.kernels import calibrate as ck
from chromakey.keying.reference import key_channel
from chromakey.keying.tracking import HISTORY, Tracked
from chromakey.sample.encode import write_sample
from chromakey.sample.scene import SampleSpec


@pytest.fixture(scope="module", params=[(640, 360), (1280, 720)], ids=["360p", "720p"])
def frames(request, tmp_path_factory) -> list[Frame]:
    w, h = request.param
    path = tmp_path_factory.mktemp("sample") / "clip.mp4"
    write_sample(path, SampleSpec(width=w, height=h, seconds=0.2), audio=False)
    src = VideoSource(path, audio=False)
    try:
        return [f for kind, f in src if kind == "video"]
    finally:
        src.close()


def _random_frames(seed: int) -> list[Frame]:
    """A greenish YUV 4:2:0 frame of odd size and an RGB frame, random."""
    rng = np.random.default_rng(seed)
    h, w = 2 * int(rng.integers(20, 60)) + 1, 2 * int(rng.integers(20, 60)) + 1
    y = rng.integers(60, 200, (h, w), dtype=np.uint8)
    u = rng.integers(40, 130, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
    v = rng.integers(40, 130, ((h + 1) // 2, (w + 1) // 2), dtype=np.uint8)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    rgb[..., 1] = np.maximum(rgb[..., 1], 120)
    return [Frame.from_yuv(y, u, v, YuvSpec("bt601", bool(seed % 2))), Frame.from_rgb(rgb)]


def _params(seed: int) -> KeyerParams:
    rng = np.random.default_rng(seed)
    return KeyerParams(
        hue_softness=float(rng.choice([0.0, 15.0, 40.0])),
        sat_softness=float(rng.choice([0.0, 0.15])),
        sat_min=float(rng.uniform(0.1, 0.4)),
        dark_guard=float(rng.uniform(0.0, 0.2)),
    )


def _check(frame: Frame, p: KeyerParams) -> None:
    cell = cal.cell_size(frame.width, frame.height)
    step = cell // cal.CELL_SAMPLES
    for args in ((step, step // 2), ()):
        ref = cal.sample_rgb(frame, *args)
        got = cal.compiled_samples(frame, *args)
        np.testing.assert_array_equal(got, ref)
        np.testing.assert_array_equal(ck.hsl(got), np.stack(rgb_to_hsl(ref)))
    assert cal.compiled_window(frame, p) == cal.measure_window(cal.sample_rgb(frame), p)
    rgb = cal.sample_rgb(frame, step, step // 2)
    key = key_channel(p)
    mask, _ = ck.screen_samples(rgb, ck.membership_params(p), key, np.float32(cal.MEMBER_SCREEN))
    np.testing.assert_array_equal(mask, cal.screen_mask(rgb, p))
    ref_colors, ref_cell, ref_glob = cal.estimate_screen_map(frame, p)
    colors, got_cell, glob = cal.compiled_screen_map(frame, p)
    assert got_cell == ref_cell
    if ref_glob is None:
        assert glob is None and np.isnan(colors).all()
        return
    np.testing.assert_array_equal(glob, ref_glob)
    np.testing.assert_allclose(colors, ref_colors, rtol=0, atol=ck.CALIBRATE_TOLERANCE)


def test_the_compiled_measurement_is_the_reference_on_the_sample(frames):
    for frame in frames[:3]:
        _check(frame, KeyerParams())


@pytest.mark.parametrize("seed", range(6))
def test_the_compiled_measurement_is_the_reference_on_random_frames(seed):
    for frame in _random_frames(seed):
        _check(frame, _params(seed))


@pytest.mark.parametrize("seed", range(8))
def test_the_compiled_fill_is_the_reference_exactly(seed):
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    colors = rng.random((rows, cols, 3), dtype=np.float32)
    known = rng.random((rows, cols)) < rng.choice([0.0, 0.05, 0.5, 0.95])
    colors[~known] = np.nan
    fallback = rng.random(3, dtype=np.float32)
    np.testing.assert_array_equal(
        ck.fill_unknown(colors, known, fallback), cal.fill_unknown(colors, known, fallback)
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_compiled_dead_band_is_the_reference_exactly(seed):
    """The same measurements into both: the same averages, the same published arrays, moved
    on the same updates."""
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 12)), int(rng.integers(1, 12)), 3)
    base = rng.random(shape, dtype=np.float32)
    code = np.full(3, 1 / 255, np.float32)
    a, b = Tracked(base), Tracked(base, compiled=False)
    for k in range(4 * HISTORY):
        step = np.float32(0.2) if k == 2 * HISTORY else np.float32(0.0)  # a change of light
        value = base + step + rng.normal(0, 0.004, shape).astype(np.float32)
        w = float(rng.choice([0.1, 0.34]))
        moved_a, moved_b = a.update(value, w, code), b.update(value, w, code)
        assert (moved_a is None) == (moved_b is None)
        if moved_a is not None:
            np.testing.assert_array_equal(moved_a, moved_b)
        np.testing.assert_array_equal(a.track, b.track)
        np.testing.assert_array_equal(a.published, b.published)


def test_kept_samples_measure_as_afresh(frames):
    """The calibrator's sampler re-tests only changed samples: over a clip with motion, a
    frame of another size (whose grid has a row of blocks without samples) and other settings,
    every measurement is bit for bit a fresh one."""
    odd = Frame.from_yuv(
        np.full((162, 130), 120, np.uint8), np.full((81, 65), 60, np.uint8),
        np.full((81, 65), 70, np.uint8), YuvSpec(),
    )  # fmt: skip
    p, other = KeyerParams(), KeyerParams(sat_min=0.3)
    sampler = cal.MapSampler()
    for frame, q in [*((f, p) for f in frames), (odd, p), (odd, p), (frames[0], other)]:
        kept, _, kept_glob = cal.compiled_screen_map(frame, q, sampler)
        fresh, _, fresh_glob = cal.compiled_screen_map(frame, q)
        np.testing.assert_array_equal(kept, fresh)
        np.testing.assert_array_equal(kept_glob, fresh_glob)
