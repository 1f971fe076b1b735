"""The GPU keyer: the numpy reference's passes as GLSL fragment shaders, through moderngl.

The frame stays on the GPU from upload to output. Y, U and V go up as three 8-bit integer
textures (a PyAV plane with padded rows goes up without a copy), every pass reads the
previous pass's texture, and only :meth:`GpuKeyer.render` reads back.

    key           planes → RGB, membership, raw alpha (screen map: cpu.screen_at) → RGBA32F
    edge_spread   rows: (max, min) of the raw alpha, radius EDGE_RADIUS → RG32F
    clip          columns: max − min → edge_weight → clip_matte         → R32F
    window_reduce choke (min or max over |choke|), rows then columns     → R32F  (if choke ≠ 0)
    feather       Gaussian taps of cpu.gaussian_weights, rows, columns   → R32F  (if feather > 0)
    window_reduce min of alpha over spill_radius, rows then columns     → R32F  (if spill > 0)
    composite     spill_gate, unmix_despill (screen map again), composite → RGBA8

The screen map (calibration.ScreenMap, a few thousand blocks) goes up each frame as a small
RGB32F texture; both passes interpolate it with texelFetch and numpy's own weights.

Every pass is the same fullscreen triangle; the shaders address texels with gl_FragCoord and
texelFetch, so texture row 0 is image row 0 (the top of the picture, as in numpy). A host that
draws :meth:`GpuKeyer.render_texture` with the usual bottom-up texture coordinates flips v.

All GL calls must come from the thread that owns the context.
"""

from __future__ import annotations

import ctypes.util
import time
from typing import Any

import moderngl
import numpy as np

from . import cpu
from .errors import BackendUnavailableError, InputError, ParameterError
from .frames import Frame
from .glsl import ShaderError, ShaderLibrary
from .params import KeyerParams
from .screenmap import ScreenMap

__all__ = ["GpuKeyer", "ShaderError", "create_context", "GL_REQUIRE"]

GL_REQUIRE = 330  # OpenGL 3.3 core: texelFetch, integer textures, float render targets

_PACKAGES = "apt-get install -y --no-install-recommends libegl1 libgl1"
_MAX_TAPS = 21  # feather.frag.glsl's MAX_TAPS: 2·ceil(max feather = 10) + 1
_PASSES = (
    "key",
    "guide_rows",
    "guide_cols",
    "edge_spread",
    "clip",
    "window_reduce",
    "feather",
    "composite",
)

