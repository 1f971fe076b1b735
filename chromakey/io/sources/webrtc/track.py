"""WebRTC frames into the keyer's queue: the consumer side every WebRTC source shares.

:class:`LiveTrackSource` has the interface of the other live sources (iterate it, or
``get(timeout)``; ``info``, ``dropped``, ``corrupt``, ``audio``, ``close``; the status of
:class:`chromakey.network.ReconnectingSource`). A source's event loop calls the producer
side from its own thread:

- ``video(av_frame)`` — aiortc's decoded PyAV frame; its planes become a
  :class:`chromakey.frames.Frame` as they are (:func:`chromakey.sources.to_frame`: I420
  views, no RGB round trip), stamped ``decoded_at`` as it arrives. Its colour space is the
  one the publisher signals (the H.264 VUI), else WEBRTC_UNTAGGED (measured: see README). Its time comes from the
  RTP timestamp (90 kHz, unwrapped across the 32-bit wrap), from 0 at the first frame; a
  new session (the next publisher, a re-opened pull) continues one frame after the last,
  and ``frame.session`` counts the sessions from 1;
- ``planes(y, u, v, time)`` — the same for sources that hand I420 planes (LiveKit);
- ``sound(av_frame)`` — decoded audio, resampled to 48 kHz stereo s16 and laid on the
  video's clock: audio before the first video frame is cut, a gap is filled with silence,
  an overlap trimmed, so that the sink's audio (which it writes back to back) stays in
  sync. It reaches the sink as pcm_s16le packets of :attr:`audio`, a real PyAV stream;
- ``begin(label)``, ``leave(reason)``, ``finish()``, ``fail(exc)`` — sessions and the end.

The queue is bounded: past ``queue_size`` frames the oldest video frame is dropped and
counted (``dropped``); audio is kept (up to ``AUDIO_SLACK`` packets more), so that a slow
consumer loses pictures, not sync.
"""

from __future__ import annotations

import io
import queue
import threading
import time
import wave
from collections import deque
from fractions import Fraction
from typing import Any

import av
import numpy as np

from ....core.color import WEBRTC_UNTAGGED, YuvSpec
from ....core.errors import InputError
from ....core.frames import Frame
from ..base import QueuedItems, SourceInfo
from ..decode import MAX_PIXELS, to_frame
from ..streams import NetworkStatus

__all__ = ["AUDIO_RATE", "DropOldestFrames", "LiveTrackSource", "pcm_stream"]

AUDIO_RATE = 48000
AUDIO_SLACK = 250  # audio packets (~5 s of 20 ms) kept beyond the frame bound
_RTP_VIDEO = Fraction(1, 90000)
_WRAP = 1 << 32
_LIMITED = 1  # AVCOL_RANGE_MPEG
_TOLERANCE = 0.02  # s of audio drift absorbed before a gap is filled or an overlap trimmed


class DropOldestFrames(queue.Queue):
    """A queue that never blocks its producer: past ``frames`` video items the oldest video
    item goes (counted in ``dropped``); other items are kept up to ``slack`` more."""

    def __init__(self, frames: int, slack: int = AUDIO_SLACK) -> None:
        self.frames = max(1, frames)
        self.slack = slack
        self.dropped = 0
        self.audio_dropped = 0
        super().__init__(maxsize=0)  # the bound is ours, in _put

    def _init(self, maxsize: int) -> None:
        self.queue: deque[tuple[str, Any]] = deque()
        self._videos = 0

    def _qsize(self) -> int:
        return len(self.queue)

    def _put(self, item: tuple[str, Any]) -> None:
        self.queue.append(item)
        if item[0] == "video":
            self._videos += 1
            if self._videos > self.frames:
                for i, old in enumerate(self.queue):
                    if old[0] == "video":
                        del self.queue[i]
                        self._videos -= 1
                        self.dropped += 1
                        break
        elif item[0] == "audio" and len(self.queue) > self.frames + self.slack:
            for i, old in enumerate(self.queue):
                if old[0] == "audio":
                    del self.queue[i]
                    self.audio_dropped += 1
                    break

    def _get(self) -> tuple[str, Any]:
        item = self.queue.popleft()
        if item[0] == "video":
            self._videos -= 1
        return item


