"""What every foreground source is: the ``Source`` protocol, what it knows before its first
frame (``SourceInfo``), and the queue side that the decoding sources share.

A source yields items in order: ``("video", Frame)``, ``("audio", av.Packet)`` (file sources
that pass audio through), then ``("end", None)``, or ``("error", exception)`` raised in the
consumer's thread. Frames carry ``decoded_at`` (Frame declares it), stamped by the source
when the frame is released to its queue, so that latency is measured the same for every
source.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol, runtime_checkable

import av

from ...core import signals
from ...core.queues import bounded_put

Item = tuple[str, Any]


@dataclass(frozen=True)
class SourceInfo:
    """What is known of a source before its first frame."""

    width: int
    height: int
    rate: Fraction | None
    time_base: Fraction
    duration: float | None
    frame_count: int | None
    has_audio: bool


def source_info(container: Any, video: Any, *, has_audio: bool) -> SourceInfo:
    """What a container's video stream says of its size, rate and length."""
    rate = video.average_rate or video.guessed_rate
    duration = None
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    frames = video.frames or (round(duration * float(rate)) if duration and rate else None)
    return SourceInfo(
        width=video.codec_context.width,
        height=video.codec_context.height,
        rate=Fraction(rate) if rate else None,
        time_base=Fraction(video.time_base) if video.time_base else Fraction(1, 90000),
        duration=duration,
        frame_count=frames or None,
        has_audio=has_audio,
    )


@runtime_checkable
class Source(Protocol):
    """A foreground: frames in order, with counts of what was lost on the way."""

    corrupt: int  # packets that could not be decoded and were skipped

    @property
    def dropped(self) -> int:
        """Video frames dropped by a full queue (drop mode)."""
        ...

    @property
    def info(self) -> SourceInfo: ...

    def start(self) -> Source: ...

    def get(self, timeout: float | None = None) -> Item | None: ...

    def __iter__(self) -> Iterator[Item]: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def align(self, stream_time: float, wall: float) -> None: ...

    def close(self) -> None: ...


class QueuedItems:
    """The consumer side of a source whose decode thread fills a bounded queue."""

    def __init__(self, queue_size: int, drop: bool) -> None:
        self.drop = drop
        self.dropped = 0
        self.corrupt = 0
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def _thread_name(self) -> str:
        return "chromakey-decode"

    def start(self) -> QueuedItems:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._thread_name(), daemon=True)
            self._thread.start()
        return self

    def _put(self, item: Item) -> bool:
        """Queue an item; False when stopping. In drop mode the oldest video frame goes."""
        queued, dropped = bounded_put(self._queue, item, self._stop, self.drop)
        self.dropped += dropped
        return queued

    @property
    def queued(self) -> int:
        """Items waiting in the queue now (a gauge for status lines and tests)."""
        return self._queue.qsize()

    @property
    def running(self) -> bool:
        """The decode thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the decode thread to end; True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def __iter__(self) -> Iterator[Item]:
        self.start()
        while True:
            kind, item = self._take()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield kind, item

    def _take(self) -> Item:
        """The next item, however long it takes; a pending signal is raised meanwhile (the
        input may never send another frame)."""
        while True:
            signals.checkpoint()
            try:
                return self._queue.get(timeout=signals.POLL)
            except queue.Empty:
                continue

    def get(self, timeout: float | None = None) -> Item | None:
        """The next item, or None when nothing arrived within ``timeout`` (live use)."""
        self.start()
        if timeout is None:
            return self._take()
        signals.checkpoint()
        try:
            return self._queue.get(timeout=timeout) if timeout != 0 else self._queue.get_nowait()
        except queue.Empty:
            return None

    def pause(self) -> None:
        """Hold the decoder where it is (a paced file); a live stream cannot be held."""

    def resume(self) -> None:
        """Continue after :meth:`pause`."""

    def align(self, stream_time: float, wall: float) -> None:
        """The consumer shows ``stream_time`` at ``wall`` (``time.perf_counter``): a paced
        file releases its frames by that clock; a live stream keeps its own time."""
