"""Context creation, the keyer's lifecycle and its refusals."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import moderngl
import numpy as np
import pytest

from chromakey.core.color import YuvSpec
from chromakey.core.errors import BackendUnavailableError, InputError, ParameterError
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Picture, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import gpu
from chromakey.keying.gpu import GpuKeyer, create_context
from chromakey.keying.reference import ReferenceKeyer

ROOT = Path(__file__).resolve().parent.parent
SCREEN = ScreenMap.constant((0.0, 0.5, 0.0))


NO_EGL = {"__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}  # libglvnd finds no EGL


def run_without_egl(code: str) -> subprocess.CompletedProcess:
    """Python in a child whose EGL loader finds no driver: a machine without Mesa, for real."""
    env = {**os.environ, **NO_EGL}
    env.pop("DISPLAY", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60
    )


def test_no_egl_gives_a_one_line_error_naming_the_packages():
    r = run_without_egl(
        "from chromakey.keying.gpu import create_context, GpuKeyer\n"
        "from chromakey.core.errors import BackendUnavailableError\n"
        "from chromakey.core.params import KeyerParams\n"
        "for attempt in (lambda: create_context('standalone'), lambda: GpuKeyer(KeyerParams())):\n"
        "    try:\n"
        "        attempt()\n"
        "    except BackendUnavailableError as exc:\n"
        "        print(repr(str(exc)))\n"
        "try:\n"
        "    create_context('current')\n"
        "except BackendUnavailableError as exc:\n"
        "    print(repr(str(exc)))\n"
    )
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 3, r.stdout + r.stderr
    for line in lines[:2]:
        assert "\\n" not in line
        assert "apt-get install -y --no-install-recommends libegl1 libgl1" in line
    assert "xvfb" in lines[2]


def test_cli_gpu_fails_and_auto_falls_back_with_one_warning(tmp_path):
    from media import write_clip

    clip = write_clip(tmp_path / "c.mp4", frames=2)
    env = {**os.environ, **NO_EGL}
    base = [sys.executable, "-m", "chromakey", "render", str(clip), "-b", "#000"]
    r = subprocess.run(
        [*base, "-o", str(tmp_path / "g.mp4"), "--backend", "gpu"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert r.returncode == 6 and "libegl1" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "g.mp4").exists()
    r = subprocess.run(
        [*base, "-o", str(tmp_path / "a.mp4"), "--backend", "auto"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    warnings = [line for line in r.stderr.splitlines() if line.startswith("chromakey: warning:")]
    assert len(warnings) == 1 and "using the CPU path" in warnings[0]
    assert "cpu" in r.stdout


def test_unknown_context_kind_is_a_parameter_error():
    with pytest.raises(ParameterError, match="standalone"):
        create_context("vulkan")


def test_a_host_context_is_used_and_left_alone(gl_ctx):
    assert create_context(gl_ctx) is gl_ctx
    keyer = GpuKeyer(KeyerParams(), ctx=gl_ctx)
    gl_ctx.enable(moderngl.BLEND)  # a host's state must not leak into the passes
    try:
        frame = Frame.from_rgb(np.full((4, 6, 3), (200, 40, 40), np.uint8))
        out = keyer.render(frame, SCREEN, CLEAR)
        np.testing.assert_array_equal(
            out, ReferenceKeyer(KeyerParams()).render(frame, SCREEN, CLEAR)
        )
    finally:
        gl_ctx.disable(moderngl.BLEND)
    keyer.close()
    keyer.close()  # idempotent
    gl_ctx.finish()  # the context is still alive
    with pytest.raises(RuntimeError, match="closed"):
        keyer.render(frame, SCREEN, CLEAR)


def test_standalone_keyers_each_draw_in_their_own_context(gl_ctx):
    """GL draws in whichever context is current: a second standalone keyer, made and closed,
    must leave the first drawing as before. In a child, as the contexts made there change
    which is current (the session's, gl_ctx, only checks that there is EGL)."""
    code = textwrap.dedent(
        """
        import numpy as np
        from chromakey.core.frames import Frame
        from chromakey.core.layers import Solid
        from chromakey.core.params import KeyerParams
        from chromakey.core.screenmap import ScreenMap
        from chromakey.keying.gpu import GpuKeyer
        from chromakey.keying.reference import ReferenceKeyer

        rgb = np.full((6, 8, 3), (200, 150, 120), np.uint8)
        rgb[1:4, 2:5] = (0, 128, 0)
        frame, screen = Frame.from_rgb(rgb), ScreenMap.constant((0.0, 0.5, 0.0))
        bg = Solid((1.0, 0.0, 1.0))
        expected = ReferenceKeyer(KeyerParams()).render(frame, screen, bg)
        first = GpuKeyer(KeyerParams())
        checks = [first.render(frame, screen, bg)]
        second = GpuKeyer(KeyerParams())
        checks += [second.render(frame, screen, bg), first.render(frame, screen, bg)]
        second.close()
        checks.append(first.render(frame, screen, bg))
        first.close()
        print([bool(np.array_equal(c, expected)) for c in checks])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[True, True, True, True]"


def test_bad_inputs_are_refused(gl_ctx):
    with GpuKeyer(KeyerParams(), ctx=gl_ctx) as keyer:
        y = np.zeros((4, 4), np.uint16)
        with pytest.raises(InputError, match="8-bit"):
            keyer.render(Frame.from_yuv(y, y[:2, :2], y[:2, :2], YuvSpec()), SCREEN, CLEAR)
        frame = Frame.from_rgb(np.zeros((4, 4, 3), np.uint8))
        with pytest.raises(ParameterError, match="frame's size"):
            keyer.render(frame, SCREEN, Picture(np.zeros((5, 4, 3), np.uint8)))
        with pytest.raises(ParameterError, match="out must be"):
            keyer.render(frame, SCREEN, CLEAR, out=np.empty((4, 4, 3), np.uint8))


def test_interleaved_chroma_views_are_copied_not_misread(gl_ctx):
    """NV12's UV plane split with [:, 0::2] has an element stride of 2."""
    rng = np.random.default_rng(3)
    y = rng.integers(16, 236, (18, 34), dtype=np.uint8)
    uv = rng.integers(16, 241, (9, 34), dtype=np.uint8)
    frame = Frame.from_yuv(y, uv[:, 0::2], uv[:, 1::2], YuvSpec())
    with GpuKeyer(KeyerParams(), ctx=gl_ctx) as keyer:
        out = keyer.render(frame, SCREEN, CLEAR)
    expected = ReferenceKeyer(KeyerParams()).render(frame, SCREEN, CLEAR)
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_pipeline_makes_a_gpu_keyer():
    from chromakey.keying.select import make_keyer

    try:
        keyer = make_keyer("gpu", KeyerParams())
    except BackendUnavailableError as exc:
        pytest.skip(str(exc))
    try:
        assert keyer.backend == "gpu" and isinstance(keyer, gpu.GpuKeyer)
    finally:
        keyer.close()


WINDOW_SCRIPT = textwrap.dedent(
    """
    import glfw, numpy as np
    from chromakey.core.frames import Frame
    from chromakey.core.layers import CLEAR
    from chromakey.keying.gpu import GpuKeyer
    from chromakey.core.params import KeyerParams
    from chromakey.core.screenmap import ScreenMap
    assert glfw.init()
    glfw.window_hint(glfw.VISIBLE, glfw.FALSE)
    glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
    glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
    glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
    glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
    win = glfw.create_window(64, 48, "t", None, None)
    assert win
    glfw.make_context_current(win)
    keyer = GpuKeyer(KeyerParams(), ctx="current")
    img = np.zeros((8, 8, 3), np.uint8); img[...] = (0, 128, 0); img[2:6, 2:6] = (200, 150, 120)
    tex = keyer.render_texture(Frame.from_rgb(img), ScreenMap.constant((0, .5, 0)), CLEAR)
    a = np.frombuffer(tex.read(), np.uint8).reshape(8, 8, 4)[..., 3]
    assert a[0, 0] == 0 and a[4, 4] == 255, a
    keyer.close()
    glfw.terminate()
    print("window ok")
    """
)


def test_the_current_context_of_a_glfw_window(gl_ctx):
    if not os.environ.get("DISPLAY") and shutil.which("xvfb-run") is None:
        pytest.skip("no display and no xvfb-run")
    cmd = [sys.executable, "-c", WINDOW_SCRIPT]
    if not os.environ.get("DISPLAY"):
        cmd = ["xvfb-run", "-a", *cmd]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and "window ok" in r.stdout, r.stdout + r.stderr


def test_auto_takes_the_cpu_path_over_a_software_rasteriser(gl_ctx):
    """llvmpipe runs the passes on the CPU's own cores, where the threaded CPU path is faster."""
    from chromakey.keying.gpu import software_renderer
    from chromakey.keying.kernels import CpuKeyer
    from chromakey.keying.reference import cpu_workers
    from chromakey.keying.select import make_keyer

    notes: list[str] = []
    keyer = make_keyer("auto", KeyerParams(), warn=notes.append)
    forced = make_keyer("gpu", KeyerParams(), warn=notes.append)
    try:
        assert isinstance(forced, GpuKeyer)
        if software_renderer(gl_ctx) and cpu_workers() > 1:
            assert isinstance(keyer, CpuKeyer)
            assert len(notes) == 1 and notes[0].startswith("note:") and "llvmpipe" in notes[0]
        else:
            assert isinstance(keyer, GpuKeyer) and notes == []
    finally:
        keyer.close()
        forced.close()


def test_each_owner_of_a_headless_context_enters_its_own(gl_ctx):
    """moderngl's rule, without reaching past it: whoever owns a context makes it current for
    its GL work (``with ctx``), and none is current after. A standalone keyer, a standalone
    live view and a host's keyer interleave, each drawing in its own context."""
    from chromakey.live import LiveCompositor

    rgb = np.full((6, 8, 3), (200, 150, 120), np.uint8)
    rgb[1:4, 2:5] = (0, 128, 0)
    frame, magenta = Frame.from_rgb(rgb), Solid((1.0, 0.0, 1.0))
    expected = ReferenceKeyer(KeyerParams()).render(frame, SCREEN, magenta)
    own = GpuKeyer(KeyerParams())
    live = LiveCompositor("standalone", KeyerParams(), "#ff00ff", backend="gpu", threaded=False)
    with gl_ctx:  # a host's keyer is made, as it is used, in the host's context made current
        host = GpuKeyer(KeyerParams(), gl_ctx)
    try:
        got = [own.render(frame, SCREEN, magenta)]
        tex = live.render(frame)
        with live.ctx:  # the texture is the live view's, in its context
            shown = np.frombuffer(tex.read(), np.uint8).reshape(6, 8, 4)[..., :3]
        got.append(own.render(frame, SCREEN, magenta))
        with gl_ctx:  # the host makes its context current again before it calls us
            got.append(host.render(frame, SCREEN, magenta))
        for out in [*got, shown]:
            np.testing.assert_array_equal(out, expected)
    finally:
        own.close()
        live.close()
        with gl_ctx:
            host.close()
