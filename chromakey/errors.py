"""One error hierarchy: every failure a user can cause is a ChromakeyError.

Each subclass also derives from the builtin a Python caller would catch
(``ValueError``, ``FileNotFoundError`` …), as PyAV does, and carries the exit
status the CLI returns for it. Messages say what was wrong and what to do.
"""

from __future__ import annotations


class ChromakeyError(Exception):
    """Base of every error chromakey raises on purpose."""

    exit_status = 1


class ParameterError(ChromakeyError, ValueError):
    """A keyer parameter, colour or background spec is invalid."""

    exit_status = 2


class InputNotFoundError(ChromakeyError, FileNotFoundError):
    """An input file (foreground or background) does not exist."""

    exit_status = 3


class InputError(ChromakeyError, ValueError):
    """An input exists but cannot be used: empty, not video, corrupt, too large."""

    exit_status = 4


class OutputError(ChromakeyError, OSError):
    """An output cannot be written where or how it was asked."""

    exit_status = 5


class BackendUnavailableError(ChromakeyError, RuntimeError):
    """The requested backend (OpenGL, a display) cannot be had on this machine."""

    exit_status = 6


class StreamError(ChromakeyError, ConnectionError):
    """A network source failed and could not be re-opened."""

    exit_status = 7
