"""A grainy screen keys clean: a camera's sensor noise that no codec smoothed away (a lossless
file, a camera original, a raw feed) moves the raw matte of the screen by a few tenths on a
pale muslin, enough for the edge test to take the whole backdrop for an edge and leave it
speckled. Calibration measures the grain (KeyerParams.screen_noise) and the edge test looks past
it (reference.edge_ramp). Real cutouts with exact alpha (benchmarks/media, MIT) on a muslin with
a camera's grain, through libx264 lossless and at the clips' usual crf."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.footage import SCREENS, FootageSpec, encode, render_truth
from benchmarks.metrics import dilate
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap, ScreenWindow, keyed_params
from chromakey.io.sources import VideoSource
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import ScreenCalibrator, measure_window, sample_rgb
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.screen_window import WINDOW_DEADBAND, follow_window, screen_grain

FRAMES = 3
# The truth's background this far from the subject is surely screen.
FAR = 8
# Speckle: a pixel of the surely-screen background shown at α above this.
SPECKLE = 0.02


def grainy(crf: int, foreground: str = "girl-2", screen: str = "muslin") -> FootageSpec:
    return FootageSpec(foreground, screen, True, 320, 180, FRAMES, crf=crf)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Per spec, its decoded frames."""
    folder = tmp_path_factory.mktemp("grain")
    out = {}
    for spec in (grainy(0), grainy(23), grainy(0, "girl-3", "pale muslin")):
        path = encode(folder / f"{spec.foreground}_{spec.crf}_{spec.screen}.mp4", spec)
        with VideoSource(path, audio=False) as src:
            out[spec] = [f for kind, f in src if kind == "video"]
    return out


def keyed(frames: list[Frame], p: KeyerParams, grain: bool = True):
    """(keyed params, alpha 0–1) per frame, calibrated as the pipeline does; ``grain`` False
    keys with the grain taken back out of the measured settings."""
    cal = ScreenCalibrator(p)
    for f in frames:
        screen = cal.update(f)
        q = keyed_params(p, screen)
        q = q if grain else q.replace(screen_noise=0.0)
        _, a = cpu.key_frame(cpu.decode_rgb(f), screen, q, cpu.luma_weights(f))
        yield q, np.clip(a, 0.0, 1.0)


def speckle(spec: FootageSpec, i: int, a: np.ndarray) -> float:
    far = ~dilate(render_truth(spec, i).alpha > 0, FAR)
    return float((a[far] > SPECKLE).mean())


def test_the_grain_estimate_reads_gaussian_noise_past_edges_and_creases():
    rng = np.random.default_rng(4)
    own, sigma = 0.08, 0.01
    excess = own + rng.normal(0.0, sigma, (120, 160))
    excess[:, 100:] += 0.05  # a crease: one column of neighbours apart
    screen = np.ones(excess.shape, bool)
    screen[40:60, 20:50] = False  # the subject
    assert screen_grain(excess.astype(np.float32), screen) == pytest.approx(sigma / own, rel=0.1)
    flat = np.full((120, 160), own, np.float32)
    assert screen_grain(flat, screen) == 0.0
    assert screen_grain(excess.astype(np.float32), np.zeros_like(screen)) == 0.0


def test_a_lossless_camera_clip_has_grain_that_the_codec_takes_away(clips):
    lossless = measure_window(sample_rgb(clips[grainy(0)][0]), KeyerParams())
    coded = measure_window(sample_rgb(clips[grainy(23)][0]), KeyerParams())
    assert lossless is not None and coded is not None
    # The edge test starts at edge_tolerance/2: crf 23's grain stays below that, the raw's not.
    half = 0.5 * KeyerParams().edge_tolerance
    assert cpu.NOISE_RANGE * coded.noise < half < cpu.NOISE_RANGE * lossless.noise
    screen = ScreenMap.constant((0.3, 0.4, 0.2), 1, lossless)
    assert keyed_params(KeyerParams(), screen).screen_noise == lossless.noise


@pytest.mark.parametrize(
    "spec", [grainy(0), grainy(0, "girl-3", "pale muslin")], ids=lambda s: s.name
)
def test_a_grainy_muslin_keys_clean(clips, spec):
    for i, ((q, a), (_, plain)) in enumerate(
        zip(
            keyed(clips[spec], KeyerParams()),
            keyed(clips[spec], KeyerParams(), grain=False),
            strict=True,
        )
    ):
        assert q.screen_noise > 0.0
        assert speckle(spec, i, plain) > 0.05  # without the grain's margin: speckled
        assert speckle(spec, i, a) < 0.001
        # The subject's edge is read as well as without the margin.
        g = render_truth(spec, i).alpha
        edge = (g > 0) & (g < 1)
        assert np.abs(a - g)[edge].mean() <= 1.05 * np.abs(plain - g)[edge].mean()


def test_the_compiled_keyer_keys_a_grainy_muslin_clean(clips):
    spec = grainy(0)
    p = KeyerParams()
    cal, keyer = ScreenCalibrator(p), CpuKeyer(p)
    for i, f in enumerate(clips[spec]):
        a = keyer.render(f, cal.update(f), CLEAR)[..., 3].astype(np.float32) / 255
        assert speckle(spec, i, a) < 0.001


def test_a_screen_colour_the_user_gives_still_has_its_grain_measured(clips):
    spec = grainy(0)
    p = KeyerParams(screen_color=tuple(float(c) for c in SCREENS[spec.screen].rgb))
    cal = ScreenCalibrator(p)
    first = None
    for i, f in enumerate(clips[spec]):
        screen = cal.update(f)
        q = keyed_params(p, screen)
        assert q.screen_noise > 0.0
        first = first or screen
        assert screen is first  # a still grain keeps the very same map
        _, a = cpu.key_frame(cpu.decode_rgb(f), screen, q, cpu.luma_weights(f))
        assert speckle(spec, i, np.clip(a, 0.0, 1.0)) < 0.001


def test_a_coded_clip_keys_as_it_did(clips):
    """At the clips' usual crf the grain is gone: the settings keep the edge test's ramp."""
    cal = ScreenCalibrator(KeyerParams())
    for f in clips[grainy(23)]:
        q = keyed_params(KeyerParams(), cal.update(f))
        assert cpu.edge_ramp(q) == cpu.edge_ramp(q.replace(screen_noise=0.0))


def test_the_grain_a_user_gives_is_the_least():
    w = ScreenWindow(120.0, 40.0, 0.4, 1.0, 0.1, noise=0.05)
    assert w.apply(KeyerParams(screen_noise=0.1)).screen_noise == 0.1
    assert w.apply(KeyerParams(screen_noise=0.01)).screen_noise == 0.05
    start, end = cpu.edge_ramp(KeyerParams(screen_noise=0.1))
    assert start == pytest.approx(cpu.NOISE_RANGE * 0.1) and end - start == pytest.approx(0.1)


def test_a_still_screen_keeps_its_grain_through_the_dead_band():
    old = ScreenWindow(120.0, 40.0, 0.4, 1.0, 0.1, noise=0.05)
    near = ScreenWindow(120.0, 40.0, 0.4, 1.0, 0.1, noise=0.05 + 0.5 * WINDOW_DEADBAND[2])
    far = ScreenWindow(120.0, 40.0, 0.4, 1.0, 0.1, noise=0.05 + 2.0 * WINDOW_DEADBAND[2])
    assert follow_window(old, near) is old
    assert follow_window(old, far) is far
