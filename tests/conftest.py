"""Shared pytest fixtures. Each block names who it is for; keep them small and generic."""

from __future__ import annotations

import os

import pytest

# --- OpenGL (the GPU keyer's tests) -----------------------------------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def gl_session():
    """One headless OpenGL context (EGL; llvmpipe without a GPU) for the whole session.

    Without one the GPU tests skip, except under CI (env CI set), where they fail: CI installs
    Mesa and must run them. Tests take it as ``gl_ctx``, current for the test.
    """
    from chromakey.core.errors import BackendUnavailableError
    from chromakey.keying.gpu import create_context

    try:
        ctx = create_context("standalone")
    except BackendUnavailableError as exc:
        if _ci():
            pytest.fail(f"CI must run the GPU tests, but: {exc}")
        pytest.skip(f"no OpenGL context: {exc}")
    yield ctx
    ctx.release()


@pytest.fixture
def gl_ctx(gl_session):
    """The session's context, made current for the test by moderngl's ``with``, as a host
    makes its context current before it calls us (a standalone keyer or live view of an
    earlier test leaves none current)."""
    with gl_session:
        yield gl_session


@pytest.fixture(scope="module")
def _module_gpu_keyer(gl_session):
    from chromakey.core.params import KeyerParams
    from chromakey.keying.gpu import GpuKeyer

    with gl_session:
        keyer = GpuKeyer(KeyerParams(), ctx=gl_session)
    yield keyer
    with gl_session:
        keyer.close()


@pytest.fixture
def gpu(_module_gpu_keyer, gl_ctx):
    """A GpuKeyer on the session's context, one per module (its programs built once), with
    the context current for the test; reset, so that the test's first frame is keyed on its
    own (the still hold holds nothing from an earlier test's)."""
    _module_gpu_keyer.reset()
    return _module_gpu_keyer


# --- The ffmpeg CLI (tests that read our outputs with FFmpeg itself) ----------------------------


@pytest.fixture(scope="session")
def ffmpeg_cli() -> str:
    """The ffmpeg command. Without it these tests skip, except under CI, where they fail:
    .ci/setup installs it."""
    import shutil

    exe = shutil.which("ffmpeg")
    if exe is None:
        message = "the ffmpeg CLI is not installed (apt-get install -y ffmpeg)"
        if _ci():
            pytest.fail(f"CI must run the FFmpeg tests, but {message}")
        pytest.skip(message)
    return exe


# --- caches (the OpenGL probe's answer, keying.glprobe) ----------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _private_cache_home(tmp_path_factory):
    """The suite's own $XDG_CACHE_HOME (its child processes inherit it), so that what the
    tests' runs remember never lands in the user's cache."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes seconds (builds a wheel, a venv); still runs by default"
    )
    config.addinivalue_line(
        "markers", "soak: runs for a minute or more; not in the default run (pytest -m soak)"
    )
    config.addinivalue_line(
        "markers",
        "timed: asserts on wall-clock time; not in the default run (pytest -m timed), so that "
        "a loaded machine cannot fail the unit suite",
    )


# --- X display (the preview window's tests, issue 5) -------------------------------------------


@pytest.fixture(scope="session")
def xvfb_display():
    """A private Xvfb server for window tests; yields its DISPLAY (":N").

    Xvfb picks a free display number itself (-displayfd). Without Xvfb the window tests
    skip, except under CI (env CI set), where they fail: CI installs xvfb and must run them.
    """
    import select
    import shutil
    import subprocess

    exe = shutil.which("Xvfb")
    if exe is None:
        message = "Xvfb is not installed (Debian/Ubuntu: apt-get install -y xvfb xauth)"
        if _ci():
            pytest.fail(f"CI must run the window tests, but: {message}")
        pytest.skip(message)
    r, w = os.pipe()
    proc = subprocess.Popen(
        [exe, "-displayfd", str(w), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(w,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(w)
    number = b""
    try:
        while not number.endswith(b"\n"):
            ready, _, _ = select.select([r], [], [], 15.0)
            chunk = os.read(r, 16) if ready else b""
            if not chunk:
                break
            number += chunk
    finally:
        os.close(r)
    if not number.strip().isdigit():
        proc.kill()
        proc.wait()
        message = f"Xvfb did not start (exit status {proc.returncode})"
        if _ci():
            pytest.fail(message)
        pytest.skip(message)
    yield f":{number.strip().decode()}"
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# --- network namespaces (the WebRTC tests, issue 13) -------------------------------------------


@pytest.fixture
def netns():
    """A private network namespace with a veth pair (tests/webrtc_net.py); removed after."""
    from webrtc_net import Netns

    ns = Netns()
    yield ns
    ns.close()
