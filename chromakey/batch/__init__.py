"""Many recordings as jobs: ``chromakey batch`` and ``chromakey.batch.run(jobs, executor=…)``.

One output per job, written atomically; a results file makes a batch resumable; each job's
errors stay its own. The executor is a local process pool by default, Ray when asked.

Loaded lazily: a worker process imports ``chromakey.batch.worker`` and sets its keyer threads
before anything loads numba.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InvalidJobsError",
    "Job",
    "JobResult",
    "LocalExecutor",
    "ManifestError",
    "RayExecutor",
    "SerialExecutor",
    "run",
]

_WHERE = {
    "InvalidJobsError": "driver",
    "run": "driver",
    "Job": "jobs",
    "ManifestError": "jobs",
    "JobResult": "results",
    "LocalExecutor": "local",
    "SerialExecutor": "local",
    "RayExecutor": "ray_executor",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'chromakey.batch' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
