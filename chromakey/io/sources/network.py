"""Network foregrounds that survive stalls and dropped connections.

:class:`ReconnectingSource` is a :class:`chromakey.io.sources.base.Source`
(iterate it, or ``get(timeout)``; ``info``, ``dropped``, ``corrupt``, ``close``) for
``http(s)`` (HLS ``.m3u8`` included), ``rtmp(s)``, ``rtsp(s)``, ``srt``, ``udp`` and
``tcp`` URLs. Its decode thread

- opens the stream with low-latency options (``flags=low_delay``, a small probe, and
  ``fflags=nobuffer`` except over HTTP, where it would drop the start of an HLS video)
  and timeouts in FFmpeg's microseconds (``rw_timeout``, and ``timeout`` where the
  protocol reads it as a socket timeout; never for RTMP, where it means "listen"), and
  decodes with slice threads only (frame threads would hold frames back);
- treats ``stall_timeout`` seconds without a packet (PyAV's read timeout interrupts the
  blocked read), a read error, or the premature end of a stream as a lost connection;
- re-opens with exponential backoff, ``backoff`` = (0.5 s doubling up to 8 s) by default,
  and gives up with :class:`chromakey.core.errors.StreamError` (delivered in the frame order, as
  VideoSource delivers errors) after ``give_up`` = 60 s without a frame (re-opens that
  bring no frame do not count as success);
- resumes a stream with a known duration (VOD, e.g. an HLS playlist with ``ENDLIST``) where
  it stopped, by seeking and skipping what was already delivered; a live stream resumes
  at its live edge; a VOD stream is read at real time (FFmpeg would read it as fast as the
  server sends), a live one as it comes;
- keeps frame times monotonic across re-opens: a session whose timestamps would go
  backwards (an RTMP stream restarting at 0) is shifted to one frame after the last frame
  delivered; one that continues forwards keeps its own clock;
- stamps each frame's ``decoded_at`` (``time.perf_counter()`` when the frame left the
  decoder), from which :class:`chromakey.live.LiveCompositor` measures latency.

Status for a user interface: ``state`` ("connecting", "playing", "stalled" — no packet for
``stall_after`` s —, "reconnecting", "ended", "failed"), ``reconnects`` (successful
re-opens), ``attempts``, ``last_gap`` (wall seconds between the last frame before the
loss and the first one after the last re-open) and ``last_error``;
:meth:`ReconnectingSource.status` returns them together.

Audio is not passed through (a re-opened session's audio stream is a different stream).
Local files are not network sources: :func:`chromakey.io.sources.open_source` hands them to
a VideoSource paced to real time (:class:`chromakey.io.sources.pacing.Pacer`).
"""

from __future__ import annotations

import time
from typing import Any

import av

from ...core.errors import ChromakeyError, InputError, ParameterError, StreamError
from ...core.frames import frame_interval
from ..locations import STREAM_SCHEMES, check_location, is_network
from ..media import av_message
from .base import Item, QueuedItems, SourceInfo, source_info
from .decode import MAX_PIXELS, decode_video_packet, to_frame
from .streams import NetworkStatus, stream_options

__all__ = ["ReconnectingSource"]


class _Lost(Exception):
    """The connection is gone; re-open."""


