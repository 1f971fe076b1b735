"""The GPU keyer: the numpy reference's passes as GLSL fragment shaders, through moderngl.

The frame stays on the GPU from upload to output. Y, U and V go up as three 8-bit integer
textures (a PyAV plane with padded rows goes up without a copy), every pass reads earlier
passes' textures, and only :meth:`GpuKeyer.render` reads back.

The passes are data: :func:`pass_graph` lists them for a KeyerParams (program, render targets,
inputs, specialising defines), the keyer draws exactly that list, and :func:`pass_table` /
:func:`frame_bytes` report what it writes. At default settings there are four:

    key        planes → luma + raw matte (RG32F), colour_gate (R8)       (screen map: cpu.screen_at)
    guide      9×9 window sums → (a, b, w) → their row sums (RG32F + R32F)
    matte      column sums → the guided matte (R32F)
    composite  decode again; edge test, clip and the spill window's min over a 9×9 window of
               the matte (refine.glsl); spill gate, unmix, despill, over → RGBA8

Other settings add passes only for what they need: choke or feather (a clip pass writes the
refined matte, then window_reduce rows + columns, Gaussian rows + columns), a spill_radius above
FUSED_CLIP_RADIUS (the clip pass; above FUSED_SPILL_RADIUS also a row pass), a guide_radius above
FUSED_GUIDE_RADIUS (guide_rows / guide_cols, separable); guide_radius 0 drops guide and matte.
Formats are the narrowest that keep parity with the reference (tests/test_gpu_parity.py): float32
only for the guided filter's inputs and sums, whose variance and intercept cancel, and for the
matte, which the straight-RGBA output compares with ALPHA_VISIBLE.

The screen map (calibration.ScreenMap, a few thousand blocks) goes up each frame as a small
RGB32F texture; key and composite interpolate it with texelFetch and numpy's own weights.

Every pass is the same fullscreen triangle; the shaders address texels with gl_FragCoord and
texelFetch, so texture row 0 is image row 0 (the top of the picture, as in numpy). A host that
draws :meth:`GpuKeyer.render_texture` with the usual bottom-up texture coordinates flips v.

All GL calls must come from the thread that owns the context.
"""

from __future__ import annotations

import ctypes.util
import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import moderngl
import numpy as np

from . import cpu
from .color import HSL_EPS
from .core.errors import BackendUnavailableError, InputError, ParameterError
from .core.frames import Frame
from .glsl import ShaderError, ShaderLibrary
from .params import _RANGES, KeyerParams
from .screenmap import ScreenMap, keyed_params

__all__ = [
    "GpuKeyer",
    "GpuPass",
    "ShaderError",
    "create_context",
    "frame_bytes",
    "pass_graph",
    "pass_table",
    "shader_defines",
    "GL_REQUIRE",
]

GL_REQUIRE = 330  # OpenGL 3.3 core: texelFetch, integer textures, float render targets

_PACKAGES = "apt-get install -y --no-install-recommends libegl1 libgl1"

# Radii up to these run fused. FUSED_GUIDE_RADIUS: the guide's first box filter, coefficients
# and the row half of the second in one pass (guide.frag.glsl, whose shared taps cost (2r + 1)³
# additions); larger radii take four separable passes. FUSED_CLIP_RADIUS: a spill_radius the
# composite takes together with the edge test and clip (refine.glsl: a window of
# (2·(r + EDGE_RADIUS) + 1)² taps held in registers), when there is no choke or feather.
# FUSED_SPILL_RADIUS: otherwise, a spill window the composite takes as one 2-D min ((2r + 1)²
# taps); wider ones add a row pass.
FUSED_GUIDE_RADIUS = 4
FUSED_CLIP_RADIUS = 2
FUSED_SPILL_RADIUS = 4

# feather.frag.glsl's tap array: 2·ceil(the largest feather KeyerParams allows) + 1.
MAX_FEATHER_TAPS = 2 * math.ceil(_RANGES["feather"][1]) + 1


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
    }


