"""The still hold (reference.hold_matte): a still subject's matte stands still through camera
and codec noise, a moving edge takes each frame's own matte, and the compiled keyer and the
shaders hold the same pixels as the reference, frame after frame.

Real cutouts with exact alpha (benchmarks/media, MIT) composited on a studio green with camera
noise, through libx264 4:2:0, keyed as the pipeline keys them (screen calibrated per frame).
"""

from __future__ import annotations

import numpy as np
import pytest
from test_cpu_strips import scene, screen_map, yuv_frame

from benchmarks.footage import FootageSpec, encode
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Solid
from chromakey.core.params import KeyerParams
from chromakey.io.sources import VideoSource
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import ScreenCalibrator
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.kernels.common import TOLERANCE

from parity import within_tolerance

P = KeyerParams()  # the hold is on by default
ONE = cpu.refined_one(P)
PLAY = int(np.floor(P.still_hold * 255 + 0.5))  # levels of play where the picture is still


def hold(alpha: np.ndarray, rgb: np.ndarray, kept, p: KeyerParams = P):
    """The rule on a matte and a colour (0–1) whose levels stand for the input bytes."""
    return cpu.hold_matte(alpha.astype(np.float32), cpu.levels(rgb), kept, cpu.refined_one(p), p)


# --- the rule ----------------------------------------------------------------------------------


def partial_levels(h: int = 40, w: int = 48) -> np.ndarray:
    """A partial matte's levels (20–235: no pixel plain), smooth across x."""
    return np.tile(np.linspace(20, 235, w).round().astype(np.uint8), (h, 1))


def ramp_colour(h: int = 40, w: int = 48, shift: float = 0.0) -> np.ndarray:
    """A colour (0–1) whose channels ramp across x and y, moved ``shift`` px along x."""
    x = (np.arange(w) - shift)[None, :] / w
    y = np.arange(h)[:, None] / h
    rgb = np.stack(
        [0.1 + 0.8 * x + 0 * y, 0.9 - 0.7 * x + 0.1 * y, 0.3 + 0.4 * y + 0.2 * x], axis=-1
    )
    return np.clip(rgb, 0, 1).astype(np.float32)


