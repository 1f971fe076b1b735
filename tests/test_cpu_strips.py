"""ReferenceKeyer's strips give exactly the whole-frame output, and the fast building blocks they use
(decode_rows, screen_at's row bands, window_reduce) equal their plain definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chromakey.core.color import YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu

SCREEN = np.array([0.05, 0.55, 0.08], np.float32)


def scene(h: int, w: int, seed: int) -> np.ndarray:
    """uint8 RGB: a lit green screen, subject blocks, half-screen strands and noise."""
    rng = np.random.default_rng(seed)
    light = 0.8 + 0.4 * rng.random((h, 1, 1)) * rng.random((1, w, 1))
    rgb = np.clip(SCREEN * light, 0, 1)
    for _ in range(max(1, h * w // 400)):
        y, x = rng.integers(0, h), rng.integers(0, w)
        dy, dx = rng.integers(1, 12, size=2)
        rgb[y : y + dy, x : x + dx] = rng.random(3)
    cols = rng.random(w) < 0.1
    rgb[:, cols] = 0.5 * rgb[:, cols] + 0.5 * rng.random(3)
    rgb = rgb + rng.normal(0, 0.02, rgb.shape)
    return (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)


def yuv_frame(rgb: np.ndarray, sub: tuple[int, int], seed: int) -> Frame:
    """A YUV frame with the given chroma subsampling (fx, fy) made from ``rgb`` (not exact);
    an odd ``seed``'s chroma is read as centred across, an even one's as H.264's."""
    h, w = rgb.shape[:2]
    fx, fy = sub
    f = rgb.astype(np.float32) / 255
    y = 16 + 219 * (0.2126 * f[..., 0] + 0.7152 * f[..., 1] + 0.0722 * f[..., 2])
    u = 128 + 112 * (f[..., 2] - f[..., 1]) + np.random.default_rng(seed).normal(0, 3, (h, w))
    v = 128 + 112 * (f[..., 0] - f[..., 1])
    u, v = u[::fy, ::fx], v[::fy, ::fx]

    def u8(a):
        return np.clip(a + 0.5, 0, 255).astype(np.uint8)

    siting = "center" if seed % 2 else "left"
    return Frame.from_yuv(u8(y), u8(u), u8(v), YuvSpec("bt709", False, siting))


