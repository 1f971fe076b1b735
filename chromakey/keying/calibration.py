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

import numpy as np

from ..core.color import rgb_to_hsl
from ..core.frames import Frame
from ..core.params import SCREEN_FAMILIES, KeyerParams
from ..core.screenmap import ScreenMap, ScreenWindow
from . import reference as cpu
from .kernels import calibrate as ck
from .tracking import Tracked, code_step

__all__ = [
    "ScreenCalibrator",
    "ScreenMap",
    "ScreenWindow",
    "measure_window",
    "window_of_color",
    "catch_up_weight",
    "default_screen",
    "estimate_screen",
    "estimate_screen_map",
    "compiled_screen_map",
    "compiled_window",
    "map_interval",
]

SAMPLES = 16384  # pixels looked at per frame by sample_rgb's default grid
CELL = 16  # screen-map block size in pixels at 1080p and below
CELL_AREA = 1920 * 1080  # above this frame area the block grows, keeping ~8k blocks
CELL_SAMPLES = 4  # samples per block along each axis (16 per block)
MIN_CELL_SCREEN = 4  # a block needs this many clearly-screen samples to be measured
MIN_CELL_EXCESS = 0.55  # … and a key excess of at least this share of the global colour's
MEMBER_SCREEN = 0.9  # membership above which a sample is clearly screen
MAX_INTERVAL_SHARE = 0.5  # frames between measurements ≤ this share of the time constant

F32 = np.float32

# --- the screen's window: which hue, how saturated ------------------------------------------
#
# Candidates are the samples of the family's hues that have some colour; the screen is the
# peak of their hue histogram (the frame's border counts BORDER_WEIGHT times: that is where
# the screen shows), and the samples within WINDOW_CLUSTER degrees of it are its pixels.
WINDOW_MIN_CHROMA = 0.04  # below this a sample's hue is noise
WINDOW_MIN_SAT = 0.08
WINDOW_LIGHT = (0.06, 0.94)
WINDOW_BIN = 2.0  # degrees per histogram bin
WINDOW_SMOOTH = 4  # bins either side of the triangular smoothing
WINDOW_CLUSTER = 25.0  # degrees around the peak that belong to the screen
WINDOW_SAT_CLUSTER = (0.12, 0.35)  # saturation around its peak that belongs: max(a, b·peak)
WINDOW_MIN_SHARE = 0.05  # the screen must be at least this share of the samples
BORDER = 0.08  # the outer share of the frame, each side, that is the border
BORDER_WEIGHT = 4.0
PALE = 0.45  # a screen paler than this (median HSL saturation) gets a saturation window
SAT_FLOOR = 0.6  # sat_min for a pale screen: this share of its 10th-percentile saturation
SAT_ROOF = 0.25  # sat_max for a pale screen: its 90th percentile plus this
DARK_SHARE = 0.5  # dark_guard at most this share of the screen's 10th-percentile chroma
# The window follows the measurements only when they move by more than this: a static scene
# keeps a static window (and matte) through compression noise.
WINDOW_DEADBAND = (1.5, 0.03)  # degrees of hue, saturation


def window_of_color(rgb: np.ndarray, p: KeyerParams) -> ScreenWindow:
    """The window for a screen of exactly this colour (a user's --screen-color)."""
    hue, sat, _, chroma = (float(v[0]) for v in rgb_to_hsl(np.asarray(rgb, F32).reshape(1, 3)))
    return _window(hue, sat, sat, sat, chroma, p)


def _window(hue: float, s10: float, s50: float, s90: float, c10: float, p: KeyerParams) -> ScreenWindow:
    pale = s50 < PALE
    return ScreenWindow(
        hue_center=hue,
        hue_width=p.hue_width,
        sat_min=min(p.sat_min, SAT_FLOOR * s10),
        sat_max=min(1.0, s90 + SAT_ROOF) if pale else 1.0,
        dark_guard=min(p.dark_guard, DARK_SHARE * c10),
    )