def state(levels: np.ndarray, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return levels, cpu.levels(rgb)


def test_a_still_picture_keeps_its_levels_within_the_play():
    kept, rgb = partial_levels(), ramp_colour()
    rng = np.random.default_rng(0)
    step = rng.integers(-2 * PLAY, 2 * PLAY + 1, kept.shape)
    alpha = np.clip(kept + step, 10, 245) / 255
    shown, (levels, colour) = hold(alpha, rgb, state(kept, rgb))
    now = cpu.levels(alpha.astype(np.float32)).astype(int)
    top = int(cpu.levels(np.float32(ONE)))
    # The play, where neither plain screen nor plain subject is nearer than it.
    free = (now >= PLAY) & (top - now >= PLAY)
    within = (np.abs(now - kept) <= PLAY) & free
    beyond = (np.abs(now - kept) > PLAY) & free
    assert within.mean() > 0.2 and beyond.mean() > 0.2, "both cases are tested"
    assert np.array_equal(levels[within], kept[within])  # not moved at all
    # Beyond the play, dragged along: the play's distance from this frame's matte.
    assert (np.abs(levels.astype(int) - now)[beyond] == PLAY).all()
    # Near plain, the play is the distance from it: never further from this frame's matte.
    cap = np.minimum(now, top - now)
    assert (np.abs(levels.astype(int) - now) <= np.minimum(cap, PLAY)).all()
    assert np.array_equal(shown, levels.astype(np.float32) * np.float32(1 / 255))
    assert np.array_equal(colour, cpu.levels(rgb))


def test_a_moving_picture_takes_this_frames_matte():
    kept = partial_levels()
    alpha = np.clip(kept / 255 + 0.5 * P.still_hold, 0, 0.98)
    moved = ramp_colour(shift=1.0)  # a pixel a frame: well past MOTION_MOVING
    _, (levels, _) = hold(alpha, moved, state(kept, ramp_colour()))
    assert np.array_equal(levels, cpu.levels(alpha.astype(np.float32)))


def test_a_pixel_whose_own_colour_jumped_takes_this_frames_matte():
    """A strand thinner than a pixel moves without a gradient to tell: a pixel whose colour
    changed past COLOUR_MOVING levels has no play, one within COLOUR_STILL all of it."""
    kept, rgb = partial_levels(), np.full((40, 48, 3), 0.5, np.float32)  # flat: no speed
    alpha = np.clip(kept / 255 - 0.5 * P.still_hold, 0.01, 0.98)  # far from plain on the right
    now = rgb.copy()
    now[:, :24, 1] += np.float32((cpu.COLOUR_MOVING + 1) / 255)
    now[:, 24:, 1] += np.float32((cpu.COLOUR_STILL - 1) / 255)
    _, (levels, _) = hold(alpha, now, state(kept, rgb))
    taken = cpu.levels(alpha.astype(np.float32))
    # (Away from the step between the halves, which is a gradient with motion across it.)
    assert np.array_equal(levels[:, :20], taken[:, :20])
    assert np.array_equal(levels[:, 28:], kept[:, 28:])


def test_the_speed_is_the_shift_and_noise_is_still():
    """A picture moved along its gradient: the speed is the shift (a little less, as
    MOTION_EPS pulls it toward 0, and levels round the colours); zero-mean noise of a level
    or two is still."""
    x = np.arange(64, dtype=np.float32)
    before = np.repeat(np.tile(0.05 + 0.9 * x / 64, (48, 1))[..., None], 3, axis=-1)
    inner = (slice(8, -8), slice(8, -8))
    for shift in (0.1, 0.3):
        moved = np.repeat(np.tile(0.05 + 0.9 * (x - shift) / 64, (48, 1))[..., None], 3, axis=-1)
        speed = cpu.motion_speed(cpu.levels(moved), cpu.levels(before))[inner]
        assert (speed >= 0.6 * shift).all() and (speed <= 1.15 * shift).all(), shift
    rng = np.random.default_rng(2)
    noisy = np.clip(before + rng.normal(0, 1.5 / 255, before.shape), 0, 1).astype(np.float32)
    speed = cpu.motion_speed(cpu.levels(noisy), cpu.levels(before))
    assert np.median(speed) < cpu.MOTION_STILL


def test_plain_screen_and_plain_subject_pass_through():
    kept, rgb = partial_levels(), ramp_colour()
    alpha = (kept / 255).astype(np.float32)
    alpha[:, :8], alpha[:, -8:] = 0.0, ONE
    shown, (levels, _) = hold(alpha, rgb, state(kept, rgb))
    assert (shown[:, :8] == 0).all() and (levels[:, :8] == 0).all()
    assert (shown[:, -8:] == np.float32(ONE)).all() and (levels[:, -8:] == 255).all()


def test_a_first_frame_is_rounded_to_levels_and_the_hold_off_changes_nothing():
    alpha = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    rgb = ramp_colour(16, 16)
    shown, (levels, _) = hold(alpha, rgb, None)
    partial = (alpha > 0) & (alpha < ONE)
    assert np.array_equal(shown[partial], levels[partial] * np.float32(1 / 255))
    off = P.replace(still_hold=0.0)
    shown_off, _ = hold(alpha, rgb, state(cpu.levels(alpha) // 2, rgb), off)
    assert np.array_equal(shown_off, alpha)


def test_the_hold_adds_no_halo():
    """The hold reads the matte of its own pixel and colours within MOTION_REACH + 1, less
    than the rest reaches: the bands' halo, and with it the incremental path's reach in
    blocks, are what they are without the hold."""
    assert cpu.halo_rows(P) > cpu.MOTION_REACH + 1
    assert cpu.halo_rows(P) == cpu.halo_rows(P.replace(still_hold=0.0))


# --- keyers over sequences ------------------------------------------------------------------


def still_frames(n: int = 6, h: int = 48, w: int = 64) -> list[Frame]:
    """One scene, new chroma noise each frame (a still camera's)."""
    rgb = scene(h, w, 3)
    return [yuv_frame(rgb, (2, 2), seed=i) for i in range(n)]


def moving_frames(n: int = 6, h: int = 48, w: int = 64) -> list[Frame]:
    """The scene sliding 3 px a frame, chroma noise each frame."""
    rgb = scene(h, w, 3)
    return [yuv_frame(np.roll(rgb, 3 * i, axis=1), (2, 2), seed=i) for i in range(n)]


def keyers(p: KeyerParams, gl_ctx=None):
    out = {
        "reference": cpu.ReferenceKeyer(p, strips=False),
        "reference strips": cpu.ReferenceKeyer(p, strips=True, strip_rows=16),
        "cpu": CpuKeyer(p, incremental=False),
        "cpu incremental": CpuKeyer(p, incremental=True),
        "cpu no tiles": CpuKeyer(p, incremental=False, tiles=False, band_rows=12),
    }
    if gl_ctx is not None:
        from chromakey.keying.gpu import GpuKeyer

        out["gpu"] = GpuKeyer(p, ctx=gl_ctx)
    return out


def run(keyer, frames: list[Frame], screens, bg=CLEAR) -> list[np.ndarray]:
    return [keyer.render(f, s, bg) for f, s in zip(frames, screens, strict=True)]


PARAMS = [
    P,
    KeyerParams(still_hold=0.05, feather=1.5, choke=1),
    KeyerParams(still_hold=0.5, spill_radius=0, guide_radius=2),
    KeyerParams(still_hold=0.3, spill_radius=5, sat_max=0.9),
]


@pytest.mark.parametrize("motion", ["still", "moving"])
@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_every_cpu_path_holds_the_pixels_the_reference_holds(k, motion):
    """Frame after frame, the compiled keyer on every path (whole, changed blocks, no tiles,
    other bands) gives the reference's bytes within the kernels' TOLERANCE, and the changed
    blocks path the whole path's bytes exactly."""
    p = PARAMS[k]
    frames = (still_frames if motion == "still" else moving_frames)()
    screens = [screen_map(48, 64, 5)] * len(frames)
    bg = Solid((0.8, 0.2, 0.5)) if k % 2 else CLEAR
    got = {name: run(keyer, frames, screens, bg) for name, keyer in keyers(p).items()}
    for name, outs in got.items():
        for i, (want, out) in enumerate(zip(got["reference"], outs, strict=True)):
            d = np.abs(want.astype(int) - out).max()
            assert d <= TOLERANCE, f"{name}, frame {i}: {d} levels from the reference"
    for a, b in zip(got["cpu"], got["cpu incremental"], strict=True):
        assert np.array_equal(a, b)
    for a, b in zip(got["reference"], got["reference strips"], strict=True):
        assert np.array_equal(a, b)


def seen(out: np.ndarray) -> np.ndarray:
    """A transparent render as a viewer sees it: colour times alpha, and alpha. The straight
    colour of a pixel a few levels from transparent is its premultiplied colour ÷ α, and a
    level of α there (a rounding that the hold keeps) moves it by tens of levels unseen."""
    a = out[..., 3:].astype(np.float32)
    premultiplied = np.rint(out[..., :3] * (a / 255.0)).astype(np.uint8)
    return np.concatenate([premultiplied, out[..., 3:]], axis=-1)


@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_the_shaders_hold_the_pixels_the_reference_holds(gl_ctx, k):
    """Frame after frame the shaders' transparent render is the reference's within the GPU's
    tolerance, compared as a viewer sees it (:func:`seen`)."""
    p = PARAMS[k]
    frames = still_frames() + moving_frames()[1:]
    screens = [screen_map(48, 64, 5)] * len(frames)
    ref, gpu = cpu.ReferenceKeyer(p, strips=False), keyers(p, gl_ctx)["gpu"]
    try:
        for i, (want, out) in enumerate(
            zip(run(ref, frames, screens), run(gpu, frames, screens), strict=True)
        ):
            assert within_tolerance(seen(want), seen(out)), f"frame {i}"
    finally:
        gpu.close()


def test_changing_the_hold_changes_the_gpu_output(gl_ctx):
    """vispy's rule: one uniform changed, the output changes (on a second frame: the first
    has nothing to hold)."""
    frames = still_frames(2)
    screens = [screen_map(48, 64, 5)] * 2
    outs = []
    for p in (P, P.replace(still_hold=0.0)):
        gpu = keyers(p, gl_ctx)["gpu"]
        try:
            outs.append(run(gpu, frames, screens)[1])
        finally:
            gpu.close()
    assert not np.array_equal(outs[0][..., 3], outs[1][..., 3])


def test_new_settings_and_reset_start_afresh():
    frames = still_frames(3)
    screens = [screen_map(48, 64, 5)] * 3
    other = P.replace(choke=1)
    for make in (lambda p: cpu.ReferenceKeyer(p, strips=False), CpuKeyer):
        keyer = make(P)
        run(keyer, frames[:2], screens[:2])
        keyer.set_params(other)
        fresh = make(other).render(frames[2], screens[2], CLEAR)
        assert np.array_equal(keyer.render(frames[2], screens[2], CLEAR), fresh)
        keyer.reset()
        assert np.array_equal(keyer.render(frames[2], screens[2], CLEAR), fresh)


# --- real cutouts through H.264 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def cutout_clips(tmp_path_factory) -> dict[str, list[Frame]]:
    """girl-1 still (640×360) and girl-3 sliding (320×180) on a studio green, camera noise,
    libx264 4:2:0. At 320×180, crf 23 can code the still clip's grain away at every edge (it
    did from footage truth 3 on), and the matte then has no noise to hold still."""
    folder = tmp_path_factory.mktemp("hold")
    clips = {}
    for motion, fg, size in (("still", "girl-1", (640, 360)), ("slide", "girl-3", (320, 180))):
        spec = FootageSpec(fg, "studio", True, *size, 8, motion=motion)
        src = VideoSource(encode(folder / f"{motion}.mp4", spec), audio=False)
        try:
            clips[motion] = [f for kind, f in src if kind == "video"]
        finally:
            src.close()
    return clips


def mattes(frames: list[Frame], p: KeyerParams, make) -> list[np.ndarray]:
    cal, keyer = ScreenCalibrator(p), make(p)
    return [keyer.render(f, cal.update(f), CLEAR)[..., 3].astype(np.float32) / 255 for f in frames]


def flicker(alphas: list[np.ndarray]) -> float:
    """The matte's RMS change from frame to frame."""
    return float(
        np.mean([np.sqrt(np.mean((b - a) ** 2)) for a, b in zip(alphas, alphas[1:], strict=False)])
    )


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_a_still_subject_keeps_a_still_matte(cutout_clips, backend):
    make = (lambda p: cpu.ReferenceKeyer(p)) if backend == "reference" else CpuKeyer
    frames = cutout_clips["still"]
    held = flicker(mattes(frames, P, make))
    free = flicker(mattes(frames, P.replace(still_hold=0.0), make))
    assert free > 0, "the clip's noise moves the matte: a test of something"
    assert held <= 0.5 * free, (held, free)


@pytest.mark.parametrize("backend", ["reference", "cpu"])
def test_a_sliding_subject_takes_each_frames_matte(cutout_clips, backend):
    """Where the matte moved by more than the play from one frame to the next (the edges the
    subject sweeps), the held matte is this frame's own (all but a few pixels in a thousand,
    where a window's colours happen to change without a gradient to explain them): no lag,
    no ghost. Everywhere it is within the play."""
    make = (lambda p: cpu.ReferenceKeyer(p)) if backend == "reference" else CpuKeyer
    frames = cutout_clips["slide"]
    held = mattes(frames, P, make)
    free = mattes(frames, P.replace(still_hold=0.0), make)
    swept = 0
    for i in range(1, len(frames)):
        moved = np.abs(free[i] - free[i - 1]) > P.still_hold
        swept += int(moved.sum())
        off = np.abs(held[i] - free[i])
        assert (off[moved] <= 1 / 255 + 1e-6).mean() >= 0.995, f"frame {i}"
        assert off.max() <= P.still_hold + 1 / 255 + 1e-6
    assert swept > 100, "the subject moved"
