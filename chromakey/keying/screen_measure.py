"""The screen map measured from one frame: a colour per block of the frame's clearly-screen
samples, blocks inside the subject filled in from their neighbours, and the global colour.
The numpy functions are the reference; ``compiled_*`` are their twins on the compiled kernels
(:mod:`chromakey.keying.kernels.calibrate`), with :class:`MapSampler` keeping what did not
change since the last measurement."""

from __future__ import annotations

import math

import numpy as np

from ..core.color import rgb_to_hsl
from ..core.frames import Frame
from ..core.params import KeyerParams
from ..core.screenmap import ScreenWindow
from . import reference as cpu
from .kernels import calibrate as ck
from .screen_window import window_of_samples

SAMPLES = 16384  # pixels looked at per frame by sample_rgb's default grid
CELL = 16  # screen-map block size in pixels at 1080p and below
CELL_AREA = 1920 * 1080  # above this frame area the block grows, keeping ~8k blocks
CELL_SAMPLES = 4  # samples per block along each axis (16 per block)
MIN_CELL_SCREEN = 4  # a block needs this many clearly-screen samples to be measured
MIN_CELL_EXCESS = 0.55  # … and a key excess of at least this share of the global colour's
MEMBER_SCREEN = 0.9  # membership above which a sample is clearly screen

F32 = np.float32


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
    return cpu.decode_rgb(Frame.from_yuv(ys, us, vs, frame.spec))


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
    result: np.ndarray | None = np.median(lit, axis=0).astype(F32)
    return result


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
    result: np.ndarray = out
    return result


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
        result: np.ndarray = ck.sample_rgb8(frame.planes[0], step, offset)
        return result
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    samples: np.ndarray = ck.sample_yuv(y, u, v, fx, fy, step, offset, ck.decode_constants(frame))
    return samples


def compiled_window(frame: Frame, p: KeyerParams) -> ScreenWindow | None:
    """``measure_window(sample_rgb(frame), p)`` with the samples and their HSL compiled."""
    rgb = compiled_samples(frame)
    hue, sat, light, chroma = ck.hsl(rgb)
    return window_of_samples(rgb, hue, sat, light, chroma, p)


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
        self._sig: tuple[object, ...] | None = None
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
        y, u, v = frame.planes
        ck.resample_yuv(
            y, u, v, fx, fy, step, step // 2, ck.decode_constants(frame), mp, key,
            F32(MEMBER_SCREEN), CELL_SAMPLES, self._state, dirty, fresh,
        )  # fmt: skip
        _, rgb, mask, excess = self._state
        return rgb, mask, excess, dirty
