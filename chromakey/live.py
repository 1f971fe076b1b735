"""Real-time compositing for a render loop: the embedding API.

:class:`LiveCompositor` keys frames on the GPU into a texture of the host's OpenGL context
and decides, by the frames' timestamps against a clock, which frame to show now. All its
GL calls happen in the thread that calls :meth:`~LiveCompositor.update` or
:meth:`~LiveCompositor.render` (the thread that owns the context); decoding runs on the
source's own thread, and the render loop never waits for it.

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
the keying (calibration, upload, passes).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import moderngl
import numpy as np

from .backgrounds import Background, parse_background
from .calibration import ScreenCalibrator
from .errors import ParameterError
from .frames import Frame
from .gpu import GpuKeyer
from .params import KeyerParams
from .pipeline import PendingChanges
from .sources import VideoSource

__all__ = ["FrameFeed", "LiveCompositor", "LiveStats"]

_WINDOW = 600  # per-frame samples kept for medians and percentiles


def _percentile(values: deque[float], q: float) -> float | None:
    return float(np.percentile(np.fromiter(values, float), q)) if values else None


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


class LiveCompositor:
    """Keys frames into a texture of a host's context, paced by their timestamps.

    ``ctx``: a host's ``moderngl.Context`` (used, never released), ``"current"`` (the
    context current on this thread, e.g. a glfw window's) or ``"standalone"`` (headless
    EGL, released by :meth:`close`). ``background``: any spec of
    :func:`chromakey.backgrounds.parse_background`; ``"transparent"`` gives straight RGBA
    for a host to blend over its own scene. ``clock``: seconds, ``time.perf_counter`` unless
    injected (``update(now=…)`` also takes the time directly).

    Raises BackendUnavailableError (naming what to install) where no OpenGL 3.3 context
    can be had: the live path is GPU only; ``chromakey.pipeline`` has the CPU path.
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
    ) -> None:
        self.params = params if params is not None else KeyerParams()
        self.background = parse_background(background)
        self.keyer = GpuKeyer(self.params, ctx)
        self.ctx = self.keyer.ctx
        self.calibrator = ScreenCalibrator(self.params)
        self.clock = clock
        self.sync = sync
        self.resync_after = float(resync_after)
        self.max_ahead = float(max_ahead)
        self.stats = LiveStats()
        self.source: Any = None
        self.ended = False
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
        if self.source is not None and self._own_source and self.source is not source:
            self.source.close()
        _stamp_at_decode(source)
        self.source = source
        self._own_source = own
        self._feed = source if isinstance(source, FrameFeed) else None
        self._next = None
        self._anchor = None
        self._empty_since = None
        self.ended = False
        self._stall_resync = (
            not isinstance(source, VideoSource) if stall_resync is None else stall_resync
        )
        self._bind_background(self.background)
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

    def _composite(self, frame: Frame) -> moderngl.Texture:
        """Calibrate, key and composite one frame into the keyer's texture."""
        t0 = time.perf_counter()
        if self._first_time is None:
            self._first_time = frame.time
        screen = self.calibrator.update(frame)
        scene = max(0.0, frame.time - self._first_time)
        bg = self.background.frame_at(scene, frame.width, frame.height)
        tex = self.keyer.render_texture(frame, screen, bg)
        if self.sync:
            self.ctx.finish()
        self.stats.render_ms.append(1000.0 * (time.perf_counter() - t0))
        self.stats.rendered += 1
        self._texture = tex
        return tex

    def _show(self, frame: Frame, dequeued: float) -> moderngl.Texture:
        tex = self._composite(frame)
        done = time.perf_counter()
        decoded = getattr(frame, "decoded_at", None)
        decoded = dequeued if decoded is None else decoded
        self.stats.latency_ms.append(1000.0 * (done - decoded))
        self.stats.wait_ms.append(1000.0 * max(0.0, dequeued - decoded))
        self.stats.shown += 1
        self.stats._shown_at.append(done)
        self.current = frame
        self.changed = True
        return tex

    def render(self, frame: Frame) -> moderngl.Texture:
        """Key ``frame`` now (a host that decodes and paces by itself)."""
        self._apply_pending()
        self.changed = False
        return self._show(frame, time.perf_counter())

    def _take(self) -> tuple[Frame, float] | None:
        """The next video frame from the source without waiting, or None."""
        while self.source is not None and not self.ended:
            item = self.source.get(timeout=0)
            if item is None:
                return None
            kind, payload = item
            if kind == "video":
                return payload, time.perf_counter()
            if kind == "end":
                self.ended = True
            elif kind == "error":
                self.ended = True
                raise payload
        return None

    def _count_source_drops(self) -> None:
        dropped = getattr(self.source, "dropped", None)
        if dropped is not None:
            self.stats.dropped_by_source = int(dropped)

    def next_due(self, now: float | None = None) -> float | None:
        """Seconds until the held frame is due (≤ 0: now), or None if none is held."""
        if self._next is None or self._anchor is None:
            return None
        now = self.clock() if now is None else now
        return self._anchor + self._next[0].time - now

    def update(self, now: float | None = None) -> moderngl.Texture | None:
        """Show the frame due at ``now`` (default: the clock); never waits for decoding.

        Returns the texture on show — a new one (``changed`` is True) or, when no new frame
        is due, the last one again — or None before the first frame. Raises the source's
        error (e.g. StreamError once a network source gives up).
        """
        now = self.clock() if now is None else now
        self.changed = False
        dirty = self._apply_pending()
        self._count_source_drops()
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
            if due > now:
                if due - now <= self.max_ahead:
                    break  # not yet: hold it
                self._anchor = now - frame.time  # a jump forwards in the timestamps
                self.stats.resyncs += 1
            if chosen is not None:
                self.stats.dropped_late += 1
            chosen, self._next = self._next, None
        if chosen is not None:
            frame, dequeued = chosen
            tex = self._show(frame, dequeued)
            self._count_source_drops()
            return tex
        self._count_source_drops()
        if dirty and self.current is not None:
            # A change while nothing new arrives (paused, stalled): show it on the held frame.
            self._composite(self.current)
            self.changed = True
        return self._texture

    # --- end ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the GL objects (the context too if standalone), the background, and the
        source if attached with ``own``. Call from the GL thread."""
        if self._own_source and self.source is not None:
            self.source.close()
        self.source = None
        self._next = None
        self.current = None
        self.keyer.close()
        self.background.close()

    def __enter__(self) -> LiveCompositor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
