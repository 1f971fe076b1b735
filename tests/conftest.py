"""Shared pytest fixtures. Each block names who it is for; keep them small and generic."""

from __future__ import annotations

import os

import pytest

# --- OpenGL (the GPU keyer's tests) -----------------------------------------------------------


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def gl_ctx():
    """One headless OpenGL context (EGL; llvmpipe without a GPU) for the whole session.

    Without one the GPU tests skip, except under CI (env CI set), where they fail: CI installs
    Mesa and must run them.
    """
    from chromakey.errors import BackendUnavailableError
    from chromakey.gpu import create_context

    try:
        ctx = create_context("standalone")
    except BackendUnavailableError as exc:
        if _ci():
            pytest.fail(f"CI must run the GPU tests, but: {exc}")
        pytest.skip(f"no OpenGL context: {exc}")
    yield ctx
    ctx.release()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: takes seconds (builds a wheel, a venv); still runs by default"
    )
