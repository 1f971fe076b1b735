"""The one rule for quoting a user's value in a message: escaped and cut short.

A name or spec comes from the user (or from a file a stranger sent them): it may hold
newlines, terminal escape sequences, bytes that are not UTF-8 or ten megabytes of text.
Echoed raw it would break the one-line rule, repaint the terminal or flood stderr, so every
message shows it through :func:`shown` (or :func:`quoted`, with quotes).
"""

from __future__ import annotations

import os
import reprlib
from typing import Any

# How many characters of a value a message shows (a long path fits); a longer one is cut in the
# middle.
MAX_SHOWN = 160
# A whole message is never longer than this (a guard for values no caller quoted).
MAX_MESSAGE = 2000

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxstring = MAX_SHOWN
_repr.maxother = MAX_SHOWN
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 6


def _escape_char(ch: str) -> str:
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if ch.isprintable():
        return ch
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def escape(text: str) -> str:
    """``text`` on one line with nothing a terminal acts on: control characters, escape
    sequences and undecodable bytes written as backslash escapes."""
    if text.isprintable():
        return text
    return "".join(_escape_char(ch) for ch in text)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit * 2 // 3]
    tail = text[-(limit // 4) :]
    return f"{head}…{tail} ({len(text)} characters)"


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """A user's value as a message shows it: a string or path escaped and cut to about
    ``limit`` characters (the cut says the full length); anything else as a short repr."""
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    elif isinstance(value, os.PathLike):
        value = os.fspath(value)
        if isinstance(value, bytes):
            value = os.fsdecode(value)
    if not isinstance(value, str):
        try:
            value = _repr.repr(value)
        except (RecursionError, ValueError):
            value = f"<{type(value).__name__}>"
    # Cut before escaping (a 10 MB value is not escaped whole), then escape what is kept.
    return escape(_cut(value, limit))


def quoted(value: Any, limit: int = MAX_SHOWN) -> str:
    """:func:`shown`, a string in single quotes (as ``repr`` would mark it off)."""
    if isinstance(value, (str, bytes, os.PathLike)):
        return f"'{shown(value, limit)}'"
    return shown(value, limit)


def one_line(message: str) -> str:
    """A whole message made safe to print: escaped onto one line, at most MAX_MESSAGE
    characters. A net under :func:`shown`; the CLI passes every error through it."""
    return escape(_cut(message, MAX_MESSAGE))
