"""The screen map stands still on a still scene (issue 22): the incremental keyer reuses a tile
only while the map under it is unchanged bit for bit. Real H.264 (PyAV, libx264) of the
sample's frame with fresh camera noise every frame; a lighting change mid-clip is followed."""

from __future__ import annotations

import numpy as np
import pytest

from chromakey.core.frames import Frame
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sources import VideoSource
from chromakey.keying.calibration import ScreenCalibrator, estimate_screen_map, map_interval
from chromakey.keying.tracking import HISTORY, Tracked, code_step
from chromakey.sample.scene import SampleSpec
from chromakey.sample.truth import render_truth

from media import write_clip

W, H, FRAMES = 640, 360, 90
NOISE = 3.0  # camera noise, code values (σ)
LIGHT = 0.8  # the light from the middle of the clip on


def _clip(tmp_path_factory, light: float) -> list[Frame]:
    base = render_truth(SampleSpec(width=W, height=H), 0).observed * 255
    rng = np.random.default_rng(7)

    def make(i: int, w: int, h: int) -> np.ndarray:
        img = base * (light if i >= FRAMES // 2 else 1.0) + rng.normal(0, NOISE, base.shape)
        return np.clip(img, 0, 255).astype(np.uint8)

    path = write_clip(
        tmp_path_factory.mktemp("still") / "clip.mp4",
        width=W,
        height=H,
        frames=FRAMES,
        fps=30,
        make=make,
    )
    src = VideoSource(path, audio=False)
    try:
        return [f for kind, f in src if kind == "video"]
    finally:
        src.close()


@pytest.fixture(scope="module")
def still(tmp_path_factory) -> list[Frame]:
    return _clip(tmp_path_factory, 1.0)


@pytest.fixture(scope="module")
def relit(tmp_path_factory) -> list[Frame]:
    return _clip(tmp_path_factory, LIGHT)


def _changes(frames: list[Frame], p: KeyerParams) -> list[int]:
    """Blocks changed on each frame (-1: not comparable, everything changed)."""
    cal, prev, out = ScreenCalibrator(p), None, []
    for f in frames:
        m = cal.update(f)
        ch = m.blocks_changed_since(prev)
        assert ch is not None or prev is None
        if prev is not None and m is prev:
            assert not ch.any()
        out.append(-1 if ch is None else int(ch.sum()))
        prev = m
    return out


def test_a_still_scene_gets_a_still_map(still):
    """Once the dead band's history has filled, the map is the very same object on most
    frames, and the blocks that move (following an encoder's lasting shift of one) are a trace
    of the grid, under one block a frame: the bare exponential average changed about 360 of
    this clip's 920 blocks on every frame."""
    p = KeyerParams()
    changes = _changes(still, p)
    warm = 2 * HISTORY * map_interval(p.screen_adapt, W, H)
    late = changes[warm:]
    blocks = -(-W // 16) * -(-H // 16)
    assert sum(late) <= 0.002 * blocks * len(late), changes
    assert sum(1 for c in late if c == 0) >= 0.5 * len(late), changes


def test_a_change_of_light_is_followed(relit):
    """A screen 20 % darker from the middle frame on: most blocks move on the very next
    measurement, and a few time constants later the published map is within the band of what a
    fresh measurement of the new light gives."""
    p = KeyerParams()
    cal = ScreenCalibrator(p)
    maps = [cal.update(f) for f in relit]
    half = FRAMES // 2
    before, after = maps[half - 1], maps[half]
    moved = after.blocks_changed_since(before)
    assert moved is not None and moved.mean() > 0.5
    tau = -1.0 / np.log1p(-p.screen_adapt)
    settled = maps[min(FRAMES - 1, half + int(4 * tau))]
    fresh, _, glob = estimate_screen_map(relit[-1], p)
    code = code_step(relit[-1])
    # The average itself is 4 time constants in (2 % of the step left) plus its band.
    step = np.abs(estimate_screen_map(relit[0], p)[0] - fresh)
    err = np.abs(settled.colors - fresh)
    assert np.median(err) < 2 * code.max()
    assert (err <= 0.02 * step + 3 * code + 0.01).mean() > 0.95
    np.testing.assert_allclose(settled.mean, glob, atol=3 * code.max())


def test_tracked_holds_still_on_noise_and_follows_a_step():
    """Noise flickering between two levels never moves the published value once its history
    has seen it; a step far larger than that noise moves it at the next measurement."""
    code = np.full(3, 1 / 255, np.float32)
    levels = np.array([[0.1, 0.5, 0.1], [0.1, 0.52, 0.11]], np.float32)
    t = Tracked(levels[0])
    for i in range(HISTORY):
        t.update(levels[i % 2], 0.3, code)
    first = t.published
    for i in range(200):
        assert t.update(levels[i % 2], 0.3, code) is None
    assert t.published is first
    moved = t.update(np.array([0.1, 0.3, 0.1], np.float32), 0.3, code)
    assert moved is not None and bool(moved)
    assert t.published is not first
    np.testing.assert_array_equal(t.published, t.track)


def test_blocks_changed_since_is_exact():
    a = ScreenMap(np.zeros((2, 3, 3), np.float32), 16, np.zeros(3, np.float32))
    colors = a.colors.copy()
    colors[1, 2, 0] = np.nextafter(np.float32(0), np.float32(1))  # one ulp
    b = ScreenMap(colors, 16, np.zeros(3, np.float32))
    np.testing.assert_array_equal(b.blocks_changed_since(a), [[0, 0, 0], [0, 0, 1]])
    assert not a.blocks_changed_since(a).any()
    assert a.blocks_changed_since(None) is None
    assert (
        ScreenMap(np.zeros((2, 2, 3), np.float32), 16, np.zeros(3)).blocks_changed_since(a) is None
    )
    assert ScreenMap(a.colors, 8, a.mean).blocks_changed_since(a) is None


def test_a_users_colour_is_one_map_object():
    cal = ScreenCalibrator(KeyerParams(screen_color="#00ff00"))
    frame = Frame.from_rgb(np.zeros((32, 48, 3), np.uint8))
    assert cal.update(frame) is cal.update(frame)
