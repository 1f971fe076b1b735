"""LiveCompositor: pacing by timestamps on an injected clock, late drops, stalls, the host API.

Real clips (PyAV), a real OpenGL context (EGL, llvmpipe); only the clock is injected.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import moderngl
import numpy as np
import pytest

from chromakey.core.errors import ParameterError
from chromakey.core.frames import Frame
from chromakey.core.layers import Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sources import VideoSource, open_source
from chromakey.keying.gpu import GpuKeyer
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.reference import ReferenceKeyer
from chromakey.live import LiveCompositor

from media import SCREEN, SKIN, figure_frame, write_clip, write_vfr_clip

GREEN = np.array(SCREEN, np.float32) / 255
VFR_MS = [0, 40, 80, 200, 210, 220, 500, 540, 1000]


def _pixels(tex: moderngl.Texture) -> np.ndarray:
    return np.frombuffer(tex.read(), np.uint8).reshape(tex.height, tex.width, 4)


def _decoded(source: VideoSource) -> VideoSource:
    """Let a file source decode everything into its (large enough) queue first."""
    source.start()
    assert source.join(timeout=20), "the decoder did not finish within 20 s"
    return source


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_frames_are_shown_at_their_timestamps_not_at_a_fixed_rate(tmp_path, gl_ctx, backend):
    clip = write_vfr_clip(tmp_path / "vfr.mkv", VFR_MS)
    source = _decoded(VideoSource(clip, queue_size=len(VFR_MS) + 2, drop=False, audio=False))
    t0 = 1000.0
    live = LiveCompositor(
        gl_ctx,
        KeyerParams(screen_color="#008000"),
        "#3366cc",
        clock=lambda: t0,
        backend=backend,
        threaded=False,  # keyed inside update: each step shows what is due at once
    )
    assert live.backend == backend
    live.attach(source, own=True)
    eps = 1e-6
    # (clock offset in ms, frame expected on show, whether it is a new one)
    script = [
        (0, 0, True),  # the first frame shows at once and anchors the clock
        (39, 0, False),  # frame 1 (40 ms) is not due: the last texture again
        (40, 1, True),
        (120, 2, True),  # 80 ms: due, alone
        (199, 2, False),  # nothing due for 120 ms: a variable frame rate, not a stall
        (215, 4, True),  # 200 and 210 are due together: 200 is dropped late
        (230, 5, True),
        (499, 5, False),
        (545, 7, True),  # 500 dropped, 540 shown
        (999, 7, False),
        (1000, 8, True),
    ]
    shown_textures = {}
    try:
        for ms, index, new in script:
            tex = live.update(now=t0 + ms / 1000 + eps)
            assert tex is not None
            assert live.current.index == index, (ms, live.current.index)
            assert live.changed is new, ms
            assert live.current.time == pytest.approx(VFR_MS[index] / 1000)
            if new:
                shown_textures[index] = _pixels(tex).copy()
        assert live.stats.shown == 7  # 9 frames, 2 dropped late
        assert live.stats.dropped_late == 2
        assert live.stats.dropped_by_source == 0
        assert live.stats.resyncs == 0
        live.update(now=t0 + 2.0)
        assert live.ended
        # What is shown is that frame, keyed: compare with the numpy reference.
        blue = Solid(np.array([0x33, 0x66, 0xCC]) / 255)
        frames = {f.index: f for _, f in VideoSource(clip)}
        ref = ReferenceKeyer(live.params)  # the shown frames in turn, as the view keyed them
        for index, got in sorted(shown_textures.items()):
            want = ref.render(frames[index], ScreenMap.constant(GREEN), blue)
            assert np.abs(got[..., :3].astype(int) - want).max() <= 2, index
        assert not np.array_equal(shown_textures[0], shown_textures[8])
    finally:
        live.close()


class _Slow:
    """A keyer that takes 100 ms more a frame: on the keying thread with the CPU keyer."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.backend = inner.backend
        self.pixel_formats = inner.pixel_formats

    def set_params(self, params: KeyerParams) -> None:
        self.inner.set_params(params)

    def render(self, *args: Any, **kw: Any) -> np.ndarray:
        time.sleep(0.1)
        return self.inner.render(*args, **kw)

    def warm(self, width: int, height: int) -> None:
        self.inner.warm(width, height)

    def close(self) -> None:
        self.inner.close()


class _SlowTexture(_Slow):
    """… and in the render loop with the GLSL passes (a TextureKeyer: it has render_texture)."""

    def render_texture(self, *args: Any, **kw: Any) -> moderngl.Texture:
        time.sleep(0.1)
        return self.inner.render_texture(*args, **kw)


