"""What an executor tells the driver as jobs run: the protocol between them."""

from __future__ import annotations

from typing import Protocol

from .results import JobResult


class Events(Protocol):
    """Called on the driver's thread. ``index`` is the job's place in the list given to run."""

    def started(self, index: int, pid: int | None, host: str) -> None: ...
    def frames(self, index: int, done: int, total: int | None) -> None: ...
    def finished(self, index: int, result: JobResult) -> None: ...
