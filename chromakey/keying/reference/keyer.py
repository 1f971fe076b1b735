"""The whole reference: ``key_frame`` (``key_pixels``) and :class:`ReferenceKeyer` (strips on threads)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ...core.color import rgb_to_hsl
from ...core.frames import Frame
from ...core.layers import Layer, Picture, check_layer, out_channels
from ...core.params import KeyerParams
from ...core.screenmap import ScreenMap, keyed_params
from .colour_model import colour_model, near_radius
from .common import F32
from .decode import decode_rgb, decode_rows, pixel_samples
from .guide import BT709_LUMA, guided_matte, luma, luma_weights
from .hold import NO_COLOUR, HoldState, hold_matte
from .membership import (
    hue_membership,
    key_channel,
    key_excess,
    raw_alpha,
    reach_membership,
    reach_terms,
    screen_excess,
    screen_membership,
    screen_share,
)
from .refine import clip_matte, edge_weight, halo_rows, refined_one, shape_matte
from .screen import screen_colors, screen_rows
from .unmix import composite, spill_gate, to_uint8, unmix_despill

# --- the whole reference ---------------------------------------------------------------


def key_frame(
    rgb: np.ndarray,
    screen: ScreenMap,
    p: KeyerParams,
    luma_w: np.ndarray = BT709_LUMA,
    hold: HoldState | None = None,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """RGB → (premultiplied foreground, alpha), keyed against a screen map
    (``ScreenMap.constant(colour)`` for one colour).

    ``luma_w``: the frame's :func:`luma_weights` (the guide of :func:`guided_matte`);
    ``hold``: the still hold's previous state, and where its next goes (:func:`hold_matte`);
    None keys the frame on its own. ``known``: the subject's true colour for the colour
    model (:func:`colour_model`; a study's, never a keying path's).
    """
    colors = screen_colors(screen, rgb.shape[0], rgb.shape[1])
    return key_pixels(rgb, colors, p, luma_w, hold, known)


def key_pixels(
    rgb: np.ndarray,
    colors: np.ndarray,
    p: KeyerParams,
    luma_w: np.ndarray = BT709_LUMA,
    hold: HoldState | None = None,
    known: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`key_frame` with the screen's colours already given for these pixels: H×W×3, or
    one (3,) colour that numpy broadcasts. Apart from key_frame because a strip of rows keys
    against its rows of the whole frame's map (:func:`screen_rows`), not a map of its own.
    ``hold``: the still hold's state of these pixels, or None; ``known`` as key_frame's.
    """
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    hue_m = hue_membership(hue, p)
    member = screen_membership(hue_m, sat, light, chroma, p)
    key = key_channel(p)
    screen = np.asarray(colors, F32)
    share = screen_share(key_excess(rgb, key), screen_excess(screen, key))
    own, can = reach_terms(member, sat, share, rgb, screen, p)
    raw = raw_alpha(share, reach_membership(own, can, share, p))
    guided = guided_matte(raw, luma(rgb, luma_w), p)
    clipped = clip_matte(guided, edge_weight(guided, p), p)
    modelled, local = colour_model(clipped, raw, rgb, screen, key, near_radius(p), known)
    alpha = shape_matte(modelled, p)
    gate = spill_gate(hue_m, sat, alpha, p)  # from this frame's matte: spill is this frame's
    if hold is not None:
        alpha, hold.next = hold_matte(alpha, hold.samples, hold.prev, refined_one(p), p)
    return unmix_despill(rgb, alpha, gate, screen, key, p, local), alpha


def hold_state(
    frame: Frame, p: KeyerParams, held: tuple[np.ndarray, np.ndarray] | None
) -> HoldState:
    """A whole frame's still hold: its input bytes (none with the hold off) and the state
    carried from the last frame (``held``, None: there is none)."""
    return HoldState(pixel_samples(frame) if p.still_hold > 0 else NO_COLOUR, held)


def cpu_workers() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Pixels per strip: small enough that a strip's float32 temporaries stay in the CPU caches.
STRIP_PIXELS = 384 * 1024


