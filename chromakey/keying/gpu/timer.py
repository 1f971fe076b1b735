"""PassTimer: the GPU's own time for each stage of a GpuKeyer's frame, by OpenGL timer queries.

A wall clock around ``ctx.finish()`` after every draw measures the driver's round trip as
much as the draw, and the finish itself stalls the pipeline it measures. A ``GL_TIME_ELAPSED``
query (moderngl's ``ctx.query(time=True)``) around each draw is timed by the GPU, and the
draws of a frame are queued without a stall; the results are read once the frame is done.
Such queries cannot nest, so the frame's total is the sum of its spans, not a query of its
own. A keyer without a timer issues no query at all.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, cast

import moderngl

from ...core.errors import ParameterError

UPLOAD = "upload"  # the frame's planes (Y, U, V or one RGB plane) and a new background image
READBACK = "readback"  # the composite read into host memory (render(); render_texture has none)
_OFF = nullcontext()  # what a keyer without a timer enters: no query, no allocation


@dataclass(frozen=True)
class FrameTimes:
    """One frame's GPU nanoseconds: the upload, each pass in the order drawn, the read-back
    (None when the frame stayed on the GPU)."""

    upload: int
    passes: tuple[tuple[str, int], ...]
    readback: int | None

    @property
    def passes_total(self) -> int:
        return sum(ns for _, ns in self.passes)

    @property
    def total(self) -> int:
        return self.upload + self.passes_total + (self.readback or 0)

    def spans(self) -> list[tuple[str, int]]:
        """(name, ns) of every span in order: upload, the passes, readback if there was one."""
        tail = [] if self.readback is None else [(READBACK, self.readback)]
        return [(UPLOAD, self.upload), *self.passes, *tail]


class PassTimer:
    """Give one to ``GpuKeyer(timer=…)``; each frame it renders adds a :class:`FrameTimes`
    to ``frames``. Its queries belong to that keyer's context, and go with it; ``frames``
    stays readable after ``keyer.close()``. Reading a frame's results waits for the GPU to
    finish that frame, once per frame, as a read-back does anyway."""

    def __init__(self) -> None:
        self.frames: list[FrameTimes] = []
        self._ctx: moderngl.Context | None = None
        self._pool: list[moderngl.Query] = []  # reused frame after frame, by position
        self._names: list[str] = []  # this frame's spans so far

    def bind(self, ctx: moderngl.Context) -> None:
        if self._ctx is not None and self._ctx is not ctx:
            raise ParameterError("a PassTimer times one keyer's context; give each keyer its own")
        self._ctx = ctx

    def span(self, name: str) -> moderngl.Query:
        """The query that times ``name`` next: ``with timer.span(name): …draw…``. The upload
        starts a frame: the spans of one that raised before its end are dropped."""
        assert self._ctx is not None, "bind() first (GpuKeyer does)"
        if name == UPLOAD:
            self._names = []
        i = len(self._names)
        if i == len(self._pool):
            self._pool.append(self._ctx.query(time=True))
        self._names.append(name)
        return self._pool[i]

    def end_frame(self) -> FrameTimes:
        """Collect the frame's spans (waits for their results) and start the next frame."""
        spans = [(n, int(q.elapsed)) for n, q in zip(self._names, self._pool, strict=False)]
        self._names = []
        upload = sum(ns for n, ns in spans if n == UPLOAD)
        readback = [ns for n, ns in spans if n == READBACK]
        passes = tuple((n, ns) for n, ns in spans if n not in (UPLOAD, READBACK))
        times = FrameTimes(upload, passes, readback[0] if readback else None)
        self.frames.append(times)
        return times

    def release(self) -> None:
        """Forget the queries (moderngl 5 has no release for one: they go with the context)."""
        self._pool = []
        self._names = []
        self._ctx = None


def timed(timer: PassTimer | None, name: str) -> AbstractContextManager[Any, Any]:
    """``with timed(keyer.timer, name):`` times what it holds if there is a timer."""
    if timer is None:
        return _OFF
    # A query is a context manager (moderngl's stubs do not say so).
    return cast(AbstractContextManager[Any, Any], timer.span(name))


def mean_ms(frames: Sequence[FrameTimes]) -> list[tuple[str, float]]:
    """Mean milliseconds of each span over ``frames`` (in the first frame's order), then
    ``passes`` and ``frame``: means, so that the rows add up to the frame's total."""
    if not frames:
        return []
    names = [n for n, _ in frames[0].spans()]
    per = {n: [0.0] * len(frames) for n in names}
    for i, f in enumerate(frames):
        for n, ns in f.spans():
            per.setdefault(n, [0.0] * len(frames))[i] += ns
    rows = [(n, statistics.fmean(v) / 1e6) for n, v in per.items()]
    rows.append(("passes", statistics.fmean(f.passes_total for f in frames) / 1e6))
    rows.append(("frame", statistics.fmean(f.total for f in frames) / 1e6))
    return rows
