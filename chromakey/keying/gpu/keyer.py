"""GpuKeyer: draws the pass graph over a frame's planes and reads back only for a sink."""

from __future__ import annotations

import time
from typing import Any

import moderngl
import numpy as np

from ...core.errors import ParameterError
from ...core.frames import Frame
from ...core.layers import Clear, Layer, Picture, Solid, check_layer, out_channels
from ...core.params import KeyerParams
from ...core.screenmap import ScreenMap, keyed_params
from .. import reference as cpu
from ..param_table import uniforms
from .context import create_context, made_current
from .glsl import ShaderLibrary
from .passes import CHROMA_GRID, FORMATS, TARGETS, GpuPass, pass_graph, shader_defines
from .timer import READBACK, UPLOAD, PassTimer, timed
from .uploads import _FIXED_UNITS, FIRST_INPUT_UNIT, _PlaneTexture, _set, checked_chroma


class GpuKeyer:
    """The reference pipeline on the GPU: frame in, composited uint8 image (or texture) out.

    Same API and results as :class:`chromakey.keying.reference.ReferenceKeyer` (within the parity suite's
    tolerance: at most 8/255 anywhere, 2/255 on all but 0.1 % of pixels). ``ctx``: None for a
    headless context of its own, ``"current"`` for the current one (a glfw window's), or a
    host's ``moderngl.Context``, which the keyer uses but never releases. A headless context
    of its own is made current for each of the keyer's calls; a host makes its own current.

    ``stats`` holds the last frame's seconds per stage (``upload``, ``passes``, ``readback``).
    GL calls are queued, so these are only the GPU's times when ``timing`` is true, which
    adds a ``ctx.finish()`` after the upload and after the passes. ``timer``: a
    :class:`PassTimer` that takes the GPU's own time of the upload, each pass and the
    read-back by timer queries (what ``chromakey bench --gpu-passes`` and
    benchmarks/pass_times.py print); without one no query is issued. ``graph`` is the pass
    list the last frame ran (:func:`pass_graph`).
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
        timer: PassTimer | None = None,
        shaders: ShaderLibrary | None = None,
    ) -> None:
        self._owns_ctx = not isinstance(ctx, moderngl.Context)
        self._standalone = ctx is None or ctx == "standalone"
        self.ctx = create_context(ctx if ctx is not None else "standalone")
        self.params = params
        self.timing = timing
        self.timer = timer
        self.stats: dict[str, float] = {"upload": 0.0, "passes": 0.0, "readback": 0.0}
        self.graph: tuple[GpuPass, ...] = ()
        # (program, defines) of each pass the last frame drew, in order: what the graph was
        # drawn as, for a host or test that checks the draws against pass_graph.
        self.drawn: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()
        self._released = False
        self._lib = shaders if shaders is not None else ShaderLibrary()
        # Programs by (shader, specialising defines), built when a pass graph first needs one.
        self._progs: dict[tuple[str, tuple[tuple[str, int], ...]], moderngl.Program] = {}
        self._vaos: dict[tuple[str, tuple[tuple[str, int], ...]], moderngl.VertexArray] = {}
        self._param_values: dict[str, Any] = {}
        self._current: dict[str, moderngl.Program] = {}  # shader → the current graph's program
        self._params_applied: KeyerParams | None = None
        self._bg_source: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self._chroma_size = (1, 1)  # the last frame's U and V planes (CHROMA_GRID targets)
        self._tex: dict[str, moderngl.Texture] = {}
        # What the "held" target's levels were keyed with, for the still hold.
        self._held_for: tuple[object, ...] | None = None
        self._fbo: dict[tuple[str, ...], moderngl.Framebuffer] = {}
        try:
            with made_current(self.ctx, self._standalone):
                self._build(params)
                if timer is not None:
                    timer.bind(self.ctx)
        except BaseException:
            if self._owns_ctx:
                self.ctx.release()
            raise

    def _build(self, params: KeyerParams) -> None:
        """In the keyer's context: the default graph's programs (a 4:2:0 frame's has every
        program), so that a shader that fails fails here, and the textures frames upload to."""
        try:
            for settings in (KeyerParams(), *([params] if params != KeyerParams() else [])):
                for ps in pass_graph(settings, (2, 2)):
                    self._program(ps)
        except BaseException:
            self._release_programs()
            raise
        # Integer planes for the key pass, normalised 8-bit or float for background images.
        self._planes = [_PlaneTexture(self.ctx, integer=True) for _ in range(4)]
        self._bg = _PlaneTexture(self.ctx, integer=False)
        self._screen_map = _PlaneTexture(self.ctx, integer=False)  # RGB32F, one texel per block
        self._dummy_u = self.ctx.texture((1, 1), 1, b"\0", dtype="u1")
        self._dummy_f = self.ctx.texture((1, 1), 4, b"\0" * 4)

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
        for vao in self._vaos.values():
            vao.release()
        for prog in self._progs.values():
            prog.release()
        self._vaos.clear()
        self._progs.clear()
        self._current.clear()

    # --- settings ------------------------------------------------------------------------

    def set_params(self, params: KeyerParams) -> None:
        self.params = params

    def _apply_params(self, p: KeyerParams, chroma: tuple[int, int]) -> None:
        """The settings' uniforms on every program, and the pass graph they and the frame's
        chroma subsampling call for."""
        graph = pass_graph(p, chroma)
        if graph is not self.graph:
            self.graph = graph
            self._current = {ps.program: self._program(ps) for ps in graph}
        if p is self._params_applied:
            return
        values = uniforms(p)
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
        """The render target ``name`` at the current size (the chroma planes' for CHROMA_GRID),
        made the first time a pass needs it at that size."""
        size = self._chroma_size if name in CHROMA_GRID else self._size
        tex = self._tex.get(name)
        if tex is not None and tex.size != size:  # same picture, other chroma subsampling
            for outputs in [o for o in self._fbo if name in o]:
                self._fbo.pop(outputs).release()
            tex.release()
            tex = None
        if tex is None:
            comps, dtype = FORMATS[TARGETS[name]]
            tex = self.ctx.texture(size, comps, dtype=dtype)  # type: ignore[arg-type]
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            tex.repeat_x = tex.repeat_y = False
            self._tex[name] = tex
        return tex

    def _framebuffer(self, outputs: tuple[str, ...]) -> moderngl.Framebuffer:
        targets = [self._target(t) for t in outputs]  # first: drops one of an old size
        fbo = self._fbo.get(outputs)
        if fbo is None:
            fbo = self.ctx.framebuffer(color_attachments=targets)
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
        self._held_for = None

    # --- stages ----------------------------------------------------------------------------

    def _upload_frame(self, frame: Frame) -> None:
        """The planes onto their units, and the frame's uniforms on every program of the graph
        (all that decode: chroma guide, key, reach, colour model, composite; a program drops the
        ones it ignores)."""
        progs = self._current.values()
        _set(self._current["key"], "luma_w", tuple(float(x) for x in cpu.luma_weights(frame)))
        planes = frame.planes
        for prog in progs:
            _set(prog, "picture_size", (frame.width, frame.height))
        if frame.layout == "rgb":
            self._planes[3].upload(planes[0]).use(3)
            for unit in (0, 1, 2):
                self._dummy_u.use(unit)
            for prog in progs:
                _set(prog, "layout_rgb", 1)
            return
        y, u, v = planes
        for i, plane in enumerate((y, u, v)):
            self._planes[i].upload(plane).use(i)
        self._dummy_u.use(3)
        m, off = frame.yuv.to_rgb()  # type: ignore[union-attr]  # checked_chroma: a YuvSpec
        m32 = m.astype(np.float32)
        for prog in progs:
            _set(prog, "layout_rgb", 0)
            _set(prog, "chroma_factors", frame.chroma_factors)
            _set(prog, "chroma_size", (u.shape[1], u.shape[0]))
            _set(prog, "chroma_centred", int(frame.spec.centred))
            _set(prog, "yuv_matrix", tuple(float(x) for x in m32.T.reshape(-1)))
            _set(prog, "yuv_offset", tuple(float(x) for x in off))

    def _set_background(self, background: Layer) -> None:
        """Upload or set the background (a Picture is of the frame's size: checked before)."""
        prog = self._current["composite"]
        match background:
            case Clear():
                _set(prog, "background_mode", 0)
                _set(prog, "background_is_image", 0)
            case Solid(rgb=rgb):
                _set(prog, "background_mode", 1)
                _set(prog, "background_is_image", 0)
                _set(prog, "background_color", (*(float(c) for c in rgb), 1.0))
            case Picture(pixels=pixels):
                # A read-only array that is the same object as last time is the same picture.
                same = (
                    pixels is self._bg_source
                    and not pixels.flags.writeable
                    and self._bg.tex is not None
                )
                if not same:
                    self._bg.upload(pixels)
                    self._bg_source = pixels
                _set(prog, "background_mode", 2 if background.has_alpha else 1)
                _set(prog, "background_is_image", 1)

    def _run_passes(self, screen: ScreenMap, bg_image: bool) -> None:
        """Draw :func:`pass_graph`'s passes, each into its targets, reading earlier ones'."""
        screen_map = screen
        self._screen_map.upload(screen_map.colors).use(_FIXED_UNITS["screen_map"])
        for prog in self._current.values():  # those that read the map: key, colour model, composite
            _set(prog, "screen_cell", screen_map.cell)
        bg = self._bg.tex if bg_image and self._bg.tex is not None else self._dummy_f
        bg.use(_FIXED_UNITS["background_image"])
        guide_unit = _FIXED_UNITS["chroma_guide"]
        self._dummy_f.use(guide_unit)  # 4:4:4 and RGB frames: decode.glsl never reads it
        drawn = []
        for ps in self.graph:
            prog = self._progs[(ps.program, ps.defines)]
            for name, value in ps.uniforms:
                if isinstance(value, bytes):
                    block = prog[name]
                    assert isinstance(block, moderngl.Uniform), name  # the table says so
                    block.write(value)
                else:
                    _set(prog, name, value)
            for i, (sampler, target) in enumerate(ps.inputs):
                _set(prog, sampler, FIRST_INPUT_UNIT + i)
                self._target(target).use(FIRST_INPUT_UNIT + i)
            self._framebuffer(ps.outputs).use()
            with timed(self.timer, ps.name):
                self._vaos[(ps.program, ps.defines)].render(moderngl.TRIANGLES, vertices=3)
            drawn.append((ps.program, ps.defines))
            if "chroma_guide" in ps.outputs:  # bound once written, for every pass that decodes
                self._target("chroma_guide").use(guide_unit)
        self.drawn = tuple(drawn)

    # --- API -------------------------------------------------------------------------------

    def render_texture(
        self, frame: Frame, screen: ScreenMap, background: Layer
    ) -> moderngl.Texture:
        """Key and composite ``frame``; the RGBA8 result stays on the GPU. ``screen``: the
        calibrator's :class:`ScreenMap` (``ScreenMap.constant`` for one colour). The texture is
        the keyer's own and is overwritten by the next call; it is straight RGBA when
        ``background`` is Clear (or a Picture with alpha) and opaque (alpha 1) otherwise."""
        with made_current(self.ctx, self._standalone):
            self._render(frame, screen, background)
            if self.timer is not None:
                self.timer.end_frame()
            return self._target("out")

    def render(
        self,
        frame: Frame,
        screen: ScreenMap,
        background: Layer,
        *,
        out: np.ndarray | None = None,
        pixel_format: str | None = None,
    ) -> np.ndarray:
        """As ReferenceKeyer.render: uint8 H×W×3, or H×W×4 over ``Clear`` or a ``Picture``
        with alpha, whatever ``pixel_format`` (taken for the Keyer protocol) says. Read
        straight into ``out`` if given (a C-contiguous uint8 array of that shape, reused by a
        caller that wants no allocation per frame)."""
        with made_current(self.ctx, self._standalone):
            comps = self._render(frame, screen, background)
            t0 = time.perf_counter()
            w, h = self._size  # type: ignore[misc]
            shape = (h, w, comps)
            if out is None:
                out = np.empty(shape, np.uint8)
            elif out.shape != shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
                raise ParameterError(f"out must be a C-contiguous uint8 array of shape {shape}")
            with timed(self.timer, READBACK):
                self._framebuffer(("out",)).read_into(out, components=comps, alignment=1)
            if self.timer is not None:
                self.timer.end_frame()
        self.stats["readback"] = time.perf_counter() - t0
        return out

    def _render(self, frame: Frame, screen: ScreenMap, background: Layer) -> int:
        if self._released:
            raise RuntimeError("this GpuKeyer is closed")
        t0 = time.perf_counter()
        chroma = checked_chroma(frame)
        w, h = frame.width, frame.height
        check_layer(background, w, h)
        self._ensure_targets(w, h)
        self._chroma_size = (-(-w // chroma[0]), -(-h // chroma[1]))
        # No blending, depth test or culling from a host's state; its framebuffer comes back.
        with self.ctx.scope(self._framebuffer(("out",)), enable_only=moderngl.NOTHING):
            p = keyed_params(self.params, screen)
            self._apply_params(p, chroma)
            hold = self._current.get("hold")
            held_for = (p, w, h)
            if hold is not None:
                _set(hold, "hold_prev", int(self._held_for == held_for))
            with timed(self.timer, UPLOAD):
                self._upload_frame(frame)
                self._set_background(background)
            if self.timing:
                self.ctx.finish()
            t1 = time.perf_counter()
            self._run_passes(screen, isinstance(background, Picture))
            self._held_for = None
            if hold is not None:  # this frame's state, for the next frame's hold
                for kept, src in (("held", "levels"), ("samples_held", "samples")):
                    self.ctx.copy_framebuffer(self._target(kept), self._framebuffer((src,)))
                self._held_for = held_for
            if self.timing:
                self.ctx.finish()
            t2 = time.perf_counter()
        self.stats.update(upload=t1 - t0, passes=t2 - t1, readback=0.0)
        return out_channels(background)

    def warm(self, width: int, height: int) -> None:
        """Render targets of this size made now (the programs are built with the keyer), so
        that a live view's first frame does not pay for them."""
        if self._released:
            raise RuntimeError("this GpuKeyer is closed")
        with made_current(self.ctx, self._standalone):
            self._ensure_targets(max(width, 1), max(height, 1))

    def reset(self) -> None:
        """The next frame keyed on its own (no still hold from this one)."""
        self._held_for = None

    def close(self) -> None:
        """Release the keyer's GL objects (and its context, if it made it). Idempotent."""
        if self._released:
            return
        self._released = True
        with made_current(self.ctx, self._standalone):
            if self.timer is not None:
                self.timer.release()
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