def slow_keyer(backend: str, gl_ctx: Any) -> _Slow:
    if backend == "gpu":
        return _SlowTexture(GpuKeyer(KeyerParams(), gl_ctx))
    return _Slow(CpuKeyer(KeyerParams()))


@pytest.mark.timed  # a keyer that sleeps 100 ms against 40 ms frames: wall-clock by nature
@pytest.mark.parametrize("backend", ["gpu", "cpu"])
def test_a_slow_render_drops_late_frames_and_memory_stays_bounded(tmp_path, gl_ctx, backend):
    """Keying takes 100 ms, frames come every 40 ms: frames are dropped, never queued up."""
    clip = write_clip(tmp_path / "c.mp4", width=320, height=180, frames=75, fps=25)
    for drop in (False, True, "paced"):
        if drop == "paced":
            source = open_source(clip, queue_size=4)  # drop mode, paced to real time
        else:
            source = VideoSource(clip, queue_size=4, drop=drop, audio=False)
        live = LiveCompositor(gl_ctx, KeyerParams(), "#ffffff", keyer=slow_keyer(backend, gl_ctx))
        assert live.threaded is (backend == "cpu")
        live.attach(source, own=True)
        # Memory counted from the first frame shown: compiling the passes on first use (in a
        # process where no test drew before, as in the timed step) is not growth.
        rss0: float | None = None
        deadline = time.perf_counter() + 20
        sizes = []
        try:
            while not live.ended and time.perf_counter() < deadline:
                live.update()
                if rss0 is None and live.stats.shown > 0:
                    rss0 = _rss_mb()
                sizes.append(source.queued)
                time.sleep(0.002)
            st = live.stats
            assert live.ended
            assert max(sizes) <= 4
            assert st.dropped > 0
            assert st.shown < 60  # 3 s at ≥ 100 ms a frame
            # Every decoded frame is accounted for: shown or dropped.
            assert st.shown + st.dropped_late + st.dropped_by_source == 75, (drop, st)
            if not drop:
                assert st.dropped_by_source == 0 and st.dropped_late > 0
            elif drop is True:
                assert st.dropped_by_source > 0  # unpaced, the decoder races ahead
            assert rss0 is not None and _rss_mb() - rss0 < 64
        finally:
            live.close()


# The wall-clock bound on update() runs in the timed step only; the rest runs in every suite.
@pytest.mark.parametrize("timed", [False, pytest.param(True, marks=pytest.mark.timed)])
def test_a_stall_keeps_the_last_frame_and_does_not_block(tmp_path, gl_ctx, timed):
    """No new frame: update() returns the last texture at once; afterwards play resyncs."""
    clip = write_clip(tmp_path / "c.mp4", frames=20, fps=25)
    live = LiveCompositor(gl_ctx, KeyerParams(), "#000000", threaded=False)
    frames = [f for _, f in VideoSource(clip)]
    t = 50.0
    for f in frames[:5]:
        live.feed(f)
    tex = None
    for i in range(5):
        tex = live.update(now=t + i * 0.04 + 1e-6)
    assert live.current.index == 4 and tex is not None
    before = _pixels(tex).copy()
    for k in range(50):  # two seconds of stall on the injected clock
        t0 = time.perf_counter()
        again = live.update(now=t + 0.2 + k * 0.04)
        assert not timed or time.perf_counter() - t0 < 0.05
        assert again is tex and not live.changed
    np.testing.assert_array_equal(_pixels(tex), before)
    live.feed(frames[5])  # 2 s late: shown now, and the clock re-anchors to it
    live.update(now=t + 2.3)
    assert live.current.index == 5 and live.changed and live.stats.resyncs == 1
    live.feed(frames[6])
    live.update(now=t + 2.3 + 0.041)
    assert live.current.index == 6 and live.stats.dropped_late == 0
    live.close()


def test_params_and_background_take_effect_on_the_next_frame(gl_ctx):
    img = figure_frame(0, 64, 48)
    live = LiveCompositor(gl_ctx, KeyerParams(screen_color="#008000"), "#ff0000", threaded=False)
    try:
        tex = live.render(Frame.from_rgb(img, time=0.0))
        assert tuple(_pixels(tex)[2, 2, :3]) == (255, 0, 0)
        live.set_background("#0000ff")
        assert tuple(_pixels(tex)[2, 2, :3]) == (255, 0, 0)  # not before the next frame
        live.feed(Frame.from_rgb(img, time=0.04))
        tex = live.update(now=0.0)
        assert tuple(_pixels(tex)[2, 2, :3]) == (0, 0, 255)
        # Paused, a change re-keys the frame on show.
        live.pause()
        live.set_params(
            live.params.replace(hue_min=10.0, hue_max=20.0, auto_hue=False)
        )  # no screen
        tex = live.update(now=5.0)
        assert live.changed
        assert tuple(_pixels(tex)[2, 2, :3]) == SCREEN
        with pytest.raises(ParameterError):
            live.set_background("#nothex")
        with pytest.raises(ParameterError):
            live.set_params({"hue_min": 3})
    finally:
        live.close()


