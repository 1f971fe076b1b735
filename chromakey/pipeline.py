"""Wires source → keyer → compositor → sinks, and keeps the numbers of a run."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .backgrounds import Background, parse_background
from .calibration import ScreenCalibrator
from .cpu import cpu_workers
from .errors import BackendUnavailableError, ParameterError
from .frames import Frame, YuvImage
from .kernels import CpuKeyer
from .params import KeyerParams
from .screenmap import ScreenMap
from .sinks import PngSequenceSink, Sink, VideoFileSink, video_format
from .sources import SourceInfo, VideoSource
from .stdio import is_stdio


class Keyer(Protocol):
    backend: str
    # Layouts render() can return as a sink stores them (Sink.pixel_format); for any other
    # it returns the uint8 RGB(A) image.
    pixel_formats: frozenset[str]

    def set_params(self, params: KeyerParams) -> None: ...
    def render(
        self,
        frame: Frame,
        screen: ScreenMap | np.ndarray,
        background: np.ndarray | None,
        *,
        pixel_format: str | None = None,
    ) -> np.ndarray | YuvImage: ...
    def close(self) -> None: ...


def auto_takes_cpu(ctx: Any) -> str | None:
    """The renderer's name where ``auto`` takes the CPU path over this OpenGL context, else None.

    A software rasteriser (llvmpipe) runs the passes on the CPU's own cores, slower than the CPU
    path's threaded strips; on a single core the two are alike and the shaders stay.
    """
    from .gpu import software_renderer

    renderer = software_renderer(ctx)
    return renderer if renderer and cpu_workers() > 1 else None


def make_keyer(
    backend: str, params: KeyerParams, *, warn: Callable[[str], Any] | None = None
) -> Keyer:
    """``cpu``, ``gpu`` (fails if no OpenGL), or ``auto``.

    ``auto`` takes a hardware GPU if there is one. Without one it takes the CPU path: with a
    warning if there is no OpenGL at all, with a note if OpenGL is a software rasteriser
    (Mesa's llvmpipe), whose passes run on the same cores as numpy and are slower there than
    the CPU path's threaded strips (benchmarks/RESULTS.md).
    """
    say = warn or (lambda m: print(m, file=sys.stderr))
    if backend == "cpu":
        return CpuKeyer(params)
    if backend not in ("gpu", "auto"):
        raise ParameterError(f"backend {backend!r} is unknown; use auto, cpu or gpu")
    try:
        from .gpu import GpuKeyer

        keyer = GpuKeyer(params)
    except BackendUnavailableError as exc:
        if backend == "gpu":
            raise
        say(f"warning: {exc}; using the CPU path")
        return CpuKeyer(params)
    renderer = auto_takes_cpu(keyer.ctx)
    if backend == "auto" and renderer:
        keyer.close()
        say(
            f"note: OpenGL here is {renderer}, a software rasteriser on the CPU's own cores; "
            "using the CPU path, which is faster there (--backend gpu to use it anyway)"
        )
        return CpuKeyer(params)
    return keyer


@dataclass
class RenderStats:
    """Counts and seconds of one run; per-stage times are totals over the run."""

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


class PendingChanges:
    """A new background or keyer settings, handed over from any thread and applied by the
    render thread between frames (so a live swap never tears a frame)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, Any] = {}

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value

    def apply(self, owner: Any, bind: Callable[[Background], None]) -> bool:
        """Swap ``owner``'s background (``bind`` readies the new one) and/or give its keyer
        and calibrator the new params. True when anything changed."""
        with self._lock:
            items, self._items = self._items, {}
        if "background" in items:
            old, owner.background = owner.background, items["background"]
            bind(owner.background)
            if old is not owner.background:
                old.close()
        if "params" in items:
            owner.params = items["params"]
            owner.keyer.set_params(owner.params)
            owner.calibrator.set_params(owner.params)
        return bool(items)


class Pipeline:
    """One stream through the keyer into sinks. Background and parameters can change mid-run."""

    def __init__(
        self,
        source: VideoSource,
        keyer: Keyer,
        background: Background,
        sinks: Sequence[Sink],
        params: KeyerParams,
        *,
        progress: Callable[[int, int | None], Any] | None = None,
        keep_partial: bool = False,
    ) -> None:
        self.keep_partial = keep_partial
        self.source = source
        self.keyer = keyer
        self.background = background
        self.sinks = list(sinks)
        self.params = params
        self.calibrator = ScreenCalibrator(params)
        self.progress = progress
        self._pending = PendingChanges()
        self.stats = RenderStats(backend=keyer.backend)
        # The sinks' one pixel layout, when the keyer can write it directly (YUV for encoders).
        wanted = {sink.pixel_format for sink in self.sinks}
        fmt = wanted.pop() if len(wanted) == 1 else None
        self._pixel_format = fmt if fmt in keyer.pixel_formats else None
        self._bg_origin: float | None = 0.0  # scene time at which the background started

    def set_background(
        self,
        spec: str | dict | Background,
        *,
        fit: str | None = None,
        play_style: str | None = None,
    ) -> None:
        """Swap the background; it takes effect on the next frame, a video from its start."""
        self._pending.put("background", parse_background(spec, fit=fit, play_style=play_style))

    def set_params(self, params: KeyerParams) -> None:
        """New keyer settings from the next frame on."""
        self._pending.put("params", params)

    def _apply_pending(self) -> None:
        self._pending.apply(self, self._bind_background)

    def _bind_background(self, bg: Background) -> None:
        bg.bind(self.source.info.duration)
        self._bg_origin = None  # a swapped-in video starts from its beginning

    def process(self, frame: Frame, scene_time: float) -> np.ndarray | YuvImage:
        """One frame through calibration, keyer and the background at ``scene_time``."""
        st = self.stats.stages
        t0 = time.perf_counter()
        screen = self.calibrator.update(frame)  # a ScreenMap: a colour per block of the frame
        t1 = time.perf_counter()
        if self._bg_origin is None:
            self._bg_origin = scene_time
        bg_time = max(scene_time - self._bg_origin, 0.0)
        bg = self.background.frame_at(bg_time, frame.width, frame.height)
        image = self.keyer.render(frame, screen, bg, pixel_format=self._pixel_format)
        st["calibrate"] += t1 - t0
        st["key"] += time.perf_counter() - t1
        return image

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
        return self.stats

    def _hold_last(self, last: Frame, first: float, info: SourceInfo) -> None:
        """``full_video``: run on until a longer background ends, the avatar held on its last frame.

        Held rather than removed: an avatar that vanishes mid-shot reads as a glitch, one that
        stays still reads as the end of its speech.
        """
        bg = self.background
        if getattr(bg, "play_style", None) != "full_video" or not bg.duration:
            return
        step = 1.0 / float(info.rate) if info.rate else 1.0 / 30.0
        k = 1
        while (last.time - first) + k * step < bg.duration - 1e-6:
            self._apply_pending()
            t = last.time + k * step
            self._emit(last, t, t - first)
            k += 1


