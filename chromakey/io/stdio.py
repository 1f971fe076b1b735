"""Standard input and output as a source and a sink: ``-`` on the command line.

FFmpeg reads standard input as its ``pipe:`` protocol, straight on the file descriptor.
Standard output is written from Python (:class:`StdoutWriter`), so that a signal can end a
render whose reader has stalled. Only the name ``-`` is taken: the URL policy that refuses
FFmpeg's other protocols (io.locations) stays as it is.
"""

from __future__ import annotations

import os
import sys

STDIO = "-"  # the name of standard input (as an input) or standard output (as an output)
STDIN_URL = "pipe:0"


def is_stdio(location: str | os.PathLike[str] | None) -> bool:
    """True when ``location`` names standard input or output."""
    return location is not None and os.fspath(location) == STDIO


def describe(location: str | os.PathLike[str], *, output: bool = False) -> str:
    """The name to use in messages: ``standard input``/``standard output`` for ``-``."""
    if is_stdio(location):
        return "standard output" if output else "standard input"
    return os.fspath(location)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null once its reader has gone (broken pipe).

    Whatever is still buffered for it (a muxer's trailer, Python's own flush at exit) then
    goes nowhere, instead of failing again or printing a second error.
    """
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(fd, sys.stdout.fileno() if sys.stdout is not None else 1)
    except (OSError, ValueError):
        os.dup2(fd, 1)
    finally:
        os.close(fd)


class StdoutWriter:
    """Standard output as the file object PyAV writes to: each write an ``os.write`` made
    from Python.

    FFmpeg's ``pipe:`` protocol retries a write that a signal interrupts (EINTR), so with
    the reader stalled and the pipe full no Python handler ever ran and only SIGKILL ended
    the render. Here the interrupted ``os.write`` runs the handler; its KeyboardInterrupt is
    kept in ``interrupted`` and an InterruptedError (an Exception, which PyAV carries back
    through FFmpeg) raised instead, for the sink to raise the interrupt again. After that,
    or :meth:`stop`, nothing more is written: a muxer's closing writes on an abandoned
    stream would wait on the same full pipe.
    """

    def __init__(self, fd: int = 1) -> None:
        self.fd = fd
        self.interrupted: KeyboardInterrupt | None = None
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True

    def write(self, data: bytes) -> int:
        if self.stopped:
            return len(data)
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except KeyboardInterrupt as exc:
            self.interrupted, self.stopped = exc, True
            raise InterruptedError("interrupted while writing to standard output") from None
        return len(data)