# Render-target formats: name → (components, moderngl dtype); "f1" is 8-bit normalised.
FORMATS: dict[str, tuple[int, str]] = {
    "R8": (1, "f1"),
    "R32F": (1, "f4"),
    "RG32F": (2, "f4"),
    "RGBA8": (4, "f1"),
    "RGBA32F": (4, "f4"),
}

# Every render target a pass may write, in the narrowest format that keeps parity.
TARGETS: dict[str, str] = {
    "guide": "RG32F",  # luma, raw matte: the guide's variance sums E[I²] − E[I]² cancel
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
    "out": "RGBA8",  # the composite: what render() reads back and render_texture() hands over
}


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
    """

    name: str
    program: str
    outputs: tuple[str, ...]
    inputs: tuple[tuple[str, str], ...] = ()
    uniforms: tuple[tuple[str, Any], ...] = ()
    defines: tuple[tuple[str, int], ...] = ()

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(TARGETS[t] for t in self.outputs)

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes this pass writes to render targets per pixel."""
        return sum(format_bytes(f) for f in self.formats)


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
def pass_graph(p: KeyerParams) -> tuple[GpuPass, ...]:
    """The passes GpuKeyer draws for ``p``, in order: 4 at default settings.

    Pure data (no GL), so the pass table and bytes per frame come from the graph that runs.
    """
    passes = [GpuPass("key", "key", ("guide", "gate"))]
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
    # The spill gate's near-screen test only matters when there is spill to remove.
    s = p.spill_radius if p.spill > 0 else 0
    gate = ("gate_tex", "gate")
    if p.choke == 0 and p.feather == 0 and s <= FUSED_CLIP_RADIUS:
        # Edge test, clip and the spill window's min in the composite, from the matte.
        passes.append(
            GpuPass("composite", "composite", ("out",), (("matte_tex", matte), gate),
                    defines=(("FUSED_CLIP", 1), ("MATTE_CHANNEL", channel), ("NEAR_R", s)))
        )  # fmt: skip
        return tuple(passes)
    passes.append(
        GpuPass("clip", "clip", ("alpha",), (("matte_tex", matte),),
                defines=(("MATTE_CHANNEL", channel),))
    )  # fmt: skip
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
    near, near_radius = "alpha", (s, s)
    if s > FUSED_SPILL_RADIUS:
        passes.append(
            GpuPass("near-screen rows", "window_reduce", ("alpha_tmp",), (("src", "alpha"),),
                    (("radius", s), ("use_max", 0), ("direction", (1, 0))))
        )  # fmt: skip
        near, near_radius = "alpha_tmp", (0, s)
    passes.append(
        GpuPass("composite", "composite", ("out",),
                (("alpha_tex", "alpha"), ("near_tex", near), gate),
                defines=(("FUSED_CLIP", 0), ("NEAR_RX", near_radius[0]),
                         ("NEAR_RY", near_radius[1])))
    )  # fmt: skip
    return tuple(passes)


def frame_bytes(graph: Sequence[GpuPass], width: int = 1920, height: int = 1080) -> int:
    """Bytes the passes write to render targets for one width × height frame."""
    return sum(ps.bytes_per_pixel for ps in graph) * width * height


def pass_table(graph: Sequence[GpuPass], width: int = 1920, height: int = 1080) -> str:
    """The graph as a Markdown table (pass, program, targets, bytes per pixel), with totals."""
    lines = [
        "| # | pass | program | writes (format) | bytes/px |",
        "|---:|---|---|---|---:|",
    ]
    for i, ps in enumerate(graph, 1):
        writes = " + ".join(f"{t} ({f})" for t, f in zip(ps.outputs, ps.formats, strict=True))
        lines.append(f"| {i} | {ps.name} | {ps.program} | {writes} | {ps.bytes_per_pixel} |")
    per_px = sum(ps.bytes_per_pixel for ps in graph)
    total = frame_bytes(graph, width, height)
    lines.append(f"| | **{len(graph)} passes** | | | **{per_px}** |")
    lines.append("")
    lines.append(
        f"Written to render targets per {width}×{height} frame: {per_px} B/px × {width * height} px"
        f" = {total:,} B ({total / 1e6:.1f} MB)"
    )
    return "\n".join(lines)


