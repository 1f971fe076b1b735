"""Real-time chroma keying for green-screen avatar streams: PyAV in, GLSL or numpy keyer out.

The public API is what this module exports (``__all__``). The rendering names load on first
use (:pep:`562`), so that ``import chromakey`` — and every command line — stays light: the
compiled kernels, OpenGL and WebRTC come in only with what needs them.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from .core.errors import (
    BackendUnavailableError,
    ChromakeyError,
    InputError,
    InputNotFoundError,
    OutputError,
    ParameterError,
    StreamError,
)
from .core.params import KeyerParams

if TYPE_CHECKING:
    from .backgrounds.spec import parse_background
    from .io.sources.opening import open_source
    from .live.compositor import LiveCompositor
    from .pipeline import Pipeline, RenderStats, render

__version__ = "0.1.0"

# A library says nothing unless its host asks: the command line adds its own handler.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# Public name → the module that defines it (imported when the name is first asked for).
_LAZY = {
    "render": ".pipeline",
    "Pipeline": ".pipeline",
    "RenderStats": ".pipeline",
    "LiveCompositor": ".live.compositor",
    "open_source": ".io.sources.opening",
    "parse_background": ".backgrounds.spec",
}

__all__ = [
    "BackendUnavailableError",
    "ChromakeyError",
    "InputError",
    "InputNotFoundError",
    "KeyerParams",
    "LiveCompositor",
    "OutputError",
    "ParameterError",
    "Pipeline",
    "RenderStats",
    "StreamError",
    "__version__",
    "open_source",
    "parse_background",
    "render",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chromakey' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups find it without this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
