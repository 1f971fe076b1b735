"""The one rule for what an output may be written over: nothing the user gave us to read.

An output is refused when it is an input, a background file (however the background names
it), the results file or the manifest, or when it names a folder. Files are compared by
resolved path and by inode, so ``./x`` for ``x``, a symbolic link and a hard link all count
as the same file. A PNG pattern is refused when any file it would write is one of them.
``render`` and ``batch`` both ask :func:`check_output`; the refusal is a one-line
ParameterError raised before anything is opened, so nothing of the user's is touched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ParameterError
from ..core.quote import shown
from .names import check_path
from .stdio import is_stdio

_FRAME_NUMBER = re.compile(r"%0?\d*d")


@dataclass(frozen=True)
class Protected:
    """A file an output must never be: ``role`` says what it is in a message
    (``"the background"``, ``"an input of jobs.jsonl:3"``)."""

    role: str
    path: str


def _identity(path: str | os.PathLike[str]) -> tuple[Path, tuple[int, int] | None]:
    """The resolved path and, for an existing file, its (device, inode)."""
    p = Path(path)
    try:
        resolved = p.resolve()
    except (OSError, RuntimeError, ValueError):
        resolved = p.absolute()
    try:
        st = os.stat(p)
    except (OSError, ValueError):
        return resolved, None
    return resolved, (st.st_dev, st.st_ino)


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` are one file: the same resolved path, or the same inode (a
    hard link). ``-`` (standard input or output) is never a file."""
    if is_stdio(a) or is_stdio(b):
        return False
    path_a, inode_a = _identity(a)
    path_b, inode_b = _identity(b)
    return path_a == path_b or (inode_a is not None and inode_a == inode_b)


def is_pattern(output: str | os.PathLike[str]) -> bool:
    """A numbered PNG sequence (``out/%05d.png``), whose files the pattern names."""
    return "%" in Path(os.fspath(output)).name


def _pattern_hits(output: str, protected: Path, inode: tuple[int, int] | None) -> bool:
    """Whether the PNG pattern ``output`` would write a file that is ``protected``."""
    folder, _ = _identity(Path(output).parent)
    name = re.compile(
        "".join(
            r"\d+" if _FRAME_NUMBER.fullmatch(part) else re.escape(part.replace("%%", "%"))
            for part in re.split(r"(%0?\d*d)", Path(output).name)
        )
    )
    if protected.parent == folder and name.fullmatch(protected.name):
        return True
    if inode is None or not folder.is_dir():
        return False
    try:
        frames = [e for e in os.scandir(folder) if name.fullmatch(e.name)]
    except OSError:
        return False
    for entry in frames:
        try:
            st = entry.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) == inode:
            return True
    return False


class Guard:
    """The files no output may be, each resolved and stat'ed once: a batch of 300 jobs asks
    about 300 outputs against some 600 files it reads."""

    def __init__(self, protected: Iterable[Protected] = ()) -> None:
        self.items: list[tuple[Protected, Path, tuple[int, int] | None]] = []
        self._by_path: dict[Path, Protected] = {}
        self._by_inode: dict[tuple[int, int], Protected] = {}
        for item in protected:
            if is_stdio(item.path):
                continue
            try:
                check_path(item.path)
            except ParameterError:
                continue  # a name the system cannot take is no file to protect
            path, inode = _identity(item.path)
            self.items.append((item, path, inode))
            self._by_path.setdefault(path, item)
            if inode is not None:
                self._by_inode.setdefault(inode, item)

    def hit(self, output: str) -> Protected | None:
        """The protected file that writing ``output`` would overwrite, if any."""
        if is_pattern(output):
            for item, path, inode in self.items:
                if _pattern_hits(output, path, inode):
                    return item
            return None
        path, inode = _identity(output)
        found = self._by_path.get(path)
        if found is None and inode is not None:
            found = self._by_inode.get(inode)
        return found

    def check(
        self,
        output: str | os.PathLike[str],
        *,
        what: str = "the output",
        advice: str = "choose another output name",
        folder_advice: str = "give a file name, like keyed.mp4",
    ) -> None:
        """ParameterError when writing ``output`` would lose a file of the user's: when it is
        one of the protected files or names a folder (ends in ``/`` or is one). ``advice`` and
        ``folder_advice`` end the message (batch's differ from render's)."""
        if is_stdio(output):
            return
        text = check_path(output, what=what)
        if text.endswith(("/", os.sep)) or (not is_pattern(text) and os.path.isdir(text)):
            raise ParameterError(f"{shown(text)}: {what} is a folder; {folder_advice}")
        item = self.hit(text)
        if item is not None:
            same = "" if shown(text) == shown(item.path) else f" ({shown(item.path)})"
            raise ParameterError(
                f"{shown(text)}: {what} is {item.role}{same}, which would be overwritten; {advice}"
            )


def check_output(
    output: str | os.PathLike[str], protected: Iterable[Protected] = (), **how: str
) -> None:
    """:meth:`Guard.check` for one output (``what``, ``advice``, ``folder_advice``)."""
    Guard(protected).check(output, **how)