# Texture units: the frame's planes, the screen map and the background image stay bound for
# the whole frame; each pass's inputs take the units from FIRST_INPUT_UNIT on.
_FIXED_UNITS = {
    "plane_y": 0,
    "plane_u": 1,
    "plane_v": 2,
    "plane_rgb": 3,
    "screen_map": 4,
    "background_image": 5,
}
FIRST_INPUT_UNIT = 6


def create_context(kind: str | moderngl.Context = "standalone") -> moderngl.Context:
    """The one place an OpenGL context is made.

    ``"standalone"``: a headless context through EGL (Mesa's llvmpipe where there is no GPU).
    ``"current"`` (or ``"window"``): the context current on this thread, e.g. a glfw window's.
    A ``moderngl.Context`` (a host application's) is returned as it is.
    Raises BackendUnavailableError, whose message says what to install, if none can be had.
    """
    if isinstance(kind, moderngl.Context):
        return kind
    if kind == "standalone":
        try:
            return moderngl.create_context(standalone=True, backend="egl", require=GL_REQUIRE)
        except Exception as exc:
            missing = [n for n in ("EGL", "GL") if ctypes.util.find_library(n) is None]
            why = f"lib{' and lib'.join(missing)} not found" if missing else _first_line(exc)
            raise BackendUnavailableError(
                f"no headless OpenGL 3.3 context through EGL ({why}); install Mesa's EGL and "
                f"OpenGL (Debian/Ubuntu: {_PACKAGES}) or use the CPU backend"
            ) from exc
    if kind in ("current", "window"):
        try:
            return moderngl.create_context(require=GL_REQUIRE)
        except Exception as exc:
            raise BackendUnavailableError(
                f"no current OpenGL 3.3 context to attach to ({_first_line(exc)}); open the window first, "
                f"and install OpenGL (Debian/Ubuntu: {_PACKAGES}, plus xvfb to run a window "
                "headless under xvfb-run) or use the CPU backend"
            ) from exc
    raise ParameterError(
        f"OpenGL context kind {kind!r} is unknown; use 'standalone', 'current' or a moderngl.Context"
    )


# GL_RENDERER names of rasterisers that run on the CPU (Mesa's llvmpipe, softpipe, swrast).
_SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast")


def software_renderer(ctx: moderngl.Context) -> str | None:
    """The renderer's name if it rasterises on the CPU, else None."""
    name = str(ctx.info.get("GL_RENDERER", ""))
    return name if any(s in name.lower() for s in _SOFTWARE_RENDERERS) else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _set(prog: moderngl.Program, name: str, value: Any) -> None:
    """Set a uniform if the compiler kept it (a pass that does not read one drops it)."""
    u = prog.get(name, None)
    if u is not None:
        u.value = value


