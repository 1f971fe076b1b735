"""What aiohttp's server and the event loop would log, as one escaped line each.

aiohttp logs a malformed request (a lying Content-Length, bad chunks, a header past its
limit) with a traceback whose text quotes the peer's bytes: one such line was 128 KB of a
request body. An exception in an aiortc or aioice callback reaches the loop's handler, which
prints a traceback too. Both are routed here instead: one line, the exception's type and
its first words through :func:`chromakey.io.sources.webrtc.shown.shown`, no traceback.
Records below WARNING (aiohttp's notes on clients that went away) are dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .shown import shown

__all__ = ["OneLineLogger", "one_line", "loop_exception_handler"]


def one_line(message: str, exc: BaseException | None) -> str:
    """``message (Type: what it says)``, escaped and cut; the exception's text squashed."""
    if exc is None:
        return shown(message)
    said = " ".join(str(getattr(exc, "message", None) or exc).split())
    return f"{shown(message)} ({type(exc).__name__}: {shown(said)})"


class _Forward(logging.Handler):
    def __init__(self, prefix: str, log: Callable[[str], Any]) -> None:
        super().__init__(logging.WARNING)
        self.prefix = prefix
        self.sink = log

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        self.sink(f"{self.prefix}: {one_line(record.getMessage(), exc)}")


class OneLineLogger(logging.Logger):
    """A logger of its own (not in logging's tree: nothing propagates to the root's
    handlers) whose records reach ``log`` as one line, ``PREFIX: message (Type: text)``."""

    def __init__(self, prefix: str, log: Callable[[str], Any]) -> None:
        super().__init__(f"chromakey.{prefix}.http", logging.WARNING)
        self.propagate = False
        self.addHandler(_Forward(prefix, log))


def loop_exception_handler(prefix: str, log: Callable[[str], Any]) -> Callable[..., None]:
    """For ``loop.set_exception_handler``: what escaped a callback, as one line."""

    def handle(loop: Any, context: dict[str, Any]) -> None:
        log(f"{prefix}: {one_line(context.get('message', 'error'), context.get('exception'))}")

    return handle
