"""LiveCompositor's CPU path: on a software rasteriser (llvmpipe) ``auto`` keys with the CPU
keyer, on a keying thread, and uploads the composite as one RGBA8 texture; ``gpu`` still
runs the shaders.

Real clips (PyAV) and a real OpenGL context (EGL, llvmpipe); the keying thread is held back by
a semaphore where a test needs to know what is in flight, never by a timing.
"""

from __future__ import annotations

import threading
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
from chromakey.io.sinks import write_png
from chromakey.io.sources import VideoSource
from chromakey.keying.calibration import ScreenCalibrator
from chromakey.keying.gpu import GpuKeyer, software_renderer
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.reference import cpu_workers
from chromakey.live import LiveCompositor

from media import figure_frame, write_clip

BLUE = Solid(np.array([0x33, 0x66, 0xCC]) / 255)
DEADLINE = 20.0  # seconds any wait below may take before the test fails


def _pixels(tex: moderngl.Texture) -> np.ndarray:
    return np.frombuffer(tex.read(), np.uint8).reshape(tex.height, tex.width, 4)


def _frames(path: Path) -> list[Frame]:
    return [f for kind, f in VideoSource(path, audio=False) if kind == "video"]


@pytest.fixture
def software_gl(gl_ctx: moderngl.Context) -> moderngl.Context:
    if software_renderer(gl_ctx) is None:
        pytest.skip("the context is a hardware GPU's, not a software rasteriser")
    return gl_ctx


def test_auto_keys_with_the_cpu_keyer_on_a_software_rasteriser(tmp_path, software_gl):
    """The texture, read back, is exactly what CpuKeyer.render makes of that frame."""
    frame = _frames(write_clip(tmp_path / "c.mp4", width=160, height=96, frames=2))[1]
    image = np.random.default_rng(3).integers(0, 256, (96, 160, 3), dtype=np.uint8)
    p = KeyerParams(feather=1.0)  # the screen map calibrated from the frame, as live does
    want_backend = "cpu" if cpu_workers() > 1 else "gpu"  # as `render --backend auto`
    png = write_png(tmp_path / "bg.png", image)
    for spec in ("#3366cc", "transparent", str(png)):
        with LiveCompositor(software_gl, p, spec) as live:
            assert live.backend == want_backend
            if want_backend == "gpu":
                pytest.skip("one CPU: auto keeps the shaders, as render --backend auto does")
            assert isinstance(live.keyer, CpuKeyer) and live.threaded
            tex = live.render(frame)
            got = _pixels(tex)
            assert (tex.width, tex.height, tex.components, tex.dtype) == (160, 96, 4, "f1")
            bg = live.background.frame_at(0.0, 160, 96)
            want = CpuKeyer(p).render(frame, ScreenCalibrator(p).update(frame), bg)
            assert want.shape[2] == (4 if spec == "transparent" else 3)
            if want.shape[2] == 3:
                assert (got[..., 3] == 255).all()  # opaque, as the GPU path's texture
            np.testing.assert_array_equal(got[..., : want.shape[2]], want, err_msg=spec)


def test_the_keying_thread_shows_what_the_cpu_keyer_makes(tmp_path, gl_ctx):
    """A clip through update() in real time: every frame shown is the CPU keyer's output for
    it (the calibrator saw the shown frames, in order), and every frame is accounted for."""
    clip = write_clip(tmp_path / "c.mp4", width=192, height=108, frames=30, fps=25)
    p = KeyerParams()
    live = LiveCompositor(gl_ctx, p, "#3366cc", backend="cpu")
    source = VideoSource(clip, queue_size=4, drop=False, audio=False)
    live.attach(source, own=True)
    shown: list[tuple[Frame, np.ndarray]] = []
    deadline = time.perf_counter() + DEADLINE
    try:
        while not live.ended and time.perf_counter() < deadline:
            tex = live.update()
            if live.changed:
                shown.append((live.current, _pixels(tex).copy()))
            time.sleep(0.002)
        assert live.ended
        st = live.stats
        assert st.shown == len(shown) and st.shown + st.dropped == 30
        assert [f.index for f, _ in shown] == sorted({f.index for f, _ in shown})
        cal, ref = ScreenCalibrator(p), CpuKeyer(p)
        for frame, got in shown:
            want = ref.render(frame, cal.update(frame), BLUE)
            np.testing.assert_array_equal(got[..., :3], want, err_msg=str(frame.index))
        assert st.latency_ms and st.render_ms
    finally:
        live.close()


