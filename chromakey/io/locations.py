"""The one URL policy: which names are files, which are URLs, and which URLs we open.

FFmpeg reads any ``name:`` prefix as one of its protocols (``file:``, ``concat:``, ``data:``,
``pipe:``, ``subfile:`` …), and some of them read local files or chain other inputs. So a
name that is not an existing path and starts with a scheme is a URL, and only the schemes
listed here are let through; everything else is refused before FFmpeg sees it. Foregrounds
may be streams (FFmpeg opens them, with timeouts); backgrounds are downloaded by urllib,
never by FFmpeg, so their list is http(s) only.
"""

from __future__ import annotations

import os
import re
import sys
import urllib.parse
from pathlib import Path

from ..core.errors import InputError, InputNotFoundError, ParameterError
from .stdio import is_stdio

# Schemes a foreground may use: the streaming protocols an avatar service serves.
STREAM_SCHEMES = ("http", "https", "rtmp", "rtmps", "rtsp", "rtsps", "srt", "udp", "tcp")
# Schemes a background may use: downloaded with urllib (redirects followed to these only).
DOWNLOAD_SCHEMES = ("http", "https")

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def scheme(location: str | os.PathLike[str]) -> str | None:
    """The lower-case ``name:`` prefix of something that is not an existing path, else None.

    One letter is a drive (``C:``), not a scheme.
    """
    text = os.fspath(location)
    m = _SCHEME.match(text)
    if m is None or len(m.group(1)) < 2 or Path(text).exists():
        return None
    return m.group(1).lower()


def is_network(location: str | os.PathLike[str]) -> bool:
    """True for a ``scheme://`` URL of a streaming protocol we open (STREAM_SCHEMES)."""
    text = os.fspath(location)
    return "://" in text and scheme(text) in STREAM_SCHEMES


def _accepted(schemes: tuple[str, ...]) -> str:
    names = [s + "://" for s in schemes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def check_url(text: str, schemes: tuple[str, ...], *, what: str) -> str:
    """``text`` as a URL of one of ``schemes`` with a host; ParameterError otherwise.

    ``what`` names the role in the message (``"a background"``).
    """
    found = scheme(text) or ""
    if found not in schemes:
        if "://" in text:
            raise ParameterError(
                f"{text!r}: the {found}: protocol is not accepted for {what}; give a file "
                f"path or {_accepted(schemes)}"
            )
        raise ParameterError(
            f"{text!r}: FFmpeg's '{found}:' protocol is not accepted for {what}; give a file "
            f"path or {_accepted(schemes)}"
        )
    parts = urllib.parse.urlsplit(text)
    if not parts.netloc or not text.lower().startswith(found + "://"):
        raise ParameterError(f"{text!r}: not a valid URL; write it as {found}://host/path")
    return text


def check_file(text: str, *, kind: str = "a video file") -> Path:
    """An existing, non-empty file; the typed error a user can act on otherwise."""
    path = Path(text)
    if not path.exists():
        raise InputNotFoundError(f"{text}: no such file; check the path", path=text)
    if path.is_dir():
        raise InputError(f"{text}: is a folder, not {kind}", path=text)
    if path.stat().st_size == 0:
        raise InputError(f"{text}: the file is empty (0 bytes); give {kind}", path=text)
    return path


def check_location(
    location: str | os.PathLike[str],
    *,
    schemes: tuple[str, ...] = STREAM_SCHEMES,
    what: str = "a foreground",
    kind: str = "a video file",
) -> str:
    """A file that exists and is not empty, a URL with one of ``schemes``, or ``-`` (standard
    input, which no other FFmpeg protocol name may reach)."""
    text = os.fspath(location)
    if is_stdio(text):
        if sys.stdin is not None and sys.stdin.isatty():
            raise InputError(
                "standard input is a terminal; pipe a video into it (… | chromakey render - …)"
            )
        return text
    if scheme(text) is not None:
        return check_url(text, schemes, what=what)
    check_file(text, kind=kind)
    return text
