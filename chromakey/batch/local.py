"""The default executor: a pool of processes on this machine, sized so that workers × keyer
threads ≈ the cores, and one executor that runs the jobs in the calling process itself."""

from __future__ import annotations

import concurrent.futures as cf
import functools
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import BackendUnavailableError, ParameterError
from .events import Events
from .jobs import Job
from .results import JobResult
from .worker import execute, init_pool_worker, pool_execute

if TYPE_CHECKING:
    from ..keying.select import Backend

# How long cancelled jobs get to remove their partial files after a Ctrl-C (seconds).
CANCEL_WAIT = 60.0
# A job that was running when its pool broke twice (a worker killed, out of memory) fails.
POOL_RETRIES = 1


def usable_cpus() -> list[int]:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


@dataclass(frozen=True)
class Plan:
    workers: int
    threads: int  # keyer threads per worker
    cpus: tuple[tuple[int, ...], ...] | None  # each worker's cores, when pinned


def plan(
    jobs: int, cpus: Sequence[int], workers: int | None, threads: int | None, pin: bool
) -> Plan:
    """Workers × keyer threads ≈ cores: one thread per worker and a worker per core, unless
    there are fewer jobs than cores (then the spare cores go to the jobs' keyers).

    One thread each keys most frames per second in all: a job's decoder and encoder run
    beside its keyer, and whole jobs side by side leave no core waiting at a frame's end.
    """
    n = len(cpus)
    if workers is not None and workers < 1:
        raise ParameterError(f"--workers {workers}: give at least 1")
    if threads is not None and threads < 1:
        raise ParameterError(f"keyer threads {threads}: give at least 1")
    if workers is None:
        workers = max(1, min(jobs, n // (threads or 1)))
    workers = max(1, min(workers, max(jobs, 1)))
    if threads is None:
        threads = max(1, n // workers)
    slices = None
    if pin and workers * threads <= n and workers > 1:
        slices = tuple(tuple(cpus[i * threads : (i + 1) * threads]) for i in range(workers))
    return Plan(workers, threads, slices)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with SIGHUP ignored, as it ignores SIGINT
    and SIGTERM itself: a hang-up to the process group (a closed terminal) would end it,
    and the driver print its tracebacks, while the jobs clean up."""
    from multiprocessing import resource_tracker

    if threading.current_thread() is not threading.main_thread():
        resource_tracker.ensure_running()
        return
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, old)


class SerialExecutor:
    """Each job in turn, in this process: the baseline the pool is measured against, and the
    simplest way to debug one job."""

    name = "serial"

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads

    def run(self, jobs: Sequence[Job], backend: Backend, events: Events) -> None:
        for index, job in enumerate(jobs):
            events.started(index, os.getpid(), "")
            result = execute(job, backend, self.threads, functools.partial(events.frames, index))
            events.finished(index, result)
            if result.status == "cancelled":
                raise KeyboardInterrupt


class LocalExecutor:
    """A process pool (spawned processes: no fork of a threaded driver; a script that calls
    ``run`` needs the ``if __name__ == "__main__":`` guard), each worker's keyer threads set
    so that workers × threads ≈ the cores. ``pin`` keeps each worker to its own slice of the
    cores: off by default, as on a machine shared with other work it measured slower
    (benchmarks/RESULTS.md), the scheduler no longer free to move a worker to an idle core.

    Ctrl-C: jobs not started are dropped, running ones are interrupted in their workers, whose
    sinks remove their partial files; then KeyboardInterrupt goes on to the caller.
    """

    name = "local"

    def __init__(
        self, workers: int | None = None, threads: int | None = None, pin: bool = False
    ) -> None:
        self.workers = workers
        self.threads = threads
        self.pin = pin
        self.plan: Plan | None = None

    def run(self, jobs: Sequence[Job], backend: Backend, events: Events) -> None:
        self.plan = plan(len(jobs), usable_cpus(), self.workers, self.threads, self.pin)
        tries = dict.fromkeys(range(len(jobs)), 0)
        todo = list(range(len(jobs)))
        while todo:
            todo = self._round(jobs, todo, tries, backend, events)

    def _round(
        self,
        jobs: Sequence[Job],
        todo: list[int],
        tries: dict[int, int],
        backend: Backend,
        events: Events,
    ) -> list[int]:
        """One pool over ``todo``; returns the jobs to run again because the pool broke."""
        assert self.plan is not None
        _start_resource_tracker()
        ctx = multiprocessing.get_context("spawn")
        messages = ctx.Queue()
        stop = ctx.Event()
        cpus = None
        if self.plan.cpus:
            cpus = ctx.Queue()
            for mine in self.plan.cpus:
                cpus.put(mine)
        pool = cf.ProcessPoolExecutor(
            max_workers=min(self.plan.workers, len(todo)),
            mp_context=ctx,
            initializer=init_pool_worker,
            initargs=(messages, stop, self.plan.threads, cpus),
        )
        pids: set[int] = set()
        running: set[int] = set()
        again: list[int] = []
        futures = {
            pool.submit(pool_execute, i, jobs[i], backend, self.plan.threads): i for i in todo
        }
        try:
            while futures:
                self._drain(messages, events, pids, running)
                done, _ = cf.wait(futures, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                self._drain(messages, events, pids, running)
                for f in done:
                    index = futures.pop(f)
                    running.discard(index)
                    result = self._result(f, jobs[index], index, tries, again, bool(pids))
                    if result is not None:
                        events.finished(index, result)
        except KeyboardInterrupt:
            self._cancel(pool, futures, messages, stop, events, pids, running, jobs)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            messages.close()
        return again

    @staticmethod
    def _result(
        f: cf.Future, job: Job, index: int, tries: dict[int, int], again: list[int], started: bool
    ) -> JobResult | None:
        try:
            return f.result()
        except BrokenProcessPool:
            if not started:
                raise BackendUnavailableError(
                    "the batch's worker processes could not start; a script that calls "
                    "chromakey.batch.run needs its code under if __name__ == '__main__':"
                ) from None
            tries[index] += 1
            if tries[index] <= POOL_RETRIES:
                again.append(index)
                return None
            return JobResult.of(
                job, "failed", error="its worker process was lost (killed, or out of memory?) twice"
            )
        except BaseException as exc:  # noqa: BLE001 - a KeyboardInterrupt sent back by a worker too
            status = "cancelled" if isinstance(exc, KeyboardInterrupt) else "failed"
            return JobResult.of(job, status, error=f"internal error: {type(exc).__name__}: {exc}")

    @staticmethod
    def _drain(messages, events: Events, pids: set[int], running: set[int]) -> None:
        while True:
            try:
                kind, a, b, c = messages.get_nowait()
            except (queue.Empty, OSError, ValueError):
                return
            if kind == "worker":
                pids.add(a)
            elif kind == "started":
                running.add(a)
                events.started(a, b, c)
            elif kind == "frames":
                events.frames(a, b, c)

    def _cancel(self, pool, futures, messages, stop, events: Events, pids, running, jobs) -> None:
        """Stop everything and wait, with further Ctrl-C ignored, for the running jobs'
        clean-up; a job that was running is recorded as cancelled."""
        old = None
        if threading.current_thread() is threading.main_thread():
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            stop.set()
            for f in list(futures):
                if f.cancel():
                    futures.pop(f)
            self._drain(messages, events, pids, running)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGINT)
                except (ProcessLookupError, PermissionError):
                    pass
            done, _ = cf.wait(futures, timeout=CANCEL_WAIT)
            for f in done:
                index = futures.pop(f)
                try:
                    result = f.result()
                except BaseException:  # noqa: BLE001
                    result = JobResult.of(jobs[index], "cancelled", error="interrupted")
                if result.status != "cancelled" or index in running:
                    events.finished(index, result)
            if futures:  # a job that ignores the interrupt: end its worker (one of ours, by id)
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