def test_backend_gpu_still_runs_the_shaders(tmp_path, gl_ctx):
    frame = _frames(write_clip(tmp_path / "c.mp4", frames=2))[1]
    p = KeyerParams(screen_color="#008000")
    with LiveCompositor(gl_ctx, p, "#3366cc", backend="gpu") as live:
        assert live.backend == "gpu" and isinstance(live.keyer, GpuKeyer)
        assert not live.threaded  # GL calls stay on this thread
        got = _pixels(live.render(frame))
    want = CpuKeyer(p).render(
        frame, ScreenMap.constant(np.array([0, 128, 0], np.float32) / 255), BLUE
    )
    assert np.abs(got[..., :3].astype(int) - want).max() <= 2
    assert (got[..., 3] == 255).all()
    with LiveCompositor(gl_ctx, p, backend="cpu") as live:
        assert isinstance(live.keyer, CpuKeyer)
    with pytest.raises(ParameterError, match="auto, cpu, gpu"):
        LiveCompositor(gl_ctx, p, backend="vulkan")


class _Gated:
    """A CpuKeyer whose each keying waits for a permit from the test, then takes at least
    50 ms: longer than the 40 ms between frames, so the lead is exactly one frame."""

    backend = "cpu"

    def __init__(self, params: KeyerParams) -> None:
        self.inner = CpuKeyer(params)
        self.pixel_formats = self.inner.pixel_formats
        self.permits = threading.Semaphore(0)
        self.keyings = 0

    def set_params(self, params: KeyerParams) -> None:
        self.inner.set_params(params)

    def render(self, frame: Frame, screen: Any, background: Any, **kw: Any) -> np.ndarray:
        t0 = time.perf_counter()
        assert self.permits.acquire(timeout=DEADLINE)
        time.sleep(max(0.0, 0.05 - (time.perf_counter() - t0)))
        self.keyings += 1
        return self.inner.render(frame, screen, background, **kw)

    def warm(self, width: int, height: int) -> None:
        self.inner.warm(width, height)

    def close(self) -> None:
        self.inner.close()


def gated(gl_ctx: Any, p: KeyerParams, background: str, **kw: Any) -> LiveCompositor:
    return LiveCompositor(gl_ctx, p, background, keyer=_Gated(p), **kw)


def _let_key(live: LiveCompositor) -> None:
    """Release one keying and wait until it is done (next_due says how long until its time)."""
    live.keyer.permits.release()
    deadline = time.perf_counter() + DEADLINE
    while live.next_due(0.0) is None:
        assert time.perf_counter() < deadline, "the keying thread did not finish"
        time.sleep(0.002)


def test_a_slow_first_keying_starts_the_stream_when_it_is_shown(gl_ctx):
    """The first frame keys slowest (scratch, a full calibration): the stream's clock starts
    when it is on show, so the frames behind it are not late and none is dropped."""
    p = KeyerParams(screen_color="#008000")
    frames = [Frame.from_rgb(figure_frame(i, 64, 48), time=0.04 * i, index=i) for i in range(4)]
    with gated(gl_ctx, p, "#3366cc", backend="cpu", clock=lambda: 0.0) as live:
        for f in frames:
            live.feed(f)
        assert live.update(now=0.0) is None and live.keying
        _let_key(live)
        live.update(now=0.2)  # shown 200 ms after it was picked: frames 1-3 would be late
        assert live.current.index == 0 and live.stats.dropped_late == 0
        _let_key(live)
        live.update(now=0.241)  # frame 1, due 40 ms after frame 0 was shown
        assert live.current.index == 1 and live.stats.dropped_late == 0