class _PlaneTexture:
    """An 8-bit texture for one plane, reused while the plane's geometry stays the same.

    A plane whose rows are padded (PyAV's line_size) is uploaded whole, padding included, into
    a texture as wide as a padded row; the shaders never read past the real width.
    """

    def __init__(self, ctx: moderngl.Context, integer: bool) -> None:
        self.ctx = ctx
        self.integer = integer
        self.tex: moderngl.Texture | None = None
        self.key: tuple[int, int, int, str] | None = None

    def _texture(self, width: int, height: int, comps: int, dtype: str) -> moderngl.Texture:
        key = (width, height, comps, dtype)
        if self.tex is None or self.key != key:
            if self.tex is not None:
                self.tex.release()
            self.tex = self.ctx.texture((width, height), comps, dtype=dtype, alignment=1)
            self.tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            self.tex.repeat_x = self.tex.repeat_y = False
            self.key = key
        return self.tex

    def upload(self, a: np.ndarray) -> moderngl.Texture:
        if a.dtype == np.uint8:
            dtype = "u1" if self.integer else "f1"
        elif a.dtype == np.float32:
            dtype = "f4"
        else:
            a = a.astype(np.float32)
            dtype = "f4"
        h, w = a.shape[:2]
        comps = 1 if a.ndim == 2 else a.shape[2]
        item = a.itemsize
        row = a.strides[0]
        padded = (
            a.dtype == np.uint8
            and h > 1
            and a.strides[1] == comps * item
            and (a.ndim == 2 or a.strides[2] == item)
            and row > w * comps * item
            and row % (comps * item) == 0
        )
        if padded:
            # Rows 0 … h−2 with their padding are one contiguous run of bytes; the last row
            # may end at the buffer's end, so it goes up on its own.
            tex = self._texture(row // (comps * item), h, comps, dtype)
            body = np.lib.stride_tricks.as_strided(a, shape=((h - 1) * row,), strides=(1,))
            tex.write(body, viewport=(0, 0, row // (comps * item), h - 1), alignment=1)
            tex.write(np.ascontiguousarray(a[h - 1]), viewport=(0, h - 1, w, 1), alignment=1)
            return tex
        tex = self._texture(w, h, comps, dtype)
        tex.write(np.ascontiguousarray(a), alignment=1)
        return tex

    def release(self) -> None:
        if self.tex is not None:
            self.tex.release()
            self.tex = None
            self.key = None


class GpuKeyer:
    """The reference pipeline on the GPU: frame in, composited uint8 image (or texture) out.

    Same API and results as :class:`chromakey.cpu.ReferenceKeyer` (within the parity suite's
    tolerance: at most 8/255 anywhere, 2/255 on all but 0.1 % of pixels). ``ctx``: None for a
    headless context of its own, ``"current"`` for the current one (a glfw window's), or a
    host's ``moderngl.Context``, which the keyer uses but never releases.

    ``stats`` holds the last frame's seconds per stage (``upload``, ``passes``, ``readback``).
    GL calls are queued, so these are only the GPU's times when ``timing`` is true, which
    adds a ``ctx.finish()`` after the upload and after the passes. ``graph`` is the pass list
    the last frame ran (:func:`pass_graph`).
    """

    backend = "gpu"
    # What render() hands a sink: always the uint8 image (the sink converts to YUV).
    pixel_formats = frozenset({"rgb24", "rgba"})

    def __init__(
        self,
        params: KeyerParams,
        ctx: moderngl.Context | str | None = None,
        *,
        timing: bool = False,
        shaders: ShaderLibrary | None = None,
    ) -> None:
        self._owns_ctx = not isinstance(ctx, moderngl.Context)
        self.ctx = create_context(ctx if ctx is not None else "standalone")
        self.params = params
        self.timing = timing
        self.stats: dict[str, float] = {"upload": 0.0, "passes": 0.0, "readback": 0.0}
        self.graph: tuple[GpuPass, ...] = ()
        self._released = False
        self._lib = shaders if shaders is not None else ShaderLibrary()
        # Programs by (shader, specialising defines), built when a pass graph first needs one.
        self._progs: dict[tuple[str, tuple[tuple[str, int], ...]], moderngl.Program] = {}
        self._vaos: dict[tuple[str, tuple[tuple[str, int], ...]], moderngl.VertexArray] = {}
        self._param_values: dict[str, Any] = {}
        self._current: dict[str, moderngl.Program] = {}  # shader → the current graph's program
        self._params_applied: KeyerParams | None = None
        try:
            # The default graph's programs now, so that a shader that fails fails here; the
            # specialisations other settings need follow on their first frame.
            for ps in pass_graph(KeyerParams()):
                self._program(ps)
            if params != KeyerParams():
                for ps in pass_graph(params):
                    self._program(ps)
        except BaseException:
            self._release_programs()
            if self._owns_ctx:
                self.ctx.release()
            raise
        # Integer planes for the key pass, normalised 8-bit or float for background images.
        self._planes = [_PlaneTexture(self.ctx, integer=True) for _ in range(4)]
        self._bg = _PlaneTexture(self.ctx, integer=False)
        self._screen_map = _PlaneTexture(self.ctx, integer=False)  # RGB32F, one texel per block
        self._bg_source: np.ndarray | None = None
        self._dummy_u = self.ctx.texture((1, 1), 1, b"\0", dtype="u1")
        self._dummy_f = self.ctx.texture((1, 1), 4, b"\0" * 4)
        self._size: tuple[int, int] | None = None
        self._tex: dict[str, moderngl.Texture] = {}
        self._fbo: dict[tuple[str, ...], moderngl.Framebuffer] = {}

    def _program(self, ps: GpuPass) -> moderngl.Program:
        """The program for a pass: its shader with shader_defines() and the pass's own defines."""
        key = (ps.program, ps.defines)
        prog = self._progs.get(key)
        if prog is None:
            defines = {**shader_defines(), **dict(ps.defines)}
            prog = self._lib.program(
                self.ctx, "fullscreen.vert.glsl", f"{ps.program}.frag.glsl", defines
            )
            self._progs[key] = prog
            self._vaos[key] = self.ctx.vertex_array(prog, [])
            for name, unit in _FIXED_UNITS.items():
                _set(prog, name, unit)
            for name, value in self._param_values.items():
                _set(prog, name, value)
        return prog

    def _release_programs(self) -> None:
        for obj in (*self._vaos.values(), *self._progs.values()):
            obj.release()
        self._vaos.clear()
        self._progs.clear()
        self._current.clear()

    # --- settings ------------------------------------------------------------------------

    def set_params(self, params: KeyerParams) -> None:
        self.params = params

    def _apply_params(self, p: KeyerParams) -> None:
        """The settings' uniforms on every program, and the pass graph they call for."""
        if p is self._params_applied:
            return
        self.graph = pass_graph(p)
        self._current = {ps.program: self._program(ps) for ps in self.graph}
        r = p.guide_radius
        values = {
            "hue_center": p.hue_center,
            "hue_width": p.hue_width,
            "hue_softness": p.hue_softness,
            "sat_min": p.sat_min,
            "sat_softness": p.sat_softness,
            "sat_max": p.sat_max,
            "dark_guard": p.dark_guard,
            "bright_guard": p.bright_guard,
            "clip_black": p.clip_black,
            "clip_white": p.clip_white,
            "edge_tolerance": p.edge_tolerance,
            "guide_radius": r,
            "guide_eps": p.guide_eps,
            "guide_norm": float(np.float32(1.0 / (2 * r + 1) ** 2)),  # cpu.guided_matte's F32
            "spill": p.spill,
            "key": cpu.key_channel(p),
        }
        self._param_values = values
        for prog in self._progs.values():
            for name, value in values.items():
                _set(prog, name, value)
        self._params_applied = p

    # --- targets ---------------------------------------------------------------------------

    def _ensure_targets(self, width: int, height: int) -> None:
        if self._size != (width, height):
            self._release_targets()
            self._size = (width, height)
        self._target("out")
        self._framebuffer(("out",))

    def _target(self, name: str) -> moderngl.Texture:
        """The render target ``name`` at the current size, made the first time a pass needs it."""
        tex = self._tex.get(name)
        if tex is None:
            comps, dtype = FORMATS[TARGETS[name]]
            tex = self.ctx.texture(self._size, comps, dtype=dtype)  # type: ignore[arg-type]
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            tex.repeat_x = tex.repeat_y = False
            self._tex[name] = tex
        return tex

    def _framebuffer(self, outputs: tuple[str, ...]) -> moderngl.Framebuffer:
        fbo = self._fbo.get(outputs)
        if fbo is None:
            fbo = self.ctx.framebuffer(color_attachments=[self._target(t) for t in outputs])
            self._fbo[outputs] = fbo
        return fbo

    def _release_targets(self) -> None:
        for fbo in self._fbo.values():
            fbo.release()
        for tex in self._tex.values():
            tex.release()
        self._fbo.clear()
        self._tex.clear()
        self._size = None

    # --- stages ----------------------------------------------------------------------------

    def _upload_frame(self, frame: Frame) -> None:
        key, comp = self._current["key"], self._current["composite"]
        _set(key, "luma_w", tuple(float(x) for x in cpu.luma_weights(frame)))
        planes = frame.planes
        for pl in planes:
            if pl.dtype != np.uint8:
                raise InputError(
                    f"the GPU keyer takes 8-bit planes, got {pl.dtype}; convert the frame "
                    "(chromakey.sources shifts deeper formats to 8 bits)"
                )
        if frame.layout == "rgb":
            rgb = planes[0]
            if rgb.ndim != 3 or rgb.shape[2] != 3:
                raise InputError(f"an rgb frame needs one H×W×3 plane, got shape {rgb.shape}")
            self._planes[3].upload(rgb).use(3)
            for unit in (0, 1, 2):
                self._dummy_u.use(unit)
            for prog in (key, comp):
                _set(prog, "layout_rgb", 1)
            return
        if frame.layout != "yuv" or frame.yuv is None or len(planes) != 3:
            raise InputError(
                f"frame layout {frame.layout!r} is not 'yuv' (with a YuvSpec) or 'rgb'"
            )
        y, u, v = planes
        if u.shape != v.shape:
            raise InputError(f"U and V planes differ in size: {u.shape} and {v.shape}")
        fx, fy = frame.chroma_factors
        h, w = y.shape
        if u.shape[1] != (w + fx - 1) // fx or u.shape[0] != (h + fy - 1) // fy:
            raise InputError(f"chroma planes of {u.shape[::-1]} do not fit a {w}×{h} frame")
        for i, plane in enumerate((y, u, v)):
            self._planes[i].upload(plane).use(i)
        self._dummy_u.use(3)
        m, off = frame.yuv.to_rgb()
        m32 = m.astype(np.float32)
        for prog in (key, comp):  # both decode (decode.glsl)
            _set(prog, "layout_rgb", 0)
            _set(prog, "chroma_factors", (fx, fy))
            _set(prog, "chroma_size", (u.shape[1], u.shape[0]))
            _set(prog, "yuv_matrix", tuple(float(x) for x in m32.T.reshape(-1)))
            _set(prog, "yuv_offset", tuple(float(x) for x in off))

    def _set_background(self, background: np.ndarray | None, width: int, height: int) -> int:
        """Upload or set the background; returns the number of output channels."""
        prog = self._current["composite"]
        if background is None:
            _set(prog, "background_mode", 0)
            _set(prog, "background_is_image", 0)
            return 4
        bg = np.asarray(background)
        if bg.ndim == 1 and bg.shape[0] in (3, 4):
            color = bg.astype(np.float32) / np.float32(255.0) if bg.dtype == np.uint8 else bg
            rgba = [float(c) for c in color] + ([1.0] if bg.shape[0] == 3 else [])
            _set(prog, "background_mode", 1 if bg.shape[0] == 3 else 2)
            _set(prog, "background_is_image", 0)
            _set(prog, "background_color", tuple(rgba))
            return 3 if bg.shape[0] == 3 else 4
        if bg.ndim != 3 or bg.shape[2] not in (3, 4) or bg.shape[:2] != (height, width):
            raise ParameterError(
                f"background must be None, a colour of 3 numbers, or an image of the frame's size "
                f"{height}×{width}×3 (or ×4), got shape {bg.shape}"
            )
        # A read-only array that is the same object as last time is the same picture.
        same = bg is self._bg_source and not bg.flags.writeable and self._bg.tex is not None
        if not same:
            self._bg.upload(bg)
            self._bg_source = bg
        _set(prog, "background_mode", 1 if bg.shape[2] == 3 else 2)
        _set(prog, "background_is_image", 1)
        return 3 if bg.shape[2] == 3 else 4

    def _run_passes(self, screen: ScreenMap | np.ndarray, bg_image: bool) -> None:
        """Draw :func:`pass_graph`'s passes, each into its targets, reading earlier ones'."""
        screen_map = ScreenMap.of(screen)
        self._screen_map.upload(screen_map.colors).use(_FIXED_UNITS["screen_map"])
        for n in ("key", "composite"):
            _set(self._current[n], "screen_cell", screen_map.cell)
        bg = self._bg.tex if bg_image and self._bg.tex is not None else self._dummy_f
        bg.use(_FIXED_UNITS["background_image"])
        for ps in self.graph:
            prog = self._progs[(ps.program, ps.defines)]
            for name, value in ps.uniforms:
                if isinstance(value, bytes):
                    prog[name].write(value)
                else:
                    _set(prog, name, value)
            for i, (sampler, target) in enumerate(ps.inputs):
                _set(prog, sampler, FIRST_INPUT_UNIT + i)
                self._target(target).use(FIRST_INPUT_UNIT + i)
            self._framebuffer(ps.outputs).use()
            self._vaos[(ps.program, ps.defines)].render(moderngl.TRIANGLES, vertices=3)

    # --- API -------------------------------------------------------------------------------

    def render_texture(
        self, frame: Frame, screen: ScreenMap | np.ndarray, background: np.ndarray | None
    ) -> moderngl.Texture:
        """Key and composite ``frame``; the RGBA8 result stays on the GPU.

        ``screen`` is a :class:`ScreenMap` (the calibrator's) or one (3,) screen colour.

        The texture is the keyer's own and is overwritten by the next call; it is straight
        RGBA when ``background`` is None (or has alpha) and opaque (alpha 1) otherwise.
        """
        self._render(frame, screen, background)
        return self._target("out")

    def render(
        self,
        frame: Frame,
        screen: ScreenMap | np.ndarray,
        background: np.ndarray | None,
        *,
        out: np.ndarray | None = None,
        pixel_format: str | None = None,
    ) -> np.ndarray:
        """uint8 H×W×3 over ``background`` ((3,) colour or H×W×3/4 image), or H×W×4 if None.

        As ReferenceKeyer.render; ``pixel_format`` is taken for the Keyer protocol, and the
        result is always that uint8 image (pixel_formats). The pixels are read straight into ``out`` if given (a C-contiguous
        uint8 array of the result's shape, reused by a caller that wants no allocation per
        frame); otherwise into a new array.
        """
        comps = self._render(frame, screen, background)
        t0 = time.perf_counter()
        w, h = self._size  # type: ignore[misc]
        shape = (h, w, comps)
        if out is None:
            out = np.empty(shape, np.uint8)
        elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
            raise ParameterError(f"out must be a C-contiguous uint8 array of shape {shape}")
        self._framebuffer(("out",)).read_into(out, components=comps, alignment=1)
        self.stats["readback"] = time.perf_counter() - t0
        return out

    def _render(
        self, frame: Frame, screen: ScreenMap | np.ndarray, background: np.ndarray | None
    ) -> int:
        if self._released:
            raise RuntimeError("this GpuKeyer is closed")
        t0 = time.perf_counter()
        w, h = frame.width, frame.height
        self._ensure_targets(w, h)
        # No blending, depth test or culling from a host's state; its framebuffer comes back.
        with self.ctx.scope(self._framebuffer(("out",)), enable_only=moderngl.NOTHING):
            self._apply_params(keyed_params(self.params, screen))
            self._upload_frame(frame)
            comps = self._set_background(background, w, h)
            if self.timing:
                self.ctx.finish()
            t1 = time.perf_counter()
            self._run_passes(screen, background is not None and np.ndim(background) == 3)
            if self.timing:
                self.ctx.finish()
            t2 = time.perf_counter()
        self.stats["upload"] = t1 - t0
        self.stats["passes"] = t2 - t1
        self.stats["readback"] = 0.0
        return comps

    def close(self) -> None:
        """Release the keyer's GL objects (and its context, if it made it). Idempotent."""
        if self._released:
            return
        self._released = True
        self._release_targets()
        for pl in (*self._planes, self._bg, self._screen_map):
            pl.release()
        self._release_programs()
        for obj in (self._dummy_u, self._dummy_f):
            obj.release()
        if self._owns_ctx:
            self.ctx.release()

    def __enter__(self) -> GpuKeyer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
