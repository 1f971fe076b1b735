"""The live compositor: frames keyed into a texture of the host's OpenGL context, shown by
their timestamps against a clock (the package docstring has the whole story)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import moderngl
import numpy as np

from ..backgrounds import Background, BackgroundSpec, parse_background
from ..backgrounds.fit import Fit
from ..backgrounds.play import PlayStyle
from ..compositor import Compositor
from ..core.color import InputColour
from ..core.errors import ParameterError
from ..core.frames import Frame
from ..core.params import KeyerParams
from ..io.sinks.base import rgb_image
from ..io.sources import Source, VideoSource
from ..keying.gpu import GpuKeyer, create_context
from ..keying.gpu.context import made_current
from ..keying.select import BACKENDS, Backend, Keyer, backend_for_context, cpu_keyer
from .feed import FrameFeed
from .keying_thread import KeyingThread
from .schedule import Schedule
from .stats import LiveStats
from .upload import TextureUpload

# A first frame shown later than this after it was due moves the stream's start to its
# showing (seconds). None at all: even a few ms left as they are make the next frames due
# together, and one of them is dropped at every start (a 720p preview dropped its second).
FIRST_FRAME_SLACK = 0.0


class LiveCompositor:
    """Keys frames into a texture of a host's context, paced by their timestamps.

    ``ctx``: a host's ``moderngl.Context`` (used, never released), ``"current"`` (the
    context current on this thread, e.g. a glfw window's) or ``"standalone"`` (headless
    EGL, released by :meth:`close`). ``background``: any spec of
    :func:`chromakey.backgrounds.parse_background`; ``"transparent"`` gives straight RGBA
    for a host to blend over its own scene. ``clock``: seconds, ``time.perf_counter`` unless
    injected (``update(now=…)`` also takes the time directly). ``backend``: ``auto``, ``cpu``
    or ``gpu`` (module docstring); ``threaded``: the CPU path keys on a worker thread;
    ``on_keyed``: called on that thread when a composite is ready for ``update`` (e.g.
    ``glfw.post_empty_event``, to wake a loop that waits for events). ``keyer``: a keyer of
    the host's own (configured, instrumented); a :class:`~chromakey.keying.select.TextureKeyer`
    keys into a texture on the render thread and must render into ``ctx``, any other
    :class:`~chromakey.keying.select.Keyer` keys to an image; it is closed with the compositor. ``input_colour``
    (:class:`chromakey.core.color.InputColour`) states the frames' YUV matrix and range
    over the source's tags.

    The texture is RGBA8, row 0 the top of the picture, on either path. Raises
    BackendUnavailableError (naming what to install) where no OpenGL 3.3 context can be had:
    the texture needs one; ``chromakey.pipeline`` has the paths without OpenGL.
    """

    def __init__(
        self,
        ctx: moderngl.Context | str = "standalone",
        params: KeyerParams | None = None,
        background: BackgroundSpec = "transparent",
        *,
        clock: Callable[[], float] = time.perf_counter,
        sync: bool = True,
        resync_after: float = 0.5,
        max_ahead: float = 3.0,
        backend: Backend = "auto",
        threaded: bool = True,
        on_keyed: Callable[[], Any] | None = None,
        keyer: Keyer | None = None,
        input_colour: InputColour | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ParameterError(f"backend {backend!r} is unknown; use {', '.join(BACKENDS)}")
        params = params if params is not None else KeyerParams()
        first_background = parse_background(background)
        self._owns_ctx = not isinstance(ctx, moderngl.Context)
        made: moderngl.Context | None = None
        try:
            self.ctx = made = create_context(ctx)
            # Our own headless context is entered for our GL work (moderngl's rule); a host's
            # or a window's is the host's to make current.
            self._gl = made_current(self.ctx, ctx == "standalone")
            if keyer is None:
                gpu = backend_for_context(backend, self.ctx) == "gpu"
                keyer = GpuKeyer(params, self.ctx) if gpu else cpu_keyer(params)
            self.backend = keyer.backend
        except BaseException:
            if made is not None and self._owns_ctx:
                made.release()
            first_background.close()
            raise
        self._compositor = Compositor(keyer, first_background, params, input_colour)
        # The GLSL passes key into a texture on this thread; any other keyer keys to an image,
        # on a keying thread of its own when ``threaded``, and the image is uploaded.
        self.threaded = bool(threaded) and self._compositor.texture_keyer is None
        self.clock = clock
        self.sync = sync
        self.stats = LiveStats()
        self._schedule = Schedule(self.stats, float(resync_after), float(max_ahead))
        self.source: Source | FrameFeed | None = None
        self.changed = False  # whether the last update/render produced a new texture
        self.current: Frame | None = None  # the frame on show
        self._own_source = False
        self._feed: FrameFeed | None = None
        self._first_time: float | None = None  # stream time of the first frame (scene 0)
        self._texture: moderngl.Texture | None = None
        self._paused = False
        # The CPU path: the composite's upload, the keying thread.
        self._upload = TextureUpload(self.ctx, sync)
        self._thread = KeyingThread(self._key, on_keyed)
        self._bind_background(self.background)

    @property
    def keyer(self) -> Keyer:
        return self._compositor.keyer

    @property
    def background(self) -> Background:
        return self._compositor.background

    @property
    def params(self) -> KeyerParams:
        return self._compositor.params

    # --- inputs -----------------------------------------------------------------------------

    def attach(
        self, source: Source | FrameFeed, *, own: bool = False, stall_resync: bool | None = None
    ) -> LiveCompositor:
        """Read frames from ``source``: best one of :func:`chromakey.io.sources.open_source`
        (a ReconnectingSource for a URL; a file's VideoSource in drop mode, paced to real
        time), or any VideoSource (with ``drop=False`` its decoder waits on the queue and
        this loop paces it), any other Source, or a FrameFeed. With ``own``, :meth:`close`
        closes it too. ``stall_resync`` (default: True for anything but a local file's
        VideoSource) re-anchors the clock after a stall; a file keeps strict real time, a
        decoder starved of CPU shows up as dropped frames, not as slow motion."""
        self._drain(count=False)  # a frame of the old source in the keyer is not shown
        if self.source is not None and self._own_source and self.source is not source:
            self.source.close()
        self.source = source
        self._own_source = own
        self._feed = source if isinstance(source, FrameFeed) else None
        self._schedule.reset(
            source, not isinstance(source, VideoSource) if stall_resync is None else stall_resync
        )
        self._bind_background(self.background)
        if isinstance(source, Source):
            self.keyer.warm(source.info.width, source.info.height)  # before the clock starts
        return self

    def feed(self, frame: Frame) -> None:
        """Hand over a frame for a later :meth:`update` (any thread; no GL). The feed holds
        four frames; when the render loop falls behind the oldest is dropped and counted."""
        if self._feed is None:
            if self.source is not None:
                raise ParameterError("feed() cannot be mixed with an attached source")
            self.attach(FrameFeed())
        assert self._feed is not None
        self._feed.put(frame)

    def set_background(
        self,
        spec: BackgroundSpec,
        *,
        fit: Fit | None = None,
        play_style: PlayStyle | None = None,
    ) -> None:
        """Swap the background (validated now, any thread); it shows from the next frame."""
        self._compositor.set_background(parse_background(spec, fit=fit, play_style=play_style))

    def set_params(self, params: KeyerParams) -> None:
        """New keyer settings (any thread) from the next frame on."""
        self._compositor.set_params(params)

    def pause(self) -> None:
        """Stop taking frames. A file paced to real time holds its place (its pacer pauses
        too); a live source goes on and drops what is not taken."""
        self._paused = True
        if isinstance(self.source, Source):
            self.source.pause()

    def resume(self) -> None:
        """Continue from the next frame, re-anchoring the clock to it."""
        self._paused = False
        self._schedule.restart()
        if isinstance(self.source, Source):
            self.source.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def ended(self) -> bool:
        """The source has ended and every frame taken from it has been shown (or dropped)."""
        return self._schedule.ended and self._thread.job is None

    @property
    def keying(self) -> bool:
        """A frame is on the keying thread or keyed and waiting for its time (CPU path)."""
        return self._thread.job is not None

    @property
    def texture(self) -> moderngl.Texture | None:
        """The last composited texture (the keyer's; overwritten by the next keying)."""
        return self._texture

    # --- the GL thread ----------------------------------------------------------------------

    def _bind_background(self, bg: Background) -> None:
        info = self.source.info if isinstance(self.source, Source) else None
        bg.bind(None if info is None else info.duration)

    def _apply_pending(self) -> bool:
        return self._compositor.apply_pending(self._bind_background)

    def _scene_time(self, frame: Frame) -> float:
        """Seconds since the first frame: where a video background is."""
        if self._first_time is None:
            self._first_time = frame.time
        return max(0.0, frame.time - self._first_time)

    def _key(self, frame: Frame, scene: float) -> np.ndarray:
        """The CPU path's keying (any one thread, no GL): the frame step into RGBA (opaque
        composites get alpha 255, so that the texture is RGBA8 as on the GPU path)."""
        return self._upload.rgba(
            rgb_image(self._compositor.step(frame, scene, pixel_format="rgba"))
        )

    def _composite(self, frame: Frame) -> moderngl.Texture:
        """Calibrate, key and composite one frame into the texture, on this thread."""
        t0 = time.perf_counter()
        scene = self._scene_time(frame)
        if self._compositor.texture_keyer is not None:
            tex = self._compositor.step_texture(frame, scene)
            if self.sync:
                self.ctx.finish()
        else:
            tex = self._upload.texture(self._key(frame, scene))
        self.stats.render_ms.append(1000.0 * (time.perf_counter() - t0))
        self.stats.rendered += 1
        self._texture = tex
        return tex

    def _shown(self, frame: Frame, dequeued: float) -> None:
        """Count ``frame`` as on show now, its texture complete."""
        done = time.perf_counter()
        decoded = dequeued if frame.decoded_at is None else frame.decoded_at
        self.stats.latency_ms.append(1000.0 * (done - decoded))
        self.stats.wait_ms.append(1000.0 * max(0.0, dequeued - decoded))
        self.stats.count_shown(done)
        self.current = frame
        self.changed = True

    def _show(self, frame: Frame, dequeued: float) -> moderngl.Texture:
        tex = self._composite(frame)
        self._shown(frame, dequeued)
        return tex

    def render(self, frame: Frame) -> moderngl.Texture:
        """Key ``frame`` now, on this thread (a host that decodes and paces by itself)."""
        with self._gl:
            return self._render_now(frame)

    def _render_now(self, frame: Frame) -> moderngl.Texture:
        self._drain(count=True)
        self._apply_pending()
        self.changed = False
        return self._show(frame, time.perf_counter())

    def _count_source_drops(self) -> None:
        if self.source is not None:
            self.stats.dropped_by_source = int(self.source.dropped)

    def _lead(self) -> float:
        """How long before a frame is due its keying starts (KeyingThread.lead); 0 on the
        calling thread."""
        return self._thread.lead(self._schedule.interval) if self.threaded else 0.0

    def next_due(self, now: float | None = None) -> float | None:
        """Seconds until :meth:`update` has a frame to key or show (≤ 0: now); None if it
        waits on the source (nothing held) or on the keying thread (``on_keyed`` says when)."""
        now = self.clock() if now is None else now
        job = self._thread.job
        if job is not None:
            return job.show_at - now if job.future.done() else None
        held, anchor = self._schedule.held, self._schedule.anchor
        if held is None or anchor is None:
            return None
        return anchor + held[0].time - self._lead() - now

    def update(self, now: float | None = None) -> moderngl.Texture | None:
        """Show the frame due at ``now`` (default: the clock); never waits for decoding, nor,
        on the threaded CPU path, for the keyer.

        Returns the texture on show — a new one (``changed`` is True) or, when no new frame
        is due, the last one again — or None before the first frame. Raises the source's
        error (e.g. StreamError once a network source gives up) or the keyer's.
        """
        now = self.clock() if now is None else now
        self.changed = False
        with self._gl:
            return self._update(now)

    def _update(self, now: float) -> moderngl.Texture | None:
        if self.threaded:
            return self._update_threaded(now)
        dirty = self._apply_pending()
        self._count_source_drops()
        chosen = self._schedule.pick(now, None, self.current, self._paused)
        if chosen is not None:
            tex = self._show(*chosen)
            self._count_source_drops()
            return tex
        self._count_source_drops()
        if dirty and self.current is not None:
            # A change while nothing new arrives (paused, stalled): show it on the held frame.
            self._composite(self.current)
            self.changed = True
        return self._texture

    def _update_threaded(self, now: float) -> moderngl.Texture | None:
        """The CPU path with a keying thread: upload a finished frame once it is due, then
        hand the keyer the next (changes to the settings wait until it is idle)."""
        done = self._thread.take(now)  # re-raises the keyer's error here
        if done is not None:
            job, rgba, seconds = done
            t0 = time.perf_counter()
            self._texture = self._upload.texture(rgba)
            self.stats.render_ms.append(1000.0 * (seconds + time.perf_counter() - t0))
            self.stats.rendered += 1
            self.changed = True
            if job.new:
                anchor = self._schedule.anchor
                late = now - (anchor + job.frame.time) if anchor is not None else 0.0
                if self.current is None and late > FIRST_FRAME_SLACK:
                    # The stream starts when its first frame is on show, not when it was
                    # picked: the first keying (scratch, a full calibration) is the slowest,
                    # and would otherwise make the frames behind it late.
                    self._schedule.set_anchor(now, job.frame.time)
                self._shown(job.frame, job.dequeued)
        if self._thread.job is None:
            dirty = self._apply_pending()
            self._count_source_drops()
            chosen = self._schedule.pick(now, self._lead, self.current, self._paused)
            if chosen is not None:
                frame, dequeued = chosen
                anchor = self._schedule.anchor
                assert anchor is not None
                self._submit(frame, dequeued, max(now, anchor + frame.time), True)
            elif dirty and self.current is not None:
                # A change while nothing new arrives (paused, stalled): re-key the held frame.
                self._submit(self.current, now, now, False)
        self._count_source_drops()
        return self._texture

    def _submit(self, frame: Frame, dequeued: float, show_at: float, new: bool) -> None:
        self._thread.submit(frame, self._scene_time(frame), dequeued, show_at, new)

    def _drain(self, *, count: bool) -> None:
        """Wait for the keying thread and drop its frame (``count``: as dropped late)."""
        job = self._thread.drain()
        if count and job is not None and job.new:
            self.stats.dropped_late += 1

    # --- end ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the GL objects (the context too if standalone), the background, and the
        source if attached with ``own``. Call from the GL thread."""
        self._thread.close()
        if self._own_source and self.source is not None:
            self.source.close()
        self.source = None
        self._schedule.reset(None, True)
        self.current = None
        with self._gl:
            self.keyer.close()
            self._upload.release()
        self._texture = None
        if self._owns_ctx:
            self.ctx.release()
            self._owns_ctx = False
        self.background.close()

    def __enter__(self) -> LiveCompositor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
