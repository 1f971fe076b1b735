"""One overall bar on a terminal (jobs done, failed and running, frames per second) and a
summary table at the end; nothing at all when the stream is not a terminal."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .results import JobResult

BAR = 24
REDRAW = 0.1  # seconds between redraws


class BatchProgress:
    """Implements Events for the bar; ``run`` forwards every event here."""

    def __init__(
        self, total: int, stream: TextIO | None = None, *, enabled: bool | None = None
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.start = time.perf_counter()
        self.running: set[int] = set()
        self.job_frames: dict[int, int] = {}  # frames so far of each job (running or finished)
        self.counts = {"done": 0, "failed": 0, "skipped": 0, "cancelled": 0, "invalid": 0}
        self._last = 0.0

    # Events
    def started(self, index: int, pid: int | None, host: str) -> None:
        self.running.add(index)
        self.draw()

    def frames(self, index: int, done: int, total: int | None) -> None:
        self.job_frames[index] = done
        self.draw()

    def finished(self, index: int, result: JobResult) -> None:
        self.running.discard(index)
        self.counts[result.status] = self.counts.get(result.status, 0) + 1
        if result.status == "done":
            self.job_frames[index] = result.frames
        else:
            self.job_frames.pop(index, None)
        self.draw(force=True)

    # Drawing
    def line(self) -> str:
        c = self.counts
        finished = c["done"] + c["failed"] + c["skipped"] + c["invalid"]
        filled = int(BAR * finished / self.total) if self.total else BAR
        elapsed = time.perf_counter() - self.start
        fps = sum(self.job_frames.values()) / elapsed if elapsed > 0 else 0.0
        parts = [f"{finished}/{self.total} jobs", f"{c['done']} done", f"{c['failed']} failed"]
        if c["skipped"]:
            parts.append(f"{c['skipped']} skipped")
        parts += [f"{len(self.running)} running", f"{fps:.1f} fps", _clock(elapsed)]
        return f"batch [{'#' * filled}{'.' * (BAR - filled)}] " + " · ".join(parts)

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < REDRAW:
            return
        self._last = now
        self.stream.write("\r\x1b[2K" + self.line())
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def summary_table(results: Sequence[JobResult], width: int = 48) -> str:
    """A table of every job: output, status, frames, seconds, fps, host, error."""
    rows = [("output", "status", "frames", "seconds", "fps", "host", "error")]
    for r in results:
        rows.append(
            (
                _short(Path(r.output).name, width),
                r.status,
                str(r.frames) if r.frames else "",
                f"{r.seconds:.1f}" if r.seconds else "",
                f"{r.fps:.1f}" if r.fps else "",
                r.host,
                _short(r.error, 70),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    right = {2, 3, 4}
    lines = []
    for k, row in enumerate(rows):
        cells = [
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def totals(results: Sequence[JobResult], seconds: float) -> str:
    """One line: counts by status, frames and frames per second over the wall time."""
    counts: dict[str, Any] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    frames = sum(r.frames for r in results if r.status == "done")
    fps = frames / seconds if seconds > 0 else 0.0
    by = ", ".join(
        f"{counts[s]} {s}"
        for s in ("done", "skipped", "failed", "invalid", "cancelled")
        if s in counts
    )
    return f"{len(results)} jobs: {by or 'none run'}; {frames} frames in {seconds:.1f} s ({fps:.1f} fps)"


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
