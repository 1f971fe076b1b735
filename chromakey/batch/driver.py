"""``run(jobs, executor=…)``: check every job, skip the finished ones, run the rest on an
executor, record each result as it comes, and return them all in job order."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..core.errors import ParameterError
from .checks import check_jobs, check_results, split
from .events import Events
from .jobs import Defaults, Job, ManifestError, from_mapping
from .results import JobResult, ResultsFile

if TYPE_CHECKING:
    from ..keying.select import Backend


class Executor(Protocol):
    name: str

    def run(self, jobs: Sequence[Job], backend: Backend, events: Events) -> None: ...


class InvalidJobsError(ParameterError):
    """Jobs failed their checks, so nothing ran. ``errors`` holds each one (line, field)."""

    def __init__(self, errors: Sequence[ManifestError]) -> None:
        self.errors = list(errors)
        more = f" (and {len(errors) - 1} more invalid jobs)" if len(errors) > 1 else ""
        super().__init__(f"{errors[0]}{more}; nothing was run (--skip-invalid runs the valid jobs)")


def make_executor(executor: str | Executor | None, **options: Any) -> Executor:
    """``local`` (the default), ``serial``, ``ray``, or an executor object as it is."""
    if executor is None or executor == "local":
        from .local import LocalExecutor

        return LocalExecutor(**options)
    if executor == "serial":
        from .local import SerialExecutor

        return SerialExecutor(**options)
    if executor == "ray":
        from .ray_executor import RayExecutor

        return RayExecutor(**options)
    if isinstance(executor, str):
        raise ParameterError(f"executor {executor!r} is unknown; use local, serial or ray")
    return executor


class _Recorder:
    """Events that write each result to the results file, and pass everything on."""

    def __init__(
        self,
        jobs: Sequence[Job],
        results: ResultsFile | None,
        out: list[JobResult | None],
        listener: Events | None,
    ) -> None:
        self.jobs, self.results, self.out, self.listener = jobs, results, out, listener

    def started(self, index: int, pid: int | None, host: str) -> None:
        if self.listener is not None:
            self.listener.started(index, pid, host)

    def frames(self, index: int, done: int, total: int | None) -> None:
        if self.listener is not None:
            self.listener.frames(index, done, total)

    def finished(self, index: int, result: JobResult) -> None:
        if self.results is not None:
            self.results.append(result)
        self.out[index] = result
        if self.listener is not None:
            self.listener.finished(index, result)


def as_jobs(
    jobs: Iterable[Job | Mapping[str, Any] | ManifestError], base: Path | None = None
) -> list[Job | ManifestError]:
    """Jobs as given to the API: Job objects, or dicts with a manifest line's fields (relative
    paths relative to ``base``, default the current folder)."""
    base = (base or Path.cwd()).resolve()
    out: list[Job | ManifestError] = []
    for i, job in enumerate(jobs, start=1):
        if isinstance(job, (Job, ManifestError)):
            out.append(job)
            continue
        try:
            out.append(from_mapping(job, Defaults(), source="<jobs>", line=i, base=base, index=i))
        except ManifestError as exc:
            out.append(exc)
    return out


def run(
    jobs: Iterable[Job | Mapping[str, Any] | ManifestError],
    executor: str | Executor | None = "local",
    *,
    results: str | os.PathLike[str] | None = None,
    force: bool = False,
    skip_invalid: bool = False,
    backend: Backend = "auto",
    events: Events | None = None,
) -> list[JobResult]:
    """Key every job; returns one JobResult per job, in the order given.

    Every job is checked first: an invalid one raises InvalidJobsError and nothing runs,
    unless ``skip_invalid`` (then it is an ``invalid`` result). With ``results`` (a JSON Lines
    file) each result is appended as it comes, and a job recorded there as done, whose output
    is still the file it wrote, is ``skipped`` unless ``force``. A failed job does not stop the
    others. Ctrl-C stops the running jobs (no partial outputs stay) and raises
    KeyboardInterrupt once what finished is recorded.
    """
    if backend not in ("auto", "cpu", "gpu"):
        raise ParameterError(f"backend {backend!r} is unknown; use auto, cpu or gpu")
    order = check_jobs(as_jobs(jobs), results)
    if results is not None:
        check_results(results, order)
    valid, errors = split(order)
    if errors and not skip_invalid:
        raise InvalidJobsError(errors)
    runner = make_executor(executor)
    book = ResultsFile(results) if results is not None else None
    out: list[JobResult | None] = [None] * len(order)
    positions = {id(j): k for k, j in enumerate(order)}
    for err in errors:
        out[positions[id(err)]] = invalid = JobResult(
            input="", output="", status="invalid", error=str(err), line=err.line
        )
        if book is not None:
            book.append(invalid)
    todo: list[Job] = []
    for job in valid:
        earlier = None if force or book is None else book.finished(job)
        if earlier is not None:
            skipped = JobResult.from_dict({**earlier.__dict__, "status": "skipped"})
            out[positions[id(job)]] = skipped
            if events is not None:
                events.finished(positions[id(job)], skipped)
            continue
        todo.append(job)
    slots = [positions[id(j)] for j in todo]
    ran: list[JobResult | None] = [None] * len(todo)
    if todo:
        runner.run(todo, backend, _Recorder(todo, book, ran, _Shifted(events, slots)))
    for k, result in zip(slots, ran, strict=True):
        out[k] = result if result is not None else JobResult.of(order[k], "cancelled")  # type: ignore[arg-type]
    return [r for r in out if r is not None]


class _Shifted:
    """Events for the jobs that run, indexed as in the caller's list."""

    def __init__(self, events: Events | None, slots: list[int]) -> None:
        self.events, self.slots = events, slots

    def started(self, index: int, pid: int | None, host: str) -> None:
        if self.events is not None:
            self.events.started(self.slots[index], pid, host)

    def frames(self, index: int, done: int, total: int | None) -> None:
        if self.events is not None:
            self.events.frames(self.slots[index], done, total)

    def finished(self, index: int, result: JobResult) -> None:
        if self.events is not None:
            self.events.finished(self.slots[index], result)
