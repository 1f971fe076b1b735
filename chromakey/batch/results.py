"""The results file: one JSON line per job finished, appended and flushed as each one ends, so
that a re-run knows what is done even after a crash or a Ctrl-C."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from ..core.errors import OutputError
from .jobs import Job

# What a job ended as. ``skipped``: done by an earlier run; ``invalid``: failed its checks
# (with --skip-invalid); ``cancelled``: stopped by Ctrl-C, to be run again.
STATUSES = ("done", "failed", "skipped", "invalid", "cancelled")


@dataclass
class JobResult:
    """One job's outcome, as ``run`` returns it and the results file records it."""

    input: str
    output: str
    status: str
    frames: int = 0
    seconds: float = 0.0
    fps: float = 0.0
    backend: str = ""
    error: str = ""  # the one-line error of a failed or invalid job
    host: str = ""  # the worker's host name
    pid: int = 0
    line: int | None = None  # the job's manifest line
    fingerprint: str = ""
    size: int | None = None  # the finished output's bytes and mtime: a changed file is redone
    mtime_ns: int | None = None
    finished_at: float = 0.0

    @classmethod
    def of(cls, job: Job, status: str, **values: Any) -> JobResult:
        return cls(
            input=job.input,
            output=job.output,
            status=status,
            line=job.line,
            fingerprint=job.fingerprint(),
            finished_at=time.time(),
            **values,
        )

    def stamp_output(self) -> None:
        """Note the output's size and mtime (a PNG sequence: its first frame's)."""
        st = _output_stat(self.output)
        if st is not None:
            self.size, self.mtime_ns = st

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _output_stat(output: str) -> tuple[int, int] | None:
    path = Path(output % 1) if "%" in Path(output).name else Path(output)
    try:
        st = path.stat()
    except (OSError, TypeError, ValueError):
        return None
    return st.st_size, st.st_mtime_ns


def record_line(record: dict[str, Any]) -> str:
    """One JSON line, readable UTF-8. A file name that is not UTF-8 (a byte Python holds as a
    lone surrogate) is written as a ``\\udcXX`` escape instead: still valid JSON, and read back
    as the very name, so a re-run finds the job done."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record, ensure_ascii=True)
    return line + "\n"


class ResultsFile:
    """Appends results as JSON Lines; reads back the last record per output."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._done: dict[str, JobResult] = {}
        if self.path.is_dir():
            raise OutputError(f"{self.path}: is a folder; give --results a file name")
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                try:
                    rec = JobResult.from_dict(json.loads(raw))
                except (json.JSONDecodeError, TypeError):
                    continue  # a line cut short by a crash: that job simply runs again
                if rec.status == "done":
                    self._done[rec.output] = rec
                elif rec.status in ("failed", "invalid"):
                    self._done.pop(rec.output, None)

    def finished(self, job: Job) -> JobResult | None:
        """The earlier run's record when it finished this very job and its output is still the
        file that run wrote; else None (run it)."""
        rec = self._done.get(job.output)
        if rec is None or rec.fingerprint != job.fingerprint():
            return None
        st = _output_stat(job.output)
        if st is None or (rec.size, rec.mtime_ns) != st:
            return None
        return rec

    def append(self, result: JobResult) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = record_line(asdict(result))
        try:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise OutputError(
                f"{self.path}: cannot record results ({exc.strerror or exc})"
            ) from exc
        if result.status == "done":
            self._done[result.output] = result
        elif result.status in ("failed", "invalid"):
            self._done.pop(result.output, None)
