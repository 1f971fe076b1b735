"""CpuKeyer: packs the parameters, picks the output layout, owns the scratch, calls the kernel."""

from __future__ import annotations

import numba
import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame, YuvImage
from ...core.params import KeyerParams
from ...core.screenmap import ScreenMap, keyed_params
from .. import reference as cpu
from .common import (
    BAND_ROWS,
    BG_COLOR,
    BG_NONE,
    BG_RGB,
    BG_RGBA,
    F32,
    I_BG_KIND,
    I_CHOKE,
    I_EDGE_R,
    I_FEATHER_N,
    I_FX,
    I_FY,
    I_GUIDE_R,
    I_HALO,
    I_KEY,
    I_LAYOUT,
    I_PREFILLED,
    I_REACH,
    I_REST,
    I_SPILL_R,
    I_TILES,
    I_YUV,
    LAYOUT_RGB,
    LAYOUT_YUV,
    N_BUFFERS,
    N_INTS,
    N_LINES,
    N_PARAMS,
    P_BRIGHT_E0,
    P_BRIGHT_INV,
    P_CLIP_BLACK,
    P_CLIP_INV,
    P_DARK_E0,
    P_DARK_INV,
    P_EDGE_E0,
    P_EDGE_INV,
    P_FIT_E0,
    P_FIT_INV,
    P_GAMUT_E0,
    P_GAMUT_INV,
    P_GUIDE_EPS,
    P_HUE_CENTER,
    P_HUE_E0,
    P_HUE_HALF,
    P_HUE_INV,
    P_MATTE_EPS,
    P_MIX_E0,
    P_MIX_INV,
    P_REACH_E0,
    P_REACH_INV,
    P_SAT_E0,
    P_SAT_INV,
    P_SCREEN_LO,
    P_SPILL,
    P_SUBJECT_HI,
    P_VIVID_E0,
    P_VIVID_INV,
    P_WEAK_E0,
    P_WEAK_INV,
    T_MIXED,
    T_SCREEN,
    T_SUBJECT,
    TILE,
    ramp,
)
from .composite import _rows_to_yuv
from .frame import _KERNEL_LOCK, kernel
from .incremental import (
    DECODE_REACH,
    FULL_SHARE,
    IDLE_AFTER,
    PROBE_EVERY,
    Kept,
    flat,
    reach_blocks,
)
from .pixels import screen_across
from .plain import PLAIN_FROM, plain_blocks

# --- the keyer ----------------------------------------------------------------------------


