"""A noisy measurement followed by an exponential average, published through a dead band.

The incremental keyer reuses a tile only while the screen map under it is unchanged bit for
bit, so on a still scene the published map must stand still through compression and camera
noise, while a real change of the light is still followed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.frames import Frame
from .kernels.calibrate import track

F32 = np.float32

# Measurements whose changes the dead band remembers.
HISTORY = 8
# The band in changes (2.0 held a still clip no stiller and lagged the light more: the
# quality benchmark's sample keyed worse).
BAND_CHANGES = 1.0


def dead_band(changes: np.ndarray, code: np.ndarray) -> np.ndarray:
    """How far the tracked estimate may move from the published value before that follows.

    The rule: BAND_CHANGES times the second-largest change between consecutive measurements
    over the last HISTORY (``changes``, (HISTORY, …)), and at least ``code`` (:func:`code_step`:
    one code of an 8-bit plane, what an encoder's re-rounding of a flat block moves it by;
    a code of every plane at once held a still clip stiller but lagged the light too far).
    Until HISTORY measurements have come in, there is no band: the average is still settling
    and its history too short to tell noise from light (:class:`Tracked`).

    Why it holds still: an exponential average never leaves the range of what it averaged, so
    noise that flickers between levels a change apart never carries it further than that
    change from any earlier value. Why it still follows: a step of the light is one large change, which
    the second-largest leaves out, and a ramp moves the average further than a few of its changes.
    """
    second = np.partition(changes, HISTORY - 2, axis=0)[HISTORY - 2]
    result: np.ndarray = np.maximum(F32(BAND_CHANGES) * second, code)
    return result


class Tracked:
    """An exponential average of measurements (``track``) and the value published from it.

    Entries along the last axis (a colour's channels) move together: an entry is published
    again, all its channels, when any channel's track has left :func:`dead_band` of the
    published value. ``published`` is replaced, never written into, and is the same array
    object as long as nothing moved (it stays writeable: the keyers' compiled functions take
    writeable arrays, and a read-only one would be compiled for anew).
    """

    def __init__(self, value: np.ndarray, *, compiled: bool = True) -> None:
        self.compiled = compiled  # False: the numpy reference
        self.track = np.array(value, F32)
        self.last = self.track.copy()  # the last measurement
        self.changes = np.zeros((HISTORY, *self.track.shape), F32)  # |Δ measurement|, a ring
        self._slot = 0
        self._seen = 0  # measurements taken after the first
        self.published = self.track.copy()

    def update(
        self, value: np.ndarray, weight: float | np.floating[Any], code: np.ndarray
    ) -> np.ndarray | None:
        """Take one measurement with ``weight`` (``code``: :func:`dead_band`'s, per channel);
        the entries that moved (bool, the shape less its last axis), or None when none did and
        ``published`` is the same array as before."""
        value = np.asarray(value, F32)
        self._seen += 1
        settled = self._seen >= HISTORY  # before that, every change is published
        code = np.asarray(code, F32) if settled else np.zeros(3, F32)
        if self.compiled:
            shape = self.track.shape
            moved = track(
                self.track.reshape(-1, 3),
                self.last.reshape(-1, 3),
                self.changes.reshape(HISTORY, -1, 3),
                self._slot,
                np.ascontiguousarray(value).reshape(-1, 3),
                F32(weight),
                code,
                F32(BAND_CHANGES if settled else 0.0),
                self.published.reshape(-1, 3),
            ).reshape(shape[:-1])
        else:
            np.abs(value - self.last, out=self.changes[self._slot])
            self.last = value.copy()
            self.track = self.track + F32(weight) * (value - self.track)
            band = dead_band(self.changes, code) if settled else F32(0.0)
            moved = (np.abs(self.track - self.published) > band).any(-1)
        self._slot = (self._slot + 1) % HISTORY
        if not moved.any():
            return None
        published = self.published.copy()
        published[moved] = self.track[moved]
        self.published = published
        result: np.ndarray | None = moved
        return result


def code_step(frame: Frame) -> np.ndarray:
    """Per RGB channel, how far one code of one of the frame's 8-bit planes moves it at most."""
    if frame.layout == "rgb":
        return np.full(3, 1.0 / 255.0, F32)
    m, _ = frame.spec.to_rgb()
    result: np.ndarray = (np.abs(m).max(axis=1) / 255.0).astype(F32)
    return result
