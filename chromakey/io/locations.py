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
import stat
import sys
import urllib.parse
from pathlib import Path

from ..core.errors import InputError, InputNotFoundError, ParameterError
from ..core.quote import quoted, shown
from .names import check_path
from .stdio import is_stdio

# Schemes a foreground may use: the streaming protocols an avatar service serves.
STREAM_SCHEMES = ("http", "https", "rtmp", "rtmps", "rtsp", "rtsps", "srt", "udp", "tcp")
# Schemes a background may use: downloaded with urllib (redirects followed to these only).
DOWNLOAD_SCHEMES = ("http", "https")

# Longer than any URL a server takes (browsers stop near 8 KB too).
MAX_URL = 8192

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def scheme(location: str | os.PathLike[str]) -> str | None:
    """The lower-case ``name:`` prefix of something that is not an existing path, else None.

    One letter is a drive (``C:``), not a scheme.
    """
    text = os.fspath(location)
    m = _SCHEME.match(text)
    if m is None or len(m.group(1)) < 2 or path_exists(text):
        return None
    return m.group(1).lower()


def path_exists(text: str) -> bool:
    """Whether ``text`` names an existing file; a name the system cannot take names none."""
    try:
        return Path(text).exists()
    except (OSError, ValueError):
        return False


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
    if len(text) > MAX_URL:
        raise ParameterError(f"{quoted(text)}: a URL of {len(text)} characters is no URL we open")
    if found not in schemes:
        if "://" in text:
            raise ParameterError(
                f"{quoted(text)}: the {shown(found)}: protocol is not accepted for {what}; give a file "
                f"path or {_accepted(schemes)}"
            )
        raise ParameterError(
            f"{quoted(text)}: FFmpeg's '{shown(found)}:' protocol is not accepted for {what}; give a file "
            f"path or {_accepted(schemes)}"
        )
    parts = urllib.parse.urlsplit(text)
    if not parts.netloc or not text.lower().startswith(found + "://"):
        raise ParameterError(f"{quoted(text)}: not a valid URL; write it as {found}://host/path")
    return text


def check_file(text: str, *, kind: str = "a video file", what: str = "the input") -> Path:
    """An existing, non-empty regular file; the typed error a user can act on otherwise.

    A device or a pipe is refused: /dev/zero never ends, and FFmpeg probing a FIFO would
    wait on its writer. Standard input (``-``) is the way to stream one in.
    """
    check_path(text, what=what)
    path = Path(text)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputNotFoundError(
            f"{shown(text)}: no such file; check the path", path=text
        ) from None
    except OSError as exc:
        raise InputError(
            f"{shown(text)}: cannot read it ({exc.strerror}); check the path", path=text
        ) from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{shown(text)}: is a folder, not {kind}", path=text)
    if not stat.S_ISREG(st.st_mode):
        raise InputError(
            f"{shown(text)}: is a device or a pipe, not a regular file; give {kind}"
            + (", or stream it into standard input with -" if what == "the input" else ""),
            path=text,
        )
    if st.st_size == 0:
        raise InputError(f"{shown(text)}: the file is empty (0 bytes); give {kind}", path=text)
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
