"""Incremental keying against keying every pixel of every frame: the same bytes, frame after
frame, over sequences that change one byte, patches, noise, the screen map, the settings, the
background, the size and the scene; and over real H.264 clips decoded by PyAV."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_cpu_strips import scene, screen_map, yuv_frame

from chromakey.core.frames import Frame, YuvImage
from chromakey.core.layers import CLEAR, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sources.decode import to_frame
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.kernels.pathchoice import PathChoice

from media import write_clip

PARAMS = [
    KeyerParams(),
    KeyerParams(choke=2, feather=1.5, spill_radius=4),
    KeyerParams(choke=-2, guide_radius=2),
    KeyerParams(sat_max=0.9, spill_radius=0),  # a pale window's reach (PALE_REACH)
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

    def __init__(self, p: KeyerParams, band_rows: int = 128, incremental=True) -> None:
        self.inc = CpuKeyer(p, band_rows=band_rows, incremental=incremental)
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
        return CLEAR
    if kind == "colour":
        return Solid(rng.random(3))
    return Picture(rng.integers(0, 256, (h, w, 3 if kind == "rgb" else 4), dtype=np.uint8))


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
            if isinstance(bg, Picture) and rng.random() < 0.7:
                pixels = bg.pixels.copy()
                r, c = int(rng.integers(h)), int(rng.integers(w))
                pixels[r, c] = rng.integers(0, 256, pixels.shape[2])  # one pixel of a live one
                bg = Picture(pixels)
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
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, CLEAR, None, "first")
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, CLEAR, None, "still")
    assert pair.reused[-1] == 1.0
    planes[0][80, 100] ^= 0x40
    pair.check(Frame.from_yuv(*planes, f.yuv), screen, CLEAR, None, "one byte")
    assert 0.5 < pair.reused[-1] < 1.0


def test_close_frees_the_kept_frame():
    keyer = CpuKeyer(KeyerParams(), incremental=True)
    frame = yuv_frame(scene(64, 80, 1), (2, 2), 1)
    keyer.render(frame, screen_map(64, 80, 1), CLEAR)
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
@pytest.mark.parametrize("path_choice", [False, True], ids=["incremental", "auto"])
def test_h264_round_trips_give_the_bytes_of_keying_every_pixel(
    tmp_path, noise, cut, bg_kind, fmt, path_choice
):
    """Real H.264 through PyAV (its planes are the decoder's own, reused): a figure in motion,
    camera noise, a scene cut, a size that is not a multiple of 16, a video background (a new
    image each frame) and a live set_params. ``auto``: the keyer switches between keying
    changed blocks and every pixel every few frames (short trials and epochs), as it does on
    its own by what it measures."""
    import av

    w, h = 200, 120
    path = write_clip(tmp_path / "c.mp4", width=w, height=h, frames=10, make=_moving(noise, cut))
    pair = Pair(KeyerParams(), incremental=PathChoice(trial=2, epoch=1) if path_choice else True)
    screen = ScreenMap.constant((0.0, 0.5, 0.0))
    rng = np.random.default_rng(0)
    with av.open(str(path)) as c:
        for i, vf in enumerate(c.decode(video=0)):
            frame = to_frame(vf, i, 0.0)
            if bg_kind == "colour":
                bg = Solid((0.2, 0.3, 0.9))
            elif bg_kind == "video":
                bg = Picture(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            else:
                bg = CLEAR
            if i == 6:
                pair.set_params(KeyerParams(choke=1))
            pair.check(frame, screen, bg, fmt, f"frame {i}")
    assert i == 9
    if bg_kind != "video" and noise == 0.0 and not path_choice:
        assert max(pair.reused) > 0.0  # the incremental path ran, not only whole frames


def _near_screen(h: int, w: int, rng) -> np.ndarray:
    """A screen of a random green or blue, lit unevenly, with noise of a random strength and a
    few subject patches: plain blocks and blocks just outside every ramp's end."""
    base = (
        rng.uniform([0, 90, 0], [80, 220, 80])
        if rng.random() < 0.7
        else rng.uniform([0, 0, 120], [80, 80, 240])
    )
    light = 1.0 + rng.uniform(-0.2, 0.2) * np.linspace(0, 1, w)[None, :, None]
    img = base * light + rng.normal(0, rng.choice([0.5, 2.0, 8.0, 25.0]), (h, w, 3))
    for _ in range(int(rng.integers(0, 3))):
        r, c = int(rng.integers(h)), int(rng.integers(w))
        img[r : r + 12, c : c + 12] = rng.uniform(0, 255, 3)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("seed", range(60))
def test_blocks_found_plain_key_to_alpha_0_and_show_the_background(seed):
    """The plain-screen test straight against the keyer: every pixel of a block it calls plain
    has alpha 0 when every pixel is keyed (and the sequence check holds with it on)."""
    from chromakey.core.screenmap import keyed_params
    from chromakey.keying import reference as cpu
    from chromakey.keying.kernels.incremental import BLOCK, DECODE_REACH, flat, reach_blocks
    from chromakey.keying.kernels.packing import decode_constants, halo, pack_params
    from chromakey.keying.kernels.pixels import screen_across
    from chromakey.keying.kernels.plain import plain_blocks
    from chromakey.keying.param_table import I_LAYOUT

    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(90, 200)), int(rng.integers(90, 240))
    rgb = _near_screen(h, w, rng)
    layout = ["rgb", (2, 2), (2, 1), (1, 1)][seed % 4]
    frame = Frame.from_rgb(rgb) if layout == "rgb" else yuv_frame(rgb, layout, seed)
    mean = rgb.reshape(-1, 3).mean(0) / 255.0
    cell = int(rng.choice([8, 16, 40]))
    grid_ = (-(-h // cell), -(-w // cell))
    tint = rng.uniform(0.85, 1.05) * rng.uniform(0.97, 1.03, (*grid_, 1))
    colors = np.clip(mean * tint + rng.normal(0, 0.01, (*grid_, 3)), 0, 1).astype(np.float32)
    screen = ScreenMap(colors, cell, colors.reshape(-1, 3).mean(0))
    p = dataclasses.replace(
        PARAMS[seed % len(PARAMS)],
        hue_min=float(rng.uniform(70, 110)) if mean[1] > mean[2] else 190.0,
        hue_max=float(rng.uniform(130, 170)) if mean[1] > mean[2] else 260.0,
        sat_min=float(rng.uniform(0.1, 0.5)),
        screen="green" if mean[1] > mean[2] else "blue",
    )
    alpha = CpuKeyer(p, incremental=False).render(frame, screen, CLEAR)[..., 3]
    P, ints, _ = pack_params(keyed_params(p, screen))
    mj0, mj1, mfx = cpu.map_axis(w, cell, grid_[1])
    across = screen_across(screen.colors, mj0, mj1, mfx)
    if layout == "rgb":
        planes, lay = [(flat(rgb), 3, 1, 1)], 1
    else:
        fx, fy = layout
        planes = [(frame.planes[0], 1, 1, 1)] + [(q, 1, fy, fx) for q in frame.planes[1:]]
        lay = 0
    grid = (-(-h // BLOCK), -(-w // BLOCK))
    reach = halo(p) + DECODE_REACH
    ints[I_LAYOUT] = lay
    lw = cpu.BT709_LUMA if layout == "rgb" else cpu.luma_weights(frame)
    mi0, mi1, _ = cpu.map_axis(h, cell, grid_[0])
    plain = plain_blocks(planes, ints, P, decode_constants(frame), across, mi0, mi1, lw, grid,
                         reach_blocks(reach))  # fmt: skip
    for i, j in np.argwhere(plain):
        block = alpha[i * BLOCK : (i + 1) * BLOCK, j * BLOCK : (j + 1) * BLOCK]
        assert (block == 0).all(), (i, j, block.max())


def test_a_flat_screen_clip_is_mostly_plain_screen(tmp_path):
    """H.264 of a figure over a flat screen with camera noise: most blocks that change are
    found plain screen, and the output stays the bytes of keying every pixel."""
    import av

    w, h = 256, 160

    def make(i: int, w: int, h: int) -> np.ndarray:
        img = np.zeros((h, w, 3), np.float32)
        img[...] = (0, 150, 0)
        img[40:120, 90 + i : 150 + i] = (205, 160, 130)
        img += np.random.default_rng(i).normal(0, 2.0, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)

    path = write_clip(tmp_path / "flat.mp4", width=w, height=h, frames=8, make=make)
    pair = Pair(KeyerParams())
    screen = ScreenMap.constant((0.0, 150 / 255, 0.0))
    plain = []
    with av.open(str(path)) as c:
        for i, vf in enumerate(c.decode(video=0)):
            pair.check(to_frame(vf, i, 0.0), screen, Solid((0.1, 0.2, 0.8)),
                       None, f"frame {i}")  # fmt: skip
            plain.append(pair.inc._kept.plain)
    assert max(plain) > 0.1


def test_after_frames_with_nothing_to_keep_the_next_still_frames_are_kept_again():
    """Scene cuts in a row (the keyer stops copying frames it cannot reuse), then still frames
    and one-byte changes: the same bytes throughout, and blocks kept again."""
    h, w = 96, 128
    screen = screen_map(h, w, 3)
    pair = Pair(KeyerParams())
    for s in range(6):
        f = yuv_frame(scene(h, w, 40 + s), (2, 2), s)
        pair.check(f, screen, CLEAR, None, f"cut {s}")
    planes = [np.array(q) for q in f.planes]
    for step in range(4):
        planes[0][10 * step, 7 * step] ^= 1
        pair.check(Frame.from_yuv(*planes, f.yuv), screen, CLEAR, None, f"still {step}")
    assert max(pair.reused[-3:]) > 0.0


def test_the_path_choice_times_both_paths_then_runs_the_faster_then_times_again():
    """A trial of each path, the faster for an epoch, a new trial: from the times given."""
    choice = PathChoice(trial=3, epoch=4)
    seen = []

    def run(times: dict[str, float], frames: int) -> None:
        for _ in range(frames):
            seen.append(choice.path)
            choice.record(times[choice.path])

    run({"incremental": 0.010, "whole": 0.020}, 10)
    assert seen == ["whole"] * 3 + ["incremental"] * 3 + ["incremental"] * 4
    assert choice.medians == {"incremental": 0.010, "whole": 0.020}
    seen.clear()
    run({"incremental": 0.030, "whole": 0.020}, 10)  # the footage turned noisy
    assert seen == ["whole"] * 3 + ["incremental"] * 3 + ["whole"] * 4
    seen.clear()
    run({"incremental": 0.0195, "whole": 0.020}, 7)  # a gain within the margin is no gain
    assert seen == ["whole"] * 3 + ["incremental"] * 3 + ["whole"]


def test_auto_switching_paths_mid_stream_keeps_the_bytes_of_keying_every_pixel():
    """Leaving the incremental path and coming back (its kept inputs are stale by then) still
    gives every pixel's bytes: a moving figure, switched every frame or two."""
    make = _moving(0.0, None)
    screen = ScreenMap.constant((0.0, 0.5, 0.0))
    for trial, epoch in [(2, 1), (2, 3), (3, 2)]:  # two frames of one image first: reused
        pair = Pair(KeyerParams(), incremental=PathChoice(trial=trial, epoch=epoch))
        paths = []
        for i in range(14):
            frame = yuv_frame(make(i // 2, 96, 64), (2, 2), 1)  # each image twice: kept blocks
            paths.append(pair.inc.path)
            pair.check(frame, screen, CLEAR, None, f"trial {trial}, epoch {epoch}, frame {i}")
        assert {"incremental", "whole"} <= set(paths)
        assert max(pair.reused) > 0.0
        pair.close()
