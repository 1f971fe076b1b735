"""The GPU keyer against the numpy reference (the oracle), pixel by pixel.

Synthetic frames hold hue ramps over 0–360°, the key green with noise, near-greens, dark
pixels, partial mixes of subject and screen, and hard subject edges; they go through both
keyers as yuv420p (odd sizes too, padded rows like PyAV's), yuv422, yuv444 and rgb, over
seeded random parameter sets and every kind of background. A real H.264 clip decoded by
PyAV goes through both as well. On a mismatch, expected/actual/difference PNGs are written
and named in the assertion message.
"""

from __future__ import annotations

import tempfile
from dataclasses import fields, replace
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.core.color import CHROMA_SITINGS, YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Layer, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import (
    ScreenCalibrator,
    ScreenMap,
    default_screen,
    estimate_screen,
)
from chromakey.keying.gpu import GpuKeyer, pass_graph

from parity import BULK_FRACTION, TOL_BULK, TOL_MAX, parity, within_tolerance

N_RANDOM = 24
LAYOUTS = ("yuv420", "yuv444", "rgb", "yuv422")
BACKGROUNDS = ("none", "color", "image_rgb", "image_rgba")
SIZES = ((96, 64), (33, 17), (64, 49), (17, 33))


# --- frames -----------------------------------------------------------------------------------


def hsl_to_rgb(h: np.ndarray, s: np.ndarray, l: np.ndarray) -> np.ndarray:  # noqa: E741
    c = (1.0 - np.abs(2.0 * l - 1.0)) * s
    hp = (h % 360.0) / 60.0
    x = c * (1.0 - np.abs(hp % 2.0 - 1.0))
    z = np.zeros_like(c)
    sector = np.floor(hp).astype(int) % 6
    choices = [
        np.stack(v, -1) for v in ((c, x, z), (x, c, z), (z, c, x), (z, x, c), (x, z, c), (c, z, x))
    ]
    rgb = np.choose(sector[..., None], choices)
    return rgb + (l - c / 2.0)[..., None]


