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

P = KeyerParams(still_hold=0.2)  # off by default: a drifting subject moves in steps
ONE = cpu.refined_one(P)


def hold(alpha: np.ndarray, kept: np.ndarray | None, p: KeyerParams = P):
    return cpu.hold_matte(alpha.astype(np.float32), kept, cpu.refined_one(p), p)


# --- the rule ----------------------------------------------------------------------------------


def partial_levels(h: int = 40, w: int = 48) -> np.ndarray:
    """A partial matte's levels (20–235: no pixel plain), smooth across x."""
    return np.tile(np.linspace(20, 235, w).round().astype(np.uint8), (h, 1))


def test_a_matte_that_moved_less_than_the_hold_keeps_its_levels():
    kept = partial_levels()
    rng = np.random.default_rng(0)
    noise = rng.uniform(-0.9, 0.9, kept.shape) * P.still_hold
    alpha = np.clip(kept / 255 + noise, 0.02, 0.98)
    shown, state = hold(alpha, kept)
    assert np.array_equal(state, kept)
    assert np.array_equal(shown, kept.astype(np.float32) * np.float32(1 / 255))


def test_a_change_beyond_the_hold_releases_its_neighbourhood_and_only_that():
    kept = partial_levels()
    alpha = kept / 255 + 0.3 * P.still_hold
    alpha[20, 24] += 2 * P.still_hold
    shown, state = hold(alpha, kept)
    near = np.zeros(kept.shape, bool)
    r = cpu.HOLD_REACH
    near[20 - r : 21 + r, 24 - r : 25 + r] = True
    assert np.array_equal(state[near], cpu.levels(alpha.astype(np.float32))[near])
    assert np.array_equal(state[~near], kept[~near])
    # Held or not, what is shown is this frame's matte within the hold (and half a level).
    assert np.abs(shown - alpha).max() <= P.still_hold + 0.5 / 255 + 1e-6


def test_plain_screen_and_plain_subject_pass_through():
    kept = partial_levels()
    alpha = (kept / 255).astype(np.float32)
    alpha[:, :8], alpha[:, -8:] = 0.0, ONE
    shown, state = hold(alpha, kept)
    assert (shown[:, :8] == 0).all() and (state[:, :8] == 0).all()
    assert (shown[:, -8:] == np.float32(ONE)).all() and (state[:, -8:] == 255).all()
    # A pixel held at plain stays plain while its partial matte stays within the hold.
    again, _ = hold(alpha + np.float32(0.5 * P.still_hold) * (alpha == 0), state)
    assert (again[:, :8] == 0).all()


def test_a_first_frame_is_rounded_to_levels_and_the_hold_off_changes_nothing():
    alpha = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    shown, state = hold(alpha, None)
    partial = (alpha > 0) & (alpha < ONE)
    assert np.array_equal(shown[partial], state[partial] * np.float32(1 / 255))
    off = P.replace(still_hold=0.0)
    assert cpu.halo_rows(off) <= cpu.halo_rows(P)
    shown_off, _ = hold(alpha, cpu.levels(alpha) // 2, off)
    assert np.array_equal(shown_off, alpha)


def test_the_hold_adds_no_halo_at_the_default_spill_radius():
    """HOLD_REACH is within the spill gate's default reach: the bands' halo, and with it the
    incremental path's reach in blocks, are what they are without the hold."""
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


@pytest.mark.parametrize("k", range(len(PARAMS)))
def test_the_shaders_hold_the_pixels_the_reference_holds(gl_ctx, k):
    p = PARAMS[k]
    frames = still_frames() + moving_frames()[1:]
    screens = [screen_map(48, 64, 5)] * len(frames)
    ref, gpu = cpu.ReferenceKeyer(p, strips=False), keyers(p, gl_ctx)["gpu"]
    try:
        for i, (want, out) in enumerate(
            zip(run(ref, frames, screens), run(gpu, frames, screens), strict=True)
        ):
            assert within_tolerance(want, out), f"frame {i}"
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
    """girl-1 still and girl-3 sliding on a studio green, camera noise, libx264 4:2:0."""
    folder = tmp_path_factory.mktemp("hold")
    clips = {}
    for motion, fg in (("still", "girl-1"), ("slide", "girl-3")):
        spec = FootageSpec(fg, "studio", True, 320, 180, 8, motion=motion)
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
    """Where the matte moved by more than the hold from one frame to the next (the edges the
    subject sweeps), the held matte is this frame's own: no lag, no ghost."""
    make = (lambda p: cpu.ReferenceKeyer(p)) if backend == "reference" else CpuKeyer
    frames = cutout_clips["slide"]
    held = mattes(frames, P, make)
    free = mattes(frames, P.replace(still_hold=0.0), make)
    swept = 0
    for i in range(1, len(frames)):
        moved = np.abs(free[i] - free[i - 1]) > P.still_hold
        swept += int(moved.sum())
        assert np.abs(held[i] - free[i])[moved].max() <= 1 / 255 + 1e-6, f"frame {i}"
        assert np.abs(held[i] - free[i]).max() <= P.still_hold + 1 / 255 + 1e-6
    assert swept > 100, "the subject moved"
