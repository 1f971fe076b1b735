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
            # moderngl's stubs type ``backend`` as a dict; it takes the name.
            return moderngl.create_context(
                standalone=True,
                backend="egl",  # type: ignore[arg-type]
                require=GL_REQUIRE,
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
    """``ctx`` current for a block, if ``own`` (a keyer's own headless context), and the EGL
    context current before it current again after: GL draws in the current context, so a
    second standalone keyer, made and closed, left the first drawing in none. moderngl's own
    ``with ctx`` leaves none current after; where none was current before, ``ctx`` stays, as
    a context just made does. A host's or a window's context is the host's to make current."""
    return _EglCurrent(ctx) if own else nullcontext()


EGL_DRAW, EGL_READ = 0x3059, 0x305A


class _EglCurrent:
    """made_current's block: the current EGL display, surfaces and context kept, then back."""

    _egl: ctypes.CDLL | None = None

    def __init__(self, ctx: moderngl.Context) -> None:
        self.ctx = ctx
        self.before: tuple[int | None, ...] = ()

    @classmethod
    def egl(cls) -> ctypes.CDLL:
        if cls._egl is None:
            lib = ctypes.CDLL(ctypes.util.find_library("EGL") or "libEGL.so.1")
            for name in ("eglGetCurrentDisplay", "eglGetCurrentContext", "eglGetCurrentSurface"):
                getattr(lib, name).restype = ctypes.c_void_p
            lib.eglGetCurrentSurface.argtypes = [ctypes.c_int32]
            lib.eglMakeCurrent.argtypes = [ctypes.c_void_p] * 4
            lib.eglMakeCurrent.restype = ctypes.c_uint32
            cls._egl = lib
        return cls._egl

    def __enter__(self) -> moderngl.Context:
        egl = self.egl()
        self.before = (
            egl.eglGetCurrentDisplay(), egl.eglGetCurrentSurface(EGL_DRAW),
            egl.eglGetCurrentSurface(EGL_READ), egl.eglGetCurrentContext(),
        )  # fmt: skip
        self.ctx.mglo.__enter__()  # glcontext makes it current (its __exit__ would make none)
        return self.ctx

    def __exit__(self, *exc: object) -> None:
        if self.before and self.before[3]:  # a context was current: it is again
            self.egl().eglMakeCurrent(*self.before)


# GL_RENDERER names of rasterisers that run on the CPU (Mesa's llvmpipe, softpipe, swrast).
_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


def software_renderer(ctx: moderngl.Context) -> str | None:
    """The renderer's name if it rasterises on the CPU, else None."""
    name = str(ctx.info.get("GL_RENDERER", ""))
    return name if any(s in name.lower() for s in _SOFTWARE_RENDERERS) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
