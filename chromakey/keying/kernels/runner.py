"""One frame's inputs as the kernels take them, and the scratch they key in between frames."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..param_table import I_HALO, I_PREFILLED, I_YUV
from .alpha0 import prefill
from .common import F32, N_BUFFERS, N_LINES, TILE
from .frame import _KERNEL_LOCK, kernel
from .hold import NO_SHOWN
from .jobs import J_Y0, J_Y1, jobs_kernel
from .packing import TO_YUV


@dataclass(frozen=True)
class FrameArgs:
    """A frame, its screen map and the settings, in the kernels' argument order."""

    planes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # Y, U, V, RGB
    across: np.ndarray  # the screen map's rows across x (pixels.screen_across)
    map_rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # mi0, mi1, mfy
    P: np.ndarray
    ints: np.ndarray
    dec: np.ndarray
    lw: np.ndarray
    fw: np.ndarray
    bg_color: np.ndarray
    bg_img: np.ndarray

    def vectors(self) -> tuple[np.ndarray, ...]:
        """The arguments both kernels open with: planes, map, settings, background."""
        return (
            *self.planes, self.across, *self.map_rows, self.P, self.ints, self.dec, self.lw,
            self.fw, self.bg_color, self.bg_img,
        )  # fmt: skip


class KernelRunner:
    """Calls the frame and jobs kernels on ``workers`` bands at once, with per-worker scratch
    kept between frames (faulting it in anew costs more than keying)."""

    def __init__(self, workers: int, band_rows: int, tiles: bool) -> None:
        self.workers = workers
        self.band_rows = band_rows
        self.tiles = tiles
        self.counts = np.zeros(3, np.int64)  # the last frame's tiles by kind
        self._scratch: np.ndarray | None = None
        self._tiles = np.zeros((0, 3, 4), np.int64)
        self._lines = np.zeros((0, N_LINES, 256), F32)
        self._rgb = np.zeros((0, 0, 3), np.uint8)
        self._stage = np.zeros((0, 0), np.uint8)  # the jobs kernel's strips keyed, per worker
        self._strips = np.zeros((0, 0), F32)  # and the screen map across them
        self._shown = np.zeros((0, 0), np.uint8)  # and their still-hold levels

    def whole(
        self,
        a: FrameArgs,
        out: np.ndarray,
        planes: list[np.ndarray],
        kind: int,
        hold: tuple[np.ndarray, ...],
    ) -> None:
        """The frame kernel on the whole frame into ``out`` (and ``planes`` for YUV);
        ``hold``: the still hold's (previous levels, this frame's, the previous frame's input
        planes) (kernels.hold)."""
        h, w = out.shape[0], out.shape[1]
        band_rows = self.rows_per_band(h)
        scratch, lines, tiles = self._buffers(h, w, band_rows + 2 * int(a.ints[I_HALO]))
        ints = a.ints.copy()
        if self.tiles:  # screen tiles then only skip: a streaming copy beats per-pixel stores
            ints[I_PREFILLED] = prefill(out, kind, a.bg_color, a.bg_img)
        args = dataclasses.replace(a, ints=ints)
        with _KERNEL_LOCK:  # numba's threads are one pool per process: one frame at a time
            kernel()(*args.vectors(), out, TO_YUV, *planes, *hold, scratch, lines, tiles,
                     band_rows)  # fmt: skip
            self.counts = tiles[:, 1, :3].sum(axis=0)

    def jobs(
        self,
        a: FrameArgs,
        out: np.ndarray,
        planes: list[np.ndarray],
        jobs: np.ndarray,
        channels: int,
        hold: tuple[np.ndarray, ...],
    ) -> None:
        """The jobs kernel: the rectangles ``jobs`` of the frame keyed into ``out`` or
        ``planes`` (the kept outputs), and their still-hold levels into ``hold[1]``."""
        h, w = a.map_rows[0].shape[0], a.across.shape[2]
        rows = max(self.rows_per_band(h), int((jobs[:, J_Y1] - jobs[:, J_Y0]).max()))
        scratch, lines, tiles = self._buffers(h, w, rows + 2 * int(a.ints[I_HALO]))
        k = self.workers
        if self._stage.shape != (k, h * w * channels):
            self._stage = np.empty((k, h * w * channels), np.uint8)
        if self._strips.shape != (k, a.across.size):
            self._strips = np.empty((k, a.across.size), F32)
        shown = 0 if hold[1] is NO_SHOWN else h * w
        if self._shown.shape != (k, shown):
            self._shown = np.empty((k, shown), np.uint8)
        band_ints = a.ints.copy()
        band_ints[I_YUV] = 0  # a strip's rows are converted once its core is copied out
        band_ints[I_PREFILLED] = 0  # the stage holds no background: the band writes it
        with _KERNEL_LOCK:
            jobs_kernel()(
                *a.vectors(), out, TO_YUV, *planes, *hold, scratch, lines, tiles, band_ints,
                jobs, self._stage, self._strips, self._shown, channels,
            )  # fmt: skip
            self.counts = tiles[:, 1, :3].sum(axis=0)

    def composite_scratch(self, h: int, w: int, channels: int) -> np.ndarray:
        """The RGB(A) composite the YUV planes are made from, kept between frames."""
        if self._rgb.shape != (h, w, channels):
            self._rgb = np.empty((h, w, channels), np.uint8)
        return self._rgb

    def rows_per_band(self, h: int) -> int:
        """About band_rows rows a band, in a whole number of bands per worker (even load);
        even, so that a band holds whole rows of 4:2:0 chroma."""
        bands = max(1, round(h / self.band_rows / self.workers)) * self.workers
        rows = max(1, -(-h // bands))
        return rows + (rows % 2)

    def _buffers(self, h: int, w: int, rows: int) -> tuple[np.ndarray, ...]:
        """Per-worker scratch of at least ``rows`` rows (and the chroma guide's: half a band's
        rows and its window, chroma.chroma_span) by ``w`` columns: a call on a narrower
        strip reshapes its share, as the kernels read a band's width from its scratch."""
        rows = max(min(rows, h), 8) + 2
        k = self.workers
        need = k * N_BUFFERS * rows * w
        if self._scratch is None or self._scratch.size < need:
            self._scratch = np.zeros(need, F32)
        if self._lines.shape[0] != k or self._lines.shape[2] < max(w + 1, 256):
            self._lines = np.zeros((k, N_LINES, max(w + 1, 256)), F32)
        if self._tiles.shape[0] != k or self._tiles.shape[2] < 4 * ((w + TILE - 1) // TILE):
            self._tiles = np.zeros((k, 3, 4 * ((w + TILE - 1) // TILE)), np.int64)
        scratch = self._scratch[:need].reshape(k, N_BUFFERS, rows, w)
        return scratch, self._lines, self._tiles

    def close(self) -> None:
        """Frees the scratch."""
        self._scratch = None
        self._stage = np.zeros((0, 0), np.uint8)
        self._strips = np.zeros((0, 0), F32)
        self._shown = np.zeros((0, 0), np.uint8)
        self._rgb = np.zeros((0, 0, 3), np.uint8)
