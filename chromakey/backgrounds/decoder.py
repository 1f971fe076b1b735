"""A video background's decoder: one run on its own thread, frames fitted to one output size
ahead of the time asked for, into a small bounded queue."""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable
from typing import Any

import av

from ..core.errors import ChromakeyError, InputError
from ..core.frames import frame_interval
from ..core.queues import bounded_put
from .base import Picture
from .fit import Fitter
from .media import Media
from .play import PlayClock

EPS = 1e-6


class Decoder:
    """One decoding run on its own thread: frames fitted to one size, from one start time.

    Queue items: ("video", t, Picture) with t the frame's time on the background's
    own running clock (a looped video keeps counting: lap k adds k·period),
    ("end", None, None) when no frame will follow, ("error", exc, None).
    """

    def __init__(
        self,
        media: Media,
        clock: PlayClock,
        fitter: Fitter,
        start: float,
        queue_size: int,
        alive: Callable[[], bool],
    ) -> None:
        self.media = media
        self.clock = clock
        self.loop = clock.loops
        self.period = clock.period
        self.alive = alive  # False once the background is gone: the thread ends, not leaks
        self.fitter = fitter
        self.start = start
        self.queue: queue.Queue[tuple[str, Any, Any]] = queue.Queue(maxsize=max(1, queue_size))
        self.stop = threading.Event()
        self.target = start  # the newest time frame_at asked for; frames before it need no fitting
        self.held: tuple[float, av.VideoFrame] | None = None  # decoded, not yet fitted and queued
        self.last_time = -math.inf
        self.thread = threading.Thread(target=self._run, name="chromakey-background", daemon=True)
        self.thread.start()

    def _put(self, item: tuple[str, Any, Any]) -> bool:
        return bounded_put(self.queue, item, self.stop, alive=self.alive)[0]

    def _run(self) -> None:
        media, loop, period = self.media, self.loop, self.period
        lap = int(self.start // period) if (loop and period) else 0
        seek = self.start - lap * period if (loop and period) else self.start
        try:
            while not self.stop.is_set():
                offset = lap * period if (loop and period) else 0.0
                seeked = seek > 0.5 and media.start_time is not None and bool(media.time_base)
                count, lap_end = self._decode_pass(offset, seek if seeked else 0.0)
                if self.stop.is_set():
                    return
                seek = 0.0
                if count == 0:
                    if seeked:
                        continue  # sought past the last frame: this pass again, from its start
                    if self.held is None:
                        raise InputError(
                            f"{media.location}: no video frame could be decoded; "
                            "the file may be truncated or corrupt"
                        )
                    break
                if not self.alive():
                    return
                self.clock.learn_end(lap_end)
                if not loop or (count <= 1 and not seeked):
                    break  # played once, or a single picture (looping it would change nothing)
                period = self.clock.period = max(period or 0.0, lap_end)
                lap += 1
            if self.held is not None and not self._emit_held():
                return
            self._put(("end", None, None))
        except ChromakeyError as exc:
            self._put(("error", exc, None))
        except av.error.FFmpegError as exc:
            self._put(("error", media.decode_error(exc), None))
        except Exception as exc:  # noqa: BLE001 - handed to frame_at's thread
            self._put(("error", exc, None))

    def _emit_held(self) -> bool:
        assert self.held is not None
        t, frame = self.held
        self.held = None
        return self._put(("video", t, Picture(self.fitter.fit_frame(frame))))

    def _decode_pass(self, offset: float, seek: float) -> tuple[int, float]:
        """Decode the file once (from ``seek`` s); (frames decoded, end of the last frame)."""
        media = self.media
        count, end = 0, 0.0
        container = media.open()
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            origin = media.start_time
            if seek > 0 and media.time_base:
                pts = int((seek + (origin or 0.0)) / media.time_base)
                with contextlib.suppress(av.error.FFmpegError):
                    container.seek(pts, stream=stream, backward=True)
            step = frame_interval(media.rate)
            for packet in container.demux(stream):
                if self.stop.is_set():
                    return count, end
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # a damaged packet: skip it, as the foreground does
                for frame in frames:
                    if frame.width * frame.height > media.max_pixels:
                        raise media.too_large(frame.width, frame.height)
                    if frame.pts is not None and frame.time_base:
                        ft = float(frame.pts * frame.time_base)
                        origin = ft if origin is None else origin
                        ts = ft - origin
                    else:
                        ts = count * step
                    dur = (
                        float(frame.duration * frame.time_base)
                        if frame.duration and frame.time_base
                        else step
                    )
                    count += 1
                    end = max(end, ts + dur)
                    t = offset + max(ts, 0.0)
                    if t <= self.last_time:
                        continue  # out of order, or behind what was already queued: never shown
                    self.last_time = t
                    # The held frame is needed only if this one comes after the newest asked time.
                    if self.held is not None and t > self.target + EPS and not self._emit_held():
                        return count, end
                    self.held = (t, frame)
        finally:
            container.close()
        return count, end

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5.0)
