"""The one place an OpenGL context is made, and whether it rasterises on the CPU."""

from __future__ import annotations

import ctypes.util
from contextlib import AbstractContextManager, nullcontext

import moderngl

from ...core.errors import BackendUnavailableError, ParameterError

GL_REQUIRE = 330  # OpenGL 3.3 core: texelFetch, integer textures, float render targets

_PACKAGES = "apt-get install -y --no-install-recommends libegl1 libgl1"
def create_context(kind: str | moderngl.Context = "standalone") -> moderngl.Context:
    """The one place an OpenGL context is made.

    ``"standalone"``: a headless context through EGL (Mesa's llvmpipe where there is no GPU).
    ``"current"`` (or ``"window"``): the context current on this thread, e.g. a glfw window's.
    A ``moderngl.Context`` (a host application's) is returned as it is.
    Raises BackendUnavailableError, whose message says what to install, if none can be had.
    """
    if isinstance(kind, moderngl.Context):
        return kind
    if kind == "standalone":
        try:
            return moderngl.create_context(standalone=True, backend="egl", require=GL_REQUIRE)
        except Exception as exc:
            missing = [n for n in ("EGL", "GL") if ctypes.util.find_library(n) is None]
            why = f"lib{' and lib'.join(missing)} not found" if missing else _first_line(exc)
            raise BackendUnavailableError(
                f"no headless OpenGL 3.3 context through EGL ({why}); install Mesa's EGL and "
                f"OpenGL (Debian/Ubuntu: {_PACKAGES}) or use the CPU backend"
            ) from exc
    if kind in ("current", "window"):
        try:
            return moderngl.create_context(require=GL_REQUIRE)
        except Exception as exc:
            raise BackendUnavailableError(
                f"no current OpenGL 3.3 context to attach to ({_first_line(exc)}); open the window first, "
                f"and install OpenGL (Debian/Ubuntu: {_PACKAGES}, plus xvfb to run a window "
                "headless under xvfb-run) or use the CPU backend"
            ) from exc
    raise ParameterError(
        f"OpenGL context kind {kind!r} is unknown; use 'standalone', 'current' or a moderngl.Context"
    )


def made_current(ctx: moderngl.Context, own: bool) -> AbstractContextManager[object]:
    """``ctx`` current for a block and the one before it current after, if ``own`` (a
    standalone context of a keyer's own): GL draws in the current context, so a second
    standalone keyer, made and closed, left the first drawing in none. A host's or a
    window's context is the host's to make current."""
    return ctx if own else nullcontext()


# GL_RENDERER names of rasterisers that run on the CPU (Mesa's llvmpipe, softpipe, swrast).
_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


def software_renderer(ctx: moderngl.Context) -> str | None:
    """The renderer's name if it rasterises on the CPU, else None."""
    name = str(ctx.info.get("GL_RENDERER", ""))
    return name if any(s in name.lower() for s in _SOFTWARE_RENDERERS) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
