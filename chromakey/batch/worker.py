"""What runs where a job runs (a pool process, a Ray task, or the driver itself): one job
through ``render``, file to file, its errors kept as its own result.

Nothing heavy is imported at module level: a pool process sets its keyer threads before
numba loads.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core import signals
from ..core.errors import ChromakeyError
from .jobs import Job
from .results import JobResult

if TYPE_CHECKING:
    from ..keying.select import Backend

# A worker reports its frames at most this often (seconds).
REPORT_EVERY = 0.25


def limit_threads(threads: int) -> None:
    """Give the keyer's numba kernels ``threads`` threads in this process.

    Before numba loads, its pool size (NUMBA_NUM_THREADS); after, numba.set_num_threads,
    which cannot go above the pool numba already started.
    """
    threads = max(1, int(threads))
    if "numba" not in sys.modules:
        os.environ["NUMBA_NUM_THREADS"] = str(threads)
        return
    import numba

    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]  # set at import


def _prepare_output(output: str) -> None:
    """Create the output's folder (a PNG sequence's parent folder): a batch lays out its tree."""
    p = Path(output)
    folder = p.parent.parent if "%" in p.name else p.parent
    folder.mkdir(parents=True, exist_ok=True)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, ChromakeyError):
        return text
    return f"internal error: {type(exc).__name__}: {text}"


def execute(
    job: Job,
    backend: Backend = "auto",
    threads: int | None = None,
    report: Callable[[int, int | None], Any] | None = None,
) -> JobResult:
    """Render ``job``; a failure is returned as a ``failed`` result, a Ctrl-C (KeyboardInterrupt,
    which is how Ray cancels a task too) as ``cancelled``, with no partial output either way."""
    from ..core.color import InputColour
    from ..pipeline import render
    from .jobs import keyer_params

    if threads is not None:
        limit_threads(threads)
    host, pid = socket.gethostname(), os.getpid()
    start = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int | None) -> None:
        now = time.perf_counter()
        if report is not None and (now - last[0] >= REPORT_EVERY or done == total):
            last[0] = now
            report(done, total)

    try:
        _prepare_output(job.output)
        stats = render(
            job.input,
            job.output,
            background=job.background,
            fit=job.fit,
            play_style=job.play_style,
            params=keyer_params(job.params),
            input_colour=InputColour.parse(**job.input_colour),
            backend=backend,
            progress=progress,
            warn=lambda message: None,  # the backend taken is in the result
        )
    except KeyboardInterrupt:
        signals.discard_tracked()  # a partial made the instant before its sink could abort it
        return JobResult.of(
            job, "cancelled", seconds=time.perf_counter() - start, host=host, pid=pid,
            error="interrupted; run the batch again to finish it",
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - each job's errors stay its own
        return JobResult.of(
            job, "failed", seconds=time.perf_counter() - start, host=host, pid=pid,
            error=_one_line(exc),
        )  # fmt: skip
    seconds = time.perf_counter() - start
    result = JobResult.of(
        job, "done", frames=stats.frames, seconds=seconds,
        fps=stats.frames / seconds if seconds > 0 else 0.0, backend=stats.backend,
        host=host, pid=pid,
    )  # fmt: skip
    result.stamp_output()
    return result


# --- a pool process ---------------------------------------------------------------------------


class _PoolState:
    events: Any = None  # multiprocessing queue to the driver
    stop: Any = None  # multiprocessing event: the driver was interrupted
    running = False


def _running() -> bool:
    return _PoolState.running


def init_pool_worker(events: Any, stop: Any, threads: int, cpus: Any) -> None:
    """A pool process's start: its keyer threads, its share of the cores, its signal handler."""
    _PoolState.events, _PoolState.stop = events, stop
    if cpus is not None:
        mine = cpus.get()  # the slice of the cores this worker keeps to (or None)
        if mine:
            os.sched_setaffinity(0, mine)
    limit_threads(threads)
    # The first SIGINT/SIGTERM/SIGHUP stops the running job (its sink removes the partial
    # file); between jobs it is only recorded, and the next job is not started.
    signals.install(when=_running)
    events.put(("worker", os.getpid(), None, None))


def pool_execute(index: int, job: Job, backend: Backend, threads: int) -> JobResult:
    """``execute`` in a pool process, with its frames sent to the driver."""
    events = _PoolState.events
    if _PoolState.stop.is_set() or signals.received() is not None:
        return JobResult.of(job, "cancelled", error="interrupted before it started")
    events.put(("started", index, os.getpid(), socket.gethostname()))
    _PoolState.running = True
    try:
        return execute(
            job, backend, None, lambda done, total: events.put(("frames", index, done, total))
        )
    finally:
        _PoolState.running = False
