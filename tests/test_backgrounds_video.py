"""Video backgrounds: HeyGen play styles against the scene's clock, seeking and restarts,
rotation and fit, and their decoder threads."""

from __future__ import annotations

import gc
import math
import threading
from pathlib import Path

import pytest

from chromakey.backgrounds import (
    VideoBackground,
)

from bgmedia import WHITE, make_media, near, pixels_at
from media import (
    FRAME_COLORS,
    colour_index,
    rotate_mp4,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("bg"))


# --- videos -----------------------------------------------------------------------------------

FG_RATE = 25


def expected_frame(style: str, t: float, bg_rate: float, bg_frames: int, scene: float) -> int:
    d = bg_frames / bg_rate
    if style == "loop":
        tb = t - math.floor(t / d + 1e-9) * d
    elif style == "fit_to_scene":
        tb = t * d / scene
    else:
        tb = t
    return min(math.floor(tb * bg_rate + 1e-6), bg_frames - 1)


@pytest.mark.parametrize("style", ["loop", "freeze", "fit_to_scene", "full_video"])
def test_play_styles_shorter_background(media, style):
    """A 10 fps 1 s background under a 25 fps 2.5 s foreground."""
    bg = VideoBackground(media["clip"], play_style=style)
    assert bg.duration == pytest.approx(1.0)
    bg.bind(2.5)
    times = [i / FG_RATE for i in range(round(2.5 * FG_RATE))]
    shown = [colour_index(pixels_at(bg, t, 32, 24)) for t in times]
    assert shown == [expected_frame(style, t, 10, 10, 2.5) for t in times]
    if style == "loop":
        assert shown[25] == 0 and shown[24] == 9 and shown[50] == 0
    else:
        assert shown[-1] == 9
    bg.close()


@pytest.mark.parametrize("style", ["loop", "freeze", "fit_to_scene", "full_video"])
def test_play_styles_longer_background_other_rate(media, style):
    """A 12 fps 1.25 s background under a 25 fps 1 s foreground."""
    bg = VideoBackground(media["clip12"], play_style=style, fit="contain")
    assert bg.duration == pytest.approx(1.25)
    bg.bind(1.0)
    times = [i / FG_RATE for i in range(FG_RATE)]
    shown = []
    for t in times:
        img = pixels_at(bg, t, 64, 64)
        assert img.shape == (64, 64, 3)
        shown.append(colour_index(img))
    assert shown == [expected_frame(style, t, 12, 15, 1.0) for t in times]
    if style == "fit_to_scene":
        assert shown[-1] == 14  # the whole background within the foreground
    else:
        assert shown[-1] == 11
    bg.close()


@pytest.mark.parametrize("key", ["ts", "webm"])
def test_stream_start_time_and_missing_duration(media, key):
    bg = VideoBackground(media[key])
    assert bg.duration == pytest.approx(1.0, abs=0.01)
    shown = [colour_index(pixels_at(bg, i / 10, 16, 16)) for i in range(25)]
    assert shown == [i % 10 for i in range(25)]
    bg.close()


def test_fit_to_scene_without_a_known_duration_loops(media):
    bg = VideoBackground(media["clip"], play_style="fit_to_scene")
    bg.bind(None)  # a live foreground
    assert [colour_index(pixels_at(bg, t, 16, 16)) for t in (0.0, 0.55, 1.05, 2.35)] == [0, 5, 0, 3]
    bg.close()


def test_video_jumps_backwards_resizes_and_starts_late(media):
    bg = VideoBackground(media["clip"])
    assert colour_index(pixels_at(bg, 0.35, 16, 16)) == 3
    assert colour_index(pixels_at(bg, 0.1, 16, 16)) == 1  # back in time: decoded again from there
    img = pixels_at(bg, 0.72, 40, 10)
    assert img.shape == (10, 40, 3) and colour_index(img) == 7
    bg.close()
    late = VideoBackground(media["clip"])  # swapped in mid-stream: the first ask is at 123.45 s
    assert colour_index(pixels_at(late, 123.45, 16, 16)) == 4
    assert colour_index(pixels_at(late, 123.91, 16, 16)) == 9
    assert colour_index(pixels_at(late, 124.0, 16, 16)) == 0
    late.close()


def test_video_close_joins_its_thread(media):
    bg = VideoBackground(media["clip"])
    before = set(threading.enumerate())
    pixels_at(bg, 0.0, 16, 16)
    (thread,) = [
        t for t in threading.enumerate() if t not in before and t.name == "chromakey-background"
    ]
    assert thread.name == "chromakey-background" and bg.decoding
    bg.close()
    assert not thread.is_alive() and not bg.decoding
    bg.close()  # twice is fine


def test_unclosed_video_background_ends_its_thread(media):
    bg = VideoBackground(media["clip"])  # loop: the decoder would fill its queue and wait forever
    before = set(threading.enumerate())
    pixels_at(bg, 0.0, 16, 16)
    (thread,) = [
        t for t in threading.enumerate() if t not in before and t.name == "chromakey-background"
    ]
    del bg
    gc.collect()
    thread.join(timeout=3.0)
    assert not thread.is_alive()


def test_rotated_video_is_fitted_upright(media):
    # A quarter turn, as a phone's display matrix asks: 64×48 is shown as 48×64.
    bg = VideoBackground(rotate_mp4(media["clip"]), fit="contain", letterbox="#ffffff")
    img = pixels_at(bg, 0.0, 96, 64)  # 48×64 fits as is: 24 px bars left and right
    assert img.shape == (64, 96, 3)
    assert near(img[32, 20], WHITE, 0) and near(img[32, 75], WHITE, 0)
    assert near(img[32, 30], FRAME_COLORS[0], 3) and near(img[32, 65], FRAME_COLORS[0], 3)
    bg.close()


def test_video_frames_are_fitted(media):
    bg = VideoBackground(media["clip"], fit="contain", letterbox="#ffffff")
    img = pixels_at(bg, 0.0, 96, 48)  # 64×48 into 96×48: 16 px white bars
    assert near(img[24, 2], WHITE, 0) and near(img[24, 93], WHITE, 0)
    assert colour_index(img) == 0
    bg.close()