def pack_params(p: KeyerParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float32 vector, int64 vector, feather taps) of ``p`` for the kernels."""
    f = np.zeros(N_PARAMS, np.float64)
    f[P_HUE_CENTER] = F32(p.hue_center)
    f[P_HUE_HALF] = F32(p.hue_width / 2.0)
    f[P_HUE_E0], f[P_HUE_INV] = ramp(0.0, p.hue_softness)
    f[P_SAT_E0], f[P_SAT_INV] = ramp(p.sat_min - p.sat_softness, p.sat_min)
    f[P_DARK_E0], f[P_DARK_INV] = ramp(0.5 * p.dark_guard, p.dark_guard)
    f[P_BRIGHT_E0], f[P_BRIGHT_INV] = ramp(p.bright_guard, 1.0)
    f[P_VIVID_E0], f[P_VIVID_INV] = ramp(p.sat_max, p.sat_max + p.sat_softness)
    f[P_EDGE_E0], f[P_EDGE_INV] = ramp(0.5 * p.edge_tolerance, p.edge_tolerance)
    f[P_WEAK_E0], f[P_WEAK_INV] = ramp(p.sat_min, p.sat_min + p.sat_softness)
    f[P_CLIP_BLACK] = F32(p.clip_black)
    f[P_CLIP_INV] = F32(1.0 / (p.clip_white - p.clip_black))
    f[P_GUIDE_EPS] = F32(p.guide_eps)
    f[P_MATTE_EPS] = F32(cpu.GUIDE_MATTE_EPS)
    f[P_FIT_E0], f[P_FIT_INV] = ramp(*cpu.GUIDE_FIT_RAMP)
    f[P_REACH_E0], f[P_REACH_INV] = ramp(*cpu.REACH_SHARE)
    f[P_MIX_E0], f[P_MIX_INV] = ramp(*cpu.REACH_MIX)
    f[P_GAMUT_E0], f[P_GAMUT_INV] = ramp(*cpu.REACH_GAMUT)
    f[P_SPILL] = F32(p.spill)
    # A guided matte at most SCREEN_LO through the refinement's reach refines to exactly 0:
    # the edge test sees a spread ≤ edge_tolerance/2 (weight 0) and clip_black clips it.
    # At least SUBJECT_HI, it refines to exactly 1 the same way.
    f[P_SCREEN_LO] = F32(min(p.clip_black, 0.5 * p.edge_tolerance))
    f[P_SUBJECT_HI] = _subject_floor(p, f[P_EDGE_E0], f[P_CLIP_BLACK], f[P_CLIP_INV])
    ints = np.zeros(N_INTS, np.int64)
    ints[I_KEY] = cpu.key_channel(p)
    ints[I_GUIDE_R] = p.guide_radius
    ints[I_CHOKE] = p.choke
    taps = cpu.gaussian_weights(p.feather) if p.feather > 0 else np.ones(1, F32)
    ints[I_FEATHER_N] = len(taps) // 2
    ints[I_SPILL_R] = p.spill_radius
    ints[I_EDGE_R] = cpu.EDGE_RADIUS
    ints[I_HALO] = halo(p)
    ints[I_REACH] = cpu.member_reach(p)
    # What the refinement and spill gate reach.
    ints[I_REST] = ints[I_HALO] - 2 * p.guide_radius - ints[I_REACH]
    return f.astype(F32), ints, taps.astype(F32)


def _subject_floor(p: KeyerParams, e0: float, black: float, inv: float) -> float:
    """The smallest float32 s with 1 − s ≤ e0 and (s − clip_black)·inv ≥ 1 in float32
    arithmetic: a guided matte of at least s through the reach refines to exactly 1."""
    s = F32(max(p.clip_white, 1.0 - 0.5 * p.edge_tolerance))
    e0, black, inv = F32(e0), F32(black), F32(inv)
    while s < F32(1.0) and (F32(1.0) - s > e0 or (s - black) * inv < F32(1.0)):
        s = np.nextafter(s, F32(2.0), dtype=F32)
    return float(s)


def halo(p: KeyerParams) -> int:
    """Rows of context a band needs: the reach of every neighbourhood stage, added up (the
    reference's sum, cpu.halo_rows, without its safety rows: here every reach is exact)."""
    return cpu.halo_rows(p) - cpu.HALO_MARGIN


def _decode_constants(frame: Frame) -> np.ndarray:
    """cpu._decode_yuv's float32 constants: (m00, y offset, 1/255, u off, v off, m02, m11, m12, m21)."""
    spec = frame.yuv if frame.yuv is not None else YuvSpec()
    m, off = spec.to_rgb()
    m = m.astype(F32)
    s = F32(1.0 / 255.0)
    return np.array(
        [m[0, 0], F32(m[0, 0] * off[0]), s, F32(off[1]), F32(off[2]),
         m[0, 2], m[1, 1], m[1, 2], m[2, 1]],
        F32,
    )  # fmt: skip


_U8_2D = np.zeros((1, 1), np.uint8)


_U8_2D_OUT = np.zeros((1, 1), np.uint8)  # "no plane" for the kernel's outputs


_U8_3D = np.zeros((1, 1, 3), np.uint8)


def _yuv_matrix() -> np.ndarray:
    """YuvImage's RGB → YUV (0–1 units): the 3×3 matrix by rows, then the offsets."""
    m, off = YuvImage.SPEC.from_rgb()
    return np.concatenate([m.reshape(-1), off]).astype(F32)


_TO_YUV = _yuv_matrix()


_NO_COLOR = np.zeros(3, F32)


def _alpha0_bytes() -> np.ndarray:
    """_screen_lut's table for an image background, in the same float32 operations."""
    c = np.arange(256, dtype=F32) * F32(1.0 / 255.0)
    v = np.clip(F32(0.0) + F32(1.0) * c, F32(0.0), F32(1.0))
    return (v * F32(255.0) + F32(0.5)).astype(np.uint8)


# Whether a pixel of alpha 0 over an image shows the image's byte unchanged (it does in
# float32, but the kernels' arithmetic decides, not an assumption).
_IMAGE_BYTES_KEPT = bool((_alpha0_bytes() == np.arange(256)).all())


def _prefill(out: np.ndarray, kind: int, bg_color: np.ndarray, bg_img: np.ndarray) -> int:
    """Write what a pixel of alpha 0 shows into every pixel of ``out``; 1 if done (the
    kernel then skips screen tiles), 0 where only the kernel can say (a background with
    alpha of its own)."""
    if kind == BG_NONE:
        out.fill(0)
    elif kind == BG_COLOR:
        v = np.clip(F32(0.0) + F32(1.0) * bg_color.astype(F32), F32(0.0), F32(1.0))
        px = np.full(out.shape[2], 255, np.uint8)
        px[:3] = (v * F32(255.0) + F32(0.5)).astype(np.uint8)
        out[0] = px
        out[1:] = out[0]  # row by row: contiguous copies
    elif kind == BG_RGB and _IMAGE_BYTES_KEPT and out.shape[2] == 3:
        np.copyto(out, bg_img)
    else:
        return 0
    return 1


class CpuKeyer:
    """The CPU path: numba kernels on numba's threads; the same interface as GpuKeyer.

    ``tiles=False`` computes every stage on every pixel (the tests' proof that skipping
    plain screen and plain subject changes nothing); ``band_rows`` sets the rows a band aims
    at (the output does not depend on it, which the tests check too). ``incremental`` keys
    only the blocks of a frame whose inputs within reach changed since the previous frame and
    keeps the others' bytes (kernels.incremental); False keys every pixel of every frame.
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
        incremental: bool = True,
        plain_screen: bool = True,
    ) -> None:
        self.params = params
        self.tiles = tiles
        self.incremental = incremental
        self.plain_screen = plain_screen
        self._kept = Kept()
        self._idle = 0  # frames in a row keyed whole with the incremental path on
        self._frames = 0
        self._counts = np.zeros(3, np.int64)
        self.band_rows = max(2, int(band_rows))
        self._packed = pack_params(params)
        self._packed_for = params
        # As many bands at once as numba has threads (a batch worker runs with fewer than
        # the machine's CPUs), and no more than the CPUs this process may use.
        self._workers = max(1, min(cpu.cpu_workers(), numba.get_num_threads()))
        self._scratch: np.ndarray | None = None
        self._tiles = np.zeros((0, 3, 4), np.int64)
        self._rgb = np.zeros((0, 0, 3), np.uint8)
        self._lines = np.zeros((0, N_LINES, 256), F32)
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
        background: np.ndarray | None,
        *,
        pixel_format: str | None = None,
    ) -> np.ndarray | YuvImage:
        """uint8 H×W×3 over ``background`` ((3,) colour or H×W×3/4 image), or H×W×4 if None.

        ``pixel_format="rgba"`` makes an opaque composite H×W×4 too (alpha 255);
        ``pixel_format="yuv420p"`` (an opaque composite) or ``"yuva420p"`` (a transparent
        one) returns the encoder's planes instead, made in the same pass (:func:`_rows_to_yuv`);
        for any other combination the uint8 image.
        """
        P, ints, fw = self._pack(keyed_params(self.params, screen))
        ints = ints.copy()
        h, w = frame.height, frame.width
        ints[I_TILES] = 1 if self.tiles else 0
        bg_color, bg_img = _NO_COLOR, _U8_3D
        if background is None:
            kind, channels = BG_NONE, 4
        else:
            bg = np.asarray(background)
            if bg.ndim == 1:
                kind, channels, bg_color = BG_COLOR, 3, bg.astype(F32).reshape(3)
            else:
                if bg.dtype != np.uint8:
                    bg = cpu.to_uint8(np.clip(bg, 0.0, 1.0).astype(F32))
                kind = BG_RGBA if bg.shape[-1] == 4 else BG_RGB
                channels = 4 if kind == BG_RGBA else 3
                bg_img = bg
        if pixel_format == "rgba" and channels == 3:
            channels = 4  # opaque, with alpha 255: what an RGBA texture takes as it is
        ints[I_BG_KIND] = kind
        if frame.layout == "rgb":
            ints[I_LAYOUT] = LAYOUT_RGB
            yplane = uplane = vplane = _U8_2D
            rgbp = frame.planes[0]
            lw = cpu.BT709_LUMA
        else:
            ints[I_LAYOUT] = LAYOUT_YUV
            yplane, uplane, vplane = frame.planes
            rgbp = _U8_3D
            ints[I_FX], ints[I_FY] = frame.chroma_factors
            lw = cpu.luma_weights(frame)
        dec = _decode_constants(frame)
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

        def key_view(r0: int, r1: int, c0: int, c1: int) -> list[np.ndarray]:
            """Rows [r0, r1) × columns [c0, c1) of the frame keyed as a frame of its own (the
            caller discards what its clamped edges reach): its outputs, as kept."""
            vh, vw = r1 - r0, c1 - c0
            if frame.layout == "rgb":
                yv = uv = vv = _U8_2D
                rgbv = rgbp[r0:r1, c0:c1]
            else:
                cr, cc = slice(r0 // fy, -(-r1 // fy)), slice(c0 // fx, -(-c1 // fx))
                yv, uv, vv, rgbv = yplane[r0:r1, c0:c1], uplane[cr, cc], vplane[cr, cc], rgbp
            whole = (r0, r1, c0, c1) == (0, h, 0, w)
            if yuv:
                out = (
                    self._composite_scratch(h, w, channels)
                    if whole
                    else np.empty((vh, vw, channels), np.uint8)
                )
                ch = ((vh + 1) // 2, (vw + 1) // 2)
                planes = [np.empty((vh, vw), np.uint8), np.empty(ch, np.uint8),
                          np.empty(ch, np.uint8)]  # fmt: skip
                planes.append(np.empty((vh, vw), np.uint8) if channels == 4 else _U8_2D_OUT)
            else:
                out = np.empty((vh, vw, channels), np.uint8)
                planes = [_U8_2D_OUT] * 4
            self._call(
                (yv, uv, vv, rgbv),
                across if whole else np.ascontiguousarray(across[:, :, c0:c1]),
                (mi0[r0:r1], mi1[r0:r1], mfy[r0:r1]), P, ints.copy(), dec, lw, fw,
                bg_color, bg_img[r0:r1, c0:c1] if has_img else bg_img, out, planes, kind,
            )  # fmt: skip
            if yuv:
                return planes if channels == 4 else planes[:3]
            return [out]

        self._counts = np.zeros(3, np.int64)
        if not self.incremental:
            return self._result(key_view(0, h, 0, w), yuv)
        layout = (h, w, channels, yuv, frame.layout, fy, fx, kind)
        settings = (
            self.tiles, P.tobytes(), ints.tobytes(), fw.tobytes(), dec.tobytes(),
            np.asarray(lw).tobytes(), bg_color.tobytes(),
        )  # fmt: skip
        inputs = (
            [(rgbp, 1, 1)]
            if frame.layout == "rgb"
            else [(yplane, 1, 1), (uplane, fy, fx), (vplane, fy, fx)]
        )  # fmt: skip
        if has_img:
            inputs.append((bg_img, 1, 1))
        reach = int(ints[I_HALO]) + DECODE_REACH
        dirty = self._kept.changed(layout, settings, inputs, across, mi0, mi1, (h, w), reach)
        fill = background = None
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
            background = self._background(
                (layout, settings), kind, channels, yuv, bg_color, bg_img, out_shape=(h, w)
            )
            if background is not None:
                grid = dirty.shape
                planes_in = [(flat(q), q.shape[2] if q.ndim == 3 else 1, sy, sx)
                             for q, sy, sx in inputs[: 1 if frame.layout == "rgb" else 3]]  # fmt: skip
                plain = plain_blocks(planes_in, ints, P, dec, across, mi0, mi1, lw, grid,
                                     reach_blocks(reach))  # fmt: skip
                fill, dirty = dirty & plain, dirty & ~plain
                self._kept.plain = float(fill.mean())
        gain = dirty is not None and dirty.mean() <= FULL_SHARE
        if not gain or not self._kept.valid:
            got = key_view(0, h, 0, w)
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
            return self._result(got, yuv)
        self._idle = 0
        return self._result(self._kept.rekey(dirty, reach, (h, w), key_view, fill, background), yuv)

    def _background(self, settings, kind, channels, yuv, bg_color, bg_img, out_shape):
        """The outputs of a frame of alpha 0 everywhere (what plain screen shows), in the
        order kept; None where no such copy is cheap (a background with alpha of its own, or
        an image under the sink's YUV planes: a video's would be converted every frame)."""
        h, w = out_shape
        if kind in (BG_RGB, BG_RGBA):
            plain_image = kind == BG_RGB and not yuv and channels == 3 and _IMAGE_BYTES_KEPT
            return [bg_img] if plain_image and bg_img.shape == (h, w, 3) else None
        cached = self._kept.background
        if cached is not None and cached[0] == settings:
            return cached[1]
        rgb = np.empty((h, w, channels), np.uint8)
        if not _prefill(rgb, kind, bg_color, bg_img):
            return None
        got = [rgb]
        if yuv:
            ch = ((h + 1) // 2, (w + 1) // 2)
            got = [np.empty((h, w), np.uint8), np.empty(ch, np.uint8), np.empty(ch, np.uint8),
                   np.empty((h, w), np.uint8) if channels == 4 else _U8_2D_OUT]  # fmt: skip
            _rows_to_yuv(rgb, 0, h, _TO_YUV, *got)
            got = got if channels == 4 else got[:3]
        self._kept.background = (settings, got)
        return got

    @staticmethod
    def _result(got: list[np.ndarray], yuv: bool) -> np.ndarray | YuvImage:
        if yuv:
            return YuvImage(got[0], got[1], got[2], got[3] if len(got) == 4 else None)
        return got[0]

    def _call(self, yuv_rgb, across, map_rows, P, ints, dec, lw, fw, bg_color, bg_img, out,
              planes, kind) -> None:  # fmt: skip
        """One call of the frame kernel on a frame (or a region keyed as one)."""
        h, w = out.shape[0], out.shape[1]
        band_rows = self.rows_per_band(h)
        scratch, lines, tiles = self._buffers(h, w, band_rows + 2 * int(ints[I_HALO]))
        if self.tiles:  # screen tiles then only skip: a streaming copy beats per-pixel stores
            ints[I_PREFILLED] = _prefill(out, kind, bg_color, bg_img)
        with _KERNEL_LOCK:  # numba's threads are one pool per process: one frame at a time
            kernel()(
                *yuv_rgb, across, *map_rows, P, ints, dec, lw, fw,
                bg_color, bg_img, out, _TO_YUV, *planes, scratch, lines, tiles, band_rows,
            )  # fmt: skip
            self._counts += tiles[:, 1, :3].sum(axis=0)

    def _composite_scratch(self, h: int, w: int, channels: int) -> np.ndarray:
        """The RGB(A) composite the YUV planes are made from, kept between frames."""
        if self._rgb.shape != (h, w, channels):
            self._rgb = np.empty((h, w, channels), np.uint8)
        return self._rgb

    def warm(self, width: int, height: int) -> None:
        """Key one blank frame of this size, so that the first real frame does not pay for
        allocating and faulting in the scratch (a live view's first frame would be late)."""
        blank = Frame.from_rgb(np.zeros((max(height, 1), max(width, 1), 3), np.uint8))
        self.render(blank, ScreenMap.constant((0.0, 0.5, 0.0)), None)
        self._kept.clear()

    @property
    def tile_counts(self) -> dict[str, int]:
        """Tiles of the last frame (counted once per band) by what they needed: ``mixed`` the
        whole chain, ``screen`` only the background, ``subject`` only despill."""
        c = self._counts
        return {"mixed": int(c[T_MIXED]), "screen": int(c[T_SCREEN]), "subject": int(c[T_SUBJECT])}

    def rows_per_band(self, h: int) -> int:
        """About BAND_ROWS rows a band, in a whole number of bands per worker (even load); even,
        so that a band holds whole rows of 4:2:0 chroma."""
        bands = max(1, round(h / self.band_rows / self._workers)) * self._workers
        rows = max(1, -(-h // bands))
        return rows + (rows % 2)

    def _buffers(self, h: int, w: int, rows: int) -> tuple[np.ndarray, ...]:
        """Per-worker scratch, kept between frames (faulting it in anew costs more than keying)."""
        # At least the chroma guide's rows: half a band's rows and its window (chroma.chroma_span).
        rows = max(min(rows, h), 8) + 2
        # One pool, shaped to each call's width (a region's, or the frame's): the kernel reads
        # a band's width from its scratch. The line and tile scratch only need to be as wide.
        k = self._workers
        need = k * N_BUFFERS * rows * w
        if self._scratch is None or self._scratch.size < need:
            self._scratch = np.zeros(need, F32)
        if self._lines.shape[0] != k or self._lines.shape[2] < max(w + 1, 256):
            self._lines = np.zeros((k, N_LINES, max(w + 1, 256)), F32)
        if self._tiles.shape[0] != k or self._tiles.shape[2] < 4 * ((w + TILE - 1) // TILE):
            self._tiles = np.zeros((k, 3, 4 * ((w + TILE - 1) // TILE)), np.int64)
        scratch = self._scratch[:need].reshape(k, N_BUFFERS, rows, w)
        return scratch, self._lines, self._tiles

    @property
    def reused(self) -> float:
        """The last frame's share of output blocks kept from the frame before (incremental)."""
        return self._kept.reused

    def close(self) -> None:
        """Frees the scratch and the kept frame."""
        self._scratch = None
        self._kept.clear()
