"""The catalogue tests' one check: a refused command is its exit status and one line on
stderr (no traceback), and nothing in the user's folder changed: no file written, none
touched (bytes and mtime)."""

from __future__ import annotations

import hashlib
import os
import string
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_cli(
    args: Sequence[str], *, cwd: Path | None = None, timeout: float = 120, **kw
) -> subprocess.CompletedProcess:
    """``python -m chromakey ARGS`` from this checkout, bytes in and out (names need not be
    UTF-8); a command that hangs fails the test at ``timeout``."""
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *args],
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=timeout,
        **kw,
    )


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under ``folder``: its type, and a file's size, mtime and content hash."""
    out: dict[str, tuple] = {}
    for base, dirs, files in os.walk(os.fsencode(folder)):
        for name in dirs + files:
            path = os.path.join(base, name)
            st = os.lstat(path)
            key = os.fsdecode(os.path.relpath(path, os.fsencode(folder)))
            if os.path.islink(path):
                out[key] = ("link", os.readlink(path))
            elif os.path.isfile(path):
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                out[key] = ("file", st.st_size, st.st_mtime_ns, digest)
            else:
                out[key] = ("other", st.st_mode)
    return out


def fill(args: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """A case's arguments with $names filled in (JSON's braces left alone)."""
    return [string.Template(a).safe_substitute(values) for a in args]


def assert_refused(result: subprocess.CompletedProcess, status: int, words: str) -> str:
    """The refusal's one stderr line, checked: status, one line, the words, no traceback."""
    err = (
        result.stderr.decode("utf-8", "replace")
        if isinstance(result.stderr, bytes)
        else result.stderr
    )
    lines = err.strip().splitlines()
    assert result.returncode == status, err[-2000:]
    assert len(lines) == 1, err[-2000:]
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert words in lines[0], lines[0][:2000]
    assert len(lines[0]) < 4000, len(lines[0])
    return lines[0]
