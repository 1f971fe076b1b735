"""What the live outputs share (a push to a streaming server, the WHEP server): frames sent at
the source's own pace, and the source's audio decoded for an encoder of ours."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av

__all__ = ["RealTime", "SourceAudio"]


class RealTime:
    """Holds each frame until its time has come on the wall clock from the first (as
    ``ffmpeg -re``): a file source streams in real time, and a live source, which arrives in
    real time, is not held at all."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self._start: float | None = None  # wall clock of stream time 0

    def hold(self, time_s: float) -> None:
        now = self.clock()
        if self._start is None:
            self._start = now - time_s
        ahead = self._start + time_s - now
        if ahead > 0:
            self.sleep(ahead)


class SourceAudio:
    """The source's audio packets (``template``: its PyAV stream) decoded and resampled to
    ``sample_format`` stereo at 48 kHz, with ``pts`` counted in samples across the stream."""

    RATE = 48000

    def __init__(self, template: Any, sample_format: str) -> None:
        tpl = template.codec_context
        self._decoder = av.CodecContext.create(tpl.name, "r")
        self._decoder.sample_rate, self._decoder.layout = tpl.sample_rate, tpl.layout
        if tpl.extradata:
            self._decoder.extradata = tpl.extradata
        self._resampler = av.AudioResampler(format=sample_format, layout="stereo", rate=self.RATE)
        self.samples = 0

    def frames(self, packet: av.Packet) -> list[av.AudioFrame]:
        """The packet's audio, resampled; nothing for a packet that does not decode."""
        try:
            decoded = self._decoder.decode(packet)
        except av.error.FFmpegError:
            return []
        out = []
        for d in decoded:
            d.pts = None
            for f in self._resampler.resample(d):
                f.pts, f.time_base = self.samples, Fraction(1, self.RATE)
                self.samples += f.samples
                out.append(f)
        return out