def pcm_stream() -> tuple[Any, Any]:
    """(container, stream): a real PyAV input stream of 48 kHz stereo pcm_s16le (from an in-memory WAV): the
    template a sink re-encodes (or copies) the WebRTC audio from."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(AUDIO_RATE)
        w.writeframes(b"\0\0\0\0" * 960)
    buf.seek(0)
    container = av.open(buf, "r", format="wav")
    return container, container.streams.audio[0]  # the stream lives as its container does


class _Unwrap:
    """RTP timestamps (32-bit, wrapping) to a running count from the first one."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.last = 0
        self.total = 0

    def __call__(self, pts: int) -> int:
        if self.first is None:
            self.first = self.last = pts
            return 0
        delta = (pts - self.last) % _WRAP
        if delta >= _WRAP // 2:
            delta -= _WRAP  # a frame from before the last one (reordered)
        self.last = pts
        self.total += delta
        return self.total


class LiveTrackSource(QueuedItems):
    """Frames from a WebRTC peer's tracks, handed to the keyer through a bounded queue."""

    kind = "webrtc"

    def __init__(
        self,
        location: str,
        *,
        queue_size: int = 8,
        drop: bool = True,
        audio: bool = True,
        stall_after: float = 1.0,
    ) -> None:
        self.location = location
        self.drop = drop  # always True in effect: a live peer cannot be made to wait
        self._queue: DropOldestFrames = DropOldestFrames(queue_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # QueuedItems.running and join read it
        self._ready = threading.Event()
        self._pcm: Any = None
        self.audio: Any = None
        if audio:
            self._pcm, self.audio = pcm_stream()
        self._resampler = av.AudioResampler(format="s16", layout="stereo", rate=AUDIO_RATE)
        self.corrupt = 0
        self.reconnects = 0
        self.attempts = 0
        self.sessions = 0
        self.frames = 0
        self.last_gap: float | None = None
        self.last_error: str | None = None
        self.stall_after = stall_after
        self._info: SourceInfo | None = None
        self._error: BaseException | None = None
        self._final: str | None = None
        self._active = False
        self._last_media: float | None = None
        self._left_at: float | None = None
        self._offset = 0.0  # stream time of this session's first frame
        self._last_time: float | None = None
        self._video_clock = _Unwrap()
        self._audio_clock = _Unwrap()
        self._audio_origin: float | None = None  # stream time of this session's first sample
        self._written = 0  # samples handed to the sink
        self._index = 0
        # The colour space the publisher last signalled (H.264 VUI), None while it states none.
        self.signalled: YuvSpec | None = None

    # --- status ----------------------------------------------------------------------------

    @property  # read from the drop-oldest queue (QueuedItems counts its own)
    def dropped(self) -> int:  # type: ignore[override]
        return self._queue.dropped

    @property
    def state(self) -> str:
        if self._final is not None:
            return self._final
        if not self._active:
            return self.idle_state()
        if self._last_media is None:
            return "connecting"
        if time.monotonic() - self._last_media > self.stall_after:
            return "stalled"
        return "playing"

    def idle_state(self) -> str:
        """The state between sessions: "waiting" (for a publisher) or "reconnecting"."""
        return "waiting"

    def status(self) -> NetworkStatus:
        return NetworkStatus.of(self, self._last_media)

    @property
    def info(self) -> SourceInfo:
        """Size and clock, known at the first frame: waits for it (Ctrl-C stops the wait)."""
        while not self._ready.wait(0.1):
            if self._error is not None:
                raise self._error
            if self._final is not None:
                raise InputError(f"{self.location}: the stream ended before its first frame")
        assert self._info is not None
        return self._info

    # --- producer side (the source's event loop thread) ---------------------------------------

    def begin(self, label: str) -> None:
        """A new session: its clocks start afresh, its first frame follows the last one."""
        self._active = True
        self.sessions += 1
        self._last_media = None
        self._video_clock = _Unwrap()
        self._audio_clock = _Unwrap()
        self._audio_origin = None
        self._session_start: float | None = None
        self.last_error = None
        self._label = label

    def leave(self, reason: str) -> None:
        """The session is over (the publisher left, the pull was lost)."""
        if self._active:
            self._active = False
            self._left_at = time.monotonic()
            self.last_error = reason

    def video(self, av_frame: av.VideoFrame) -> None:
        if av_frame.width * av_frame.height > MAX_PIXELS:
            self.corrupt += 1  # refused: larger than 8K
            return
        ticks = self._video_clock(int(av_frame.pts or 0))
        tb = av_frame.time_base or _RTP_VIDEO
        if av_frame.color_range == _LIMITED and not YuvSpec.tagged(av_frame.colorspace, 0):
            # libvpx states limited range for every VP8 frame (VP8 has no field for it); a
            # range with no matrix beside it is no publisher's word.
            av_frame.color_range = 0
        frame = to_frame(av_frame, self._index, 0.0, WEBRTC_UNTAGGED)
        tagged = YuvSpec.tagged(av_frame.colorspace, av_frame.color_range)
        self.signalled = frame.yuv if tagged else None
        self._deliver(frame, float(ticks * tb))

    def planes(
        self, y: np.ndarray, u: np.ndarray, v: np.ndarray, rtp_time: float, keepalive: Any = None
    ) -> None:
        """I420 planes with the track's own time in seconds (LiveKit's frame timestamps)."""
        h, w = y.shape
        spec = YuvSpec.for_frame(2, 0, w, h, WEBRTC_UNTAGGED)  # the SDK states none
        frame = Frame((y, u, v), "yuv", spec, 0.0, self._index, keepalive=keepalive)
        ticks = self._video_clock(round(rtp_time * 90000))
        self._deliver(frame, ticks / 90000)

    def _deliver(self, frame: Frame, session_time: float) -> None:
        now = time.monotonic()
        if self._session_start is None:
            self._session_start = session_time
            if self._last_time is not None:
                self._offset = self._last_time + 1 / 30 - session_time
                if self._left_at is not None:
                    self.last_gap = now - self._left_at
            else:
                self._offset = -session_time
            if self.sessions > 1:
                self.reconnects += 1
        t = session_time + self._offset
        if self._last_time is not None and t <= self._last_time:
            t = self._last_time + 1e-3  # reordered or repeated stamp: keep order strict
        frame.time = t
        frame.index = self._index
        frame.decoded_at = time.perf_counter()
        frame.session = self.sessions  # type: ignore[attr-defined]  # which publisher/pull
        self._index += 1
        self._last_time = t
        self._last_media = now
        self.frames += 1
        if self._info is None:
            self._info = SourceInfo(
                width=frame.width,
                height=frame.height,
                rate=None,
                time_base=_RTP_VIDEO,
                duration=None,
                frame_count=None,
                has_audio=self.audio is not None,
            )
            self._ready.set()
        self._queue.put(("video", frame))

    def sound(self, av_frame: av.AudioFrame) -> None:
        """Decoded audio laid on the video clock (see the module's notes)."""
        if self.audio is None or self._last_time is None or self._session_start is None:
            return  # before the first picture: nothing to be in sync with
        self._last_media = time.monotonic()
        rate = av_frame.sample_rate or AUDIO_RATE
        ticks = self._audio_clock(int(av_frame.pts or 0))
        if self._audio_origin is None:
            # This session's first sample plays now: where the video clock stands now.
            self._audio_origin = self._last_time
        at = self._audio_origin + ticks / rate  # stream time of this frame's first sample
        av_frame.pts = None
        for f in self._resampler.resample(av_frame):
            self._place(f, at)
            at += f.samples / AUDIO_RATE

    def _place(self, f: av.AudioFrame, at: float) -> None:
        # A plane is a buffer (PyAV's stubs do not say so).
        data = np.frombuffer(f.planes[0], np.int16)[: f.samples * 2]  # type: ignore[call-overload]
        start = round(at * AUDIO_RATE)
        gap = start - self._written
        if gap > _TOLERANCE * AUDIO_RATE:
            data = np.concatenate([np.zeros(gap * 2, np.int16), data])  # silence, in sync
        elif gap < -_TOLERANCE * AUDIO_RATE:
            data = data[-2 * gap :]  # overlaps what was written: trim its start
        if not data.size:
            return
        packet = av.Packet(data.tobytes())
        packet.pts = packet.dts = self._written
        packet.time_base = Fraction(1, AUDIO_RATE)
        self._written += data.size // 2
        self._queue.put(("audio", packet))

    def finish(self) -> None:
        """The stream is over: the consumer gets the end after what is queued."""
        if self._final is None:
            self._final = "ended"
            self._queue.put(("end", None))

    def fail(self, exc: BaseException) -> None:
        if self._final is None:
            self._final = "failed"
            self._error = exc
            self._queue.put(("error", exc))

    # --- consumer side -------------------------------------------------------------------------

    def start(self) -> LiveTrackSource:
        return self  # the peer runs from the constructor on

    def close(self) -> None:
        self._stop.set()
        if self._final is None:
            self._final = "closed"

    def __enter__(self) -> LiveTrackSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
