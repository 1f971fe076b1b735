"""Which keyer renders: the GLSL passes where there is a GPU, the compiled CPU kernels where
there is none or where OpenGL is a software rasteriser on the same cores."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, runtime_checkable

import numpy as np

from ..core.errors import BackendUnavailableError, ParameterError
from ..core.frames import Frame, YuvImage
from ..core.layers import Layer
from ..core.params import KeyerParams
from ..core.screenmap import ScreenMap
from . import glprobe, numba_start
from .reference import cpu_workers

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import moderngl

    from .kernels import CpuKeyer

Backend = Literal["auto", "cpu", "gpu"]
BACKENDS: tuple[Backend, ...] = get_args(Backend)


class Keyer(Protocol):
    """What the compositors key with: the CPU kernels, the GLSL passes, or a host's own."""

    backend: str  # "cpu" or "gpu", for the stats and the user; it decides nothing
    # Layouts render() can return as a sink stores them (Sink.pixel_format); for any other
    # it returns the uint8 RGB(A) image.
    pixel_formats: frozenset[str]

    # render()'s ``screen`` comes from the calibrator: the very same ScreenMap object from
    # frame to frame while no block, the global colour or the window moved, and
    # ScreenMap.blocks_changed_since(previous) names the blocks that did (bit for bit).
    # ``background`` is a core.layers Layer, of the frame's size where it is a Picture.
    def set_params(self, params: KeyerParams) -> None: ...
    def render(
        self,
        frame: Frame,
        screen: ScreenMap,
        background: Layer,
        *,
        pixel_format: str | None = None,
    ) -> np.ndarray | YuvImage: ...
    def warm(self, width: int, height: int) -> None:
        """Ready for frames of this size (scratch, targets), before a live clock starts."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class TextureKeyer(Keyer, Protocol):
    """A keyer whose composite can stay in its OpenGL context's texture: a live view shows it
    as it is, without the read-back and the upload the CPU path needs."""

    def render_texture(
        self, frame: Frame, screen: ScreenMap, background: Layer
    ) -> moderngl.Texture: ...


def auto_takes_cpu(ctx: Any) -> str | None:
    """The renderer's name where ``auto`` takes the CPU path over this OpenGL context, else None.

    A software rasteriser (llvmpipe) runs the passes on the CPU's own cores, slower than the CPU
    path's threaded strips; on a single core the two are alike and the shaders stay.
    """
    from .gpu import software_renderer

    renderer = software_renderer(ctx)
    return renderer if renderer and cpu_workers() > 1 else None


def backend_for_context(backend: Backend, ctx: Any) -> Backend:
    """``auto`` resolved for a host's OpenGL context: ``cpu`` on a software rasteriser (as
    ``make_keyer`` decides), else ``gpu``; ``cpu`` and ``gpu`` as they are."""
    if backend == "auto":
        return "cpu" if auto_takes_cpu(ctx) else "gpu"
    return backend


def make_keyer(
    backend: Backend, params: KeyerParams, *, warn: Callable[[str], Any] | None = None
) -> Keyer:
    """``cpu``, ``gpu`` (fails if no OpenGL), or ``auto``.

    ``auto`` takes a hardware GPU if there is one. Without one it takes the CPU path: with a
    warning if there is no OpenGL at all, with a note if OpenGL is a software rasteriser
    (Mesa's llvmpipe), whose passes run on the same cores as numpy and are slower there than
    the CPU path's threaded strips (benchmarks/RESULTS.md). That a machine's OpenGL is a
    software one is remembered between runs (``glprobe``), so that ``auto`` does not make a
    context on every run only to learn it again.
    """

    def note(message: str, level: int = logging.INFO) -> None:
        """To ``warn`` as one line ("note: …", "warning: …"), or to the log."""
        lead = "note" if level < logging.WARNING else "warning"
        if warn is not None:
            warn(f"{lead}: {message}")
        else:
            log.log(level, message, extra={"lead": lead})

    if backend == "cpu":
        return cpu_keyer(params)
    if backend not in ("gpu", "auto"):
        raise ParameterError(f"backend {backend!r} is unknown; use auto, cpu or gpu")
    if backend == "auto" and cpu_workers() > 1:
        renderer = glprobe.remembered_software_renderer()
        if renderer:
            note(_software_note(renderer))
            return cpu_keyer(params)
    try:
        from .gpu import GpuKeyer, software_renderer

        keyer = GpuKeyer(params)
    except BackendUnavailableError as exc:
        if backend == "gpu":
            raise
        note(f"{exc}; using the CPU path", logging.WARNING)
        return cpu_keyer(params)
    glprobe.remember(software_renderer(keyer.ctx))
    renderer = auto_takes_cpu(keyer.ctx)
    if backend == "auto" and renderer:
        keyer.close()
        note(_software_note(renderer))
        return cpu_keyer(params)
    return keyer


def _software_note(renderer: str) -> str:
    return (
        f"OpenGL here is {renderer}, a software rasteriser on the CPU's own cores; "
        "using the CPU path, which is faster there (--backend gpu to use it anyway)"
    )


def cpu_keyer(params: KeyerParams) -> CpuKeyer:
    """The CPU keyer, its kernels loaded without numba's probes for SciPy and cffi (``numba_start``)."""
    with numba_start.quiet_probes():
        from .kernels import CpuKeyer

        return CpuKeyer(params)
