"""The one place an OpenGL context is made, and whether it rasterises on the CPU."""

from __future__ import annotations

import ctypes.util  # only to name the missing library in an error
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
            # moderngl's stubs type ``backend`` as a dict; it takes the name.
            return _with_info(
                moderngl.create_context(
                    standalone=True,
                    backend="egl",  # type: ignore[arg-type]
                    require=GL_REQUIRE,
                )
            )
        except Exception as exc:
            missing = [n for n in ("EGL", "GL") if ctypes.util.find_library(n) is None]
            why = f"lib{' and lib'.join(missing)} not found" if missing else _first_line(exc)
            raise BackendUnavailableError(
                f"no headless OpenGL 3.3 context through EGL ({why}); install Mesa's EGL and "
                f"OpenGL (Debian/Ubuntu: {_PACKAGES}) or use the CPU backend"
            ) from exc
    if kind in ("current", "window"):
        try:
            return _with_info(moderngl.create_context(require=GL_REQUIRE))
        except Exception as exc:
            raise BackendUnavailableError(
                f"no current OpenGL 3.3 context to attach to ({_first_line(exc)}); open the window first, "
                f"and install OpenGL (Debian/Ubuntu: {_PACKAGES}, plus xvfb to run a window "
                "headless under xvfb-run) or use the CPU backend"
            ) from exc
    raise ParameterError(
        f"OpenGL context kind {kind!r} is unknown; use 'standalone', 'current' or a moderngl.Context"
    )


def _with_info(ctx: moderngl.Context) -> moderngl.Context:
    """``ctx`` with its GL_RENDERER and the rest read now, while it is current (a context is
    current when made): moderngl keeps what it read, and read later, while another or no
    context is current, the names come back empty."""
    ctx.info  # noqa: B018 - read for moderngl to keep
    return ctx


def made_current(ctx: moderngl.Context, own: bool) -> AbstractContextManager[object]:
    """``ctx`` current for a block where it is our own headless context (``own``), by
    moderngl's rule: ``with ctx`` makes it current, and none is current after. GL draws in
    whichever context is current, so each owner of a headless context enters it for its own
    GL work (two standalone keyers then each draw in their own). A host's or a window's
    context is the host's to make current before it calls us."""
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