def synthetic_rgb(width: int, height: int, seed: int) -> np.ndarray:
    """Bands of test material over a noisy #008000 screen, as H×W×3 uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    img = np.empty((height, width, 3), np.float64)
    img[...] = (0.0, 128 / 255, 0.0)
    img += rng.normal(0.0, 3 / 255, img.shape)  # compression-like noise on the screen
    band = np.minimum((yy * 6 // height).astype(int), 5)
    # 0: hue ramp 0–360 across, saturation and lightness varying down the band
    hue = (xx + 0.5) / width * 360.0
    sat = 0.2 + 0.8 * ((yy * 3) % 4) / 3
    light = 0.08 + 0.84 * ((yy * 5 + xx) % 7) / 6
    ramp = hsl_to_rgb(hue, sat, light)
    img[band == 0] = ramp[band == 0]
    # 1: near-greens: hues 60–180, random saturation and lightness (bright ones too)
    near = hsl_to_rgb(
        rng.uniform(60, 180, (height, width)),
        rng.uniform(0.1, 1.0, (height, width)),
        rng.uniform(0.05, 0.98, (height, width)),
    )
    img[band == 1] = near[band == 1]
    # 2: dark pixels, greenish and not
    dark = rng.uniform(0, 40 / 255, (height, width, 3))
    dark[..., 1] += rng.uniform(0, 20 / 255, (height, width))
    img[band == 2] = dark[band == 2]
    # 3: partial mixes a·F + (1 − a)·S, a ramping across, F from a few subject colours
    subject = np.array([[0.8, 0.63, 0.51], [0.1, 0.07, 0.05], [0.55, 0.85, 0.1], [0.9, 0.9, 0.9]])
    f = subject[(xx // 5).astype(int) % 4]
    a = ((xx + 0.5) / width)[..., None]
    mix = a * f + (1 - a) * np.array([0.0, 0.5, 0.0])
    img[band == 3] = mix[band == 3]
    # 4: the screen itself (left as is) with subject blocks: hard edges for choke/feather/spill
    blocks = (band == 4) & (((xx // 6) + (yy // 3)) % 3 == 0)
    img[blocks] = subject[(xx[blocks] // 6).astype(int) % 4]
    # 5: random colours
    img[band == 5] = rng.uniform(0, 1, (int((band == 5).sum()), 3))
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def _padded(a: np.ndarray, align: int = 32) -> np.ndarray:
    """``a`` as a view into a buffer with padded rows, like a PyAV plane."""
    h, w = a.shape
    stride = -(-w // align) * align + align
    buf = np.full((h, stride), 77, np.uint8)
    buf[:, :w] = a
    return buf[:, :w]


def to_frame(rgb: np.ndarray, layout: str, spec: YuvSpec, padded: bool = False) -> Frame:
    """An RGB picture as a Frame of the given layout (the CPU converts, as an encoder would)."""
    if layout == "rgb":
        return Frame.from_rgb(rgb)
    m, off = spec.from_rgb()
    yuv = rgb.astype(np.float64) / 255.0 @ m.T + off
    planes = [np.clip(np.round(yuv[..., i] * 255.0), 0, 255) for i in range(3)]
    fx, fy = {"yuv420": (2, 2), "yuv422": (2, 1), "yuv444": (1, 1)}[layout]
    h, w = rgb.shape[:2]
    for i in (1, 2):
        c = planes[i]
        if fy == 2:
            c = np.pad(c, ((0, h % 2), (0, 0)), mode="edge")
            c = 0.5 * (c[0::2] + c[1::2])
        if fx == 2:
            c = np.pad(c, ((0, 0), (0, w % 2)), mode="edge")
            c = 0.5 * (c[:, 0::2] + c[:, 1::2])
        planes[i] = np.round(c)
    planes = [p.astype(np.uint8) for p in planes]
    if padded:
        planes = [_padded(p) for p in planes]
    return Frame.from_yuv(*planes, spec)


def make_background(kind: str, width: int, height: int, seed: int) -> Layer:
    rng = np.random.default_rng(seed + 1000)
    if kind == "none":
        return CLEAR
    if kind == "color":
        return Solid(rng.uniform(0, 1, 3))
    yy, xx = np.mgrid[0:height, 0:width]
    if kind == "image_rgb":
        ramp = np.stack([xx / width, yy / height, 0.5 + 0 * xx], -1)
        return Picture(np.round(ramp * 255).astype(np.uint8))
    img = rng.integers(0, 256, (height, width, 4), dtype=np.uint8)  # with its own alpha
    img[: height // 3, :, 3] = 255
    img[height // 3 : height // 2, :, 3] = 0
    return Picture(img)


# --- parameters -------------------------------------------------------------------------------


def random_params(rng: np.random.Generator, i: int) -> KeyerParams:
    if i == 0:
        return KeyerParams()
    if i == 1:  # a window through 0/360
        return KeyerParams(hue_min=340.0, hue_max=20.0, choke=1, feather=1.5)
    if i == 2:  # hard edges everywhere
        return KeyerParams(hue_softness=0.0, sat_softness=0.0, choke=-2, spill=0.5)
    center = rng.uniform(90, 150) if i % 2 else rng.uniform(0, 360)  # around green, or anywhere
    width = rng.uniform(8, 140)
    hue_min = round((center - width / 2) % 360, 3)
    hue_max = round((center + width / 2) % 360, 3)
    clip_black = rng.uniform(0, 0.8)
    kw = dict(
        hue_min=hue_min,
        hue_max=hue_max if hue_max != hue_min else (hue_min + 1) % 360,
        hue_softness=0.0 if rng.random() < 0.2 else rng.uniform(0, 60),
        sat_min=rng.uniform(0.05, 0.9),
        sat_softness=0.0 if rng.random() < 0.2 else rng.uniform(0, 0.5),
        dark_guard=rng.uniform(0, 0.5),
        bright_guard=rng.uniform(0.5, 1.0),
        clip_black=clip_black,
        clip_white=rng.uniform(clip_black + 0.02, 1.0),
        edge_tolerance=rng.uniform(0.01, 1.0),
        choke=int(rng.integers(-5, 6)),
        feather=0.0 if rng.random() < 0.3 else rng.uniform(0.1, 10.0),
        spill=float(rng.choice([0.0, 1.0, rng.uniform(0, 1)])),
        spill_radius=int(rng.integers(0, 17)),
        guide_radius=int(rng.integers(0, 9)),
        guide_eps=float(10 ** rng.uniform(-5, -1)),
    )
    if rng.random() < 0.4:  # a pale screen's window: its own membership ramp, a wider reach
        kw["sat_max"] = float(rng.uniform(float(kw["sat_min"]), 1.0))
    if rng.random() < 0.5:  # a grainy screen's margin on the edge test
        kw["screen_noise"] = float(rng.uniform(0.0, 0.3))
    return KeyerParams(**kw)


def random_map(rng: np.random.Generator, width: int, height: int) -> ScreenMap:
    """A screen map of random block size (1 px to wider than the frame) and random colours."""
    cell = int(rng.choice([1, 2, 3, 5, 7, 16, 33, 200]))
    rows, cols = -(-height // cell), -(-width // cell)
    colors = rng.uniform(0, 1, (rows, cols, 3)).astype(np.float32)
    return ScreenMap(colors, cell, colors.mean((0, 1)))


def pick_screen(
    rng: np.random.Generator, rgb: np.ndarray, p: KeyerParams, frame: Frame
) -> ScreenMap:
    choice = rng.integers(0, 5)
    if choice == 0:
        return ScreenMap.constant(default_screen(p))
    if choice == 1:
        est = estimate_screen(rgb.astype(np.float32) / 255.0, p)
        return ScreenMap.constant(est if est is not None else default_screen(p))
    if choice == 2:
        return ScreenMap.constant(rng.uniform(0, 1, 3).astype(np.float32))
    if choice == 3:
        return random_map(rng, frame.width, frame.height)
    return ScreenCalibrator(p).update(frame)  # the calibrated map, as the pipeline makes it


# --- comparing --------------------------------------------------------------------------------


def write_png(path: Path, img: np.ndarray) -> None:
    """A uint8 RGB/RGBA image → PNG through PyAV's png encoder (no Pillow)."""
    fmt = "rgba" if img.shape[2] == 4 else "rgb24"
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = img.shape[1], img.shape[0], fmt
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt)
        for pkt in s.encode(frame):
            c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)


