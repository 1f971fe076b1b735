"""Incremental keying or every pixel: whichever keys this footage faster, measured.

Keying only the blocks that changed wins on a presenter before a still screen and loses on
camera noise, where every block changes and comparing them is a cost on top. Which one holds
depends on the footage and the machine, so it is timed, not guessed: a trial of each path,
then the faster one for an epoch, then a new trial (the footage may change). Both paths
give the same bytes (the tests prove it), so the choice changes only the time. A trial times
every pixel first: a clip of a few frames then never loads the incremental path's kernels
(the jobs kernel alone takes 0.06 s to load, a tenth of a short render's start-up).
"""

from __future__ import annotations

import logging
import statistics
from typing import Literal

log = logging.getLogger(__name__)

# Frames each path is timed for in a trial; the median (the first incremental frame after a
# switch keys everything and keeps a copy, and a machine has its hiccups).
TRIAL = 9
# Frames the faster path then runs before both are timed again: 9 s at 30 fps.
EPOCH = 270
# Incremental keying is kept only when its median is below this share of every pixel's: it
# holds a copy of the frame and more state, worth it only for a clear gain.
MARGIN = 0.95

Path = Literal["incremental", "whole"]
FIRST: Path = "whole"  # the path a trial times first
SECOND: Path = "incremental"


class PathChoice:
    """Which path the next frame takes (:attr:`path`), from the times :meth:`record` is given
    for the frames before it."""

    def __init__(self, trial: int = TRIAL, epoch: int = EPOCH) -> None:
        self.trial = max(1, trial)
        self.epoch = max(1, epoch)
        self.path: Path = FIRST
        self._stage: Literal["trial", "run"] = "trial"
        self._left = self.trial
        self._times: dict[str, list[float]] = {"incremental": [], "whole": []}
        self.medians: dict[str, float] = {}  # the last trial's, in seconds (for reports)

    def record(self, seconds: float) -> None:
        """The frame just keyed on :attr:`path` took ``seconds``; moves the schedule on."""
        if self._stage == "trial":
            self._times[self.path].append(seconds)
        self._left -= 1
        if self._left > 0:
            return
        if self._stage == "run":
            self._stage, self.path, self._left = "trial", FIRST, self.trial
            self._times = {"incremental": [], "whole": []}
        elif self.path == FIRST:
            self.path, self._left = SECOND, self.trial
        else:
            self.medians = {k: statistics.median(v) for k, v in self._times.items()}
            faster = self.medians["incremental"] < MARGIN * self.medians["whole"]
            chosen: Path = "incremental" if faster else "whole"
            log.debug(
                "keying %s for %d frames (median ms: incremental %.1f, every pixel %.1f)",
                "only changed blocks" if faster else "every pixel",
                self.epoch,
                1e3 * self.medians["incremental"],
                1e3 * self.medians["whole"],
            )
            self._stage, self.path, self._left = "run", chosen, self.epoch
