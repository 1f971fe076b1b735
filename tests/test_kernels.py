"""The compiled CPU keyer against the numpy reference, and its tiles against computing every
pixel: random parameters, sizes, chroma layouts, screen maps and every background kind."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cpu_strips import params, scene, screen_map, yuv_frame

from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import kernels
from chromakey.keying import reference as cpu
from chromakey.keying.kernels import CpuKeyer

SCREEN = np.array([0.05, 0.55, 0.08], np.float32)


def reference(frame: Frame, screen, p: KeyerParams, bg) -> np.ndarray:
    """A keyer's first frame: the still hold has nothing to hold, and rounds the matte."""
    rgb, lw = cpu.decode_rgb(frame), cpu.luma_weights(frame)
    fg, alpha = cpu.key_frame(rgb, screen, p, lw, cpu.HoldState())
    return cpu.to_uint8(cpu.composite(fg, alpha, bg))


def backgrounds(h: int, w: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [
        CLEAR,
        Solid((1.0, 0.0, 1.0)),
        Picture(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)),
        Picture(rng.integers(0, 256, (h, w, 4), dtype=np.uint8)),
    ]


def frames_of(rgb: np.ndarray, seed: int) -> list[Frame]:
    return [Frame.from_rgb(rgb)] + [yuv_frame(rgb, sub, seed) for sub in ((2, 2), (2, 1), (1, 1))]


def shown(img: np.ndarray) -> np.ndarray:
    """What an image shows, in levels: RGB as is; straight RGBA as colour × alpha and alpha.
    Over a translucent background a pixel's alpha can be a few dozen levels, and a level of
    that alpha's rounding moves its straight colour by 255/alpha levels, which nothing shows."""
    if img.shape[-1] != 4:
        return img.astype(np.float64)
    a = img[..., 3:].astype(np.float64)
    return np.concatenate([img[..., :3] * (a / 255), a], axis=-1)


def check(frame: Frame, screen, p: KeyerParams, bg) -> np.ndarray:
    """Within TOLERANCE of the reference as shown, and the same bytes with and without the
    tiles."""
    want = reference(frame, screen, p, bg)
    tiled = CpuKeyer(p).render(frame, screen, bg)
    every = CpuKeyer(p, tiles=False).render(frame, screen, bg)
    assert tiled.shape == want.shape and tiled.dtype == np.uint8
    diff = np.abs(shown(tiled) - shown(want))
    assert diff.max() <= kernels.TOLERANCE, (diff.max(), np.argwhere(diff == diff.max())[:3])
    np.testing.assert_array_equal(tiled, every)
    return tiled


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=params(), seed=st.integers(0, 2**16), h=st.integers(1, 90), w=st.integers(1, 130))
def test_matches_the_reference_over_random_parameters(p, seed, h, w):
    rgb = scene(h, w, seed)
    frame = frames_of(rgb, seed)[seed % 4]
    bg = backgrounds(h, w, seed)[seed % 4 if seed % 5 else 0]
    check(frame, screen_map(h, w, seed), p, bg)


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 5), (31, 33), (33, 65), (97, 1), (64, 96)])
def test_tiny_and_odd_sizes_every_layout_and_background(size):
    h, w = size
    rgb = scene(h, w, h * 131 + w)
    for frame in frames_of(rgb, 3):
        for bg in backgrounds(h, w, 5):
            for p in (KeyerParams(), KeyerParams(choke=2, feather=1.5, guide_radius=0)):
                check(frame, ScreenMap.constant(SCREEN), p, bg)


def _screen_with(h: int, w: int) -> np.ndarray:
    rgb = np.empty((h, w, 3), np.float32)
    rgb[:] = SCREEN
    return rgb


def _u8(rgb: np.ndarray, seed: int, noise: float = 0.01) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 1) * 255 + 0.5).astype(np.uint8)


