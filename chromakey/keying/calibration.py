"""The screen colour, measured from the frames and kept steady over time — globally and per block.

A real stream's green is rarely the nominal #008000: lighting, the avatar
service and the encoder all move it, and a real screen is rarely evenly lit.
The calibrator estimates a low-resolution *screen map*: one colour per block of
``cell`` × ``cell`` pixels (blocks inside the subject filled in from their
neighbours), plus the global colour. Both keyers upsample the map bilinearly
with the same rule (:func:`chromakey.keying.reference.screen_at`), so the CPU and the GPU
key against the same colour at every pixel of the same frame.

The numpy functions here are the reference; the calibrator measures with their compiled
twins (``compiled_*``, :mod:`chromakey.keying.kernels.calibrate`) and publishes through a
dead band (:mod:`chromakey.keying.tracking`) so that a still scene keeps a still map.

Measuring the map costs a few milliseconds at 1080p, while the
exponential average that keeps it steady moves it by a tenth a frame (``screen_adapt``). So
on large frames the calibrator measures every few frames (:func:`map_interval`: about
SAMPLES samples a frame on average, the gap at most half the average's time constant) and
gives each measurement the weight of the n frames it stands for, ``1 − (1 − screen_adapt)ⁿ``:
the same time constant as a measurement every frame.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..core.frames import Frame
from ..core.params import KeyerParams
from ..core.screenmap import ScreenMap, ScreenWindow
from .screen_measure import (
    CELL_SAMPLES,
    MEMBER_SCREEN,
    SAMPLES,
    MapSampler,
    cell_size,
    compiled_samples,
    compiled_screen_map,
    compiled_window,
    default_screen,
    estimate_screen,
    estimate_screen_map,
    fill_unknown,
    grid_shape,
    sample_rgb,
    screen_mask,
)
from .screen_window import PALE, follow_window, measure_window, window_of_color
from .tracking import Tracked, code_step

# The calibrator, and the measurements it is made of (screen_window, screen_measure), from one
# place.
__all__ = [
    "CELL_SAMPLES",
    "MEMBER_SCREEN",
    "PALE",
    "MapSampler",
    "ScreenCalibrator",
    "ScreenMap",
    "ScreenWindow",
    "catch_up_weight",
    "cell_size",
    "compiled_samples",
    "compiled_screen_map",
    "compiled_window",
    "default_screen",
    "estimate_screen",
    "estimate_screen_map",
    "fill_unknown",
    "map_interval",
    "measure_window",
    "sample_rgb",
    "screen_mask",
    "window_of_color",
]

MAX_INTERVAL_SHARE = 0.5  # frames between measurements ≤ this share of the time constant

F32 = np.float32


def map_interval(adapt: float, width: int, height: int) -> int:
    """Frames from one measurement of the screen map to the next.

    Enough that the map's samples (CELL_SAMPLES² a block) come to about SAMPLES a frame on
    average, but at most MAX_INTERVAL_SHARE of the exponential average's time constant
    (−1 / ln(1 − adapt) frames: 9.5 at the default 0.1), so that it still follows as
    closely; every frame when the average follows at once (adapt ≥ 0.3 or so) or for frames
    of up to about 360p, where the measurement is cheap.
    """
    if not 0.0 < adapt < 1.0:
        return 1
    cell = cell_size(width, height)
    rows, cols = grid_shape(width, height, cell)
    samples = rows * cols * CELL_SAMPLES**2
    tau = -1.0 / math.log1p(-adapt)
    return max(1, min(-(-samples // SAMPLES), int(MAX_INTERVAL_SHARE * tau)))


def catch_up_weight(adapt: float, frames: int) -> F32:
    """The weight of one measurement standing for ``frames`` frames of the exponential
    average, ``1 − (1 − adapt)^frames``: after n frames the old value keeps the share
    ``(1 − adapt)^n`` whether it was measured once or n times."""
    if frames <= 1:
        return F32(adapt)
    return F32(-math.expm1(frames * math.log1p(-adapt))) if adapt < 1.0 else F32(1.0)


class ScreenCalibrator:
    """Follows the screen map with an exponential average per block; a user's colour overrides it.

    :meth:`update` returns a :class:`ScreenMap`; ``.mean`` is the global colour (also kept in
    ``self.screen``). The map is measured on the first frame of a size and then every
    :func:`map_interval` frames, each measurement weighted for the frames since the last
    (:func:`catch_up_weight`); the frames between get the map as it is.

    Each block's colour and the global colour are published through a dead band
    (:class:`~chromakey.keying.tracking.Tracked`): they move only when their average has moved
    further than the measurements' own noise carries it, so a still scene gets a still map.
    While nothing moved, :meth:`update` returns the very same ScreenMap object, and
    :meth:`ScreenMap.blocks_changed_since` says which blocks a new one changed.
    """

    def __init__(self, params: KeyerParams) -> None:
        self.params = params
        self.screen: np.ndarray | None = None  # the global colour, as published
        self.map: ScreenMap | None = None
        self.window: ScreenWindow | None = None  # the measured window (None: the nominal one)
        self._since = 0  # frames since the last measurement (of this grid)
        self._grid: tuple[int, int, int] | None = None  # (cell, rows, cols) last measured
        self._colors: Tracked | None = None  # the blocks, on self._grid
        self._mean: Tracked | None = None
        self._constant: ScreenMap | None = None  # the last one-colour map handed out
        self._sampler = MapSampler()
        self._grain_window: ScreenWindow | None = None  # measured for a colour the user gives
        self._grain_since: int | None = None  # frames since it was measured (None: never)

    def set_params(self, params: KeyerParams) -> None:
        if (params.hue_min, params.hue_max) != (self.params.hue_min, self.params.hue_max):
            self.screen = None
            self.map = None
            self.window = None
            self._grid = None
            self._colors = self._mean = None
        self.params = params

    def update(self, frame: Frame) -> ScreenMap:
        p = self.params
        cell = cell_size(frame.width, frame.height)
        if p.screen_color is not None:
            color = np.asarray(p.screen_color, F32)
            window = replace(window_of_color(color, p), noise=self._grain(frame, p))
            return self._one_colour(color, cell, window)
        grid = grid_shape(frame.width, frame.height, cell)
        same_grid = self.map is not None and self.map.cell == cell and self.map.shape == grid
        if same_grid and p.screen_adapt == 0.0:
            return self.map  # type: ignore[return-value]
        self._since += 1
        if self._grid == (cell, *grid):
            if self._since < map_interval(p.screen_adapt, frame.width, frame.height):
                return self._current(cell, grid)
        else:
            self._grid, self._since = (cell, *grid), 1  # a new size: measure at once
        frames, self._since = self._since, 0
        self.window = follow_window(self.window, compiled_window(frame, p))
        colors, cell, glob = compiled_screen_map(
            frame, p if self.window is None else self.window.apply(p), self._sampler
        )
        if glob is not None:
            a = catch_up_weight(p.screen_adapt, frames)
            code = code_step(frame)
            if self._mean is None:
                self._mean, moved = Tracked(glob), True
            else:
                moved = self._mean.update(glob, a, code) is not None
            if same_grid and self._colors is not None:
                moved |= self._colors.update(colors, a, code) is not None
            else:
                self._colors, moved = Tracked(colors), True
            self.screen = self._mean.published
            if moved or self.map is None or self.map.window != self.window:
                self.map = ScreenMap(self._colors.published, cell, self.screen, self.window)
        return self._current(cell, grid)

    def _grain(self, frame: Frame, p: KeyerParams) -> float:
        """The screen's grain where the user gives its colour: measured as the window is (the
        screen found among the frame's samples), as often as the map would be, and followed
        through the window's dead band."""
        since = self._grain_since
        interval = map_interval(p.screen_adapt, frame.width, frame.height)
        # screen_adapt 0 freezes the first measurement, as it freezes the map.
        if since is None or (p.screen_adapt > 0.0 and since + 1 >= interval):
            self._grain_since = 0
            self._grain_window = follow_window(self._grain_window, compiled_window(frame, p))
        else:
            self._grain_since = since + 1
        return 0.0 if self._grain_window is None else self._grain_window.noise

    def _current(self, cell: int, grid: tuple[int, int]) -> ScreenMap:
        if self.map is not None and self.map.cell == cell and self.map.shape == grid:
            return self.map
        # Nothing measured yet for this frame size: the global colour (or the default) everywhere.
        color = self.screen if self.screen is not None else default_screen(self.params)
        return self._one_colour(color, cell, self.window)

    def _one_colour(self, color: np.ndarray, cell: int, window: ScreenWindow | None) -> ScreenMap:
        """ScreenMap.constant, the same object again while nothing about it changed."""
        c = self._constant
        if c is None or c.cell != cell or c.window != window or not np.array_equal(c.mean, color):
            self._constant = c = ScreenMap.constant(color, cell, window)
        return c