class ReferenceKeyer:
    """The reference pipeline on numpy: frame in, composited uint8 image out (the oracle the
    compiled CPU keyer, :class:`chromakey.keying.kernels.CpuKeyer`, and the shaders are held to).

    ``strips`` (default: on when more than one CPU is usable) keys the frame in horizontal
    strips, each with :func:`halo_rows` rows of context either side, on ``workers`` threads
    (numpy releases the GIL): the same uint8 output as the whole frame at once, faster, as a
    strip's temporaries stay in cache and both cores work. ``strip_rows`` fixes the rows per
    strip (default: about STRIP_PIXELS pixels a strip).
    """

    backend = "reference"

    def __init__(
        self,
        params: KeyerParams,
        *,
        strips: bool | None = None,
        workers: int | None = None,
        strip_rows: int | None = None,
    ) -> None:
        self.params = params
        cpus = cpu_workers()
        self.strips = cpus > 1 if strips is None else bool(strips)
        self.workers = max(1, min(cpus, 4) if workers is None else int(workers))
        self.strip_rows = strip_rows
        self._pool: ThreadPoolExecutor | None = None
        # The still hold's state (the levels of the matte shown and of the decoded colour),
        # and the settings and size it was keyed with (other settings or another size start
        # afresh).
        self._held: tuple[np.ndarray, np.ndarray] | None = None
        self._held_for: tuple[KeyerParams, int, int] | None = None

    def set_params(self, params: KeyerParams) -> None:
        self.params = params

    def render(self, frame: Frame, screen: ScreenMap, background: Layer) -> np.ndarray:
        """uint8 H×W×3 over a ``Solid`` or an opaque ``Picture``, H×W×4 over ``Clear`` or a
        ``Picture`` with alpha.

        ``screen``: the calibrator's :class:`ScreenMap` (``ScreenMap.constant`` for one colour).
        """
        check_layer(background, frame.width, frame.height)
        p = keyed_params(self.params, screen)
        h, w = frame.height, frame.width
        state = (p, h, w)
        held = self._held if self._held_for == state else None
        bands = self.bands(frame.width, frame.height) if self.strips else []
        if len(bands) <= 1:
            hold = hold_state(frame, p, held)
            fg, alpha = key_frame(decode_rgb(frame), screen, p, luma_weights(frame), hold)
            self._held, self._held_for = hold.next, state
            return to_uint8(composite(fg, alpha, background))
        out = np.empty((frame.height, frame.width, out_channels(background)), np.uint8)
        on = p.still_hold > 0
        kept = (np.empty((h, w), np.uint8), np.empty((h, w, 3) if on else (0, 0, 3), np.uint8))
        halo = halo_rows(p)

        def band(rows: tuple[int, int]) -> None:
            self._render_band(frame, screen, background, p, halo, rows, held, out, kept)

        if self.workers == 1:
            for rows in bands:
                band(rows)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cpu-keyer")
            for _ in self._pool.map(band, bands):  # re-raises a strip's exception here
                pass
        self._held, self._held_for = kept, state
        return out

    def bands(self, width: int, height: int) -> list[tuple[int, int]]:
        """[y0, y1) of each strip: equal heights, at least one strip per worker if there are rows."""
        rows = self.strip_rows or max(16, STRIP_PIXELS // max(width, 1))
        n = max(-(-height // max(rows, 1)), 1)
        if self.strip_rows is None and self.workers > 1 and height >= 16 * self.workers:
            n = -(-n // self.workers) * self.workers  # a multiple of the workers: even load
        rows = -(-height // n)
        return [(y, min(y + rows, height)) for y in range(0, height, rows)]

    @staticmethod
    def _render_band(
        frame: Frame,
        screen: ScreenMap,
        background: Layer,
        p: KeyerParams,
        halo: int,
        rows: tuple[int, int],
        held: tuple[np.ndarray, np.ndarray] | None,
        out: np.ndarray,
        kept: tuple[np.ndarray, np.ndarray],
    ) -> None:
        """Rows [y0, y1) of the frame into ``out`` and their hold state into ``kept``: keyed
        with ``halo`` rows of context (``held``: the previous frame's state, or None)."""
        (y0, y1), h, w = rows, frame.height, frame.width
        h0, h1 = max(0, y0 - halo), min(h, y1 + halo)
        rgb = decode_rows(frame, h0, h1)
        colors = screen_rows(screen, h, w, h0, h1)
        samples = pixel_samples(frame, h0, h1) if p.still_hold > 0 else NO_COLOUR
        hold = HoldState(samples, None if held is None else (held[0][h0:h1], held[1][h0:h1]))
        fg, alpha = key_pixels(rgb, colors, p, luma_weights(frame), hold)
        a, b = y0 - h0, y1 - h0
        assert hold.next is not None  # key_pixels sets it
        kept[0][y0:y1] = hold.next[0][a:b]
        if p.still_hold > 0:
            kept[1][y0:y1] = hold.next[1][a:b]
        bg = Picture(background.pixels[y0:y1]) if isinstance(background, Picture) else background
        to_uint8(composite(fg[a:b], alpha[a:b], bg), out=out[y0:y1])

    def reset(self) -> None:
        """The next frame keyed on its own (no still hold from this one)."""
        self._held = self._held_for = None

    def close(self) -> None:
        self.reset()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