@pytest.mark.parametrize("edge", [kernels.TILE * 2 - 1, kernels.TILE * 2, kernels.TILE * 2 + 1])
def test_a_subject_edge_along_tile_borders(edge):
    h, w = 70, kernels.TILE * 5
    rgb = _screen_with(h, w)
    rgb[10:60, edge:] = (0.8, 0.6, 0.5)  # a solid subject from just before/at/after a border
    rgb[10:60, edge : edge + 1] = 0.5 * rgb[10:60, edge : edge + 1] + 0.5 * SCREEN  # half pixel
    frame = Frame.from_rgb(_u8(rgb, edge))
    for p in (KeyerParams(), KeyerParams(choke=-2, feather=2.0), KeyerParams(spill_radius=9)):
        for bg in backgrounds(h, w, edge):
            check(frame, ScreenMap.constant(SCREEN), p, bg)


def test_a_one_pixel_strand_crossing_tiles():
    h, w = 96, kernels.TILE * 4 + 7
    rgb = _screen_with(h, w)
    for y in range(h):  # a dark diagonal strand, 1 px wide, half coverage
        x = 5 + (y * 5) // 4
        rgb[y, x] = 0.5 * rgb[y, x] + 0.5 * np.array([0.05, 0.04, 0.03], np.float32)
    yuv = yuv_frame(_u8(rgb, 1, 0.005), (2, 2), 1)
    for p in (KeyerParams(), KeyerParams(guide_radius=1), KeyerParams(edge_tolerance=0.05)):
        out = check(yuv, ScreenMap.constant(SCREEN), p, CLEAR)
        assert out[40, 5 + 50, 3] > 0  # the strand is kept, fractionally


