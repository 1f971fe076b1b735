"""A file or stream rendered to sinks: source → compositor (the one frame step) → sinks, with
the numbers of the run. Scene time counts from the first frame; a ``full_video`` background
longer than the foreground holds the avatar's last frame until the background ends."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .backgrounds import Background, BackgroundSpec, parse_background
from .backgrounds.fit import Fit
from .backgrounds.play import PlayStyle
from .backgrounds.spec import background_files
from .compositor import Compositor
from .core import signals
from .core.color import InputColour
from .core.errors import ParameterError
from .core.frames import Frame, YuvImage, frame_interval
from .core.params import KeyerParams
from .io.locations import scheme
from .io.safety import Protected, check_output
from .io.sinks import Sink, open_sink, output_kind
from .io.sinks.opening import check_packing
from .io.sinks.partial import Warn
from .io.sinks.threaded import ThreadedSink
from .io.sources import Source, SourceInfo, VideoSource
from .keying.select import Backend, Keyer, make_keyer

if TYPE_CHECKING:
    from .io.sources.webrtc.track import LiveTrackSource


@dataclass
class RenderStats:
    """Counts and seconds of one run; per-stage times are totals over the run. ``sink`` is
    the render thread's share of writing (handing a frame over, waiting for a free slot);
    ``write``, where the sinks write on their own thread, that thread's seconds."""

    backend: str = ""
    frames: int = 0
    dropped: int = 0
    corrupt: int = 0
    elapsed: float = 0.0
    interrupted: bool = False  # stopped early, what was rendered kept (keep_partial)
    stages: dict[str, float] = field(
        default_factory=lambda: {"wait": 0.0, "calibrate": 0.0, "key": 0.0, "sink": 0.0}
    )

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> str:
        per = ", ".join(f"{k} {1000 * v / max(self.frames, 1):.1f}" for k, v in self.stages.items())
        text = f"{self.frames} frames in {self.elapsed:.2f} s ({self.fps:.1f} fps, {self.backend}); ms/frame: {per}"
        if self.corrupt:
            text += f"; {self.corrupt} corrupt packets skipped"
        if self.dropped:
            text += f"; {self.dropped} frames dropped"
        return text