def test_transparent_output_is_straight_rgba_for_a_host(gl_ctx):
    img = figure_frame(0, 64, 48)
    with LiveCompositor(gl_ctx, KeyerParams(screen_color="#008000")) as live:
        px = _pixels(live.render(Frame.from_rgb(img)))
        assert px[2, 2, 3] == 0
        assert px[24, 30, 3] == 255 and tuple(px[24, 30, :3]) == SKIN
        assert live.stats.latency_ms and live.stats.render_ms


def test_feed_cannot_mix_with_an_attached_source(tmp_path, gl_ctx):
    clip = write_clip(tmp_path / "c.mp4", frames=3)
    with LiveCompositor(gl_ctx) as live:
        live.attach(VideoSource(clip), own=True)
        with pytest.raises(ParameterError, match="feed"):
            live.feed(Frame.from_rgb(figure_frame(0, 8, 8)))


def test_latency_is_stamped_when_a_frame_leaves_the_decoder(tmp_path, gl_ctx):
    clip = write_clip(tmp_path / "c.mp4", frames=5)
    source = VideoSource(clip, queue_size=8, audio=False)
    with LiveCompositor(gl_ctx) as live:
        live.attach(source, own=True)
        _decoded(source)
        time.sleep(0.2)  # the frames wait in the queue: that is latency too
        deadline = time.perf_counter() + 20
        while not live.stats.shown and time.perf_counter() < deadline:
            live.update()  # the first call hands the frame to the keying thread
            time.sleep(0.002)
        assert live.stats.wait_ms[-1] >= 150
        assert live.stats.latency_ms[-1] >= live.stats.wait_ms[-1]


def test_no_opengl_is_a_clear_error():
    # A real machine without an EGL driver: libglvnd is pointed at no vendor library.
    import os
    import subprocess
    import sys

    env = {**os.environ, "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}
    code = (
        "from chromakey.live import LiveCompositor\n"
        "from chromakey.core.errors import BackendUnavailableError\n"
        "try:\n    LiveCompositor('standalone')\n"
        "except BackendUnavailableError as exc:\n    print('refused:', exc)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.stdout.startswith("refused:") and "EGL" in r.stdout, r.stdout + r.stderr


def test_a_paused_file_keeps_its_place(tmp_path, gl_ctx):
    clip = write_clip(tmp_path / "c.mp4", frames=50, fps=25)
    with LiveCompositor(gl_ctx) as live:
        live.attach(open_source(clip, queue_size=4), own=True)
        deadline = time.perf_counter() + 20
        while live.stats.shown < 5 and time.perf_counter() < deadline:
            live.update()
            time.sleep(0.005)
        live.pause()
        while live.keying and time.perf_counter() < deadline:
            live.update()  # the frame already in the keyer was due: it is still shown
            time.sleep(0.005)
        assert live.stats.shown >= 5 and not live.keying
        held = live.current.index
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 0.6:  # 15 frames' worth of pause
            live.update()
            assert live.current.index == held
            time.sleep(0.01)
        assert live.stats.dropped_by_source == 0
        live.resume()
        while live.current.index == held and time.perf_counter() < deadline + 5:
            live.update()
            time.sleep(0.005)
        assert live.current.index <= held + 2  # on from where it stopped, not 15 frames on


def test_a_jump_in_the_timestamps_re_anchors_the_clock(gl_ctx):
    img = figure_frame(0, 32, 24)
    with LiveCompositor(gl_ctx, threaded=False) as live:
        for k, (stream_t, now) in enumerate([(0.0, 9.0), (1.0, 10.0), (0.0, 10.04)]):
            live.feed(Frame.from_rgb(img, time=stream_t, index=k))  # the third: a loop restart
            live.update(now=now + 1e-6)
            assert live.current.index == k and live.changed
        assert live.stats.resyncs == 1
        live.feed(Frame.from_rgb(img, time=100.0, index=3))  # far ahead: shown now, re-anchored
        live.update(now=10.2)
        assert live.current.index == 3 and live.stats.resyncs == 2
        live.feed(Frame.from_rgb(img, time=100.04, index=4))
        live.update(now=10.2 + 0.039)
        assert live.current.index == 3  # paced from the new anchor
        live.update(now=10.2 + 0.041)
        assert live.current.index == 4
