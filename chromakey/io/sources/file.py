"""The foreground from a file, a stream URL or standard input: PyAV demux and decode on its
own thread into a bounded queue.

Container → stream → frame, as PyAV names them. Video frames become ``Frame``
objects (planes as views where the pixel format allows); audio packets pass
through untouched, in demux order, for sinks that mux them.
"""

from __future__ import annotations

import os
import time

import av

from ...core.errors import ChromakeyError, InputError
from ...core.frames import frame_interval
from ..locations import check_location
from ..media import MEDIA_ERRORS, av_message, input_error
from ..stdio import STDIN_URL, describe, is_stdio
from .base import Item, QueuedItems, SourceInfo, source_info
from .decode import MAX_PIXELS, decode_video_packet, to_frame
from .pacing import FrameGate
from .timeline import Timeline

# FFmpeg network options: fail a dead server within seconds instead of hanging.
NETWORK_OPTIONS = {"rw_timeout": "10000000", "timeout": "10000000"}


def open_container(location: str, *, what: str = "input") -> av.container.InputContainer:
    """av.open with network timeouts, every failure turned into a one-line InputError.

    ``-`` is standard input, read by FFmpeg itself (``pipe:0``). A pipe cannot seek: stream
    formats (NUT, Matroska, MPEG-TS, Y4M) suit it; an MP4 wants its index first (faststart).
    """
    options = dict(NETWORK_OPTIONS) if "://" in location else {}
    if location.lower().startswith("rtmp"):
        options.pop("timeout")  # FFmpeg's RTMP client reads 'timeout' as "listen for a peer"
    url = STDIN_URL if is_stdio(location) else location
    name = describe(location)
    try:
        return av.open(url, "r", options=options, timeout=(15.0, 15.0), metadata_errors="replace")
    except MEDIA_ERRORS as exc:
        raise input_error(exc, name, doing=f"open the {what}") from exc


class VideoSource(QueuedItems):
    """Decodes a file or stream on a thread; iterate it for ``("video", Frame)`` and
    ``("audio", av.Packet)`` items in demux order.

    The queue is small and bounded: when the consumer is slower the decoder
    waits (``drop=False``, for files) or the oldest frame is dropped and counted
    (``drop=True``, for live display).
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        queue_size: int = 8,
        drop: bool = False,
        audio: bool = True,
        gate: FrameGate | None = None,
    ) -> None:
        super().__init__(queue_size, drop)
        self.gate = gate  # holds each frame until it may go (a Pacer: real time)
        self.location = check_location(location)
        self.name = describe(self.location)  # what messages call it: "standard input" for -
        self.container = open_container(self.location)
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{self.name}: has no video stream; give a video file")
        self.video = self.container.streams.video[0]
        ctx = self.video.codec_context
        if ctx is None:
            self.container.close()
            raise InputError(
                f"{self.name}: its video codec is unknown or unsupported; "
                "re-encode it (H.264, VP9, ProRes…) or check the file is not corrupt"
            )
        self.video.thread_type = "AUTO"
        # The decoder refuses larger pictures itself, so a crafted stream cannot exhaust memory.
        ctx.options = {**ctx.options, "max_pixels": str(MAX_PIXELS)}
        if ctx.width * ctx.height > MAX_PIXELS:
            self.container.close()
            raise InputError(
                f"{self.name}: {ctx.width}×{ctx.height} is larger than the "
                f"{MAX_PIXELS} pixel limit (8K); scale it down first"
            )
        self.audio = (
            self.container.streams.audio[0] if (audio and self.container.streams.audio) else None
        )

    @property
    def info(self) -> SourceInfo:
        return source_info(self.container, self.video, has_audio=self.audio is not None)

    def start(self) -> VideoSource:
        super().start()
        return self

    def _put(self, item: Item) -> bool:
        """Queue an item (a video frame once the gate lets it go, stamped ``decoded_at``
        then); False when stopping."""
        if item[0] == "video":
            if self.gate is not None and not self.gate.hold(item[1], self._stop):
                return False
            item[1].decoded_at = time.perf_counter()
        return super()._put(item)

    def pause(self) -> None:
        if self.gate is not None:
            self.gate.pause()

    def resume(self) -> None:
        if self.gate is not None:
            self.gate.resume()

    def align(self, stream_time: float, wall: float) -> None:
        if self.gate is not None:
            self.gate.align(stream_time, wall)

    def _run(self) -> None:
        step = frame_interval(self.info.rate)
        index = 0
        streams = [self.video] + ([self.audio] if self.audio is not None else [])
        start = self.container.start_time
        timeline = Timeline(self.name, start / av.time_base if start is not None else 0.0)
        try:
            for packet in self.container.demux(streams):
                if self._stop.is_set():
                    return
                if packet.stream is self.audio:
                    if packet.dts is None:
                        continue
                    timeline.audio(packet)
                    if not self._put(("audio", packet)):
                        return
                    continue
                decoded = decode_video_packet(packet, self.name)
                if decoded is None:
                    self.corrupt += 1
                    continue
                for av_frame in decoded:
                    frame = to_frame(av_frame, index, index * step)
                    frame.time = timeline.video(frame.time, step)
                    index += 1
                    if not self._put(("video", frame)):
                        return
            if index == 0:
                raise InputError(
                    f"{self.name}: no video frame could be decoded; the file may be truncated or corrupt"
                )
            self._put(("end", None))
        except ChromakeyError as exc:
            self._put(("error", exc))
        except av.error.FFmpegError as exc:
            if index == 0:
                err = input_error(
                    exc,
                    self.name,
                    doing="decode the video",
                    corrupt="cannot decode the video",
                    hint="the file may be truncated or corrupt",
                )
            else:
                err = InputError(
                    f"{self.name}: decoding failed after {index} frames ({av_message(exc)})",
                    path=self.name,
                    detail=av_message(exc),
                )
            self._put(("error", err))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer's thread
            self._put(("error", exc))
        finally:
            if self._stop.is_set():
                self.container.close()  # close() may have given up waiting for this thread

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            if self._thread.is_alive():
                # Still in a read that cannot be interrupted (a silent pipe): closing the
                # container under it would free what it reads into; it closes it itself.
                return
        self.container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
