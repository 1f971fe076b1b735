"""What a live view measured: frames shown and dropped, and per-frame latency and keying
times over a sliding window (medians and percentiles for status lines)."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

import numpy as np

_WINDOW = 600  # per-frame samples kept for medians and percentiles


def _percentile(values: deque[float], q: float) -> float | None:
    return float(np.percentile(np.fromiter(values, float), q)) if values else None


@dataclass
class LiveStats:
    """Counts since the start and the last ``_WINDOW`` per-frame times (ms)."""

    shown: int = 0  # new frames keyed and shown
    rendered: int = 0  # keyings, including re-renders of a held frame after a change
    dropped_late: int = 0  # due together with a newer frame: skipped
    dropped_by_source: int = 0  # dropped by the source's queue (drop mode)
    resyncs: int = 0  # clock re-anchored after a stall or a timestamp jump
    latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    wait_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    render_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    _shown_at: deque[float] = field(default_factory=lambda: deque(maxlen=240), repr=False)

    def count_shown(self, at: float) -> None:
        """One more frame on show, complete at ``at`` (perf_counter seconds)."""
        self.shown += 1
        self._shown_at.append(at)

    @property
    def dropped(self) -> int:
        return self.dropped_late + self.dropped_by_source

    def fps(self, now: float | None = None, span: float = 2.0) -> float:
        """Frames shown per second of wall time over the last ``span`` seconds."""
        now = time.perf_counter() if now is None else now
        recent = [t for t in self._shown_at if now - t <= span]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def median(self, name: str) -> float | None:
        return _percentile(getattr(self, name), 50)

    def percentile(self, name: str, q: float) -> float | None:
        return _percentile(getattr(self, name), q)

    def summary(self) -> str:
        def ms(name: str) -> str:
            v = self.median(name)
            return "–" if v is None else f"{v:.0f}"

        lat95 = self.percentile("latency_ms", 95)
        return (
            f"{self.fps():.1f} fps, {self.shown} shown, dropped {self.dropped_late} late + "
            f"{self.dropped_by_source} by source, decode→texture {ms('latency_ms')} ms "
            f"(p95 {'–' if lat95 is None else f'{lat95:.0f}'}), render {ms('render_ms')} ms"
        )
