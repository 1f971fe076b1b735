"""The one translator from PyAV's and the OS's errors to ours, as PyAV's ``err_check`` turns
FFmpeg's return codes into its exception classes.

Every place that opens, decodes, encodes or writes media goes through :func:`input_error` /
:func:`output_error` (or the :func:`reading` / :func:`writing` context managers), so that one
FFmpeg failure reads the same wherever it happens: one line naming the file, FFmpeg's own
words in brackets, what to do; the error carries ``path``, ``errno`` and ``detail``.
"""

from __future__ import annotations

import contextlib
import errno as errnos
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av

from ..core.errors import ChromakeyError, InputError, InputNotFoundError, OutputError
from ..core.quote import shown

# What a failed read of media can raise besides our own errors.
MEDIA_ERRORS = (av.error.FFmpegError, OSError, EOFError, ValueError)


def av_message(exc: BaseException) -> str:
    """FFmpeg's (or the OS's) own words for ``exc``, on one line."""
    if isinstance(exc, av.error.ExitError):
        return "no data within the timeout"
    msg = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(msg).splitlines()[0]


def _errno(exc: BaseException) -> int | None:
    code = getattr(exc, "errno", None)
    return code if isinstance(code, int) else None


def input_error(
    exc: BaseException,
    name: str,
    *,
    doing: str = "open the input",
    hint: str = "check that it plays",
    corrupt: str = "not a video file, or truncated or corrupt",
) -> ChromakeyError:
    """The error to raise for ``exc`` while reading ``name``: a missing file is
    InputNotFoundError, data FFmpeg cannot parse is "``corrupt`` (its words); ``hint``",
    anything else "cannot ``doing`` (its words); ``hint``"."""
    if isinstance(exc, ChromakeyError):
        return exc
    msg, code = av_message(exc), _errno(exc)
    label = shown(name)
    if isinstance(exc, FileNotFoundError):
        return InputNotFoundError(
            f"{label}: no such file; check the path", path=name, errno=code, detail=msg
        )
    if isinstance(exc, av.error.InvalidDataError):
        return InputError(
            f"{label}: {corrupt} ({shown(msg)}); {hint}", path=name, errno=code, detail=msg
        )
    return InputError(
        f"{label}: cannot {doing} ({shown(msg)}); {hint}", path=name, errno=code, detail=msg
    )


def output_error(
    exc: BaseException, name: str, *, path: str | os.PathLike[str] | None = None
) -> OutputError:
    """The OutputError for ``exc`` while writing ``name`` (``path`` the file, if any): a full
    disk, a read-only or vanished folder and a closed pipe each say so and what to do."""
    if isinstance(exc, OutputError):
        return exc
    msg, code = av_message(exc), _errno(exc)
    label = shown(name)
    folder = Path(path).parent if path is not None and str(Path(path).parent) else Path(".")
    kw: dict[str, Any] = {
        "path": None if path is None else os.fspath(path),
        "errno": code,
        "detail": msg,
    }
    if code == errnos.ENOSPC or code == errnos.EDQUOT:
        return OutputError(
            f"{label}: the disk is full ({shown(msg)}); free some space or choose another output",
            **kw,
        )
    if code == errnos.EFBIG:
        return OutputError(
            f"{label}: the file grew past the size this process or file system allows ({shown(msg)}); "
            "choose another output",
            **kw,
        )
    gone = code in (errnos.ENOENT, errnos.ENOTDIR) and path is not None and not folder.is_dir()
    if code in (errnos.EROFS, errnos.EACCES, errnos.EPERM, errnos.ENOENT) and not gone:
        return OutputError(
            f"{label}: cannot write in {shown(folder)} ({shown(msg)}); choose another output", **kw
        )
    if gone:
        return OutputError(
            f"{label}: the folder {shown(folder)} does not exist any more ({shown(msg)}); create it or "
            "choose another output",
            **kw,
        )
    if code == errnos.EPIPE or isinstance(exc, BrokenPipeError):
        return OutputError(f"{label}: the reader closed the pipe (broken pipe)", **kw)
    return OutputError(f"{label}: cannot write the output ({shown(msg)})", **kw)


@contextlib.contextmanager
def reading(name: str, **how: str) -> Iterator[None]:
    """Translate what a read of ``name`` raises (see :func:`input_error`)."""
    try:
        yield
    except ChromakeyError:
        raise
    except MEDIA_ERRORS as exc:
        raise input_error(exc, name, **how) from exc


@contextlib.contextmanager
def writing(name: str, path: str | os.PathLike[str] | None = None) -> Iterator[None]:
    """Translate what a write of ``name`` raises (see :func:`output_error`)."""
    try:
        yield
    except ChromakeyError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise output_error(exc, name, path=path) from exc