class Pipeline:
    """One stream through the keyer into sinks. Background and parameters can change mid-run."""

    def __init__(
        self,
        source: Source,
        keyer: Keyer,
        background: Background,
        sinks: Sequence[Sink],
        params: KeyerParams,
        *,
        progress: Callable[[int, int | None], Any] | None = None,
        keep_partial: bool = False,
        input_colour: InputColour | None = None,
    ) -> None:
        self.keep_partial = keep_partial
        self.source = source
        self._compositor = Compositor(keyer, background, params, input_colour)
        self.sinks = list(sinks)
        self.progress = progress
        self.stats = RenderStats(backend=keyer.backend)
        # The sinks' one pixel layout, when the keyer can write it directly (YUV for encoders).
        wanted = {sink.pixel_format for sink in self.sinks}
        fmt = wanted.pop() if len(wanted) == 1 else None
        self._pixel_format = fmt if fmt in keyer.pixel_formats else None
        self._bg_origin: float | None = 0.0  # scene time at which the background started

    @property
    def background(self) -> Background:
        return self._compositor.background

    @property
    def params(self) -> KeyerParams:
        return self._compositor.params

    def set_background(
        self,
        spec: BackgroundSpec,
        *,
        fit: Fit | None = None,
        play_style: PlayStyle | None = None,
    ) -> None:
        """Swap the background; it takes effect on the next frame, a video from its start."""
        self._compositor.set_background(parse_background(spec, fit=fit, play_style=play_style))

    def set_params(self, params: KeyerParams) -> None:
        """New keyer settings from the next frame on."""
        self._compositor.set_params(params)

    def _apply_pending(self) -> None:
        self._compositor.apply_pending(self._bind_background)

    def _bind_background(self, bg: Background) -> None:
        bg.bind(self.source.info.duration)
        self._bg_origin = None  # a swapped-in video starts from its beginning

    def process(self, frame: Frame, scene_time: float) -> np.ndarray | YuvImage:
        """One frame through the compositor, the background at ``scene_time`` (counted from
        when the background came in: a swapped-in video starts from its beginning)."""
        if self._bg_origin is None:
            self._bg_origin = scene_time
        bg_time = max(scene_time - self._bg_origin, 0.0)
        return self._compositor.step(frame, bg_time, pixel_format=self._pixel_format)

    def _emit(self, frame: Frame, out_time: float, scene_time: float) -> None:
        image = self.process(frame, scene_time)
        t2 = time.perf_counter()
        for sink in self.sinks:
            sink.write(image, out_time)
        self.stats.stages["sink"] += time.perf_counter() - t2
        self.stats.frames += 1

    def run(self) -> RenderStats:
        """Render to the end of the foreground (or of a ``full_video`` background), then publish."""
        info = self.source.info
        total = info.frame_count
        start = time.perf_counter()
        st = self.stats.stages
        first: float | None = None
        last: Frame | None = None
        try:
            self.background.bind(info.duration)
            items = iter(self.source)
            while True:
                signals.checkpoint()  # a signal whose Interrupted a finaliser swallowed
                t0 = time.perf_counter()
                item = next(items, None)
                st["wait"] += time.perf_counter() - t0
                if item is None:
                    break
                kind, payload = item
                if kind == "audio":
                    for sink in self.sinks:
                        sink.write_audio(payload)
                    continue
                self._apply_pending()
                first = payload.time if first is None else first
                self._emit(payload, payload.time, payload.time - first)
                last = payload
                if self.progress is not None:
                    self.progress(self.stats.frames, total)
            if last is not None and first is not None:
                self._hold_last(last, first, info)
            t3 = time.perf_counter()
            for sink in self.sinks:
                sink.close()
            st["sink"] += time.perf_counter() - t3
        except KeyboardInterrupt:
            if not (self.keep_partial and self.stats.frames):
                for sink in self.sinks:
                    sink.abort()
                raise
            # --keep-partial: finish what was rendered into a playable file.
            self.stats.interrupted = True
            for sink in self.sinks:
                sink.close()
        except BaseException:
            for sink in self.sinks:
                sink.abort()
            raise
        finally:
            self.source.close()
            self.stats.corrupt = self.source.corrupt
            self.stats.dropped = self.source.dropped
            self.stats.elapsed = time.perf_counter() - start
            st["calibrate"] = self._compositor.timings["calibrate"]
            st["key"] = self._compositor.timings["key"]
            threaded = [s.busy for s in self.sinks if isinstance(s, ThreadedSink)]
            if threaded:
                st["write"] = sum(threaded)
        return self.stats

    def _hold_last(self, last: Frame, first: float, info: SourceInfo) -> None:
        """``full_video``: run on until a longer background ends, the avatar held on its last frame.

        Held rather than removed: an avatar that vanishes mid-shot reads as a glitch, one that
        stays still reads as the end of its speech.
        """
        bg = self.background
        if bg.play_style != "full_video" or not bg.duration:
            return
        step = frame_interval(info.rate)
        k = 1
        while (last.time - first) + k * step < bg.duration - 1e-6:
            self._apply_pending()
            t = last.time + k * step
            self._emit(last, t, t - first)
            k += 1


def open_input(
    input: str | os.PathLike[str], options: dict[str, Any] | None = None
) -> VideoSource | LiveTrackSource:
    """The foreground of a render: a file or stream (VideoSource), or a WebRTC location,
    live (frames that the keyer cannot keep up with are dropped and counted)."""
    from .io.sources.webrtc.urls import is_webrtc

    if is_webrtc(input):
        from .io.sources.webrtc import open_webrtc

        return open_webrtc(os.fspath(input), once=True, queue_size=30, **(options or {}))
    if options:
        raise ParameterError(f"{', '.join(options)}: these options are for WebRTC inputs only")
    return VideoSource(input)


