"""Standard input and output as a source and a sink: ``-`` on the command line.

FFmpeg reads and writes them as its ``pipe:`` protocol, straight on the file descriptors
(no Python call per packet). Only the name ``-`` is taken: the URL policy that refuses
FFmpeg's other protocols (io.locations) stays as it is.
"""

from __future__ import annotations

import os
import sys

STDIO = "-"  # the name of standard input (as an input) or standard output (as an output)
STDIN_URL = "pipe:0"
STDOUT_URL = "pipe:1"


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
