"""Outputs are written under a temporary name beside the target and moved into place when
complete, so an interrupted render never leaves half a file at the name the user asked for.

The temporary name says who writes it: ``.{stem}.partial-{pid}-{start}-{token}{ext}``, with
the writer's process id and that process's start time (in clock ticks since boot, from
``/proc``: a pid alone is reused). A run killed with SIGKILL cannot remove its partial, so
the next run for the same output finds it: one whose writer is gone and which belongs to
this user is removed, and named in a note; one still being written, or not ours, is named
and left alone.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core import signals
from ...core.errors import OutputError
from ..media import output_error

Warn = Callable[[str], Any]

log = logging.getLogger(__name__)


def _note(message: str) -> None:
    log.info(message)


def _start_ticks(pid: int) -> int | None:
    """A process's start time (clock ticks since boot), or None if it is not running."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return None
    # The command name (field 2) is in brackets and may hold spaces: split after it.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])  # field 22 of proc(5), counted from field 3


def _writer_tag() -> str:
    pid = os.getpid()
    return f"{pid}-{_start_ticks(pid) or 0}"


_PARTIAL = re.compile(r"\.partial-(\d+)-(\d+)-[0-9a-f]{8}")


@dataclass(frozen=True)
class StalePartial:
    """A partial file or folder left beside an output."""

    path: Path
    pid: int | None  # the writer's, when the name says (None: not named by us)
    alive: bool  # its writer is still running

    @property
    def ours(self) -> bool:
        """Named by chromakey, and owned by this user: safe to remove once its writer is gone."""
        try:
            return self.pid is not None and self.path.lstat().st_uid == os.geteuid()
        except OSError:
            return False


def _writer_alive(pid: int, ticks: int) -> bool:
    now = _start_ticks(pid)
    return now is not None and (ticks == 0 or now == ticks)


def find_stale(path: Path, *, prefix: str, suffix: str) -> list[StalePartial]:
    """Partials of the output ``path`` named ``{prefix}.partial-…{suffix}`` in its folder."""
    folder = path.parent if str(path.parent) else Path(".")
    found = []
    try:
        entries = sorted(folder.glob(f"{glob_escape(prefix)}.partial-*{glob_escape(suffix)}"))
    except OSError:
        return []
    for entry in entries:
        m = _PARTIAL.fullmatch(entry.name[len(prefix) : len(entry.name) - len(suffix) or None])
        if m is None:
            found.append(StalePartial(entry, None, False))
            continue
        pid, ticks = int(m[1]), int(m[2])
        found.append(StalePartial(entry, pid, _writer_alive(pid, ticks)))
    return found


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        for child in entry.iterdir():
            child.unlink(missing_ok=True)
        entry.rmdir()
    else:
        entry.unlink(missing_ok=True)


def clear_stale(path: Path, *, prefix: str, suffix: str, warn: Warn | None = None) -> None:
    """Remove the partials a killed run of ours left for ``path``, and name every one found."""
    say = warn or _note
    for stale in find_stale(path, prefix=prefix, suffix=suffix):
        if stale.alive:
            say(
                f"{stale.path} is being written by a running process "
                f"(pid {stale.pid}) to the same output; left alone"
            )
        elif stale.ours:
            try:
                _remove(stale.path)
            except OSError as exc:
                say(f"{stale.path}: a stale partial output, not removed ({exc})")
                continue
            say(
                f"removed {stale.path}, a partial output left by an earlier "
                f"run (pid {stale.pid}) that was killed"
            )
        else:
            say(
                f"{stale.path} looks like a partial output of an earlier run; "
                "left alone (not ours to remove)"
            )


def partial_name(path: Path, *, prefix: str | None = None, suffix: str | None = None) -> str:
    prefix = f".{path.stem}" if prefix is None else prefix
    suffix = path.suffix if suffix is None else suffix
    return f"{prefix}.partial-{_writer_tag()}-{secrets.token_hex(4)}{suffix}"


def check_folder(path: Path) -> None:
    """The output's folder exists and is writable: the error before any work is done."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"{path}: the folder {folder} does not exist; create it first", path=path)
    if not os.access(folder, os.W_OK):
        raise OutputError(
            f"{path}: the folder {folder} is not writable; choose another output", path=path
        )


def create_partial(path: str | os.PathLike[str], *, warn: Warn | None = None) -> Path:
    """A new empty file beside ``path``, named for this writer, to write and then move into
    place with :func:`publish`; its mode comes from the umask, as the finished output's
    should. Partials of earlier, killed runs for the same output are cleared first."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    clear_stale(path, prefix=f".{path.stem}", suffix=path.suffix, warn=warn)
    for _ in range(100):
        tmp = folder / partial_name(path)
        signals.track(tmp)  # before it exists: no instant where it is there, unknown
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            signals.untrack(tmp)
            continue
        except OSError as exc:
            signals.untrack(tmp)
            raise output_error(exc, str(path), path=path) from exc
        os.close(fd)
        return tmp
    raise OutputError(
        f"{path}: cannot create a temporary file in {folder}; choose another output", path=path
    )


def publish(tmp: Path, path: Path) -> None:
    """Move a complete partial into place (atomic on one file system); OutputError if the
    folder went away or turned read-only meanwhile, with the partial removed."""
    try:
        os.replace(tmp, path)
    except OSError as exc:
        discard(tmp)
        raise output_error(exc, str(path), path=path) from exc
    signals.untrack(tmp)


def discard(tmp: Path) -> None:
    """Remove a partial that will not be published (a file, or a PNG sequence's folder)."""
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)
    signals.untrack(tmp)