class ReconnectingSource(QueuedItems):
    """A network stream decoded on a thread, re-opened with backoff when it stalls or drops.

    ``drop`` (default True, for live display) drops the oldest queued frame when the consumer
    is behind and counts it in ``dropped``; ``drop=False`` makes the decoder wait.
    ``realtime``: ``"auto"`` paces a stream of known duration (VOD, which FFmpeg would read
    as fast as the server sends) to its timestamps, live streams come as the server sends;
    True or False forces it. The first connection is tried for ``connect_timeout`` seconds
    (a 4xx answer or data that is not video fails at once, with InputError).
    """

    def __init__(
        self,
        location: str,
        *,
        queue_size: int = 8,
        drop: bool = True,
        stall_timeout: float = 5.0,
        stall_after: float = 1.0,
        open_timeout: float = 5.0,
        connect_timeout: float = 15.0,
        backoff: tuple[float, float] = (0.5, 8.0),
        give_up: float = 60.0,
        realtime: bool | str = "auto",
        options: dict[str, str] | None = None,
    ) -> None:
        super().__init__(queue_size, drop)
        self.location = check_location(location, schemes=STREAM_SCHEMES)
        if not is_network(self.location):
            raise ParameterError(
                f"{self.location}: not a network URL; open local files with VideoSource "
                "(or chromakey.io.sources.open_source)"
            )
        for name, value in (
            ("stall_timeout", stall_timeout),
            ("open_timeout", open_timeout),
            ("give_up", give_up),
        ):
            if not value > 0:
                raise ParameterError(f"{name} must be a positive number of seconds, got {value!r}")
        if not 0 < backoff[0] <= backoff[1]:
            raise ParameterError(f"backoff must be (initial, maximum) seconds, got {backoff!r}")
        self.stall_timeout = float(stall_timeout)
        self.stall_after = float(stall_after)
        self.open_timeout = float(open_timeout)
        self.backoff = (float(backoff[0]), float(backoff[1]))
        self.give_up = float(give_up)
        self.realtime = realtime
        self.options = stream_options(self.location, io_timeout=self.stall_timeout)
        self.options |= options or {}
        self.audio = None  # not passed through across re-opens
        self.reconnects = 0
        self.attempts = 0
        self.last_gap: float | None = None
        self.last_error: str | None = None
        self._reconnecting = False
        self._final: str | None = None
        self._waiting_on_consumer = False
        self._last_packet: float | None = None
        self._last_out: float | None = None  # last delivered frame time (output clock)
        self._last_raw: float | None = None  # the same frame's time in its session
        self._offset = 0.0
        self._index = 0
        self._lost_at: float | None = None
        self._last_frame_wall: float | None = None
        self._container = self._first_open(connect_timeout)
        self._info = source_info(self._container, self._container.streams.video[0], has_audio=False)

    # --- opening ---------------------------------------------------------------------------

    def _open(self) -> Any:
        """One attempt. InputError for answers that retrying will not change."""
        self.attempts += 1
        try:
            container = av.open(
                self.location,
                "r",
                options=dict(self.options),
                timeout=(self.open_timeout, self.stall_timeout),
            )
        except (av.error.HTTPClientError, av.error.InvalidDataError) as exc:
            raise InputError(
                f"{self.location}: cannot play the stream ({av_message(exc)})"
            ) from exc
        except (av.error.FFmpegError, OSError, EOFError) as exc:
            raise _Lost(av_message(exc)) from exc
        try:
            if not container.streams.video:
                raise InputError(f"{self.location}: the stream has no video")
            video = container.streams.video[0]
            if video.codec_context.width * video.codec_context.height > MAX_PIXELS:
                raise InputError(
                    f"{self.location}: {video.codec_context.width}×{video.codec_context.height} "
                    f"is larger than the {MAX_PIXELS} pixel limit (8K)"
                )
            video.thread_type = "SLICE"  # frame threads would hold frames back: latency
        except BaseException:
            container.close()
            raise
        return container

    def _first_open(self, limit: float) -> Any:
        start = time.monotonic()
        delay = self.backoff[0]
        while True:
            try:
                return self._open()
            except _Lost as exc:
                self.last_error = str(exc)
                if time.monotonic() - start + delay > limit:
                    raise StreamError(
                        f"{self.location}: cannot connect ({exc}) after {self.attempts} "
                        f"attempts in {time.monotonic() - start:.0f} s; check the URL and "
                        "that the stream is running"
                    ) from None
            time.sleep(delay)
            delay = min(delay * 2, self.backoff[1])

    def _reopen(self) -> Any | None:
        """Backoff until a session opens (None if closing); StreamError after ``give_up``."""
        self._reconnecting = True
        # Counted from the last frame delivered: sessions that open but bring no frame do
        # not reset it.
        lost_at = self._last_frame_wall or self._lost_at or time.monotonic()
        delay = self.backoff[0]
        while not self._stop.is_set():
            if self._stop.wait(delay):
                return None
            try:
                container = self._open()
            except (_Lost, InputError) as exc:  # a 404 while a server restarts: retry too
                self.last_error = str(exc)
            else:
                self.reconnects += 1
                self._reconnecting = False
                return container
            if time.monotonic() - lost_at >= self.give_up:
                raise StreamError(
                    f"{self.location}: the stream stopped and could not be re-opened for "
                    f"{self.give_up:.0f} s ({self.attempts} attempts; last error: "
                    f"{self.last_error}); check the server"
                )
            delay = min(delay * 2, self.backoff[1])
        return None

    # --- status ----------------------------------------------------------------------------

    @property
    def info(self) -> SourceInfo:
        return self._info

    @property
    def state(self) -> str:
        if self._final is not None:
            return self._final
        if self._reconnecting:
            return "reconnecting"
        if self._last_packet is None:
            return "connecting"
        quiet = time.monotonic() - self._last_packet
        if quiet > self.stall_after and not self._waiting_on_consumer:
            return "stalled"
        return "playing"

    def status(self) -> NetworkStatus:
        return NetworkStatus.of(self, self._last_packet)

    # --- the decode thread -----------------------------------------------------------------

    def _thread_name(self) -> str:
        return "chromakey-net"

    def start(self) -> ReconnectingSource:
        super().start()
        return self

    def _put(self, item: Item) -> bool:
        """Queue an item; False when stopping. In drop mode the oldest video frame goes."""
        self._waiting_on_consumer = True
        try:
            if item[0] == "video":
                item[1].decoded_at = time.perf_counter()
            return super()._put(item)
        finally:
            self._waiting_on_consumer = False

    def _run(self) -> None:
        container, self._container = self._container, None
        try:
            while not self._stop.is_set():
                if container is None:
                    container = self._reopen()
                    if container is None:
                        return
                try:
                    outcome = self._play(container)
                finally:
                    container.close()
                    container = None
                if outcome == "stop":
                    return
                if outcome == "end":
                    self._final = "ended"
                    self._put(("end", None))
                    return
                self._lost_at = time.monotonic()
        except ChromakeyError as exc:
            self._final = "failed"
            self._put(("error", exc))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer's thread
            self._final = "failed"
            self._put(("error", exc))
        finally:
            if container is not None:
                container.close()

    def _play(self, container: Any) -> str:
        """Deliver one session's frames: "end", "lost" or "stop"."""
        video = container.streams.video[0]
        info = source_info(container, video, has_audio=False)
        step = frame_interval(info.rate)
        vod = info.duration is not None
        pace = vod if self.realtime == "auto" else bool(self.realtime)
        resume = self._last_raw if (vod and self._last_raw is not None) else None
        if resume is not None:
            try:
                container.seek(int(resume * av.time_base))
            except (av.error.FFmpegError, OSError):
                resume = None  # not seekable after all: take what comes
        first = True
        wall0 = raw0 = 0.0
        fallback = 0.0
        try:
            for packet in container.demux(video):
                if self._stop.is_set():
                    return "stop"
                if packet.size:
                    self._last_packet = time.monotonic()
                decoded = decode_video_packet(packet, self.location)
                if decoded is None:
                    self.corrupt += 1
                    continue
                for av_frame in decoded:
                    raw = float(av_frame.time) if av_frame.pts is not None else fallback
                    fallback = raw + step
                    if resume is not None and raw <= resume + 1e-6:
                        continue  # delivered before the connection was lost
                    if first:
                        first = False
                        wall0, raw0 = time.monotonic(), raw
                        self._begin_session(raw, step)
                    if pace:
                        self._pace(raw - raw0, wall0)
                    frame = to_frame(av_frame, self._index, raw)
                    frame.time = raw + self._offset
                    frame.index = self._index
                    self._index += 1
                    self._last_out, self._last_raw = frame.time, raw
                    self._last_frame_wall = time.monotonic()
                    if not self._put(("video", frame)):
                        return "stop"
        except ChromakeyError:
            raise
        except (av.error.FFmpegError, OSError, EOFError) as exc:
            if self._stop.is_set():
                return "stop"
            self.last_error = av_message(exc)
            return "lost"
        if self._stop.is_set():
            return "stop"
        if vod and self._last_raw is not None:
            start = container.start_time / av.time_base if container.start_time else 0.0
            if self._last_raw >= start + info.duration - 0.5 - step:  # type: ignore[operator]
                return "end"
        self.last_error = "the stream ended early"
        return "lost"

    def _begin_session(self, raw: float, step: float) -> None:
        """Choose the new session's offset so that times keep increasing."""
        if self._last_out is not None and raw + self._offset <= self._last_out:
            self._offset = self._last_out + step - raw
        if self._lost_at is not None:
            since = self._last_frame_wall if self._last_frame_wall is not None else self._lost_at
            self.last_gap = time.monotonic() - since
            self._lost_at = None

    def _pace(self, stream_elapsed: float, wall0: float) -> None:
        """Sleep while more than 0.2 s ahead of real time (VOD read at the server's speed)."""
        while not self._stop.is_set():
            ahead = stream_elapsed - (time.monotonic() - wall0) - 0.2
            if ahead <= 0:
                return
            self._stop.wait(min(ahead, 0.1))

    # --- consumer side (the VideoSource interface) -------------------------------------------

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            # A blocked read ends within stall_timeout (PyAV's interrupt), an open within
            # open_timeout.
            self._thread.join(timeout=self.stall_timeout + self.open_timeout + 1.0)
        if self._container is not None:
            self._container.close()
            self._container = None
        if self._final is None:
            self._final = "closed"

    def __enter__(self) -> ReconnectingSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