def test_the_render_loop_never_waits_for_the_keying_thread(gl_ctx):
    """update() returns while a frame is keyed; a frame is keyed up to one frame before it is
    due and held until then; frames that fall due while the keyer is busy stay in the feed
    and are dropped, counted, when it is free — only the newest is keyed."""
    p = KeyerParams(screen_color="#008000")
    frames = [Frame.from_rgb(figure_frame(i, 64, 48), time=0.04 * i, index=i) for i in range(8)]
    with gated(gl_ctx, p, "#3366cc", backend="cpu", clock=lambda: 0.0) as live:
        for f in frames[:4]:
            live.feed(f)
        feed = live.source
        assert live.update(now=0.0) is None and live.keying  # frame 0 is on the keying thread
        for k in range(20):  # the loop goes on; the keyer waits for its permit
            assert live.update(now=0.001 * k) is None and not live.changed
        assert feed.queued == 2  # frame 1 is held by the pacer, 2 and 3 in the feed
        _let_key(live)
        tex = live.update(now=0.001)
        assert live.changed and live.current.index == 0 and live.keying
        want = CpuKeyer(p).render(
            frames[0], ScreenMap.constant(np.array([0, 128, 0], np.float32) / 255), BLUE
        )
        np.testing.assert_array_equal(_pixels(tex)[..., :3], want)
        # Shown at 1 ms, frame 0 starts the stream there: frame 1 is due at 41 ms, and went to
        # the keyer at 1 ms: the lead is one frame, not two.
        assert live.keyer.keyings == 1 and feed.queued == 1
        _let_key(live)
        assert live.next_due(now=0.02) == pytest.approx(0.021)
        live.update(now=0.02)
        assert not live.changed and live.current.index == 0  # keyed early, held until due
        live.update(now=0.0411)
        assert live.changed and live.current.index == 1 and live.keying  # and frame 2 keys
        for f in frames[4:]:
            live.feed(f)
        live.update(now=0.23)  # frames 3…6 are due, but the keyer is busy with frame 2
        assert not live.changed and feed.queued == 4 and feed.dropped == 0
        _let_key(live)
        live.update(now=0.23)
        assert live.current.index == 2  # late, shown when keyed; 3, 4, 5 are dropped for 6
        assert live.stats.dropped_late == 3 and live.keyer.keyings == 3 and live.keying
        _let_key(live)
        tex = live.update(now=0.25)
        assert live.current.index == 6
        want = CpuKeyer(p).render(
            frames[6], ScreenMap.constant(np.array([0, 128, 0], np.float32) / 255), BLUE
        )
        np.testing.assert_array_equal(_pixels(tex)[..., :3], want)
        _let_key(live)
        live.update(now=0.3)
        assert live.current.index == 7
        st = live.stats
        assert (st.shown, st.dropped_late, st.rendered) == (5, 3, 5)
        # A change while paused re-keys the frame on show, on the keying thread too.
        live.pause()
        live.set_background("#ff0000")
        live.update(now=0.4)
        assert live.keying and not live.changed
        _let_key(live)
        tex = live.update(now=0.4)
        assert live.changed and live.current.index == 7 and live.stats.shown == 5
        assert tuple(_pixels(tex)[2, 2, :3]) == (255, 0, 0)


def test_a_keyer_error_reaches_the_render_loop(gl_ctx):
    class Broken(_Gated):
        def render(self, *args: Any, **kw: Any) -> np.ndarray:
            raise RuntimeError("keyer broke")

    with LiveCompositor(gl_ctx, backend="cpu", keyer=Broken(KeyerParams())) as live:
        live.feed(Frame.from_rgb(figure_frame(0, 32, 24)))
        deadline = time.perf_counter() + DEADLINE
        with pytest.raises(RuntimeError, match="keyer broke"):
            while time.perf_counter() < deadline:
                live.update()
                time.sleep(0.002)


def test_a_file_is_handed_over_at_most_one_frame_early(tmp_path):
    """open_source paces a file to real time with a lead of at most one frame, so a frame
    does not wait in the queue longer than that (the wait is latency). Load can only make the
    releases later, never earlier, so the bound holds on a busy machine too."""
    from chromakey.io.sources import open_source

    clip = write_clip(tmp_path / "c.mp4", frames=15, fps=25)
    source = open_source(clip, queue_size=32)
    released: list[Frame] = []
    deadline = time.perf_counter() + DEADLINE
    try:
        while time.perf_counter() < deadline:
            item = source.get(timeout=0.05)
            if item is None:
                continue
            if item[0] == "end":
                break
            if item[0] == "video":
                released.append(item[1])
    finally:
        source.close()
    assert len(released) == 15
    origin = released[0].decoded_at - released[0].time
    for frame in released[1:]:
        due = origin + frame.time
        assert frame.decoded_at >= due - 0.04 - 0.002, (frame.index, due - frame.decoded_at)
