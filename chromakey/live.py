"""Real-time compositing for a render loop: the embedding API.

:class:`LiveCompositor` keys frames into a texture of the host's OpenGL context and decides,
by the frames' timestamps against a clock, which frame to show now. All its GL calls happen
in the thread that calls :meth:`~LiveCompositor.update` or :meth:`~LiveCompositor.render`
(the thread that owns the context); decoding runs on the source's own thread, and the render
loop never waits for it.

    import moderngl
    from chromakey.live import LiveCompositor
    from chromakey.network import open_source

    ctx = moderngl.create_context()                 # the host's context (or "standalone")
    live = LiveCompositor(ctx, background="transparent")
    live.attach(open_source("https://example.com/avatar.m3u8"))   # or a file path
    while host_is_running():                        # the host's render loop, ~60 Hz
        tex = live.update()                         # never blocks; None until a first frame
        if tex is not None:
            draw_quad(tex)                          # RGBA8, row 0 = top: flip v
    live.close()

A host that decodes by itself calls ``render(frame)`` (key this frame now) or, from any
thread, ``feed(frame)`` and then ``update()`` in its render loop.

Backends (``backend``): ``gpu`` keys with the GLSL passes (:class:`chromakey.gpu.GpuKeyer`)
straight into the texture. ``cpu`` keys with :class:`chromakey.kernels.CpuKeyer` and uploads the
composite as one RGBA8 texture. ``auto`` (the default) takes ``cpu`` where the context is a
software rasteriser (Mesa's llvmpipe, as ``chromakey render --backend auto`` decides:
:func:`chromakey.pipeline.auto_takes_cpu`), whose passes would run on the same cores and
slower, and ``gpu`` otherwise. On the CPU path a frame is keyed on a worker thread
(``threaded``, the default; the keyer releases the GIL), so that ``update`` returns at once
and the host keeps presenting while the next frame is keyed; a later ``update`` uploads the
result (the only GL call of the CPU path). The pacer then starts keying a frame up to one
frame before it is due — by the keying time measured so far, never more than the frame's
own interval — and holds a result that is ready early until its time. One frame at a time is
in the keyer; frames that fall due meanwhile are dropped and counted when the next is
chosen, never queued. ``threaded=False`` keys on the calling thread, inside ``update``, as
the GPU path does: every call then shows what is due at once (deterministic, for tests and
hosts that drive ``update(now=…)`` themselves).

Pacing (``update``): the first frame is shown at once and fixes the mapping of stream time
to the clock; after that a frame is due at ``anchor + frame.time``, so a variable frame
rate plays as timed. Of several frames due at one update only the newest is keyed, the
others are dropped and counted (``stats.dropped_late``); a frame not yet due stays where
it is (one frame is held, the rest wait in the source's bounded queue). When nothing new
arrived (a stall), ``update`` returns the last texture at once. After a stall of a live
source — found empty for more than ``resync_after`` seconds — a frame that is more than
that late re-anchors the clock to itself ("play on from here"); so does a jump in the
timestamps, a frame more than ``max_ahead`` seconds early or ``resync_after`` seconds
before the previous one (``stats.resyncs``). A local file keeps strict real time, and a
decoder that merely lags behind the clock never re-anchors it: its frames are shown late,
and the older of those due together are dropped.

Latency (``stats``): a frame's ``decoded_at`` stamp is ``time.perf_counter()`` when it
left the decoder. :class:`chromakey.network.ReconnectingSource` stamps its frames in its
decode thread; for a :class:`chromakey.sources.VideoSource`, :meth:`attach` wraps the
source's queue-put so that frames are stamped as they leave the decoder, before they wait
in the queue (a file paced to real time by :func:`chromakey.network.pace` is stamped when
its pacer releases the frame); frames given to ``feed`` are stamped when fed, frames
without a stamp when they are dequeued. ``latency_ms`` runs from that stamp to the composited texture being
complete on the GPU (``ctx.finish()``; ``sync=False`` skips it and the measurement then
stops when the commands are queued); ``wait_ms`` is its part spent queued, ``render_ms``
the keying (calibration, upload, passes; on the worker thread: calibration and keying there,
plus the upload here).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import moderngl
import numpy as np

from .backgrounds import Background, parse_background
from .calibration import ScreenCalibrator
from .errors import ParameterError
from .frames import Frame
from .gpu import GpuKeyer, create_context
from .kernels import CpuKeyer
from .params import KeyerParams
from .pipeline import PendingChanges, auto_takes_cpu
from .sources import SourceInfo, VideoSource

__all__ = ["BACKENDS", "FrameFeed", "LiveCompositor", "LiveStats"]

BACKENDS = ("auto", "cpu", "gpu")

_WINDOW = 600  # per-frame samples kept for medians and percentiles


def _percentile(values: deque[float], q: float) -> float | None:
    return float(np.percentile(np.fromiter(values, float), q)) if values else None


# A first frame shown later than this after it was picked moves the stream's start to its
# showing (seconds; below it the start stays, as a frame's jitter).
FIRST_FRAME_SLACK = 0.05


@dataclass
class LiveStats:
    """Counts since the start and the last ``_WINDOW`` per-frame times (ms)."""

    shown: int = 0  # new frames keyed and shown
    rendered: int = 0  # keyings, including re-renders of a held frame after a change
    dropped_late: int = 0  # due together with a newer frame: skipped
    dropped_by_source: int = 0  # dropped by the source's queue (drop mode)
    resyncs: int = 0  # clock re-anchored after a stall or a timestamp jump
    latency_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    wait_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    render_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    _shown_at: deque[float] = field(default_factory=lambda: deque(maxlen=240), repr=False)

    @property
    def dropped(self) -> int:
        return self.dropped_late + self.dropped_by_source

    def fps(self, now: float | None = None, span: float = 2.0) -> float:
        """Frames shown per second of wall time over the last ``span`` seconds."""
        now = time.perf_counter() if now is None else now
        recent = [t for t in self._shown_at if now - t <= span]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-9)

    def median(self, name: str) -> float | None:
        return _percentile(getattr(self, name), 50)

    def percentile(self, name: str, q: float) -> float | None:
        return _percentile(getattr(self, name), q)

    def summary(self) -> str:
        def ms(name: str) -> str:
            v = self.median(name)
            return "–" if v is None else f"{v:.0f}"

        lat95 = self.percentile("latency_ms", 95)
        return (
            f"{self.fps():.1f} fps, {self.shown} shown, dropped {self.dropped_late} late + "
            f"{self.dropped_by_source} by source, decode→texture {ms('latency_ms')} ms "
            f"(p95 {'–' if lat95 is None else f'{lat95:.0f}'}), render {ms('render_ms')} ms"
        )


class FrameFeed:
    """A bounded, thread-safe hand-over for a host that decodes by itself (``feed``).

    Has the ``get(timeout)``/``dropped`` side of a VideoSource; when full, the oldest frame
    is dropped and counted.
    """

    def __init__(self, size: int = 4) -> None:
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=max(1, size))
        self._lock = threading.Lock()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        if getattr(frame, "decoded_at", None) is None:
            frame.decoded_at = time.perf_counter()  # type: ignore[attr-defined]
        with self._lock:
            while True:
                try:
                    self._queue.put_nowait(("video", frame))
                    return
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass

    def end(self) -> None:
        with self._lock:
            try:
                self._queue.put_nowait(("end", None))
            except queue.Full:
                self._queue.get_nowait()
                self._queue.put_nowait(("end", None))

    def get(self, timeout: float | None = None) -> tuple[str, Any] | None:
        try:
            return self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def close(self) -> None:
        pass


def _stamp_at_decode(source: Any) -> None:
    """Wrap a VideoSource's queue-put so each frame gets ``decoded_at`` as it leaves the decoder."""
    put = getattr(source, "_put", None)
    if put is None or getattr(put, "_chromakey_stamps", False):
        return

    def stamped(item: tuple[str, Any]) -> bool:
        if item[0] == "video" and getattr(item[1], "decoded_at", None) is None:
            item[1].decoded_at = time.perf_counter()
        return put(item)

    stamped._chromakey_stamps = True  # type: ignore[attr-defined]
    source._put = stamped


