"""Incremental keying against keying every pixel of every frame: the same bytes, frame after
frame, over sequences that change one byte, patches, noise, the screen map, the settings, the
background, the size and the scene; and over real H.264 clips decoded by PyAV."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_cpu_strips import scene, screen_map, yuv_frame

from chromakey.core.frames import Frame, YuvImage
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sources.decode import to_frame
from chromakey.keying.kernels import CpuKeyer

from media import write_clip

PARAMS = [
    KeyerParams(),
    KeyerParams(choke=2, feather=1.5, spill_radius=4),
    KeyerParams(choke=-2, guide_radius=2),
    KeyerParams(sat_max=0.9, spill_radius=0),  # no membership reach
    KeyerParams(guide_radius=0, feather=3.0),
]


def planes_of(out) -> list[np.ndarray]:
    return list(out.planes) if isinstance(out, YuvImage) else [out]


def assert_same(a, b, what: str) -> None:
    pa, pb = planes_of(a), planes_of(b)
    assert len(pa) == len(pb), what
    for k, (x, y) in enumerate(zip(pa, pb, strict=True)):
        assert x.shape == y.shape, (what, k)
        if not np.array_equal(x, y):
            bad = np.argwhere(x != y)
            raise AssertionError(f"{what}: plane {k} differs at {len(bad)} places, first {bad[:3]}")


class Pair:
    """An incremental keyer and one that keys every pixel, fed the same frames."""

    def __init__(self, p: KeyerParams, band_rows: int = 128) -> None:
        self.inc = CpuKeyer(p, band_rows=band_rows)
        self.full = CpuKeyer(p, band_rows=band_rows, incremental=False)
        self.reused: list[float] = []

    def set_params(self, p: KeyerParams) -> None:
        self.inc.set_params(p)
        self.full.set_params(p)

    def check(self, frame: Frame, screen: ScreenMap, bg, fmt, what: str) -> None:
        a = self.inc.render(frame, screen, bg, pixel_format=fmt)
        b = self.full.render(frame, screen, bg, pixel_format=fmt)
        assert_same(a, b, what)
        self.reused.append(self.inc.reused)

    def close(self) -> None:
        self.inc.close()
        self.full.close()


def _frame(planes: list[np.ndarray], layout: str, spec) -> Frame:
    if layout == "rgb":
        return Frame.from_rgb(planes[0])
    return Frame.from_yuv(planes[0], planes[1], planes[2], spec)


def _background(kind: str, h: int, w: int, rng):
    if kind == "none":
        return None
    if kind == "colour":
        return rng.random(3).astype(np.float32)
    return rng.integers(0, 256, (h, w, 3 if kind == "rgb" else 4), dtype=np.uint8)


def _format(kind: str, rng) -> str | None:
    if kind == "none":
        return str(rng.choice(["none", "yuva420p"]))
    return str(rng.choice(["none", "rgba", "yuv420p"]))


@pytest.mark.parametrize("seed", range(24))
def test_random_sequences_give_the_bytes_of_keying_every_pixel(seed):
    """Each step changes one thing: one byte of one plane (the reach's exact test), a patch,
    noise over a region, nothing, one block of the screen map, the settings, the background,
    the size, or the whole scene; layouts, sizes, settings, backgrounds, output formats and
    band heights drawn at random."""
    rng = np.random.default_rng(seed)
    layout = ["rgb", (2, 2), (2, 1), (1, 1)][seed % 4]
    bg_kind = ["none", "colour", "rgb", "rgba"][(seed // 4) % 4]
    fmt = _format(bg_kind, rng)
    fmt = None if fmt == "none" else fmt
    p = PARAMS[int(rng.integers(len(PARAMS)))]
    pair = Pair(p, band_rows=int(rng.choice([2, 8, 30, 128])))

    def new_scene(h, w, s):
        rgb = scene(h, w, s)
        if layout == "rgb":
            return [rgb.copy()], None
        f = yuv_frame(rgb, layout, s)
        return [np.array(q) for q in f.planes], f.yuv

    h, w = int(rng.integers(20, 140)), int(rng.integers(20, 170))
    planes, spec = new_scene(h, w, seed)
    screen = screen_map(h, w, seed)
    bg = _background(bg_kind, h, w, rng)
    events = ["byte", "patch", "noise", "still", "screen", "params", "bg", "size", "cut", "byte"]
    pair.check(_frame(planes, layout, spec), screen, bg, fmt, "first frame")
    for step in range(10):
        event = events[int(rng.integers(len(events)))]
        if event in ("byte", "patch", "noise"):
            q = planes[int(rng.integers(len(planes)))]
            r0, c0 = int(rng.integers(q.shape[0])), int(rng.integers(q.shape[1]))
            if event == "byte":
                r1, c1 = r0 + 1, c0 + 1
            else:
                r1 = min(q.shape[0], r0 + int(rng.integers(1, 40)))
                c1 = min(q.shape[1], c0 + int(rng.integers(1, 40)))
            region = q[r0:r1, c0:c1]
            if event == "noise":
                step_ = rng.integers(-3, 4, region.shape)
                region[...] = np.clip(region.astype(int) + step_, 0, 255).astype(np.uint8)
            elif event == "byte":
                region[...] = (region.astype(int) + int(rng.integers(1, 256))) % 256
            else:
                region[...] = rng.integers(0, 256, region.shape, dtype=np.uint8)
        elif event == "screen":
            colors = screen.colors.copy()
            i, j = int(rng.integers(colors.shape[0])), int(rng.integers(colors.shape[1]))
            colors[i, j] = np.clip(colors[i, j] + rng.normal(0, 0.05, 3), 0, 1)
            screen = dataclasses.replace(screen, colors=colors.astype(np.float32))
        elif event == "params":
            pair.set_params(PARAMS[int(rng.integers(len(PARAMS)))])
        elif event == "bg":
            if bg is not None and bg.ndim == 3 and rng.random() < 0.7:
                bg = bg.copy()
                r, c = int(rng.integers(h)), int(rng.integers(w))
                bg[r, c] = rng.integers(0, 256, bg.shape[2])  # one pixel of a live background
            else:
                bg = _background(bg_kind, h, w, rng)
        elif event in ("size", "cut"):
            if event == "size":
                h, w = int(rng.integers(20, 140)), int(rng.integers(20, 170))
                screen = screen_map(h, w, seed + step)
                bg = _background(bg_kind, h, w, rng)
            planes, spec = new_scene(h, w, seed + 100 + step)
        pair.check(_frame(planes, layout, spec), screen, bg, fmt, f"step {step}: {event}")
    pair.close()


def test_a_still_frame_is_reused_whole_and_a_byte_reaches_only_its_neighbourhood():
    h, w = 160, 224
    rgb = scene(h, w, 5)
    f = yuv_frame(rgb, (2, 2), 5)
    planes = [np.array(q) for q in f.planes]
    screen = screen_map(h, w, 5)
    pair = Pair(KeyerParams())
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, None, None, "first")
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, None, None, "still")
    assert pair.reused[-1] == 1.0
    planes[0][80, 100] ^= 0x40
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, None, None, "one byte")
    assert 0.5 < pair.reused[-1] < 1.0


def test_close_frees_the_kept_frame():
    keyer = CpuKeyer(KeyerParams())
    frame = yuv_frame(scene(64, 80, 1), (2, 2), 1)
    keyer.render(frame, screen_map(64, 80, 1), None)
    assert keyer._kept.inputs and keyer._kept.outputs
    keyer.close()
    assert not keyer._kept.inputs and not keyer._kept.outputs


def _moving(noise: float, cut: int | None):
    """Frames of a figure moving over the screen, camera noise on top, a new scene at ``cut``."""

    def make(i: int, w: int, h: int) -> np.ndarray:
        img = scene(h, w, 7 if cut is None or i < cut else 8).astype(np.float32)
        x0 = (w // 5 + 3 * i) % max(w - 30, 1)
        img[h // 3 : h // 3 + 24, x0 : x0 + 20] = (205, 160, 130)
        if noise:
            rng = np.random.default_rng(i)
            img += rng.normal(0, noise, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)

    return make


@pytest.mark.parametrize(
    ("noise", "cut", "bg_kind", "fmt"),
    [
        (0.0, None, "colour", None),
        (2.0, 5, "colour", "yuv420p"),
        (0.0, None, "video", None),
        (1.0, None, "none", "yuva420p"),
        (0.0, 4, "none", None),
    ],
)
def test_h264_round_trips_give_the_bytes_of_keying_every_pixel(tmp_path, noise, cut, bg_kind, fmt):
    """Real H.264 through PyAV (its planes are the decoder's own, reused): a figure in motion,
    camera noise, a scene cut, a size that is not a multiple of 16, a video background (a new
    image each frame) and a live set_params."""
    import av

    w, h = 200, 120
    path = write_clip(tmp_path / "c.mp4", width=w, height=h, frames=10, make=_moving(noise, cut))
    pair = Pair(KeyerParams())
    screen = ScreenMap.constant((0.0, 0.5, 0.0))
    rng = np.random.default_rng(0)
    with av.open(str(path)) as c:
        for i, vf in enumerate(c.decode(video=0)):
            frame = to_frame(vf, i, 0.0)
            if bg_kind == "colour":
                bg = np.array([0.2, 0.3, 0.9], np.float32)
            elif bg_kind == "video":
                bg = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            else:
                bg = None
            if i == 6:
                pair.set_params(KeyerParams(choke=1))
            pair.check(frame, screen, bg, fmt, f"frame {i}")
    assert i == 9
    if bg_kind != "video" and noise == 0.0:
        assert max(pair.reused) > 0.0  # the incremental path ran, not only whole frames