# Texture units of each pass's samplers (distinct within a program).
_UNITS = {
    "key": {"plane_y": 0, "plane_u": 1, "plane_v": 2, "plane_rgb": 3, "screen_map": 4},
    "guide_rows": {"src": 0},
    "guide_cols": {"sums_tex": 0, "key_tex": 1},
    "edge_spread": {"matte_tex": 0},
    "clip": {"matte_tex": 0, "spread_tex": 1},
    "window_reduce": {"src": 0},
    "feather": {"src": 0},
    "composite": {
        "key_tex": 0,
        "alpha_tex": 1,
        "near_tex": 2,
        "background_image": 3,
        "screen_map": 4,
    },
}


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

    Same API and results as :class:`chromakey.cpu.ReferenceKeyer` (within a float32 ulp or two,
    which rounding to 8 bits almost always hides). ``ctx``: None for a headless context of
    its own, ``"current"`` for the current one (a glfw window's), or a host's
    ``moderngl.Context``, which the keyer uses but never releases.

    ``stats`` holds the last frame's seconds per stage (``upload``, ``passes``, ``readback``).
    GL calls are queued, so these are only the GPU's times when ``timing`` is true, which
    adds a ``ctx.finish()`` after the upload and after the passes.
    """

    backend = "gpu"

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
        self._released = False
        try:
            lib = shaders if shaders is not None else ShaderLibrary()
            self._progs = {
                n: lib.program(self.ctx, "fullscreen.vert.glsl", f"{n}.frag.glsl") for n in _PASSES
            }
        except BaseException:
            if self._owns_ctx:
                self.ctx.release()
            raise
        self._vaos = {n: self.ctx.vertex_array(p, []) for n, p in self._progs.items()}
        for n, units in _UNITS.items():
            for name, unit in units.items():
                _set(self._progs[n], name, unit)
        _set(self._progs["edge_spread"], "edge_radius", cpu.EDGE_RADIUS)
        _set(self._progs["clip"], "edge_radius", cpu.EDGE_RADIUS)
        # Integer planes for the key pass, normalised 8-bit or float for background images.
        self._planes = [_PlaneTexture(self.ctx, integer=True) for _ in range(4)]
        self._bg = _PlaneTexture(self.ctx, integer=False)
        self._screen_map = _PlaneTexture(self.ctx, integer=False)  # RGB32F, one texel per block
        self._bg_source: np.ndarray | None = None
        self._dummy_u = self.ctx.texture((1, 1), 1, b"\0", dtype="u1")
        self._dummy_f = self.ctx.texture((1, 1), 4, b"\0" * 4)
        self._size: tuple[int, int] | None = None
        self._tex: dict[str, moderngl.Texture] = {}
        self._fbo: dict[str, moderngl.Framebuffer] = {}
        self._params_applied: KeyerParams | None = None

    # --- settings ------------------------------------------------------------------------

    def set_params(self, params: KeyerParams) -> None:
        self.params = params

    def _apply_params(self) -> None:
        p = self.params
        if p is self._params_applied:
            return
        values = {
            "hue_center": p.hue_center,
            "hue_width": p.hue_width,
            "hue_softness": p.hue_softness,
            "sat_min": p.sat_min,
            "sat_softness": p.sat_softness,
            "dark_guard": p.dark_guard,
            "bright_guard": p.bright_guard,
            "clip_black": p.clip_black,
            "clip_white": p.clip_white,
            "edge_tolerance": p.edge_tolerance,
            "guide_radius": p.guide_radius,
            "guide_eps": p.guide_eps,
            "spill": p.spill,
            "key": cpu.key_channel(p),
        }
        for prog in self._progs.values():
            for name, value in values.items():
                _set(prog, name, value)
        self._params_applied = p

    # --- targets ---------------------------------------------------------------------------

    def _ensure_targets(self, width: int, height: int) -> None:
        if self._size == (width, height):
            return
        self._release_targets()
        spec = {"key": (4, "f4"), "spread": (2, "f4"), "a0": (1, "f4"), "a1": (1, "f4")}
        spec |= {"a2": (1, "f4"), "out": (4, "f1"), "sums": (4, "f4"), "coef": (4, "f4")}
        for name, (comps, dtype) in spec.items():
            tex = self.ctx.texture((width, height), comps, dtype=dtype)
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            tex.repeat_x = tex.repeat_y = False
            self._tex[name] = tex
            self._fbo[name] = self.ctx.framebuffer(color_attachments=[tex])
        self._size = (width, height)

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
        prog = self._progs["key"]
        luma_w = tuple(float(x) for x in cpu.luma_weights(frame))
        for n in ("guide_rows", "guide_cols"):
            _set(self._progs[n], "luma_w", luma_w)
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
        _set(prog, "layout_rgb", 0)
        _set(prog, "chroma_factors", (fx, fy))
        _set(prog, "chroma_size", (u.shape[1], u.shape[0]))
        _set(prog, "yuv_matrix", tuple(float(x) for x in m32.T.reshape(-1)))
        _set(prog, "yuv_offset", tuple(float(x) for x in off))

    def _set_background(self, background: np.ndarray | None, width: int, height: int) -> int:
        """Upload or set the background; returns the number of output channels."""
        prog = self._progs["composite"]
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

    def _draw(self, name: str, target: str, textures: dict[int, moderngl.Texture]) -> None:
        for unit, tex in textures.items():
            tex.use(unit)
        self._fbo[target].use()
        self._vaos[name].render(moderngl.TRIANGLES, vertices=3)

    def _reduce(self, src: str, tmp: str, dst: str, radius: int, use_max: bool) -> None:
        prog = self._progs["window_reduce"]
        _set(prog, "radius", radius)
        _set(prog, "use_max", int(use_max))
        _set(prog, "direction", (1, 0))
        self._draw("window_reduce", tmp, {0: self._tex[src]})
        _set(prog, "direction", (0, 1))
        self._draw("window_reduce", dst, {0: self._tex[tmp]})

    def _run_passes(self, screen: ScreenMap | np.ndarray, bg_image: bool) -> None:
        p = self.params
        screen_map = ScreenMap.of(screen)
        map_tex = self._screen_map.upload(screen_map.colors)
        for n in ("key", "composite"):
            _set(self._progs[n], "screen_cell", screen_map.cell)
        t = self._tex
        # 1: decode + key (plane textures already bound).
        map_tex.use(4)
        self._fbo["key"].use()
        self._vaos["key"].render(moderngl.TRIANGLES, vertices=3)
        # 2: the luma-guided matte (cpu.guided_matte): box sums, coefficients, their means.
        matte, channel = "key", 3
        if p.guide_radius > 0:
            rows, cols = self._progs["guide_rows"], self._progs["guide_cols"]
            _set(rows, "stage", 0)
            self._draw("guide_rows", "sums", {0: t["key"]})
            _set(cols, "stage", 0)
            self._draw("guide_cols", "coef", {0: t["sums"]})
            _set(rows, "stage", 1)
            self._draw("guide_rows", "sums", {0: t["coef"]})
            _set(cols, "stage", 1)
            self._draw("guide_cols", "a1", {0: t["sums"], 1: t["key"]})
            matte, channel = "a1", 0
        for n in ("edge_spread", "clip"):
            _set(self._progs[n], "matte_channel", channel)
        # 3: edge spread, clip.
        self._draw("edge_spread", "spread", {0: t[matte]})
        self._draw("clip", "a0", {0: t[matte], 1: t["spread"]})
        alpha = "a0"
        # 4: choke, a square min (erode) or max (dilate) of radius |choke|.
        if p.choke != 0:
            self._reduce("a0", "a1", "a0", abs(p.choke), p.choke < 0)
        # 5: feather.
        if p.feather > 0:
            weights = cpu.gaussian_weights(p.feather)
            prog = self._progs["feather"]
            padded = np.zeros(_MAX_TAPS, np.float32)
            padded[: len(weights)] = weights
            prog["weights"].write(padded.tobytes())
            _set(prog, "taps", len(weights))
            _set(prog, "direction", (1, 0))
            self._draw("feather", "a1", {0: t["a0"]})
            _set(prog, "direction", (0, 1))
            self._draw("feather", "a0", {0: t["a1"]})
        # 6: near-screen for the spill gate (unused when spill is 0).
        near = alpha
        if p.spill > 0 and p.spill_radius > 0:
            self._reduce(alpha, "a1", "a2", p.spill_radius, False)
            near = "a2"
        # 7: unmix, despill, composite.
        units = {0: t["key"], 1: t[alpha], 2: t[near]}
        units[3] = self._bg.tex if bg_image and self._bg.tex is not None else self._dummy_f
        units[4] = map_tex
        self._draw("composite", "out", units)

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
        return self._tex["out"]

    def render(
        self,
        frame: Frame,
        screen: ScreenMap | np.ndarray,
        background: np.ndarray | None,
        *,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """uint8 H×W×3 over ``background`` ((3,) colour or H×W×3/4 image), or H×W×4 if None.

        As CpuKeyer.render. The pixels are read straight into ``out`` if given (a C-contiguous
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
        self._fbo["out"].read_into(out, components=comps, alignment=1)
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
        with self.ctx.scope(self._fbo["out"], enable_only=moderngl.NOTHING):
            self._apply_params()
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
        for obj in (*self._vaos.values(), *self._progs.values(), self._dummy_u, self._dummy_f):
            obj.release()
        if self._owns_ctx:
            self.ctx.release()

    def __enter__(self) -> GpuKeyer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
