"""The still hold's state between frames (reference.hold_matte): two planes of levels, the
previous frame's (read) and this frame's (written), swapped after each frame; and a copy of
the previous frame's input planes, whose bytes the hold's motion compares with this frame's
(the reference's state keeps each pixel's, cpu.pixel_samples: the same bytes)."""

from __future__ import annotations

import numpy as np

from .incremental import BLOCK, copy_blocks

# What the kernels take for the state with the hold off (they then read and write none).
NO_LEVELS = np.zeros((1, 1), np.uint8)
NO_LEVELS.flags.writeable = False
NO_SHOWN = np.zeros((1, 1), np.uint8)


class HeldLevels:
    """The levels each pixel showed and the input planes, and the settings and size they were
    keyed with: a frame keyed with others, or of another size or layout, starts afresh (the
    kernels' I_HOLD off)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._planes: list[np.ndarray] = []
        self._inputs: list[np.ndarray] = []  # the previous frame's Y, U, V, RGB planes
        self._for: object = None
        self._zeros = np.zeros((0, 0), np.uint8)

    def begin(
        self, key: object, h: int, w: int, on: bool, inputs: tuple[np.ndarray, ...]
    ) -> tuple[tuple[np.ndarray, ...], bool]:
        """((Previous levels, this frame's plane, the previous frame's four input planes),
        whether the previous state is this key's). ``inputs``: this frame's Y, U, V and RGB
        planes (the kernels' placeholders for those it lacks)."""
        if not on:
            self.clear()
            return (NO_LEVELS, NO_SHOWN, *inputs), False
        if not self._planes or self._planes[0].shape != (h, w):
            self._planes = [np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)]
            self._for = None
        same = [q.shape for q in self._inputs] == [q.shape for q in inputs]
        valid = self._for == key and same
        prev = tuple(self._inputs) if same else inputs
        return (self._planes[0], self._planes[1], *prev), valid

    def keep(self, fill: np.ndarray | None) -> None:
        """Before the incremental path's rectangles: this frame's plane starts as the previous
        one (its kept blocks), with the ``fill`` blocks (plain screen, alpha 0) at 0."""
        prev, shown = self._planes
        np.copyto(shown, prev)
        if fill is not None and fill.any():
            if self._zeros.shape != shown.shape:
                self._zeros = np.zeros(shown.shape, np.uint8)
            copy_blocks(self._zeros, shown, fill, BLOCK, BLOCK)

    def end(self, key: object, inputs: tuple[np.ndarray, ...]) -> None:
        """After a frame: its levels and its input planes become the previous ones, for
        ``key``."""
        if self._planes:
            self._planes.reverse()
            if [q.shape for q in self._inputs] != [q.shape for q in inputs]:
                self._inputs = [np.empty(q.shape, np.uint8) for q in inputs]
            for copy, q in zip(self._inputs, inputs, strict=True):
                np.copyto(copy, q)
            self._for = key
