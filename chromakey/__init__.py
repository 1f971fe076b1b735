"""Real-time chroma keying for green-screen avatar streams: PyAV in, GLSL or numpy keyer out."""

from .core.errors import (
    BackendUnavailableError,
    ChromakeyError,
    InputError,
    InputNotFoundError,
    OutputError,
    ParameterError,
    StreamError,
)
from .params import KeyerParams

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "ChromakeyError",
    "InputError",
    "InputNotFoundError",
    "KeyerParams",
    "OutputError",
    "ParameterError",
    "StreamError",
    "__version__",
]