def measure_window(rgb: np.ndarray, p: KeyerParams) -> ScreenWindow | None:
    """The screen's window from a grid of samples (H×W×3), or None if no screen shows."""
    return window_of_samples(*rgb_to_hsl(rgb), p)


def window_of_samples(
    hue: np.ndarray, sat: np.ndarray, light: np.ndarray, chroma: np.ndarray, p: KeyerParams
) -> ScreenWindow | None:
    """:func:`measure_window` from the samples' HSL and chroma."""
    lo, hi = SCREEN_FAMILIES[p.screen]["search"]
    cand = (
        (hue >= lo) & (hue <= hi) & (chroma >= WINDOW_MIN_CHROMA) & (sat >= WINDOW_MIN_SAT)
        & (light >= WINDOW_LIGHT[0]) & (light <= WINDOW_LIGHT[1])
    )  # fmt: skip
    if cand.sum() < WINDOW_MIN_SHARE * cand.size:
        return None
    h, w = cand.shape
    weight = np.ones((h, w), F32)
    by, bx = max(1, round(BORDER * h)), max(1, round(BORDER * w))
    weight[:by] = weight[-by:] = BORDER_WEIGHT
    weight[:, :bx] = weight[:, -bx:] = BORDER_WEIGHT
    bins = int(math.ceil((hi - lo) / WINDOW_BIN))
    hist, _ = np.histogram(hue[cand], bins, (lo, lo + bins * WINDOW_BIN), weights=weight[cand])
    tri = np.concatenate([np.arange(1, WINDOW_SMOOTH + 2), np.arange(WINDOW_SMOOTH, 0, -1)])
    peak = lo + (int(np.argmax(np.convolve(hist, tri, "same"))) + 0.5) * WINDOW_BIN
    near = cand & (np.abs(hue - F32(peak)) <= WINDOW_CLUSTER)
    # Then the saturation peak of those: a vivid lime tie of the screen's hue on a pale
    # muslin is not the muslin.
    hist, _ = np.histogram(sat[near], 50, (0.0, 1.0), weights=weight[near])
    s_peak = (int(np.argmax(np.convolve(hist, tri, "same"))) + 0.5) / 50
    near &= np.abs(sat - F32(s_peak)) <= max(WINDOW_SAT_CLUSTER[0], WINDOW_SAT_CLUSTER[1] * s_peak)
    if near.sum() < WINDOW_MIN_SHARE * cand.size:
        return None
    s10, s50, s90 = (float(v) for v in np.percentile(sat[near], (10, 50, 90)))
    c10 = float(np.percentile(chroma[near], 10))
    return _window(float(np.median(hue[near])), s10, s50, s90, c10, p)


def follow_window(old: ScreenWindow | None, new: ScreenWindow | None) -> ScreenWindow | None:
    """The window to key with: the new measurement where it moved past WINDOW_DEADBAND."""
    if new is None or old is None:
        return old if new is None else new
    dh = abs((new.hue_center - old.hue_center + 180.0) % 360.0 - 180.0)
    ds = max(abs(new.sat_min - old.sat_min), abs(new.sat_max - old.sat_max))
    return new if dh > WINDOW_DEADBAND[0] or ds > WINDOW_DEADBAND[1] else old


def cell_size(width: int, height: int) -> int:
    """Screen-map block size for a frame: CELL px, growing with the frame above 1080p.

    A multiple of CELL, so the CELL_SAMPLES² samples of a block are an even grid step apart.
    """
    scale = max(1, round(math.sqrt(width * height / CELL_AREA)))
    return CELL * scale