def assert_parity(expected: np.ndarray, actual: np.ndarray, label: str) -> None:
    assert actual.shape == expected.shape, f"{label}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == np.uint8
    if within_tolerance(expected, actual):
        return
    worst, within, _ = parity(expected, actual)
    out = Path(tempfile.mkdtemp(prefix="chromakey-gpu-parity-"))
    slug = "".join(ch if ch.isalnum() else "_" for ch in label)[:80]
    diff = np.abs(expected.astype(np.int16) - actual.astype(np.int16))
    diff_img = np.clip(diff * 32, 0, 255).astype(np.uint8)
    if diff_img.shape[2] == 4:
        diff_img[..., 3] = 255
    for name, img in (("expected", expected), ("actual", actual), ("difference", diff_img)):
        write_png(out / f"{slug}_{name}.png", img)
    ys, xs = np.nonzero(diff.max(-1) > TOL_BULK)
    where = ", ".join(f"({y},{x})" for y, x in list(zip(ys, xs, strict=True))[:5])
    pytest.fail(
        f"{label}: GPU differs from the CPU reference by up to {worst}/255 (limit {TOL_MAX}); "
        f"{100 * within:.3f}% of pixels within {TOL_BULK}/255 (need {100 * BULK_FRACTION}%); "
        f"first bad pixels (row,col) {where}; images in {out}/{slug}_*.png"
    )


def both(gpu: GpuKeyer, p: KeyerParams, frame: Frame, screen, bg) -> tuple[np.ndarray, np.ndarray]:
    gpu.set_params(p)
    gpu.reset()  # one keyer for every case: each is a first frame, as the reference's
    return cpu.ReferenceKeyer(p).render(frame, screen, bg), gpu.render(frame, screen, bg)


# --- tests ------------------------------------------------------------------------------------