def output_kind(output: str | os.PathLike[str], output_format: str | None = None) -> str:
    """``png`` for a %d pattern, ``video`` for a known video extension, standard output or a
    name given a ``--format``."""
    text = os.fspath(output)
    if "%" in text:
        if output_format is not None:
            raise ParameterError(
                f"{text}: a numbered pattern is a PNG sequence; --format {output_format} "
                "takes one file name or -"
            )
        if not text.lower().endswith(".png"):
            raise ParameterError(f"{text}: a numbered sequence must be PNG, like out/%05d.png")
        return "png"
    video_format(Path(text), False, output_format)  # raises on an unknown type
    return "video"


def open_sink(
    output: str | os.PathLike[str],
    source: VideoSource,
    transparent: bool,
    output_format: str | None = None,
) -> Sink:
    if output_kind(output, output_format) == "png":
        return PngSequenceSink(output, alpha=transparent)
    info = source.info
    return VideoFileSink(
        output,
        info.width,
        info.height,
        alpha=transparent,
        rate=info.rate,
        time_base=info.time_base,
        audio_stream=source.audio,
        output_format=output_format,
    )


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """True when ``a`` and ``b`` are one file (``-`` is standard input or output: never)."""
    if is_stdio(a) or is_stdio(b):
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def open_input(
    input: str | os.PathLike[str], options: dict[str, Any] | None = None
) -> VideoSource:
    """The foreground of a render: a file or stream (VideoSource), or a WebRTC location,
    live (frames that the keyer cannot keep up with are dropped and counted)."""
    from .webrtc.urls import is_webrtc

    if is_webrtc(input):
        from .webrtc import open_webrtc

        return open_webrtc(os.fspath(input), once=True, queue_size=30, **(options or {}))
    if options:
        raise ParameterError(f"{', '.join(options)}: these options are for WebRTC inputs only")
    return VideoSource(input)


def render(
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    background: str | dict | Background | None = None,
    fit: str | None = None,
    play_style: str | None = None,
    params: KeyerParams | None = None,
    backend: str = "auto",
    progress: Callable[[int, int | None], Any] | None = None,
    warn: Callable[[str], Any] | None = None,
    keep_partial: bool = False,
    output_format: str | None = None,
    source_options: dict[str, Any] | None = None,
) -> RenderStats:
    """Key ``input`` and write ``output`` (.mp4/.mov/.mkv/.webm, raw .nut/.y4m or a %05d.png
    pattern; ``-`` for standard output, input ``-`` for standard input).

    With no background, PNG output is transparent and video output is over white;
    a transparent background into .webm or .mov writes VP9 alpha or ProRes 4444, into .nut
    RGBA, into .y4m yuva444p. ``output_format`` (``nut`` or ``y4m``) is needed for standard
    output and for a name without an extension.
    ``source_options`` go to a WebRTC input (:func:`chromakey.webrtc.open_webrtc`: tokens,
    ICE servers); its stream ends, and the file is finished, when its publisher leaves.
    With ``keep_partial`` a Ctrl-C finishes the frames rendered so far into a playable
    file (``stats.interrupted``) instead of discarding them.
    """
    params = params or KeyerParams()
    kind = output_kind(output, output_format)
    if "%" not in os.fspath(output) and same_file(input, output):
        raise ParameterError(f"{output}: the output is the input; choose another output name")
    if background is None:
        background = "transparent" if kind == "png" else "#ffffff"
    bg = parse_background(background, fit=fit, play_style=play_style)
    source = open_input(input, source_options)
    # The keyer before the sink: a backend that is missing, or kernels still loading, leave
    # no partial file behind.
    try:
        keyer = make_keyer(backend, params, warn=warn)
    except BaseException:
        source.close()
        raise
    try:
        sink = open_sink(output, source, bg.transparent, output_format)
    except BaseException:
        keyer.close()
        source.close()
        raise
    try:
        pipeline = Pipeline(
            source, keyer, bg, [sink], params, progress=progress, keep_partial=keep_partial
        )
        return pipeline.run()
    finally:
        keyer.close()
        bg.close()
