"""The passes as data: which programs a KeyerParams draws, into which targets and formats,
with which defines, and the bytes they write."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ...core.color import HSL_EPS
from ...core.params import RANGES, KeyerParams
from .. import reference as cpu

# Radii up to these run fused. FUSED_GUIDE_RADIUS: the guide's first box filter, coefficients
# and the row half of the second in one pass (guide.frag.glsl, whose shared taps cost (2r + 1)³
# additions); larger radii take four separable passes. FUSED_SPILL_RADIUS: a spill window the
# composite takes as one 2-D min of the refined matte ((2r + 1)² taps); wider ones add a row
# pass.
FUSED_GUIDE_RADIUS = 4
FUSED_SPILL_RADIUS = 4

# feather.frag.glsl's tap array: 2·ceil(the largest feather KeyerParams allows) + 1.
MAX_FEATHER_TAPS = 2 * math.ceil(RANGES["feather"][1]) + 1


def shader_defines() -> dict[str, int | float]:
    """Every constant the shaders share with Python, as the ``#define``s glsl.py injects.

    Each value lives once, here or where the reference defines it; no shader spells one out.
    """
    return {
        "MIN_RAMP": cpu.MIN_RAMP,
        "HSL_EPS": HSL_EPS,
        "MIN_SCREEN_EXCESS": cpu.MIN_SCREEN_EXCESS,
        "GUIDE_MATTE_EPS": cpu.GUIDE_MATTE_EPS,
        "GUIDE_FIT_LO": cpu.GUIDE_FIT_RAMP[0],
        "GUIDE_FIT_HI": cpu.GUIDE_FIT_RAMP[1],
        "EDGE_RADIUS": cpu.EDGE_RADIUS,
        "ALPHA_FLOOR": cpu.ALPHA_FLOOR,
        "ALPHA_VISIBLE": cpu.ALPHA_VISIBLE,
        "MAX_TAPS": MAX_FEATHER_TAPS,
        "CHROMA_GUIDE_RADIUS": cpu.CHROMA_GUIDE_RADIUS,
        "CHROMA_GUIDE_EPS": cpu.CHROMA_GUIDE_EPS,
        "CHROMA_GUIDE_FIT_LO": cpu.CHROMA_GUIDE_FIT[0],
        "CHROMA_GUIDE_FIT_HI": cpu.CHROMA_GUIDE_FIT[1],
        "CHROMA_SITING_FIT_LO": cpu.CHROMA_SITING_FIT[0],
        "CHROMA_SITING_FIT_HI": cpu.CHROMA_SITING_FIT[1],
        "CHROMA_FIT_EPS": cpu.CHROMA_FIT_EPS,
        "COLOUR_RADIUS": cpu.COLOUR_RADIUS,
        "MOTION_REACH": cpu.MOTION_REACH,
        "MOTION_STILL": cpu.MOTION_STILL,
        "MOTION_SPAN": cpu.MOTION_MOVING - cpu.MOTION_STILL,  # as the reference divides by it
        "MOTION_EPS": cpu.MOTION_EPS,
        "COLOUR_STILL": cpu.COLOUR_STILL,
        "COLOUR_MOVING": cpu.COLOUR_MOVING,
        # What a zero weight sum or a zero-length line divides by (the reference's own).
        "COLOUR_TINY": float(cpu.COLOUR_TINY),
        "EDGE_ALPHA_MIN": cpu.EDGE_ALPHA_MIN,
        "EDGE_ALPHA_SHARE": cpu.EDGE_ALPHA_SHARE,
        "EDGE_FOLLOW": cpu.EDGE_FOLLOW,
        "EDGE_KEEP_LESS": cpu.EDGE_KEEP_LESS,
        "EDGE_KEEP_MORE": cpu.EDGE_KEEP_MORE,
        "EDGE_KEEP_RAMP": cpu.EDGE_KEEP_RAMP,
        "EDGE_KEEP_RESIDUAL_LO": cpu.EDGE_KEEP_RESIDUAL[0],
        "EDGE_KEEP_RESIDUAL_HI": cpu.EDGE_KEEP_RESIDUAL[1],
    }


# Render-target formats: name → (components, moderngl dtype); "f1" is 8-bit normalised.
FORMATS: dict[str, tuple[int, str]] = {
    "R8": (1, "f1"),
    "R32F": (1, "f4"),
    "RG32F": (2, "f4"),
    "RGBA8": (4, "f1"),
    "RGBA16F": (4, "f2"),
    "RGBA32F": (4, "f4"),
}

# Every render target a pass may write, in the narrowest format that keeps parity.
TARGETS: dict[str, str] = {
    # On the chroma grid (CHROMA_GRID): the slopes of U and V against luma and the chroma-grid
    # luma, float32: a slope (up to 1/(4·√CHROMA_GUIDE_EPS), about 64) multiplies luma minus
    # the blended chroma-grid luma, so 16-bit rounding of either would show by several steps.
    "chroma_guide": "RGBA32F",
    "guide": "RG32F",  # luma, raw matte: the guide's variance sums E[I²] − E[I]² cancel
    # The local colour model's terms (w, w·rgb) from the pass that writes the raw matte, and
    # their row sums (up to 2·COLOUR_RADIUS + 1), float32: F is their ratio, and the
    # residual's narrow ramp (COLOUR_RESIDUAL) amplifies its errors.
    "colour": "RGBA32F",
    "colour_rows": "RGBA32F",
    # The colour model's local colour and weight for the unmix (cpu.LocalColour), 16-bit: its
    # rounding (2⁻¹² of a colour) moves the edge colour by a fraction of a step, as it is
    # weighted by alpha·(1 − alpha) ≤ ¼.
    "local": "RGBA16F",
    # The key pass's (luma, own membership, share, can) and reach_seed, float32: the reach pass
    # makes the raw matte of them, which the guide's variance sums and the clip ramp amplify.
    "keyed": "RGBA32F",
    "seed": "R32F",
    "gate": "R8",  # colour_gate: scales a despill that is at most alpha, so 1/510 stays < ½ step
    "sums_ab": "RG32F",  # row sums of (a, b): b = mean − a·mean_luma cancels too
    "sums_w": "R32F",  # row sums of w (up to 2r + 1); the clip ramp amplifies errors up to 100×
    "stack": "RGBA32F",  # separable guide only: row sums of (I, p, I·p, I²), the variance sums
    "stack_pp": "R32F",  # separable guide only: row sums of p², the matte's variance sums
    "coef_ab": "RG32F",  # separable guide only: (a, b), then their whole-window sums
    "coef_w": "R32F",
    # The guided matte (before the edge test and clip), the refined matte and choke / feather /
    # spill-row scratch, all float32, not 16-bit: straight RGBA output keeps a pixel's colour only
    # where alpha > ALPHA_VISIBLE, a step from black to full colour that 16-bit rounding of alpha
    # (2⁻²⁰ near it) moves pixels across, and the clip ramp amplifies the matte's errors.
    "matte": "R32F",
    "alpha": "R32F",
    "alpha_tmp": "R32F",
    # The still hold: the matte shown, whose values are all levels (cpu.hold_matte), and its
    # copy GpuKeyer keeps for the next frame; the pixels' input bytes (cpu.pixel_samples,
    # exact in RGBA8) from the key pass, and their copy.
    "levels": "R8",
    "held": "R8",
    "samples": "RGBA8",
    "samples_held": "RGBA8",
    "out": "RGBA8",  # the composite: what render() reads back and render_texture() hands over
}


# Targets a frame reads from the frame before: GpuKeyer copies them after each frame (the
# still hold's state), so no pass of the frame writes them before they are read.
CARRIED = frozenset({"held", "samples_held"})


# Targets the size of the frame's chroma planes (GpuPass.grid of the pass that writes them);
# every other target is the size of the picture.
CHROMA_GRID = frozenset({"chroma_guide"})


def format_bytes(fmt: str) -> int:
    """Bytes one pixel of a target in ``fmt`` takes."""
    comps, dtype = FORMATS[fmt]
    return comps * int(dtype[1])


@dataclass(frozen=True)
class GpuPass:
    """One fullscreen draw: ``program`` into ``outputs`` (several: one draw, MRT), reading
    ``inputs`` ((sampler uniform, target) pairs) with ``uniforms`` set first.

    ``defines`` specialise the program (radii as compile-time constants: loops unroll and
    arrays stay in registers); each distinct set is compiled once, when first needed.
    ``grid``: the subsampling of the pass's targets, (1, 1) for the picture, the frame's chroma
    factors for a pass on the chroma grid (CHROMA_GRID).
    """

    name: str
    program: str
    outputs: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...] = ()
    uniforms: tuple[tuple[str, Any], ...] = ()
    defines: tuple[tuple[str, int], ...] = ()
    grid: tuple[int, int] = (1, 1)

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(TARGETS[t] for t in self.outputs)

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes this pass writes to render targets per fragment (per texel of its grid)."""
        return sum(format_bytes(f) for f in self.formats)

    def fragments(self, width: int, height: int) -> int:
        """Fragments the pass draws for a width × height frame: its grid's texels."""
        return -(-width // self.grid[0]) * -(-height // self.grid[1])


def _reduce_pair(what: str, radius: int, use_max: bool, src: str = "alpha") -> list[GpuPass]:
    """A square min/max as window_reduce along rows into alpha_tmp, then columns into alpha."""
    common = (("radius", radius), ("use_max", int(use_max)))
    return [
        GpuPass(f"{what} rows", "window_reduce", ("alpha_tmp",), (("src", src),),
                (*common, ("direction", (1, 0)))),
        GpuPass(f"{what} columns", "window_reduce", ("alpha",), (("src", "alpha_tmp"),),
                (*common, ("direction", (0, 1)))),
    ]  # fmt: skip


@functools.lru_cache(maxsize=64)
def pass_graph(p: KeyerParams, chroma: tuple[int, int] = (1, 1)) -> tuple[GpuPass, ...]:
    """The passes GpuKeyer draws for ``p``, in order: 7 at default settings, and first the
    chroma guide pass when the frame's chroma is subsampled (``chroma``: Frame.chroma_factors, (1, 1)
    for 4:4:4 and RGB frames).

    Pure data (no GL), so the pass table and bytes per frame come from the graph that runs.
    """
    passes = []
    if chroma != (1, 1):
        # Read by every pass that decodes (key, reach, colour model, composite): decode.glsl.
        passes.append(GpuPass("chroma guide", "chroma_guide", ("chroma_guide",), grid=chroma))
    # The raw matte needs the seeds around each pixel: the key pass writes its own terms, the
    # reach pass the raw matte (into the guide target) and the colour model's terms of it.
    # With the still hold on, the key pass also writes the input bytes the hold's motion reads.
    samples = ("samples",) if p.still_hold > 0 else ()
    passes += [
        GpuPass("key", "key", ("keyed", "gate", "seed", *samples)),
        GpuPass("reach", "reach", ("guide", "colour"),
                (("keyed_tex", "keyed"), ("seed_tex", "seed")),
                defines=(("REACH_RADIUS", cpu.member_reach(p)),)),
    ]  # fmt: skip
    r = p.guide_radius
    sums, box_rows = ("sums_ab", "sums_w"), r
    if 0 < r <= FUSED_GUIDE_RADIUS:
        passes.append(
            GpuPass("guide", "guide", ("sums_ab", "sums_w"), (("guide_tex", "guide"),),
                    defines=(("GUIDE_RADIUS", r),))
        )  # fmt: skip
    elif r > FUSED_GUIDE_RADIUS:
        s0, s1 = (("stage", 0),), (("stage", 1),)
        passes += [
            GpuPass("guide rows", "guide_rows", ("stack", "stack_pp"), (("src", "guide"),), s0),
            GpuPass("guide columns", "guide_cols", ("coef_ab", "coef_w"),
                    (("src", "stack"), ("src_w", "stack_pp")), s0),
            GpuPass("coefficient rows", "guide_rows", ("sums_ab", "sums_w"),
                    (("src", "coef_ab"), ("src_w", "coef_w")), s1),
            GpuPass("coefficient columns", "guide_cols", ("coef_ab", "coef_w"),
                    (("src", "sums_ab"), ("src_w", "sums_w")), s1),
        ]  # fmt: skip
        sums, box_rows = ("coef_ab", "coef_w"), 0
    # The matte before refinement: the guided matte, or the key pass's raw matte (channel 1).
    matte, channel = "guide", 1
    if r > 0:
        passes.append(
            GpuPass("matte", "matte", ("matte",),
                    (("guide_tex", "guide"), ("ab_tex", sums[0]), ("w_tex", sums[1])),
                    defines=(("BOX_ROWS", box_rows),))
        )  # fmt: skip
        matte, channel = "matte", 0
    # The edge test and clip, then the local colour model on the pixels the clip leaves partial:
    # the solid subject's colour beside them, summed over rows, then columns and projected.
    passes += [
        GpuPass("colour rows", "colour_rows", ("colour_rows",), (("src", "colour"),)),
        GpuPass("colour model", "colour_model", ("alpha", "local"),
                (("matte_tex", matte), ("rows_tex", "colour_rows"), ("raw_tex", "guide")),
                defines=(("MATTE_CHANNEL", channel),)),
    ]  # fmt: skip
    if p.choke != 0:
        passes += _reduce_pair("choke", abs(p.choke), p.choke < 0)
    if p.feather > 0:
        weights = cpu.gaussian_weights(p.feather)
        padded = np.zeros(MAX_FEATHER_TAPS, np.float32)
        padded[: len(weights)] = weights
        taps = (("taps", len(weights)), ("weights", padded.tobytes()))
        passes += [
            GpuPass("feather rows", "feather", ("alpha_tmp",), (("src", "alpha"),),
                    (*taps, ("direction", (1, 0)))),
            GpuPass("feather columns", "feather", ("alpha",), (("src", "alpha_tmp"),),
                    (*taps, ("direction", (0, 1)))),
        ]  # fmt: skip
    # The spill gate's near-screen test only matters when there is spill to remove.
    s = p.spill_radius if p.spill > 0 else 0
    gate = ("gate_tex", "gate")
    near, near_radius = "alpha", (s, s)
    if s > FUSED_SPILL_RADIUS:
        passes.append(
            GpuPass("near-screen rows", "window_reduce", ("alpha_tmp",), (("src", "alpha"),),
                    (("radius", s), ("use_max", 0), ("direction", (1, 0))))
        )  # fmt: skip
        near, near_radius = "alpha_tmp", (0, s)
    # The still hold between the shaped matte and the composite (the spill gate's near-screen
    # test reads the matte before it, as cpu.key_pixels does).
    shown = "alpha"
    if p.still_hold > 0:
        passes.append(
            GpuPass(
                "hold",
                "hold",
                ("levels",),
                (
                    ("alpha_tex", "alpha"),
                    ("held_tex", "held"),
                    ("samples_tex", "samples"),
                    ("samples_held_tex", "samples_held"),
                ),
            )  # fmt: skip
        )
        shown = "levels"
    passes.append(
        GpuPass("composite", "composite", ("out",),
                (("alpha_tex", shown), ("near_tex", near), gate, ("local_tex", "local")),
                defines=(("NEAR_RX", near_radius[0]), ("NEAR_RY", near_radius[1])))
    )  # fmt: skip
    return tuple(passes)


def frame_bytes(graph: Sequence[GpuPass], width: int = 1920, height: int = 1080) -> int:
    """Bytes the passes write to render targets for one width × height frame."""
    return sum(ps.bytes_per_pixel * ps.fragments(width, height) for ps in graph)


def pass_table(graph: Sequence[GpuPass], width: int = 1920, height: int = 1080) -> str:
    """The graph as a Markdown table (pass, program, targets, bytes per picture pixel: a pass
    on the chroma grid writes its texel's bytes over fx·fy pixels), with totals."""
    lines = [
        "| # | pass | program | writes (format) | bytes/px |",
        "|---:|---|---|---|---:|",
    ]
    per_px = 0.0
    for i, ps in enumerate(graph, 1):
        writes = " + ".join(f"{t} ({f})" for t, f in zip(ps.outputs, ps.formats, strict=True))
        if ps.grid != (1, 1):
            writes += f" at 1/{ps.grid[0]}×1/{ps.grid[1]}"
        px = ps.bytes_per_pixel / (ps.grid[0] * ps.grid[1])
        per_px += px
        lines.append(f"| {i} | {ps.name} | {ps.program} | {writes} | {px:g} |")
    total = frame_bytes(graph, width, height)
    lines.append(f"| | **{len(graph)} passes** | | | **{per_px:g}** |")
    lines.append("")
    lines.append(
        f"Written to render targets per {width}×{height} frame ({per_px:g} B per picture pixel)"
        f" = {total:,} B ({total / 1e6:.1f} MB)"
    )
    return "\n".join(lines)
