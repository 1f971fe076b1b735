"""CpuKeyer: packs the parameters, picks the output layout, owns the scratch, calls the kernel."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

import numba
import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame, YuvImage
from ...core.layers import CLEAR, Clear, Layer, Picture, Solid, check_layer, out_channels
from ...core.params import KeyerParams
from ...core.screenmap import ScreenMap, keyed_params
from .. import reference as cpu
from ..param_table import (
    I_BG_KIND,
    I_CENTRED,
    I_FX,
    I_FY,
    I_HALO,
    I_HOLD,
    I_LAYOUT,
    I_TILES,
    I_YUV,
    P_HOLD,
)
from .alpha0 import alpha0_outputs
from .common import (
    BAND_ROWS,
    BG_COLOR,
    BG_NONE,
    BG_RGB,
    BG_RGBA,
    LAYOUT_RGB,
    LAYOUT_YUV,
    T_MIXED,
    T_SCREEN,
    T_SUBJECT,
)
from .frame import kernel
from .hold import HeldLevels
from .incremental import (
    DECODE_REACH,
    FULL_SHARE,
    IDLE_AFTER,
    PROBE_EVERY,
    Kept,
    flat,
    reach_blocks,
)
from .packing import (
    NO_COLOR,
    NO_IMAGE,
    NO_OUT_IMAGE,
    NO_OUT_PLANE,
    NO_PLANE,
    decode_constants,
    pack_params,
)
from .pathchoice import PathChoice
from .pixels import screen_across
from .plain import PLAIN_FROM, plain_blocks
from .runner import FrameArgs, KernelRunner

# --- the keyer ----------------------------------------------------------------------------


class CpuKeyer:
    """The CPU path: numba kernels on numba's threads; the same interface as GpuKeyer.

    ``tiles=False`` computes every stage on every pixel (the tests' proof that skipping
    plain screen and plain subject changes nothing); ``band_rows`` sets the rows a band aims
    at (the output does not depend on it, which the tests check too). ``incremental=True``
    keys only the blocks of a frame whose inputs within reach changed since the previous
    frame and keeps the others' bytes (kernels.incremental); False keys every pixel of every
    frame; ``"auto"`` takes whichever of the two is faster on the footage, as timed
    (kernels.pathchoice; a PathChoice of one's own sets its trial and epoch).
    ``plain_screen`` (with incremental) gives blocks that the raw bytes around them prove
    plain screen the background's bytes without keying them (kernels.plain).
    """

    backend = "cpu"

    def __init__(
        self,
        params: KeyerParams,
        *,
        tiles: bool = True,
        band_rows: int = BAND_ROWS,
        incremental: bool | Literal["auto"] | PathChoice = "auto",
        plain_screen: bool = True,
    ) -> None:
        self.params = params
        self.tiles = tiles
        self.incremental = incremental
        self._choice = (
            incremental
            if isinstance(incremental, PathChoice)
            else PathChoice() if incremental == "auto" else None
        )  # fmt: skip
        self.plain_screen = plain_screen
        self._kept = Kept()
        self._held = HeldLevels()
        self._idle = 0  # frames in a row keyed whole with the incremental path on
        self._frames = 0
        self.band_rows = max(2, int(band_rows))
        self._packed = pack_params(params)
        self._packed_for = params
        # As many bands at once as numba has threads (a batch worker runs with fewer than
        # the machine's CPUs), and no more than the CPUs this process may use.
        workers = max(1, min(cpu.cpu_workers(), numba.get_num_threads()))
        self._run = KernelRunner(workers, self.band_rows, tiles)
        kernel()

    def set_params(self, params: KeyerParams) -> None:
        self.params = params
        self._packed = pack_params(params)
        self._packed_for = params

    def _pack(self, p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The packed settings for ``p`` (the user's, or with a measured window): repacked
        only when they change."""
        if p is not self._packed_for:
            self._packed, self._packed_for = pack_params(p), p
        return self._packed

    # What render() can hand a sink as it stores it (Sink.pixel_format).
    pixel_formats = frozenset({"rgb24", "rgba", "yuv420p", "yuva420p"})

    def render(
        self,
        frame: Frame,
        screen: ScreenMap,
        background: Layer,
        *,
        pixel_format: str | None = None,
    ) -> np.ndarray | YuvImage:
        """The frame keyed over ``background`` (see :meth:`_render`), on the path chosen."""
        check_layer(background, frame.width, frame.height)
        choice = self._choice
        if choice is None:
            return self._render(frame, screen, background, pixel_format, self.incremental is True)
        incremental = choice.path == "incremental"
        if not incremental:
            self._kept.valid = False  # its inputs are not brought up to date meanwhile
        t0 = time.perf_counter()
        got = self._render(frame, screen, background, pixel_format, incremental)
        choice.record(time.perf_counter() - t0)
        return got

    def _render(
        self,
        frame: Frame,
        screen: ScreenMap,
        background: Layer,
        pixel_format: str | None,
        incremental: bool,
    ) -> np.ndarray | YuvImage:
        """uint8 H×W×3 over a ``Solid`` or an opaque ``Picture``, H×W×4 over ``Clear`` or a
        ``Picture`` with alpha.

        ``pixel_format="rgba"`` makes an opaque composite H×W×4 too (alpha 255);
        ``pixel_format="yuv420p"`` (an opaque composite) or ``"yuva420p"`` (a transparent
        one) returns the encoder's planes instead, made in the same pass (:func:`composite._rows_to_yuv`);
        for any other combination the uint8 image.
        """
        P, ints, fw = self._pack(keyed_params(self.params, screen))
        h, w = frame.height, frame.width
        hold_on = bool(P[P_HOLD] > 0)  # off: no key to make, no state to keep
        held_key = (P.tobytes(), ints.tobytes(), fw.tobytes()) if hold_on else None
        ints = ints.copy()
        ints[I_TILES] = 1 if self.tiles else 0
        bg_color, bg_img = NO_COLOR, NO_IMAGE
        match background:
            case Clear():
                kind = BG_NONE
            case Solid(rgb=rgb):
                kind, bg_color = BG_COLOR, rgb
            case Picture(pixels=pixels):
                kind, bg_img = (BG_RGBA if background.has_alpha else BG_RGB), pixels
        channels = out_channels(background)
        if pixel_format == "rgba" and channels == 3:
            channels = 4  # opaque, with alpha 255: what an RGBA texture takes as it is
        ints[I_BG_KIND] = kind
        if frame.layout == "rgb":
            ints[I_LAYOUT] = LAYOUT_RGB
            yplane = uplane = vplane = NO_PLANE
            rgbp = frame.planes[0]
            lw = cpu.BT709_LUMA
        else:
            ints[I_LAYOUT] = LAYOUT_YUV
            yplane, uplane, vplane = frame.planes
            rgbp = NO_IMAGE
            ints[I_FX], ints[I_FY] = frame.chroma_factors
            ints[I_CENTRED] = int(frame.spec.centred)
            lw = cpu.luma_weights(frame)
        frame_planes = (yplane, uplane, vplane, rgbp)
        hold, valid = self._held.begin(held_key, h, w, hold_on, frame_planes)
        dec = decode_constants(frame)
        smap = screen
        rows, cols = smap.shape
        mi0, mi1, mfy = cpu.map_axis(h, smap.cell, rows)
        mj0, mj1, mfx = cpu.map_axis(w, smap.cell, cols)
        across = screen_across(smap.colors, mj0, mj1, mfx)
        yuv = (pixel_format == "yuv420p" and channels == 3) or (
            pixel_format == "yuva420p" and kind == BG_NONE
        )
        if yuv:
            ints[I_YUV] = 1
        fy, fx = (1, 1) if frame.layout == "rgb" else (int(ints[I_FY]), int(ints[I_FX]))
        has_img = kind in (BG_RGB, BG_RGBA)

        call_ints = ints.copy()
        call_ints[I_HOLD] = int(valid)  # the call's, not a setting: the incremental key omits it
        args = FrameArgs((yplane, uplane, vplane, rgbp), across, (mi0, mi1, mfy), P, call_ints,
                         dec, lw, fw, bg_color, bg_img)  # fmt: skip

        def key_whole() -> list[np.ndarray]:
            """Every pixel of the frame keyed: its outputs, in the order kept."""
            if yuv:
                out = self._run.composite_scratch(h, w, channels)
                planes = [np.empty((h, w), np.uint8), np.empty(((h + 1) // 2, (w + 1) // 2),
                          np.uint8), np.empty(((h + 1) // 2, (w + 1) // 2), np.uint8),
                          np.empty((h, w), np.uint8) if channels == 4 else NO_OUT_PLANE]  # fmt: skip
            else:
                out, planes = np.empty((h, w, channels), np.uint8), [NO_OUT_PLANE] * 4
            self._run.whole(args, out, planes, kind, hold)
            if yuv:
                return planes if channels == 4 else planes[:3]
            return [out]

        self._run.counts = np.zeros(3, np.int64)
        if not incremental:
            self._kept.reused = self._kept.plain = 0.0
            got = key_whole()
            self._held.end(held_key, frame_planes)
            return self._result(got, yuv)
        layout = (h, w, channels, yuv, frame.layout, fy, fx, kind)
        settings = (
            self.tiles, P.tobytes(), ints.tobytes(), fw.tobytes(), dec.tobytes(),
            np.asarray(lw).tobytes(), bg_color.tobytes(),
        )  # fmt: skip
        inputs: list[tuple[np.ndarray, int, int]] = (
            [(rgbp, 1, 1)]
            if frame.layout == "rgb"
            else [(yplane, 1, 1), (uplane, fy, fx), (vplane, fy, fx)]
        )  # fmt: skip
        if has_img:
            inputs.append((bg_img, 1, 1))
        reach = int(ints[I_HALO]) + DECODE_REACH
        dirty = self._kept.changed(layout, settings, inputs, across, mi0, mi1, (h, w), reach)
        fill: np.ndarray | None = None
        alpha0: list[np.ndarray] | None = None  # the outputs of a frame that is all screen
        self._kept.plain = 0.0
        # Worth a test only where enough is to be keyed again (it costs a few ms a 1080p frame).
        idle = self._idle >= IDLE_AFTER
        self._frames += 1
        if (
            dirty is not None
            and self.plain_screen
            and dirty.mean() >= PLAIN_FROM
            and (not idle or self._frames % PROBE_EVERY == 0)
        ):
            alpha0 = alpha0_outputs(
                self._kept, (layout, settings), kind, channels, yuv, bg_color, bg_img, (h, w)
            )
            if alpha0 is not None:
                grid = dirty.shape
                planes_in = [(flat(q), q.shape[2] if q.ndim == 3 else 1, sy, sx)
                             for q, sy, sx in inputs[: 1 if frame.layout == "rgb" else 3]]  # fmt: skip
                plain = plain_blocks(planes_in, ints, P, dec, across, mi0, mi1, lw, grid,
                                     reach_blocks(reach))  # fmt: skip
                fill, dirty = dirty & plain, dirty & ~plain
                self._kept.plain = float(fill.mean())
        gain = dirty is not None and dirty.mean() <= FULL_SHARE
        if dirty is None or not gain or not self._kept.valid:
            got = key_whole()
            # After IDLE_AFTER frames with nothing to keep (camera noise everywhere), the
            # frame is no longer copied for the next; the blocks are still compared, and the
            # first frame that could keep some is copied again.
            self._idle = 0 if gain else self._idle + 1
            if self._idle < IDLE_AFTER:
                factors = [1, 2, 2, 1][: len(got)] if yuv else [1]
                self._kept.keep(list(zip(got, factors, strict=True)))
            else:
                self._kept.valid = False
            self._kept.reused = 0.0
            self._held.end(held_key, frame_planes)
            return self._result(got, yuv)
        self._idle = 0
        if hold_on:
            self._held.keep(fill)

        def key_jobs(jobs: np.ndarray) -> None:
            """kernels.jobs on this frame: the rectangles ``jobs`` keyed into the kept outputs."""
            kept = [o for o, _ in self._kept.outputs]
            if yuv:
                out, planes = NO_OUT_IMAGE, kept + [NO_OUT_PLANE] * (4 - len(kept))
            else:
                out, planes = kept[0], [NO_OUT_PLANE] * 4
            self._run.jobs(args, out, planes, jobs, channels, hold)

        got = self._kept.rekey(dirty, reach, (h, w), key_jobs, fill, alpha0)
        self._held.end(held_key, frame_planes)
        return self._result(got, yuv)

    @staticmethod
    def _result(got: list[np.ndarray], yuv: bool) -> np.ndarray | YuvImage:
        if yuv:
            return YuvImage(got[0], got[1], got[2], got[3] if len(got) == 4 else None)
        return got[0]

    def warm(self, width: int, height: int) -> None:
        """Key frames of plain screen of this size, as decoded video (4:2:0 planes, contiguous
        and with padded rows: numba compiles each kind) and as RGB, on each path: the first
        real frames then pay neither for allocating and faulting in the scratch nor for
        loading the incremental path's kernels (a live view's first frames would be late).
        Each is keyed whole, then with a pixel changed (the jobs kernel), then with a third
        of its rows changed (the plain-screen test, and its blocks filled)."""
        h, w = max(height, 1), max(width, 1)
        green = (0.0, 0.5, 0.0)
        m, off = YuvSpec().from_rgb()
        y0, u0, v0 = (np.clip((m * np.array(green)).sum(axis=1) + off, 0.0, 1.0) * 255.0).round()

        def yuv(delta: np.ndarray, pad: int) -> Frame:
            y = np.zeros((h, w + pad), np.uint8)[:, :w]
            y[:] = y0 + delta
            ch, cw = (h + 1) // 2, (w + 1) // 2
            u = np.full((ch, cw + pad), u0, np.uint8)[:, :cw]
            v = np.full((ch, cw + pad), v0, np.uint8)[:, :cw]
            return Frame.from_yuv(y, u, v, YuvSpec())

        def rgb(delta: np.ndarray) -> Frame:
            px = np.zeros((h, w, 3), np.uint8)
            px[..., 1] = 128 + delta
            return Frame.from_rgb(px)

        blanks: list[Callable[[np.ndarray], Frame]] = [
            lambda d: yuv(d, 0), lambda d: yuv(d, 64), rgb,
        ]  # fmt: skip
        screen = ScreenMap.constant(green)
        for blank in blanks:
            delta = np.zeros((h, w), np.uint8)
            self._render(blank(delta), screen, CLEAR, None, True)
            delta[0, 0] = 1
            self._render(blank(delta), screen, CLEAR, None, True)
            delta[: max(h // 3, 1)] = 1
            self._render(blank(delta), screen, CLEAR, None, True)
            self._kept.clear()
        self._held.clear()
        self._idle = self._frames = 0

    @property
    def tile_counts(self) -> dict[str, int]:
        """Tiles of the last frame (counted once per band) by what they needed: ``mixed`` the
        whole chain, ``screen`` only the background, ``subject`` only despill."""
        c = self._run.counts
        return {"mixed": int(c[T_MIXED]), "screen": int(c[T_SCREEN]), "subject": int(c[T_SUBJECT])}

    def rows_per_band(self, h: int) -> int:
        """The rows of a band at height ``h`` (KernelRunner.rows_per_band)."""
        return self._run.rows_per_band(h)

    @property
    def path(self) -> str:
        """The path the next frame takes: ``incremental`` (changed blocks) or ``whole``."""
        if self._choice is not None:
            return self._choice.path
        return "incremental" if self.incremental is True else "whole"

    @property
    def reused(self) -> float:
        """The last frame's share of output blocks kept from the frame before (incremental)."""
        return self._kept.reused

    def reset(self) -> None:
        """The next frame keyed on its own: no still hold from, nor blocks kept of, this one."""
        self._held.clear()
        self._kept.valid = False

    def close(self) -> None:
        """Frees the scratch, the kept frame and the still hold's state."""
        self._run.close()
        self._kept.clear()
        self._held.clear()
