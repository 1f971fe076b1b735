"""Every background kind and fit through the real render, on both backends, checked at known
pixels; play styles through the real render; a live swap on the GPU too."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chromakey.backgrounds import parse_background
from chromakey.io.sinks import CallbackSink
from chromakey.io.sources import VideoSource
from chromakey.keying.select import make_keyer
from chromakey.params import KeyerParams
from chromakey.pipeline import Pipeline, render

from media import FRAME_COLORS, colour_frame, colour_index, read_png, write_clip, write_image

W, H = 160, 96  # foreground; the subject block covers x 40..93, y 24..71 on frame 0
BACKENDS = ["cpu", "gpu"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "gpu":
        request.getfixturevalue("gl_ctx")  # skips or (under CI) fails without OpenGL
    return request.param


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("fg") / "fg.mp4", width=W, height=H, frames=3)


@pytest.fixture(scope="module")
def split_image(tmp_path_factory):
    """A 200×50 image (wider than the frame): left half red, right half blue, 10-px white border."""
    img = np.zeros((50, 200, 3), np.uint8)
    img[:, :100] = (255, 0, 0)
    img[:, 100:] = (0, 0, 255)
    img[:10] = img[-10:] = 255
    return write_image(tmp_path_factory.mktemp("img") / "split.png", img)


def frames_of(src, tmp_path, backend, **kw):
    out = tmp_path / backend / "%05d.png"
    render(src, out, backend=backend, **kw)
    return [read_png(p) for p in sorted((tmp_path / backend).iterdir())]


def near(px, rgb, tol=12):
    return np.abs(px[:3].astype(int) - np.array(rgb)).max() <= tol


def test_colour_and_transparent(backend, clip, tmp_path):
    f = frames_of(clip, tmp_path, backend, background="#00ff00")[0]
    assert near(f[5, 5], (0, 255, 0)) and near(f[48, 60], (205, 160, 130))
    (tmp_path / "t").mkdir()
    t = frames_of(clip, tmp_path / "t", backend, background="transparent")[0]
    assert t.shape[2] == 4 and t[5, 5, 3] == 0 and t[48, 60, 3] == 255


def test_image_cover_crops(backend, clip, split_image, tmp_path):
    f = frames_of(clip, tmp_path, backend, background=str(split_image), fit="cover")[0]
    # Scaled to the frame's height (96/50): the white border shows at top, left half red,
    # right half blue; the sides of the wide image are cropped.
    assert near(f[2, 5], (255, 255, 255), 30)
    assert near(f[50, 5], (255, 0, 0), 30) and near(f[50, 155], (0, 0, 255), 30)


def test_image_contain_letterboxes(backend, clip, split_image, tmp_path):
    spec = json.dumps({"type": "image", "url": str(split_image), "fit": "contain"})
    f = frames_of(clip, tmp_path, backend, background=spec)[0]
    # 200×50 into 160×96: 160×40 in the middle, black bars of 28 rows above and below.
    assert near(f[5, 5], (0, 0, 0)) and near(f[90, 150], (0, 0, 0))
    assert near(f[48, 5], (255, 0, 0), 30) and near(f[48, 155], (0, 0, 255), 30)


def test_image_stretch_fills(backend, clip, split_image, tmp_path):
    f = frames_of(clip, tmp_path, backend, background=str(split_image), fit="stretch")[0]
    assert near(f[1, 80], (255, 255, 255), 30)  # the border reaches the top row
    assert near(f[50, 5], (255, 0, 0), 30) and near(f[50, 155], (0, 0, 255), 30)


def test_rgba_image_keeps_its_alpha(backend, clip, tmp_path):
    img = np.zeros((H, W, 4), np.uint8)
    img[:, : W // 2] = (255, 255, 0, 255)  # opaque yellow left, fully transparent right
    png = write_image(tmp_path / "rgba.png", img)
    f = frames_of(clip, tmp_path, backend, background=str(png))[0]
    assert f.shape[2] == 4
    assert near(f[5, 5], (255, 255, 0)) and f[5, 5, 3] == 255
    assert f[5, 150, 3] == 0
    assert f[48, 60, 3] == 255 and near(f[48, 60], (205, 160, 130))


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        # background: 10 fps, 6 frames (0.6 s); foreground: 25 fps, 25 frames (1 s)
        ("loop", {0: 0, 10: 4, 15: 0, 24: 3}),
        ("freeze", {0: 0, 10: 4, 15: 5, 24: 5}),
        ("fit_to_scene", {0: 0, 10: 2, 20: 4, 24: 5}),
        ("full_video", {0: 0, 10: 4, 15: 5, 24: 5}),
    ],
)
def test_play_styles_through_render(style, expected, backend, tmp_path):
    fg = write_clip(tmp_path / "fg.mp4", width=W, height=H, frames=25, fps=25)
    bg = write_clip(tmp_path / "bg.mp4", width=W, height=H, frames=6, fps=10, make=colour_frame)
    frames = frames_of(fg, tmp_path, backend, background=str(bg), play_style=style)
    assert len(frames) == 25
    for i, want in expected.items():
        assert colour_index(frames[i][:12, :12]) == want, f"output frame {i}"


def test_full_video_runs_until_the_longer_background_ends(backend, tmp_path):
    fg = write_clip(tmp_path / "fg.mp4", width=W, height=H, frames=10, fps=25)  # 0.4 s
    bg = write_clip(tmp_path / "bg.mp4", width=W, height=H, frames=8, fps=10, make=colour_frame)
    out = tmp_path / "out.mp4"
    stats = render(fg, out, backend=backend, background=str(bg), play_style="full_video")
    assert stats.frames == 20  # 0.8 s at the foreground's 25 fps, avatar held on its last frame
    loop = render(fg, tmp_path / "loop.mp4", backend=backend, background=str(bg), play_style="loop")
    assert loop.frames == 10


def test_live_swap_on_each_backend(backend, clip, split_image, tmp_path):
    params = KeyerParams()
    seen = []
    pipeline = None

    def on_frame(img, t):
        seen.append(img[5, 5, :3].copy())
        if len(seen) == 1:
            pipeline.set_background(str(split_image), fit="stretch")

    keyer = make_keyer(backend, params)
    try:
        pipeline = Pipeline(
            VideoSource(clip), keyer, parse_background("#00ff00"), [CallbackSink(on_frame)], params
        )
        assert pipeline.run().frames == 3
    finally:
        keyer.close()
    assert (
        near(seen[0], (0, 255, 0))
        and near(seen[1], (255, 255, 255), 30)
        and near(seen[2], (255, 255, 255), 30)
    )


def test_frame_colours_are_distinct():
    assert len(set(FRAME_COLORS)) == len(FRAME_COLORS)