def test_tiles_skip_plain_screen_and_subject_on_a_realistic_frame():
    """The sample avatar at 720p: most tiles need no neighbourhood work (not a timing)."""
    from chromakey.keying.calibration import ScreenCalibrator
    from chromakey.sample import SampleSpec, render_truth

    spec = SampleSpec(1280, 720, 30.0, 1.0, 0)
    truth = render_truth(spec, 0)
    frame = Frame.from_rgb((truth.observed * 255 + 0.5).astype(np.uint8))
    p = KeyerParams()
    keyer = CpuKeyer(p)
    keyer.render(frame, ScreenCalibrator(p).update(frame), CLEAR)
    counts = keyer.tile_counts
    total = sum(counts.values())
    assert total == -(-1280 // kernels.TILE) * len(range(0, 720, keyer.rows_per_band(720)))
    assert counts["screen"] > 0.4 * total and counts["subject"] > 0 and counts["mixed"] > 0


def test_a_non_contiguous_plane_and_a_read_only_background_use_the_one_compiled_kernel():
    rgb = scene(40, 64, 2)
    frame = yuv_frame(rgb, (2, 2), 2)
    y, u, v = frame.planes
    padded = np.zeros((40, 80), np.uint8)
    padded[:, :64] = y
    strided = Frame.from_yuv(padded[:, :64], u, v, frame.yuv)  # rows padded, as PyAV's are
    bg = np.random.default_rng(0).integers(0, 256, (40, 64, 3), dtype=np.uint8)
    bg.flags.writeable = False
    check(strided, ScreenMap.constant(SCREEN), KeyerParams(), Picture(bg))
    assert len(kernels.kernel().signatures) == 1


COMPILE_PROBE = textwrap.dedent(
    """
    import numpy as np
    from chromakey.keying import kernels
    from chromakey.core.frames import Frame
    from chromakey.core.layers import CLEAR
    from chromakey.core.params import KeyerParams
    from chromakey.core.screenmap import ScreenMap
    keyer = kernels.CpuKeyer(KeyerParams())
    keyer.render(Frame.from_rgb(np.zeros((8, 8, 3), np.uint8)), ScreenMap.constant((0, .5, 0)), CLEAR)
    stats = kernels.kernel().stats
    print(sum(stats.cache_misses.values()), sum(stats.cache_hits.values()))
    """
)


def test_a_second_process_loads_the_compiled_kernel_instead_of_compiling():
    """numba's cache beside the package, as every user's process finds it: the first process
    here compiles the kernel or loads what an earlier one compiled (CI's setup, an earlier
    test), and the next only loads it. A fresh cache would only add a second compile."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}

    def run() -> tuple[int, int]:
        out = subprocess.run(
            [sys.executable, "-c", COMPILE_PROBE], env=env, capture_output=True, text=True,
            check=True, timeout=600,
        )  # fmt: skip
        misses, hits = out.stdout.split()
        return int(misses), int(hits)

    assert sum(run()) == 1  # compiled once, or loaded
    assert run() == (0, 1)  # then loaded


def _pyav_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    import av

    h, w = rgb.shape[:2]
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
        format="yuv420p", dst_colorspace="ITU709", dst_color_range="MPEG"
    )
    sizes = ((h, w), ((h + 1) // 2, (w + 1) // 2), ((h + 1) // 2, (w + 1) // 2))
    return tuple(
        np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[: s[0], : s[1]]
        for p, s in zip(frame.planes, sizes, strict=True)
    )


def _numpy_yuv420p(rgb: np.ndarray) -> tuple[np.ndarray, ...]:
    """YuvImage's planes by their definition: BT.709 limited; chroma left-sited (columns
    1/4, 1/2, 1/4 around the even one, the block's two rows averaged), edges clamped."""
    from chromakey.core.frames import YuvImage

    m, off = YuvImage.SPEC.from_rgb()
    f = rgb.astype(np.float64) / 255
    h, w = f.shape[:2]
    y = np.floor(255 * (f @ m[0] + off[0]) + 0.5)
    rows = f[np.minimum(np.arange(0, 2 * ((h + 1) // 2)), h - 1)]
    pair = 0.5 * (rows[0::2] + rows[1::2])
    xm = np.arange(0, w, 2)
    sited = (
        0.25 * pair[:, np.maximum(xm - 1, 0)]
        + 0.5 * pair[:, xm]
        + 0.25 * pair[:, np.minimum(xm + 1, w - 1)]
    )
    u = np.floor(255 * (sited @ m[1] + off[1]) + 0.5)
    v = np.floor(255 * (sited @ m[2] + off[2]) + 0.5)
    return y, u, v


@pytest.mark.parametrize("size", [(96, 160), (97, 131), (1, 1), (2, 3)])
def test_yuv_planes_straight_from_the_kernel(size):
    """The planes an encoder stores, written by the keyer: its own RGB result converted, to a
    level of rounding; luma within one level of PyAV's conversion of that RGB, and chroma too
    where the picture is flat (at edges FFmpeg's scaler filters chroma differently)."""
    h, w = size
    rgb = _screen_with(h, w)
    rgb[h // 4 : h // 2, w // 3 :] = (0.8, 0.6, 0.5)  # a subject on a wide screen
    frame, screen = yuv_frame(_u8(rgb, 7), (2, 2), 7), ScreenMap.constant(SCREEN)
    keyer = CpuKeyer(KeyerParams())
    for bg in backgrounds(h, w, 7)[1:2]:  # a colour: the keyed screen is flat
        image = keyer.render(frame, screen, bg)
        planes = keyer.render(frame, screen, bg, pixel_format="yuv420p")
        assert planes.a is None and planes.pixel_format == "yuv420p"
        for got, want in zip(planes.planes, _numpy_yuv420p(image), strict=True):
            assert np.abs(got.astype(int) - want).max() <= 1
        if min(h, w) < 16:  # too small to have flat 6×6 neighbourhoods
            continue
        py, pu, pv = _pyav_yuv420p(image)
        assert np.abs(planes.y.astype(int) - py).max() <= 1
        flat = np.ones(((h + 1) // 2, (w + 1) // 2), bool)
        for dy in range(-2, 4):
            for dx in range(-2, 4):
                ys = np.clip(np.arange(0, h, 2)[:, None] + dy, 0, h - 1)
                xs = np.clip(np.arange(0, w, 2)[None, :] + dx, 0, w - 1)
                flat &= (image[ys, xs] == image[0::2, 0::2]).all(-1)
        assert flat.any()
        for got, want in ((planes.u, pu), (planes.v, pv)):
            assert np.abs(got.astype(int) - want)[flat].max() <= 1


def test_transparent_yuva_planes_carry_the_straight_alpha():
    h, w = 64, 96
    frame, screen = yuv_frame(scene(h, w, 8), (2, 2), 8), screen_map(h, w, 8)
    keyer = CpuKeyer(KeyerParams())
    rgba = keyer.render(frame, screen, CLEAR)
    planes = keyer.render(frame, screen, CLEAR, pixel_format="yuva420p")
    assert planes.pixel_format == "yuva420p"
    np.testing.assert_array_equal(planes.a, rgba[..., 3])
    for got, want in zip(planes.planes[:3], _numpy_yuv420p(rgba[..., :3]), strict=True):
        assert np.abs(got.astype(int) - want).max() <= 1
    # A layout the composite does not have falls back to the image.
    assert isinstance(keyer.render(frame, screen, CLEAR, pixel_format="yuv420p"), np.ndarray)


def test_an_mp4_render_takes_the_planes_from_the_keyer(tmp_path):
    import av

    from chromakey.backgrounds import parse_background
    from chromakey.io.sinks import open_sink
    from chromakey.io.sources import VideoSource
    from chromakey.pipeline import Pipeline

    from media import write_clip

    clip = write_clip(tmp_path / "in.mp4", frames=6, width=160, height=96)
    source = VideoSource(str(clip))
    sink = open_sink(tmp_path / "out.mp4", source.info, False)
    assert sink.pixel_format == "yuv420p"
    keyer, p = CpuKeyer(KeyerParams()), KeyerParams()
    seen: list = []
    inner = keyer.render

    class Recording:  # the keyer as the pipeline sees it, keeping what it returned
        backend, pixel_formats = keyer.backend, keyer.pixel_formats

        def render(self, *args, **kwargs):
            seen.append(inner(*args, **kwargs))
            return seen[-1]

        def set_params(self, params):
            keyer.set_params(params)

        def close(self):
            keyer.close()

    Pipeline(source, Recording(), parse_background("#204080"), [sink], p).run()
    assert seen and all(type(x).__name__ == "YuvImage" for x in seen)
    with av.open(str(tmp_path / "out.mp4")) as c:
        decoded = [f.to_ndarray(format="yuv420p")[:96] for f in c.decode(video=0)]
    assert len(decoded) == len(seen)
    err = np.abs(decoded[2].astype(float) - seen[2].y).mean()
    assert err < 2.0  # x264 at crf 18 over the very planes the keyer wrote


def test_an_opaque_composite_asked_for_as_rgba_has_alpha_255():
    h, w = 50, 70
    frame, screen = yuv_frame(scene(h, w, 9), (2, 2), 9), screen_map(h, w, 9)
    for bg in backgrounds(h, w, 9)[1:3]:
        for tiles in (True, False):
            keyer = CpuKeyer(KeyerParams(), tiles=tiles)
            rgb = keyer.render(frame, screen, bg)
            rgba = keyer.render(frame, screen, bg, pixel_format="rgba")
            assert rgba.shape == (h, w, 4)
            np.testing.assert_array_equal(rgba[..., :3], rgb)
            assert (rgba[..., 3] == 255).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_the_band_split_changes_nothing(seed):
    """Bands of any height (each with its rows of context) give the same bytes: a pixel's
    sums do not depend on where a band starts."""
    h, w = 75, 90
    frame, screen = yuv_frame(scene(h, w, seed), (2, 2), seed), screen_map(h, w, seed)
    p = KeyerParams(choke=seed, feather=1.5 * seed)
    outs = [
        CpuKeyer(p, band_rows=rows, tiles=tiles).render(frame, screen, bg)
        for rows in (2, 8, 30, 128)
        for tiles in (True, False)
        for bg in backgrounds(h, w, seed)[:2]
    ]
    for a, b in zip(outs[2:], outs[:-2], strict=True):  # same background, other split
        np.testing.assert_array_equal(a, b)
