"""Shared pytest fixtures. Each block names who it is for; keep them small and generic."""

from __future__ import annotations

import os

import pytest

# --- OpenGL (the GPU keyer's tests) -----------------------------------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


_SESSION_GL: dict[str, object] = {}  # the session's context, once gl_ctx has made it


def _make_session_gl_current() -> None:
    ctx = _SESSION_GL.get("ctx")
    if ctx is not None:
        ctx.__enter__()  # made current, the one before not kept: each test starts here


@pytest.fixture(autouse=True, scope="module")
def _session_gl_current_for_the_module():
    """The session's context current for a module's own fixtures (a keyer on gl_ctx), as a
    host makes its context current before drawing: a standalone keyer made in an earlier
    test leaves its own current (and closed, none)."""
    _make_session_gl_current()
    yield


@pytest.fixture(autouse=True)
def _session_gl_current():
    """… and for every test."""
    _make_session_gl_current()
    yield


@pytest.fixture(scope="session")
def gl_ctx():
    """One headless OpenGL context (EGL; llvmpipe without a GPU) for the whole session.

    Without one the GPU tests skip, except under CI (env CI set), where they fail: CI installs
    Mesa and must run them.
    """
    from chromakey.core.errors import BackendUnavailableError
    from chromakey.keying.gpu import create_context

    try:
        ctx = create_context("standalone")
    except BackendUnavailableError as exc:
        if _ci():
            pytest.fail(f"CI must run the GPU tests, but: {exc}")
        pytest.skip(f"no OpenGL context: {exc}")
    _SESSION_GL["ctx"] = ctx
    yield ctx
    _SESSION_GL.clear()
    ctx.release()


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