def random_case(i: int):
    rng = np.random.default_rng(1234 + i)
    p = random_params(rng, i)
    layout = LAYOUTS[i % len(LAYOUTS)]
    bg_kind = BACKGROUNDS[(i // len(LAYOUTS)) % len(BACKGROUNDS)]
    w, h = SIZES[(i // 2) % len(SIZES)]
    spec = (YuvSpec("bt709", False), YuvSpec("bt601", False), YuvSpec("bt709", True))[i % 3]
    spec = replace(spec, chroma_siting=CHROMA_SITINGS[(i // len(LAYOUTS)) % 2])
    rgb = synthetic_rgb(w, h, seed=i)
    frame = to_frame(rgb, layout, spec, padded=(i % 3 == 1))
    screen = pick_screen(rng, rgb, p, frame)
    return p, layout, bg_kind, (w, h), frame, screen, make_background(bg_kind, w, h, i)


@pytest.mark.parametrize("i", range(N_RANDOM))
def test_random_params_match_reference(gpu, i):
    p, layout, bg_kind, (w, h), frame, screen, bg = random_case(i)
    expected, actual = both(gpu, p, frame, screen, bg)
    assert_parity(expected, actual, f"case{i}_{layout}_{w}x{h}_{bg_kind}")


@pytest.mark.parametrize("layout", ["yuv420", "yuv422", "yuv444", "rgb"])
@pytest.mark.parametrize("bg_kind", BACKGROUNDS)
def test_defaults_every_layout_and_background(gpu, layout, bg_kind):
    w, h = 33, 17
    rgb = synthetic_rgb(w, h, seed=7)
    frame = to_frame(rgb, layout, YuvSpec("bt709", False), padded=layout == "yuv420")
    p = KeyerParams(feather=1.0, choke=1)
    bg = make_background(bg_kind, w, h, 7)
    expected, actual = both(gpu, p, frame, ScreenMap.constant(default_screen(p)), bg)
    assert_parity(expected, actual, f"defaults_{layout}_{bg_kind}")


def uneven_rgb(width: int, height: int, seed: int) -> np.ndarray:
    """synthetic_rgb under light that runs from −20 % (left) to +20 % (right) and down a little."""
    rgb = synthetic_rgb(width, height, seed).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    light = 0.8 + 0.4 * (xx + 0.5) / width + 0.05 * np.sin(yy / 7.0)
    return np.clip(np.round(rgb * light[..., None]), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("i", range(8))
def test_random_screen_maps_match_reference(gpu, i):
    rng = np.random.default_rng(777 + i)
    p = random_params(rng, i)
    w, h = ((96, 64), (33, 17), (131, 75), (17, 33))[i % 4]
    layout = LAYOUTS[i % len(LAYOUTS)]
    rgb = uneven_rgb(w, h, seed=40 + i)
    frame = to_frame(rgb, layout, YuvSpec("bt709", False), padded=(i % 2 == 0))
    screen = random_map(rng, w, h) if i % 2 else ScreenCalibrator(p).update(frame)
    bg = make_background(BACKGROUNDS[i % len(BACKGROUNDS)], w, h, i)
    expected, actual = both(gpu, p, frame, screen, bg)
    assert_parity(expected, actual, f"map{i}_{layout}_{w}x{h}_cell{screen.cell}")


def test_uneven_screen_calibrated_map_matches_reference(gpu):
    w, h = 256, 144
    rgb = uneven_rgb(w, h, seed=5)
    frame = to_frame(rgb, "yuv420", YuvSpec())
    p = KeyerParams(feather=1.0, choke=1)
    cal = ScreenCalibrator(p)
    screen = cal.update(frame)
    assert screen.shape == (9, 16) and not screen.is_constant
    for bg in (CLEAR, Solid((0.9, 0.2, 0.6))):
        expected, actual = both(gpu, p, frame, screen, bg)
        assert_parity(expected, actual, "uneven_map")
    # The map reaches the shaders: the same frame against its mean colour keys differently.
    _, flat = both(gpu, p, frame, ScreenMap.constant(screen.mean), CLEAR)
    assert not np.array_equal(flat, actual)
    # A constant map is exactly its colour, on the GPU too.
    c = screen.mean
    const = ScreenMap(np.tile(c, (3, 4, 1)), 7, c)
    np.testing.assert_array_equal(
        gpu.render(frame, const, CLEAR), gpu.render(frame, ScreenMap.constant(c), CLEAR)
    )


def test_one_by_one_and_uint8_colour(gpu):
    frame = Frame.from_yuv(
        np.array([[81]], np.uint8),
        np.array([[90]], np.uint8),
        np.array([[80]], np.uint8),
        YuvSpec(),
    )
    p = KeyerParams()
    rgba = Picture(np.array([[[51, 77, 102, 128]]], np.uint8))
    for bg in (CLEAR, Solid((1.0, 0.0, 0.5)), rgba):
        expected, actual = both(gpu, p, frame, ScreenMap.constant(default_screen(p)), bg)
        assert_parity(expected, actual, "1x1")


def test_size_changes_between_frames(gpu):
    p = KeyerParams(feather=2.0)
    gpu.set_params(p)
    for w, h in ((40, 30), (41, 31), (40, 30), (8, 2)):
        rgb = synthetic_rgb(w, h, seed=w)
        frame = to_frame(rgb, "yuv420", YuvSpec())
        bg = make_background("image_rgb", w, h, 0)
        expected, actual = both(gpu, p, frame, ScreenMap.constant(default_screen(p)), bg)
        assert_parity(expected, actual, f"resize_{w}x{h}")


def test_render_texture_and_out_buffer(gpu):
    w, h = 33, 17
    frame = to_frame(synthetic_rgb(w, h, 3), "yuv420", YuvSpec())
    p = KeyerParams()
    gpu.set_params(p)
    screen = ScreenMap.constant(default_screen(p))
    tex = gpu.render_texture(frame, screen, CLEAR)
    assert tex.size == (w, h) and tex.components == 4 and tex.dtype == "f1"
    from_tex = np.frombuffer(tex.read(), np.uint8).reshape(h, w, 4)
    out = np.empty((h, w, 4), np.uint8)
    got = gpu.render(frame, screen, CLEAR, out=out)
    assert got is out
    np.testing.assert_array_equal(from_tex, out)
    assert_parity(cpu.ReferenceKeyer(p).render(frame, screen, CLEAR), out, "render_texture")
    assert set(gpu.stats) >= {"upload", "passes", "readback"}


def test_read_only_background_is_reused_and_a_changed_one_is_not(gpu):
    w, h = 24, 16
    frame = to_frame(synthetic_rgb(w, h, 5), "rgb", YuvSpec())
    p = KeyerParams()
    gpu.set_params(p)
    screen = ScreenMap.constant(default_screen(p))
    pixels = np.zeros((h, w, 3), np.uint8)
    bg = Picture(pixels)
    first = gpu.render(frame, screen, bg)
    pixels[...] = 255  # the same array, changed in place, must be uploaded again
    second = gpu.render(frame, screen, bg)
    assert_parity(cpu.ReferenceKeyer(p).render(frame, screen, bg), second, "bg_in_place")
    assert not np.array_equal(first, second)
    pixels.setflags(write=False)
    third = gpu.render(frame, screen, bg)
    np.testing.assert_array_equal(second, third)


# Fields the keyer reads, with a base and a changed value on a frame where each matters.
BASE = KeyerParams(
    hue_min=95.0,
    hue_max=145.0,
    hue_softness=15.0,
    sat_min=0.4,
    sat_softness=0.15,
    dark_guard=0.12,
    bright_guard=0.8,
    clip_black=0.3,
    clip_white=0.8,
    edge_tolerance=0.2,
    choke=1,
    feather=1.5,
    spill=0.6,
    spill_radius=3,
)
CHANGES = {
    "hue_min": 80.0,
    "hue_max": 160.0,
    "hue_softness": 40.0,
    "sat_min": 0.6,
    "sat_softness": 0.35,
    "dark_guard": 0.3,
    "bright_guard": 0.95,
    "clip_black": 0.1,
    "clip_white": 0.95,
    "edge_tolerance": 0.6,
    "guide_radius": 0,
    "guide_eps": 0.05,
    "choke": -2,
    "feather": 4.0,
    "spill": 1.0,
    "spill_radius": 10,
    "sat_max": 0.7,
    "screen_noise": 0.15,
}
NOT_KEYER_FIELDS = {
    "screen": "the family calibration searches; it sets the nominal hue window (hue_min/max)",
    "auto_hue": "whether calibration may move the window; reaches the keyer as hue_min/max",
    "auto_sat": "whether calibration may move sat_min/sat_max; reaches the keyer as those",
    "screen_adapt": "calibration's smoothing; the keyer takes the screen map as an argument",
    "screen_color": "calibration's override; reaches the keyer as the screen argument",
    # A frame's matte against the previous frame's: a single frame cannot show it, so
    # tests/test_still_hold.py changes it over sequences, on every backend.
    "still_hold": "the still hold across frames (tests/test_still_hold.py)",
}


def test_every_field_is_covered():
    assert set(CHANGES) | set(NOT_KEYER_FIELDS) == {f.name for f in fields(KeyerParams)}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_changing_a_field_changes_the_gpu_output(gpu, name):
    w, h = 96, 64
    frame = to_frame(synthetic_rgb(w, h, seed=11), "yuv420", YuvSpec())
    screen = ScreenMap.constant(default_screen(BASE))
    bg = Solid((0.9, 0.2, 0.6))
    changed = BASE.replace(**{name: CHANGES[name]})
    base_cpu, base_gpu = both(gpu, BASE, frame, screen, bg)
    new_cpu, new_gpu = both(gpu, changed, frame, screen, bg)
    assert not np.array_equal(base_cpu, new_cpu), f"the test frame does not exercise {name}"
    assert not np.array_equal(base_gpu, new_gpu), f"changing {name} does not reach the shaders"
    assert_parity(new_cpu, new_gpu, f"field_{name}")


def test_changing_the_screen_colour_changes_the_gpu_output(gpu):
    w, h = 96, 64
    frame = to_frame(synthetic_rgb(w, h, seed=11), "yuv420", YuvSpec())
    a_cpu, a_gpu = both(gpu, BASE, frame, ScreenMap.constant((0.0, 0.5, 0.0)), CLEAR)
    b_cpu, b_gpu = both(gpu, BASE, frame, ScreenMap.constant((0.2, 0.7, 0.25)), CLEAR)
    assert not np.array_equal(a_gpu, b_gpu)
    assert_parity(b_cpu, b_gpu, "screen_colour")


def test_changing_the_yuv_matrix_changes_the_gpu_output(gpu):
    rgb = synthetic_rgb(33, 17, seed=2)
    p = KeyerParams()
    outs = []
    for spec in (YuvSpec("bt709", False), YuvSpec("bt601", True)):
        frame = to_frame(rgb, "yuv420", YuvSpec("bt709", False))
        frame.yuv = spec  # same numbers, read with another matrix and range
        expected, actual = both(gpu, p, frame, ScreenMap.constant(default_screen(p)), CLEAR)
        assert_parity(expected, actual, f"matrix_{spec.matrix}")
        outs.append(actual)
    assert not np.array_equal(*outs)


# --- a real H.264 clip -----------------------------------------------------------------------


def plane_view(plane, width: int, height: int) -> np.ndarray:
    buf = np.frombuffer(plane, np.uint8)
    return buf[: height * plane.line_size].reshape(height, plane.line_size)[:, :width]


def decoded_frames(path: Path):
    with av.open(str(path)) as c:
        for i, f in enumerate(c.decode(video=0)):
            assert f.format.name == "yuv420p"
            w, h = f.width, f.height
            cw, ch = (w + 1) // 2, (h + 1) // 2
            planes = (
                plane_view(f.planes[0], w, h),
                plane_view(f.planes[1], cw, ch),
                plane_view(f.planes[2], cw, ch),
            )
            spec = YuvSpec.for_frame(f.colorspace, f.color_range, w, h)
            yield Frame(planes, "yuv", spec, float(f.time or 0.0), i, keepalive=f)


def test_decoded_h264_clip_matches_reference(gpu, tmp_path):
    from media import write_clip

    def shape(i, w, h):
        img = np.zeros((h, w, 3), np.uint8)
        img[...] = (20, 150, 40)
        yy, xx = np.mgrid[0:h, 0:w]
        disc = (xx - (30 + 8 * i)) ** 2 + (yy - h // 2) ** 2 < 22**2
        img[disc] = (200, 60, 170)
        img[disc & (yy < h // 2)] = (230, 190, 150)
        img[h - 12 :, : w // 2] = (10, 12, 10)  # dark "hair" band
        return img

    path = write_clip(tmp_path / "clip.mp4", width=160, height=96, frames=10, make=shape)
    p = KeyerParams(feather=1.0, choke=1)
    gpu.set_params(p)
    cal = ScreenCalibrator(p)
    reference = cpu.ReferenceKeyer(p)
    n = 0
    for frame in decoded_frames(path):
        assert frame.planes[0].strides[0] > frame.width  # PyAV pads rows: the no-copy path
        screen = cal.update(frame)
        for bg in (CLEAR, Solid((1.0, 1.0, 1.0))):
            assert_parity(
                reference.render(frame, screen, bg), gpu.render(frame, screen, bg), f"h264_{n}"
            )
        n += 1
    assert n == 10


# --- the built-in sample ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "p",
    [KeyerParams(), KeyerParams(choke=1, feather=2.0, spill_radius=9, guide_radius=6)],
    ids=["defaults", "refined"],
)
def test_built_in_sample_matches_reference(gpu, p):
    """The built-in avatar clip (hair strands, lime tie, teal badge, spill, uneven screen) as
    the pipeline keys it: BT.709 yuv420p, a calibrated screen map, each kind of background."""
    from chromakey.sample import SampleSpec, render_truth, rgb_to_yuv420p

    spec = SampleSpec(width=320, height=180, seconds=1.0, seed=3)
    w, h = spec.width, spec.height
    gpu.set_params(p)
    cal = ScreenCalibrator(p)
    reference = cpu.ReferenceKeyer(p)
    for index in (0, 12):
        frame = Frame.from_yuv420p(rgb_to_yuv420p(render_truth(spec, index).observed), YuvSpec())
        screen = cal.update(frame)
        for kind in BACKGROUNDS:
            bg = make_background(kind, w, h, index)
            expected, actual = reference.render(frame, screen, bg), gpu.render(frame, screen, bg)
            assert_parity(expected, actual, f"sample_{index}_{kind}_{len(gpu.graph)}passes")


# Settings that each take a different pass graph (chromakey.keying.gpu.pass_graph): fused or
# separable guide, the composite's fused clip or a clip pass, its spill window or a row pass,
# membership's reach or none.
GRAPH_VARIANTS = [
    KeyerParams(),
    KeyerParams(guide_radius=0),
    KeyerParams(guide_radius=1, spill_radius=1),
    KeyerParams(guide_radius=5, spill_radius=0),
    KeyerParams(spill_radius=3),
    KeyerParams(spill_radius=4, guide_radius=0),
    KeyerParams(spill_radius=5),
    KeyerParams(spill=0.0, spill_radius=12),
    KeyerParams(choke=1),
    KeyerParams(feather=0.5, guide_radius=2),
    # A pale screen's window (sat_max < 1): membership does not reach, no reach pass.
    KeyerParams(sat_max=0.9),
    KeyerParams(sat_max=0.9, guide_radius=0, choke=1),
]


@pytest.mark.parametrize("p", GRAPH_VARIANTS, ids=lambda p: f"{len(pass_graph(p))}passes")
@pytest.mark.parametrize("bg_kind", ["none", "color"])
def test_every_pass_graph_matches_reference(gpu, p, bg_kind):
    w, h = 64, 49
    rgb = synthetic_rgb(w, h, seed=21)
    frame = to_frame(rgb, "yuv420", YuvSpec(), padded=True)
    bg = make_background(bg_kind, w, h, 21)
    expected, actual = both(gpu, p, frame, ScreenCalibrator(p).update(frame), bg)
    assert_parity(expected, actual, f"graph_{len(gpu.graph)}_{bg_kind}")
