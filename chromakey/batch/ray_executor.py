"""Ray as the executor: one task per job, declaring its CPUs (and a GPU with ``--backend gpu``).

Ray schedules, places and retries; we only submit, wait and record. A task whose worker
process or node is lost is retried by Ray (``max_retries``); a job that fails on its own
input is not an exception to Ray (its result says ``failed``), so it is never retried.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.errors import BackendUnavailableError, ParameterError
from .events import Events
from .jobs import Job
from .results import JobResult
from .worker import execute

if TYPE_CHECKING:
    from ..keying.select import Backend

INSTALL_HINT = "pip install 'chromakey[ray]'"
# How long cancelled tasks get to remove their partial files after a Ctrl-C (seconds).
CANCEL_WAIT = 60.0


def import_ray() -> Any:
    """The ``ray`` module, or a one-line error saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise BackendUnavailableError(
            f"--ray needs Ray, which is not installed here ({exc.msg}); install it with {INSTALL_HINT}"
        ) from exc
    return ray


class RayExecutor:
    """Runs each job as a Ray task.

    ``address``: ``auto`` joins the Ray instance running on this machine or starts one (on
    loopback: a started instance serves this driver alone); anything else (``host:6379``,
    ``ray://host:10001``) joins that cluster. Inputs and outputs must be paths that every
    node sees (a shared file system) or http(s) URLs for inputs and backgrounds.
    """

    name = "ray"

    def __init__(
        self,
        address: str = "auto",
        *,
        cpus_per_job: float = 1,
        gpus_per_job: float | None = None,
        max_retries: int = 3,
        init_kwargs: dict[str, Any] | None = None,
    ) -> None:
        if cpus_per_job <= 0:
            raise ParameterError(f"--cpus-per-job {cpus_per_job:g}: give a positive number")
        if gpus_per_job is not None and gpus_per_job <= 0:
            raise ParameterError(f"--gpus-per-job {gpus_per_job:g}: give a positive number")
        self.address = address
        self.cpus_per_job = cpus_per_job
        self.gpus_per_job = gpus_per_job
        self.max_retries = max_retries
        self.init_kwargs = dict(init_kwargs or {})
        self.startup_seconds = 0.0  # connecting or starting Ray, as measured by the last run

    def _connect(self, ray: Any) -> bool:
        """Join or start Ray; True when this call started it (and so shuts it down)."""
        if ray.is_initialized():
            return False
        # Ray's own start-up lines would break the bar; its errors still come through.
        kwargs = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            **self.init_kwargs,
        }
        if self.address != "auto":
            try:
                ray.init(address=self.address, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise BackendUnavailableError(
                    f"--ray {self.address}: cannot join that Ray cluster ({' '.join(str(exc).split())[:200]}); "
                    "check the address (host:6379 or ray://host:10001), that the cluster is up, and "
                    "for a cluster with token authentication RAY_AUTH_MODE=token and its token"
                ) from exc
            return True
        try:
            ray.init(address="auto", **kwargs)
        except ConnectionError:
            kwargs.setdefault("_node_ip_address", "127.0.0.1")
            ray.init(**kwargs)
        return True

    def run(self, jobs: Sequence[Job], backend: Backend, events: Events) -> None:
        ray = import_ray()
        t0 = time.perf_counter()
        started = self._connect(ray)
        self.startup_seconds = time.perf_counter() - t0
        try:
            self._run(ray, jobs, backend, events)
        finally:
            if started:
                ray.shutdown()

    def _options(self, backend: Backend) -> dict[str, Any]:
        options: dict[str, Any] = {
            "num_cpus": self.cpus_per_job,
            "max_retries": self.max_retries,
            "retry_exceptions": False,
        }
        if backend == "gpu" or self.gpus_per_job is not None:
            options["num_gpus"] = self.gpus_per_job or 1
        return options

    def _run(self, ray: Any, jobs: Sequence[Job], backend: Backend, events: Events) -> None:
        task = ray.remote(execute).options(**self._options(backend))
        threads = max(1, int(self.cpus_per_job))
        refs = {task.remote(job, backend, threads): i for i, job in enumerate(jobs)}
        slots = _slots(ray, self.cpus_per_job)
        shown: set[int] = set()
        try:
            while refs:
                # Ray does not say when a task starts: the first ``slots`` waiting are shown running.
                for index in sorted(refs.values())[:slots]:
                    if index not in shown:
                        shown.add(index)
                        events.started(index, None, "")
                ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.2)
                for ref in ready:
                    index = refs.pop(ref)
                    events.finished(index, _get(ray, ref, jobs[index]))
        except KeyboardInterrupt:
            self._cancel(ray, refs, jobs, shown, events)
            raise

    def _cancel(
        self, ray: Any, refs: dict, jobs: Sequence[Job], shown: set[int], events: Events
    ) -> None:
        """ray.cancel raises KeyboardInterrupt inside each running task, whose sink removes its
        partial file; the wait gives them time to, with further Ctrl-C ignored."""
        import signal

        old = None
        if threading.current_thread() is threading.main_thread():
            old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for ref in refs:
                ray.cancel(ref, force=False)
            ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=CANCEL_WAIT)
            for ref in ready:
                index = refs.pop(ref)
                result = _get(ray, ref, jobs[index])
                if result.status != "cancelled" or result.host:  # it had started
                    events.finished(index, result)
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)


def _slots(ray: Any, cpus_per_job: float) -> int:
    try:
        cpus = float(ray.cluster_resources().get("CPU", 1))
    except Exception:  # noqa: BLE001 - only the bar's "running" count depends on it
        cpus = float(os.cpu_count() or 1)
    return max(1, int(cpus // cpus_per_job))


def _get(ray: Any, ref: Any, job: Job) -> JobResult:
    """A task's result; Ray's own failures (a cancel, a worker lost after its retries) too."""
    from ray.exceptions import RayError, TaskCancelledError

    try:
        return ray.get(ref)
    except TaskCancelledError:
        return JobResult.of(job, "cancelled", error="interrupted; run the batch again to finish it")
    except RayError as exc:
        text = " ".join(str(exc).split())
        return JobResult.of(
            job, "failed", error=f"Ray lost the task ({type(exc).__name__}): {text[:300]}"
        )