def screen_map(h: int, w: int, seed: int) -> ScreenMap:
    rng = np.random.default_rng(seed)
    cell = int(rng.integers(1, 9))
    rows, cols = -(-h // cell), -(-w // cell)
    colors = np.clip(SCREEN + rng.normal(0, 0.05, (rows, cols, 3)), 0, 1)
    return ScreenMap(colors, cell, SCREEN)


@st.composite
def params(draw) -> KeyerParams:
    lo = draw(st.floats(0.0, 0.8))
    return KeyerParams(
        hue_softness=draw(st.floats(0.0, 40.0)),
        sat_min=draw(st.floats(0.1, 0.6)),
        clip_black=lo,
        clip_white=draw(st.floats(lo + 0.02, 1.0)),
        edge_tolerance=draw(st.floats(0.01, 1.0)),
        choke=draw(st.integers(-10, 10)),
        feather=draw(st.sampled_from([0.0, 0.3, 1.0, 2.5, draw(st.floats(0.0, 10.0))])),
        spill=draw(st.floats(0.0, 1.0)),
        spill_radius=draw(st.sampled_from([0, 1, 2, 5, draw(st.integers(0, 32))])),
        guide_radius=draw(st.sampled_from([0, 1, 4, draw(st.integers(0, 16))])),
        guide_eps=draw(st.sampled_from([1e-4, draw(st.floats(1e-5, 1.0))])),
        # a pale screen's window (its own membership ramp and a wider reach) now and then
        sat_max=draw(st.sampled_from([1.0, 1.0, draw(st.floats(0.6, 0.999))])),
        # the still hold's reach in the halo (tests/test_still_hold.py runs the hold itself)
        still_hold=draw(st.sampled_from([0.0, 0.2])),
        # a grainy screen's margin on the edge test
        screen_noise=draw(st.sampled_from([0.0, 0.0, draw(st.floats(0.0, 0.3))])),
    )


def backgrounds(h: int, w: int, seed: int):
    rng = np.random.default_rng(seed)
    yield Solid((1.0, 0.0, 1.0))
    yield CLEAR
    yield Picture(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    yield Picture(rng.integers(0, 256, (h, w, 4), dtype=np.uint8))


def render_both(frame, screen, p, bg, *, workers, strip_rows):
    whole = cpu.ReferenceKeyer(p, strips=False).render(frame, screen, bg)
    keyer = cpu.ReferenceKeyer(p, strips=True, workers=workers, strip_rows=strip_rows)
    try:
        strips = keyer.render(frame, screen, bg)
    finally:
        keyer.close()
    return whole, strips


def assert_same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape, what
    if not np.array_equal(a, b):
        bad = np.argwhere(np.any(a != b, axis=-1))
        pytest.fail(f"{what}: {len(bad)} pixels differ, first at {bad[0].tolist()}")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    p=params(),
    h=st.integers(1, 70),
    w=st.integers(1, 40),
    strip_rows=st.integers(1, 30),
    workers=st.sampled_from([1, 2, 3]),
    layout=st.sampled_from(["420", "422", "444", "rgb"]),
    seed=st.integers(0, 2**16),
)
def test_strips_equal_the_whole_frame(p, h, w, strip_rows, workers, layout, seed):
    rgb = scene(h, w, seed)
    if layout == "rgb":
        frame = Frame.from_rgb(rgb)
    else:
        frame = yuv_frame(rgb, {"420": (2, 2), "422": (2, 1), "444": (1, 1)}[layout], seed)
    screen = screen_map(h, w, seed) if seed % 3 else ScreenMap.constant(SCREEN)
    for bg in backgrounds(h, w, seed):
        whole, strips = render_both(frame, screen, p, bg, workers=workers, strip_rows=strip_rows)
        assert_same(whole, strips, f"{layout} {h}×{w} rows {strip_rows} {p}")


@pytest.mark.parametrize("h", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("strip_rows", [1, 2])
def test_one_and_two_row_frames(h, strip_rows):
    for p in [
        KeyerParams(),
        KeyerParams(choke=3, feather=2.5, spill_radius=5),
        KeyerParams(choke=-3),
    ]:
        for w in (1, 2, 7, 16):
            rgb = scene(h, w, h * 31 + w)
            for frame in (Frame.from_rgb(rgb), yuv_frame(rgb, (2, 2), w)):
                for bg in backgrounds(h, w, w):
                    whole, strips = render_both(
                        frame, ScreenMap.constant(SCREEN), p, bg, workers=2, strip_rows=strip_rows
                    )
                    assert_same(whole, strips, f"{h}×{w} rows {strip_rows} {p}")


def dotted_scene(h: int, w: int, seed: int) -> np.ndarray:
    """Subject everywhere but for isolated screen pixels and short screen dashes: every
    neighbourhood operation's reach shows up as a square around a dot."""
    rng = np.random.default_rng(seed)
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = np.where(rng.random((h, w, 1)) < 0.5, [0.85, 0.65, 0.55], [0.3, 0.6, 0.2])
    dots = rng.random((h, w)) < 0.03
    rgb[dots] = SCREEN
    ys, xs = rng.integers(0, h, 8), rng.integers(0, w - 3, 8)
    for y, x in zip(ys, xs, strict=True):
        rgb[y, x : x + 3] = 0.5 * SCREEN + 0.5 * rgb[y, x : x + 3]
    return (rgb * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize(
    "p",
    [
        KeyerParams(),
        KeyerParams(spill_radius=0),
        KeyerParams(choke=3),
        KeyerParams(choke=-3),
        KeyerParams(feather=2.5),
        KeyerParams(choke=-4, feather=3.2, spill_radius=5),
        KeyerParams(choke=2, feather=0.5, spill_radius=1, edge_tolerance=0.05),
        KeyerParams(choke=10, feather=10.0, spill_radius=32),
        KeyerParams(guide_radius=0),
        KeyerParams(guide_radius=16, guide_eps=1e-5, spill_radius=0),
        KeyerParams(guide_radius=7, choke=-2, feather=1.5),
    ],
)
def test_halo_is_enough_without_its_margin(p):
    """halo_rows minus its safety margin is still enough, in float, before rounding, on a
    scene of isolated dots. (A band differs only where a value beyond its edge would have
    been a window's extreme, so a halo one row short is not caught on every scene: halo_rows
    is the sum of the reaches by construction, and this is the check that it is not short.)"""
    # halo_rows reads its module's HALO_MARGIN, so the margin is taken off here, not patched.
    halo = cpu.halo_rows(p) - cpu.HALO_MARGIN
    h, w = 90, 40
    frame = Frame.from_rgb(dotted_scene(h, w, 7))
    screen = screen_map(h, w, 4)
    fg, alpha = cpu.key_frame(cpu.decode_rgb(frame), screen, p)
    for rows in (1, 4, 9):
        for y0 in range(0, h, rows):
            y1 = min(y0 + rows, h)
            h0, h1 = max(0, y0 - halo), min(h, y1 + halo)
            band_fg, band_alpha = cpu.key_pixels(
                cpu.decode_rows(frame, h0, h1), cpu.screen_rows(screen, h, w, h0, h1), p
            )
            np.testing.assert_array_equal(band_alpha[y0 - h0 : y1 - h0], alpha[y0:y1])
            np.testing.assert_array_equal(band_fg[y0 - h0 : y1 - h0], fg[y0:y1])
        whole, strips = render_both(frame, screen, p, CLEAR, workers=2, strip_rows=rows)
        assert_same(whole, strips, f"rows {rows} {p}")


def test_1080p_frame_is_split_across_the_workers():
    k = cpu.ReferenceKeyer(KeyerParams(), strips=True, workers=2)
    bands = k.bands(1920, 1080)
    assert len(bands) > 1 and len(bands) % 2 == 0
    assert bands[0][0] == 0 and bands[-1][1] == 1080
    assert all(a[1] == b[0] for a, b in zip(bands[:-1], bands[1:], strict=True))


def test_decode_rows_are_rows_of_decode_rgb():
    rng = np.random.default_rng(0)
    for h, w in [(1, 1), (2, 3), (7, 5), (33, 18)]:
        for fx, fy in [(2, 2), (2, 1), (1, 1), (1, 2)]:
            y = rng.integers(0, 256, (h, w), dtype=np.uint8)
            u = rng.integers(0, 256, (-(-h // fy), -(-w // fx)), dtype=np.uint8)
            v = rng.integers(0, 256, (-(-h // fy), -(-w // fx)), dtype=np.uint8)
            frame = Frame.from_yuv(y, u, v, YuvSpec("bt601", True))
            whole = cpu.decode_rgb(frame)
            for y0 in range(h):
                for y1 in range(y0 + 1, h + 1):
                    np.testing.assert_array_equal(cpu.decode_rows(frame, y0, y1), whole[y0:y1])


def test_screen_at_rows_are_rows_of_the_whole_map():
    m = screen_map(45, 30, 3)
    whole = cpu.screen_at(m, 45, 30)
    for y0, y1 in [(0, 1), (0, 45), (7, 20), (44, 45)]:
        np.testing.assert_array_equal(cpu.screen_at(m, 45, 30, y0, y1), whole[y0:y1])
        np.testing.assert_array_equal(cpu.screen_rows(m, 45, 30, y0, y1), whole[y0:y1])


def naive_window(a: np.ndarray, radius: int, op) -> np.ndarray:
    """Every tap of the square, edges clamped: the definition window_reduce must match."""
    h, w = a.shape
    out = a.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            ys = np.clip(np.arange(h) + dy, 0, h - 1)
            xs = np.clip(np.arange(w) + dx, 0, w - 1)
            out = op(out, a[ys][:, xs])
    return out


@pytest.mark.parametrize("radius", [0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 32])
@pytest.mark.parametrize("op", [np.minimum, np.maximum])
def test_window_reduce_is_the_clamped_square(radius, op):
    rng = np.random.default_rng(radius)
    for h, w in [(1, 1), (1, 9), (6, 1), (13, 29), (40, 3)]:
        a = rng.random((h, w), dtype=np.float32)
        a[rng.random((h, w)) < 0.3] = 0
        np.testing.assert_array_equal(cpu.window_reduce(a, radius, op), naive_window(a, radius, op))