def grid_shape(width: int, height: int, cell: int) -> tuple[int, int]:
    """(rows, cols) = (ceil(H / cell), ceil(W / cell))."""
    return -(-height // cell), -(-width // cell)


def sample_rgb(frame: Frame, step: int | None = None, offset: int = 0) -> np.ndarray:
    """A grid of the frame's pixels in RGB (every ``step``-th from ``offset``), as the keyer converts them.

    Without ``step``, a sparse grid of about SAMPLES pixels. ``step`` and ``offset`` must be even
    for subsampled chroma (the nearest chroma sample is taken, not interpolated).
    """
    if step is None:
        step = max(2, 2 * round(math.sqrt(frame.width * frame.height / SAMPLES) / 2))
    if frame.layout == "rgb":
        return cpu.decode_rgb(Frame.from_rgb(frame.planes[0][offset::step, offset::step]))
    y, u, v = frame.planes
    fx, fy = frame.chroma_factors
    ys = y[offset::step, offset::step]
    us = u[offset // fy :: max(step // fy, 1), offset // fx :: max(step // fx, 1)]
    vs = v[offset // fy :: max(step // fy, 1), offset // fx :: max(step // fx, 1)]
    us = us[: ys.shape[0], : ys.shape[1]]
    vs = vs[: ys.shape[0], : ys.shape[1]]
    return cpu.decode_rgb(Frame.from_yuv(ys, us, vs, frame.yuv))


def default_screen(p: KeyerParams) -> np.ndarray:
    """A fully saturated colour at the hue window's centre and lightness 0.25 (#008000 for green)."""
    rgb = np.zeros(3, F32)
    rgb[cpu.key_channel(p)] = 0.5
    return rgb


def screen_mask(rgb: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The pixels that are clearly screen (membership > MEMBER_SCREEN)."""
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    member = cpu.screen_membership(cpu.hue_membership(hue, p), sat, light, chroma, p)
    return member > MEMBER_SCREEN


def estimate_screen(
    rgb: np.ndarray, p: KeyerParams, mask: np.ndarray | None = None
) -> np.ndarray | None:
    """The median colour of the well-lit half of the pixels that are clearly screen."""
    screen = screen_mask(rgb, p) if mask is None else mask
    count = int(screen.sum())
    if count < max(32, rgb.shape[0] * rgb.shape[1] // 100):
        return None
    pixels = rgb[screen]
    excess = cpu.key_excess(pixels, cpu.key_channel(p))
    lit = pixels[excess >= np.median(excess)]
    return np.median(lit, axis=0).astype(F32)


def global_stride(rows: int, cols: int) -> int:
    """Every how many map samples, each way, the global colour takes (about SAMPLES)."""
    return max(1, round(math.sqrt(rows * cols / SAMPLES)))


def _masked_median(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Median over the last axis of the entries where ``mask`` holds (NaN where none do)."""
    n = mask.sum(axis=-1)
    v = np.where(mask, values, np.inf)
    v.sort(axis=-1)
    lo = np.clip((n - 1) // 2, 0, values.shape[-1] - 1)
    hi = np.clip(n // 2, 0, values.shape[-1] - 1)
    a = np.take_along_axis(v, lo[..., None], -1)[..., 0]
    b = np.take_along_axis(v, hi[..., None], -1)[..., 0]
    out = F32(0.5) * (a + b)
    out[n == 0] = np.nan
    return out


def _box3(a: np.ndarray) -> np.ndarray:
    """Sum over each 3×3 neighbourhood (zeros outside), rows then columns."""
    out = a.copy()
    out[1:] += a[:-1]
    out[:-1] += a[1:]
    res = out.copy()
    res[:, 1:] += out[:, :-1]
    res[:, :-1] += out[:, 1:]
    return res


def fill_unknown(colors: np.ndarray, known: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Blocks not ``known`` get the mean of their known 3×3 neighbours, repeatedly, until all are set.

    With no known block at all, every block is ``fallback``.
    """
    if not known.any():
        return np.broadcast_to(np.asarray(fallback, F32), colors.shape).copy()
    known = known.copy()
    colors = np.where(known[..., None], colors, F32(0.0)).astype(F32)
    rows, cols = known.shape
    while not known.all():
        # Only the unknown blocks change, and their 3×3 sums lie within the unknown blocks'
        # bounding box grown by one block: sum there only (the same sums, in the same order).
        unknown = ~known
        r = np.flatnonzero(unknown.any(axis=1))
        c = np.flatnonzero(unknown.any(axis=0))
        box = (slice(max(r[0] - 1, 0), r[-1] + 2), slice(max(c[0] - 1, 0), c[-1] + 2))
        sub, sub_known = colors[box], known[box]
        acc = _box3(sub)  # unknown blocks hold 0, so this sums the known ones
        cnt = _box3(sub_known.astype(F32))
        new = ~sub_known & (cnt > 0)
        sub[new] = acc[new] / cnt[new][:, None]
        sub_known |= new
    return colors


def estimate_screen_map(frame: Frame, p: KeyerParams) -> tuple[np.ndarray, int, np.ndarray | None]:
    """(block colours (rows, cols, 3), cell, global colour or None) measured from one frame.

    Each block is sampled on a CELL_SAMPLES² grid centred in it; its colour is the mean of the
    well-lit half of its clearly-screen samples. A block with too few of those (inside the
    subject), or whose colour holds much less of the key than the global colour (a block of
    hair mixed with screen), is filled in from its neighbours; without a global colour the
    blocks are left for the caller (all NaN).
    """
    w, h = frame.width, frame.height
    cell = cell_size(w, h)
    rows, cols = grid_shape(w, h, cell)
    step = cell // CELL_SAMPLES
    rgb = sample_rgb(frame, step, step // 2)
    mask = screen_mask(rgb, p)
    # The global colour from a sparser subset, as estimate_screen always measured it.
    sub = global_stride(rgb.shape[0], rgb.shape[1])
    glob = estimate_screen(rgb[::sub, ::sub], p, mask[::sub, ::sub])
    if glob is None:
        return np.full((rows, cols, 3), np.nan, F32), cell, None
    # Samples → (rows, cols, CELL_SAMPLES², …); the grid's last row/column may be short.
    pad_r = rows * CELL_SAMPLES - rgb.shape[0]
    pad_c = cols * CELL_SAMPLES - rgb.shape[1]
    rgb = np.pad(rgb, ((0, pad_r), (0, pad_c), (0, 0)))
    mask = np.pad(mask, ((0, pad_r), (0, pad_c)))
    k = CELL_SAMPLES
    blocks = rgb.reshape(rows, k, cols, k, 3).transpose(0, 2, 1, 3, 4).reshape(rows, cols, k * k, 3)
    bmask = mask.reshape(rows, k, cols, k).transpose(0, 2, 1, 3).reshape(rows, cols, k * k)
    key = cpu.key_channel(p)
    excess = cpu.key_excess(blocks, key)
    lit = bmask & (excess >= _masked_median(excess, bmask)[..., None])
    n_lit = lit.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Sum of the lit samples per block as a batch of (1×16)·(16×3) products: fast.
        sums = np.matmul(lit.astype(F32)[..., None, :], blocks)[..., 0, :]
        colors = sums / n_lit[..., None].astype(F32)
    known = bmask.sum(-1) >= MIN_CELL_SCREEN
    glob_excess = float(cpu.key_excess(glob, key))
    with np.errstate(invalid="ignore"):
        known &= cpu.key_excess(colors, key) >= F32(MIN_CELL_EXCESS * glob_excess)
    return fill_unknown(colors, known, glob), cell, glob


def compiled_samples(frame: Frame, step: int | None = None, offset: int = 0) -> np.ndarray:
    """:func:`sample_rgb`, compiled (the same values)."""
    if step is None:
        step = max(2, 2 * round(math.sqrt(frame.width * frame.height / SAMPLES) / 2))
    if frame.layout == "rgb":
        return ck.sample_rgb8(frame.planes[0], step, offset)
    fx, fy = frame.chroma_factors
    return ck.sample_yuv(*frame.planes, fx, fy, step, offset, ck.decode_constants(frame))


def compiled_window(frame: Frame, p: KeyerParams) -> ScreenWindow | None:
    """``measure_window(sample_rgb(frame), p)`` with the samples and their HSL compiled."""
    return window_of_samples(*ck.hsl(compiled_samples(frame)), p)


def compiled_screen_map(
    frame: Frame, p: KeyerParams, sampler: MapSampler | None = None
) -> tuple[np.ndarray, int, np.ndarray | None]:
    """:func:`estimate_screen_map`, compiled: the same values (block colours within
    ``kernels.calibrate.CALIBRATE_TOLERANCE``), a few small arrays of numpy. With a
    ``sampler`` kept from the last frame, only what changed since is sampled again."""
    w, h = frame.width, frame.height
    cell = cell_size(w, h)
    rows, cols = grid_shape(w, h, cell)
    sampler = sampler or MapSampler()
    key = cpu.key_channel(p)
    rgb, mask, excess, dirty = sampler.samples(frame, p, cell // CELL_SAMPLES, (rows, cols))
    found, glob = ck.global_screen(rgb, mask, excess, global_stride(*rgb.shape[:2]))
    if not found:
        return np.full((rows, cols, 3), np.nan, F32), cell, None
    min_excess = F32(MIN_CELL_EXCESS * float(cpu.key_excess(glob, key)))
    colors, known = ck.update_blocks(
        rgb, mask, excess, CELL_SAMPLES, MIN_CELL_SCREEN, min_excess, key, dirty,
        sampler.colors, sampler.count,
    )  # fmt: skip
    return ck.fill_unknown(colors, known, glob), cell, glob


class MapSampler:
    """The screen map's samples, their membership and the blocks' colours, kept from one
    measurement to the next: a sample whose Y, U and V bytes are unchanged is not decoded or
    tested again, and a block without a changed sample keeps its colour. The same values as
    measuring afresh, bit for bit (a frame of another size, matrix or layout, or other
    settings, is measured afresh)."""

    def __init__(self) -> None:
        self._sig: tuple | None = None
        self._state: tuple[np.ndarray, ...] = ()
        self.colors = np.empty((0, 0, 3), F32)  # the blocks' colours, NaN without screen
        self.count = np.empty((0, 0), np.int64)  # the blocks' clearly-screen samples

    def samples(
        self, frame: Frame, p: KeyerParams, step: int, grid: tuple[int, int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(rgb, clearly screen, key excess) of the map's samples, and the dirty blocks."""
        mp = ck.membership_params(p)
        key = cpu.key_channel(p)
        if frame.layout != "yuv":
            self._sig = None
            rgb = compiled_samples(frame, step, step // 2)
            mask, excess = ck.screen_samples(rgb, mp, key, F32(MEMBER_SCREEN))
            self.colors = np.empty((*grid, 3), F32)
            self.count = np.empty(grid, np.int64)
            return rgb, mask, excess, np.ones(grid, bool)
        fx, fy = frame.chroma_factors
        sig = (frame.width, frame.height, fx, fy, frame.yuv, step, key, mp.tobytes())
        fresh = sig != self._sig
        if fresh:
            off = step // 2
            shape = (-(-(frame.height - off) // step), -(-(frame.width - off) // step))
            self._state = (
                np.empty((*shape, 3), np.uint8),
                np.empty((*shape, 3), F32),
                np.empty(shape, bool),
                np.empty(shape, F32),
            )
            self.colors = np.empty((*grid, 3), F32)
            self.count = np.empty(grid, np.int64)
            self._sig = sig
        dirty = np.full(grid, fresh)  # a block without samples (the grid's edge) only afresh
        ck.resample_yuv(
            *frame.planes, fx, fy, step, step // 2, ck.decode_constants(frame), mp, key,
            F32(MEMBER_SCREEN), CELL_SAMPLES, self._state, dirty, fresh,
        )  # fmt: skip
        _, rgb, mask, excess = self._state
        return rgb, mask, excess, dirty


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
            window = window_of_color(np.asarray(p.screen_color, F32), p)
            return self._one_colour(np.asarray(p.screen_color, F32), cell, window)
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