class _Job(NamedTuple):
    """A frame handed to the keying thread (or keyed there already)."""

    frame: Frame
    dequeued: float  # when it left the source's queue
    show_at: float  # clock time at which it is due
    new: bool  # a new frame (counted as shown), not a re-keying of the one on show
    future: Future[tuple[np.ndarray, float]]


def _choose_backend(backend: str, ctx: moderngl.Context) -> str:
    """``auto`` resolved for this context: ``cpu`` on a software rasteriser, else ``gpu``."""
    if backend == "auto":
        return "cpu" if auto_takes_cpu(ctx) else "gpu"
    return backend


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
    ``glfw.post_empty_event``, to wake a loop that waits for events).

    The texture is RGBA8, row 0 the top of the picture, on either path. Raises
    BackendUnavailableError (naming what to install) where no OpenGL 3.3 context can be had:
    the texture needs one; ``chromakey.pipeline`` has the paths without OpenGL.
    """

    def __init__(
        self,
        ctx: moderngl.Context | str = "standalone",
        params: KeyerParams | None = None,
        background: str | dict | Background = "transparent",
        *,
        clock: Callable[[], float] = time.perf_counter,
        sync: bool = True,
        resync_after: float = 0.5,
        max_ahead: float = 3.0,
        backend: str = "auto",
        threaded: bool = True,
        on_keyed: Callable[[], Any] | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ParameterError(f"backend {backend!r} is unknown; use {', '.join(BACKENDS)}")
        self.params = params if params is not None else KeyerParams()
        self.background = parse_background(background)
        self._owns_ctx = not isinstance(ctx, moderngl.Context)
        made: moderngl.Context | None = None
        try:
            self.ctx = made = create_context(ctx)
            self.backend = _choose_backend(backend, self.ctx)
            self.keyer: GpuKeyer | CpuKeyer = (
                GpuKeyer(self.params, self.ctx) if self.backend == "gpu" else CpuKeyer(self.params)
            )
        except BaseException:
            if made is not None and self._owns_ctx:
                made.release()
            self.background.close()
            raise
        self.threaded = bool(threaded) and self.backend == "cpu"
        self.on_keyed = on_keyed
        self.calibrator = ScreenCalibrator(self.params)
        self.clock = clock
        self.sync = sync
        self.resync_after = float(resync_after)
        self.max_ahead = float(max_ahead)
        self.stats = LiveStats()
        self.source: Any = None
        self._source_ended = False
        self.changed = False  # whether the last update/render produced a new texture
        self.current: Frame | None = None  # the frame on show
        self._own_source = False
        self._feed: FrameFeed | None = None
        self._next: tuple[Frame, float] | None = None  # held: not yet due
        self._anchor: float | None = None  # clock time of stream time 0
        self._empty_since: float | None = None  # clock time the source was first found empty
        self._stall_resync = True
        self._first_time: float | None = None  # stream time of the first frame (scene 0)
        self._texture: moderngl.Texture | None = None
        self._paused = False
        self._pending = PendingChanges()
        # The CPU path: its upload texture, the RGBA staging buffer, the keying thread.
        self._upload: moderngl.Texture | None = None
        self._rgba: np.ndarray | None = None
        self._worker: ThreadPoolExecutor | None = None
        self._job: _Job | None = None  # on the keying thread, or keyed and held until due
        self._key_s: float | None = None  # keying time, smoothed: how far ahead to start
        self._interval: float | None = None  # the last interval between frames' timestamps
        self._last_taken: float | None = None  # stream time of the last frame taken
        self._bind_background(self.background)

    # --- inputs -----------------------------------------------------------------------------

    def attach(
        self, source: Any, *, own: bool = False, stall_resync: bool | None = None
    ) -> LiveCompositor:
        """Read frames from ``source``: best one of :func:`chromakey.network.open_source`
        (a ReconnectingSource for a URL; a file's VideoSource in drop mode, paced to real
        time), or any VideoSource (with ``drop=False`` its decoder waits on the queue and
        this loop paces it) or object with ``get(timeout)``. With ``own``, :meth:`close`
        closes it too. ``stall_resync`` (default: True for anything but a local file's
        VideoSource) re-anchors the clock after a stall; a file keeps strict real time, a
        decoder starved of CPU shows up as dropped frames, not as slow motion."""
        self._drain(count=False)  # a frame of the old source in the keyer is not shown
        if self.source is not None and self._own_source and self.source is not source:
            self.source.close()
        _stamp_at_decode(source)
        self.source = source
        self._own_source = own
        self._feed = source if isinstance(source, FrameFeed) else None
        self._next = None
        self._anchor = None
        self._empty_since = None
        self._last_taken = None
        self._interval = None
        self._source_ended = False
        self._stall_resync = (
            not isinstance(source, VideoSource) if stall_resync is None else stall_resync
        )
        self._bind_background(self.background)
        info = getattr(source, "info", None)
        if isinstance(self.keyer, CpuKeyer) and isinstance(info, SourceInfo):
            self.keyer.warm(info.width, info.height)  # before the clock starts
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

    def set_background(self, spec: str | dict | Background) -> None:
        """Swap the background (validated now, any thread); it shows from the next frame."""
        self._pending.put("background", parse_background(spec))

    def set_params(self, params: KeyerParams) -> None:
        """New keyer settings (any thread) from the next frame on."""
        if not isinstance(params, KeyerParams):
            raise ParameterError(f"params must be a KeyerParams, got {type(params).__name__}")
        self._pending.put("params", params)

    def pause(self) -> None:
        """Stop taking frames. A file paced by :func:`chromakey.network.pace` holds its
        place (its pacer pauses too); a live source goes on and drops what is not taken."""
        self._paused = True
        pacer = getattr(self.source, "pacer", None)
        if pacer is not None:
            pacer.pause()

    def resume(self) -> None:
        """Continue from the next frame, re-anchoring the clock to it."""
        self._paused = False
        self._anchor = None
        self._empty_since = None
        pacer = getattr(self.source, "pacer", None)
        if pacer is not None:
            pacer.resume()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def ended(self) -> bool:
        """The source has ended and every frame taken from it has been shown (or dropped)."""
        return self._source_ended and self._job is None

    @property
    def keying(self) -> bool:
        """A frame is on the keying thread or keyed and waiting for its time (CPU path)."""
        return self._job is not None

    @property
    def texture(self) -> moderngl.Texture | None:
        """The last composited texture (the keyer's; overwritten by the next keying)."""
        return self._texture

    # --- the GL thread ----------------------------------------------------------------------

    def _bind_background(self, bg: Background) -> None:
        bind = getattr(bg, "bind", None)
        if bind is not None:
            info = getattr(self.source, "info", None)
            bind(getattr(info, "duration", None))

    def _apply_pending(self) -> bool:
        return self._pending.apply(self, self._bind_background)

    def _scene_time(self, frame: Frame) -> float:
        """Seconds since the first frame: where a video background is."""
        if self._first_time is None:
            self._first_time = frame.time
        return max(0.0, frame.time - self._first_time)

    def _key(self, frame: Frame, scene: float) -> np.ndarray:
        """The CPU path's keying (any one thread, no GL): calibrate, key and composite one
        frame into the RGBA staging buffer (opaque composites get alpha 255 there, so that
        the texture is RGBA8 as on the GPU path)."""
        screen = self.calibrator.update(frame)
        bg = self.background.frame_at(scene, frame.width, frame.height)
        image = self.keyer.render(frame, screen, bg, pixel_format="rgba")
        if image.shape[2] == 4:
            return np.ascontiguousarray(image)
        rgba = self._rgba
        if rgba is None or rgba.shape[:2] != image.shape[:2]:
            rgba = self._rgba = np.full((*image.shape[:2], 4), 255, np.uint8)
        rgba[..., :3] = image
        return rgba

    def _timed_key(self, frame: Frame, scene: float) -> tuple[np.ndarray, float]:
        """:meth:`_key` on the keying thread, with its seconds."""
        t0 = time.perf_counter()
        rgba = self._key(frame, scene)
        return rgba, time.perf_counter() - t0

    def _upload_rgba(self, rgba: np.ndarray) -> moderngl.Texture:
        """One texture upload: the CPU path's only GL call."""
        h, w = rgba.shape[:2]
        tex = self._upload
        if tex is None or tex.size != (w, h):
            if tex is not None:
                tex.release()
            tex = self._upload = self.ctx.texture((w, h), 4, dtype="f1", alignment=1)
            tex.filter = (moderngl.NEAREST, moderngl.NEAREST)
            tex.repeat_x = tex.repeat_y = False
        tex.write(rgba, alignment=1)
        if self.sync:
            self.ctx.finish()
        return tex

    def _composite(self, frame: Frame) -> moderngl.Texture:
        """Calibrate, key and composite one frame into the texture, on this thread."""
        t0 = time.perf_counter()
        scene = self._scene_time(frame)
        if self.backend == "gpu":
            screen = self.calibrator.update(frame)
            bg = self.background.frame_at(scene, frame.width, frame.height)
            tex = self.keyer.render_texture(frame, screen, bg)  # type: ignore[union-attr]
            if self.sync:
                self.ctx.finish()
        else:
            tex = self._upload_rgba(self._key(frame, scene))
        self.stats.render_ms.append(1000.0 * (time.perf_counter() - t0))
        self.stats.rendered += 1
        self._texture = tex
        return tex

    def _shown(self, frame: Frame, dequeued: float) -> None:
        """Count ``frame`` as on show now, its texture complete."""
        done = time.perf_counter()
        decoded = getattr(frame, "decoded_at", None)
        decoded = dequeued if decoded is None else decoded
        self.stats.latency_ms.append(1000.0 * (done - decoded))
        self.stats.wait_ms.append(1000.0 * max(0.0, dequeued - decoded))
        self.stats.shown += 1
        self.stats._shown_at.append(done)
        self.current = frame
        self.changed = True

    def _show(self, frame: Frame, dequeued: float) -> moderngl.Texture:
        tex = self._composite(frame)
        self._shown(frame, dequeued)
        return tex

    def render(self, frame: Frame) -> moderngl.Texture:
        """Key ``frame`` now, on this thread (a host that decodes and paces by itself)."""
        self._drain(count=True)
        self._apply_pending()
        self.changed = False
        return self._show(frame, time.perf_counter())

    def _take(self) -> tuple[Frame, float] | None:
        """The next video frame from the source without waiting, or None."""
        while self.source is not None and not self._source_ended:
            item = self.source.get(timeout=0)
            if item is None:
                return None
            kind, payload = item
            if kind == "video":
                if self._last_taken is not None and 0 < payload.time - self._last_taken < 1.0:
                    self._interval = payload.time - self._last_taken
                self._last_taken = payload.time
                return payload, time.perf_counter()
            if kind == "end":
                self._source_ended = True
            elif kind == "error":
                self._source_ended = True
                raise payload
        return None

    def _count_source_drops(self) -> None:
        dropped = getattr(self.source, "dropped", None)
        if dropped is not None:
            self.stats.dropped_by_source = int(dropped)

    def _lead(self) -> float:
        """How long before a frame is due its keying starts: the keying time measured so far,
        at most one frame (the last interval between timestamps); 0 on the calling thread."""
        if not self.threaded or self._key_s is None or self._interval is None:
            return 0.0
        return min(self._key_s, self._interval)

    def next_due(self, now: float | None = None) -> float | None:
        """Seconds until :meth:`update` has a frame to key or show (≤ 0: now); None if it
        waits on the source (nothing held) or on the keying thread (``on_keyed`` says when)."""
        now = self.clock() if now is None else now
        if self._job is not None:
            return self._job.show_at - now if self._job.future.done() else None
        if self._next is None or self._anchor is None:
            return None
        return self._anchor + self._next[0].time - self._lead() - now

    def _pick(self, now: float, ahead: bool) -> tuple[Frame, float] | None:
        """The newest frame due by now (``ahead``: by now plus the lead, :meth:`_lead`, as
        measured for that frame), or None. Frames due with it are dropped and counted; the
        clock re-anchors after a stall or a jump in the timestamps."""
        chosen: tuple[Frame, float] | None = None
        while not self._paused:
            if self._next is None:
                self._next = self._take()
                if self._next is None:
                    if self._empty_since is None:
                        self._empty_since = now
                    break
                frame = self._next[0]
                if self._empty_since is not None:
                    # Asked and found nothing since then: the source stalled (a loop busy
                    # rendering does not ask, so a slow render is no stall). A frame late by
                    # more than the stall re-anchors the clock, before the frames queued
                    # behind it are judged: play on from here.
                    starved, self._empty_since = now - self._empty_since, None
                    if (
                        self._anchor is not None
                        and self._stall_resync
                        and starved > self.resync_after
                        and now - (self._anchor + frame.time) > self.resync_after
                    ):
                        self._anchor = now - frame.time
                        self.stats.resyncs += 1
            frame = self._next[0]
            last = chosen[0] if chosen is not None else self.current
            if last is not None and frame.time < last.time - self.resync_after:
                self._anchor = None  # a jump back in the timestamps (a loop, a restart)
                self.stats.resyncs += 1
            if self._anchor is None:
                self._anchor = now - frame.time
            due = self._anchor + frame.time
            if due > now + (self._lead() if ahead else 0.0):
                if due - now <= self.max_ahead:
                    break  # not yet: hold it
                self._anchor = now - frame.time  # a jump forwards in the timestamps
                self.stats.resyncs += 1
            if chosen is not None:
                self.stats.dropped_late += 1
            chosen, self._next = self._next, None
        return chosen

    def update(self, now: float | None = None) -> moderngl.Texture | None:
        """Show the frame due at ``now`` (default: the clock); never waits for decoding, nor,
        on the threaded CPU path, for the keyer.

        Returns the texture on show — a new one (``changed`` is True) or, when no new frame
        is due, the last one again — or None before the first frame. Raises the source's
        error (e.g. StreamError once a network source gives up) or the keyer's.
        """
        now = self.clock() if now is None else now
        self.changed = False
        if self.threaded:
            return self._update_threaded(now)
        dirty = self._apply_pending()
        self._count_source_drops()
        chosen = self._pick(now, False)
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
        job = self._job
        if job is not None and job.future.done() and job.show_at <= now:
            self._job = None
            rgba, seconds = job.future.result()  # re-raises the keyer's error here
            t0 = time.perf_counter()
            self._texture = self._upload_rgba(rgba)
            self.stats.render_ms.append(1000.0 * (seconds + time.perf_counter() - t0))
            self.stats.rendered += 1
            self._key_s = seconds if self._key_s is None else 0.8 * self._key_s + 0.2 * seconds
            self.changed = True
            if job.new:
                late = now - (self._anchor + job.frame.time) if self._anchor is not None else 0.0
                if self.current is None and late > FIRST_FRAME_SLACK:
                    # The stream starts when its first frame is on show, not when it was
                    # picked: the first keying (scratch, a full calibration) is the slowest,
                    # and would otherwise make the frames behind it late.
                    self._anchor = now - job.frame.time
                self._shown(job.frame, job.dequeued)
        if self._job is None:
            dirty = self._apply_pending()
            self._count_source_drops()
            chosen = self._pick(now, True)
            if chosen is not None:
                frame, dequeued = chosen
                assert self._anchor is not None
                self._submit(frame, dequeued, max(now, self._anchor + frame.time), True)
            elif dirty and self.current is not None:
                # A change while nothing new arrives (paused, stalled): re-key the held frame.
                self._submit(self.current, now, now, False)
        self._count_source_drops()
        return self._texture

    def _submit(self, frame: Frame, dequeued: float, show_at: float, new: bool) -> None:
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="chromakey-live")
        future = self._worker.submit(self._timed_key, frame, self._scene_time(frame))
        on_keyed = self.on_keyed
        if on_keyed is not None:
            # Once the future is done, so that the loop it wakes finds the frame ready.
            future.add_done_callback(lambda _: on_keyed())
        self._job = _Job(frame, dequeued, show_at, new, future)

    def _drain(self, *, count: bool) -> None:
        """Wait for the keying thread and drop its frame (``count``: as dropped late)."""
        job, self._job = self._job, None
        if job is None:
            return
        try:
            job.future.result()
        except Exception:  # noqa: BLE001 - a frame that will not be shown: its error neither
            pass
        if count and job.new:
            self.stats.dropped_late += 1

    # --- end ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the GL objects (the context too if standalone), the background, and the
        source if attached with ``own``. Call from the GL thread."""
        self._drain(count=False)
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        if self._own_source and self.source is not None:
            self.source.close()
        self.source = None
        self._next = None
        self.current = None
        self.keyer.close()
        if self._upload is not None:
            self._upload.release()
            self._upload = None
        self._texture = None
        if self._owns_ctx:
            self.ctx.release()
            self._owns_ctx = False
        self.background.close()

    def __enter__(self) -> LiveCompositor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
