"""Names the operating system cannot take, refused before anything touches the disk.

A path longer than the system allows makes every call on it fail with ``File name too
long`` (and a ten-megabyte one takes seconds per call to fail); a NUL byte cannot be passed
to the system at all. Both are a mistake or an attack, never a file, so they are one line
up front.
"""

from __future__ import annotations

import os

from ..core.errors import ParameterError
from ..core.quote import shown


def _limit(name: str, default: int) -> int:
    try:
        return int(os.pathconf("/", name))
    except (OSError, ValueError, AttributeError):
        return default


# The longest file name (one component) and whole path, in bytes, this system takes.
NAME_MAX = _limit("PC_NAME_MAX", 255)
PATH_MAX = _limit("PC_PATH_MAX", 4096)


def check_path(path: str | os.PathLike[str], *, what: str = "the path") -> str:
    """``path`` as text when the system can take it as a file name; ParameterError otherwise.

    ``what`` names its role in the message (``"the input"``).
    """
    text = os.fspath(path)
    if "\0" in text:
        raise ParameterError(f"{shown(text)}: {what} holds a NUL byte, which no file name can")
    size = len(os.fsencode(text))
    if size >= PATH_MAX:
        raise ParameterError(
            f"{shown(text)}: {what} is {size} bytes long, longer than this system allows "
            f"({PATH_MAX - 1}); give a shorter path"
        )
    longest = max((len(os.fsencode(part)) for part in text.split(os.sep)), default=0)
    if longest > NAME_MAX:
        raise ParameterError(
            f"{shown(text)}: {what} has a name {longest} bytes long, longer than this system "
            f"allows ({NAME_MAX}); give a shorter name"
        )
    return text
