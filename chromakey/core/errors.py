"""One error hierarchy: every failure a user can cause is a ChromakeyError.

Each subclass also derives from the builtin a Python caller would catch
(``ValueError``, ``FileNotFoundError`` …), as PyAV does, and carries the exit
status the CLI returns for it. Messages say what was wrong and what to do; the structured
fields (``path``, ``errno``, ``detail``: FFmpeg's or the OS's own words) let a caller act on
the error without parsing the message.
"""

from __future__ import annotations

import os


class ChromakeyError(Exception):
    """Base of every error chromakey raises on purpose."""

    exit_status = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | os.PathLike[str] | None = None,
        errno: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else os.fspath(path)
        self.detail = detail
        # OSError's own slot where the class has one (OutputError, InputNotFoundError).
        self.errno = errno


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
    """An output cannot be written where or how it was asked: a missing or read-only folder,
    a full disk, a reader that closed the pipe."""

    exit_status = 5


class BackendUnavailableError(ChromakeyError, RuntimeError):
    """The requested backend (OpenGL, a display) cannot be had on this machine."""

    exit_status = 6


class StreamError(ChromakeyError, ConnectionError):
    """A network source failed and could not be re-opened."""

    exit_status = 7