def _read_files(
    input: str | os.PathLike[str], background: BackgroundSpec | None
) -> list[Protected]:
    """What a render reads from disk, which its output must never be."""
    files = [] if scheme(input) is not None else [Protected("the input", os.fspath(input))]
    return files + [Protected("the background", f) for f in background_files(background)]


def render(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    background: BackgroundSpec | None = None,
    fit: Fit | None = None,
    play_style: PlayStyle | None = None,
    params: KeyerParams | None = None,
    backend: Backend = "auto",
    progress: Callable[[int, int | None], Any] | None = None,
    warn: Warn | None = None,
    keep_partial: bool = False,
    output_format: str | None = None,
    source_options: dict[str, Any] | None = None,
    input_colour: InputColour | None = None,
    pack_alpha: bool = False,
    output_options: dict[str, Any] | None = None,
) -> RenderStats:
    """Key ``input`` and write ``output`` (.mp4/.mov/.mkv/.webm, raw .nut/.y4m or a %05d.png
    pattern; ``-`` for standard output, input ``-`` for standard input).

    With no background, PNG output is transparent and video output is over white;
    a transparent background into .webm or .mov writes VP9 alpha or ProRes 4444, into .nut
    RGBA, into .y4m yuva444p. ``output_format`` (``nut`` or ``y4m``) is needed for standard
    output and for a name without an extension.
    ``source_options`` go to a WebRTC input (:func:`chromakey.io.sources.webrtc.open_webrtc`: tokens,
    ICE servers); its stream ends, and the file is finished, when its publisher leaves.
    ``pack_alpha`` writes a transparent composite into an opaque video twice as wide: colour
    left, alpha right as grey (:mod:`chromakey.io.sinks.packed`; examples/web/ unpacks it).
    ``output_options`` go to a live output: ``-o whep://…``
    (:class:`chromakey.io.sinks.whep.WhepSink`: ``token``, ``max_viewers``, ``wait_first``) or
    ``-o livekit+wss://…`` (:class:`chromakey.io.sinks.livekit.LiveKitSink`: ``token``).
    ``input_colour`` (:class:`chromakey.core.color.InputColour`) states the input's YUV
    matrix and range over its tags. With ``keep_partial`` a Ctrl-C finishes the frames rendered so far into a playable
    file (``stats.interrupted``) instead of discarding them.
    """
    params = params or KeyerParams()
    check_output(output, _read_files(input, background))
    kind = output_kind(output, output_format)
    if background is None:
        background = "transparent" if kind == "png" else "#ffffff"
    bg = parse_background(background, fit=fit, play_style=play_style)
    try:
        check_packing(output, kind, bg.transparent, pack_alpha)
    except BaseException:
        bg.close()
        raise
    source = open_input(input, source_options)
    # The keyer before the sink: a backend that is missing, or kernels still loading, leave
    # no partial file behind.
    try:
        keyer = make_keyer(backend, params, warn=warn)
    except BaseException:
        source.close()
        raise
    try:
        # Written on a thread of its own: encoding frame N overlaps keying frame N+1.
        sink = ThreadedSink(
            open_sink(
                output,
                source.info,
                bg.transparent,
                output_format,
                audio_stream=source.audio,
                warn=warn,
                pack_alpha=pack_alpha,
                live=output_options,
            )
        )
    except BaseException:
        keyer.close()
        source.close()
        raise
    try:
        try:
            pipeline = Pipeline(
                source,
                keyer,
                bg,
                [sink],
                params,
                progress=progress,
                keep_partial=keep_partial,
                input_colour=input_colour,
            )
        except BaseException:  # a signal before the run: its partial goes too
            sink.abort()
            source.close()
            raise
        return pipeline.run()
    finally:
        keyer.close()
        bg.close()
