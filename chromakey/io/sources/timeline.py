"""Source timestamps made safe to write: monotonic, with no gap a player would not play.

A stream's timestamps can jump: an MPEG-TS wrap or splice, a camera's clock reset, a file
cut and joined. Written as they are, a jump forward of hours makes an MP4 muxer fail and a
Matroska file claim a duration of years; a jump back squeezes frames into one-tick steps.
So, as a player does, a jump forward of more than MAX_GAP, or any step back, continues one
step on (a frame's interval for video, a packet's duration for audio) and the stream keeps
the offset from then on. Video and audio each keep their own offset, and a jump both
streams share (the usual case) gives both the same one: they stay in sync.

The first jump of a source is logged once (``logging``; the command line prints it).
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

# Seconds a stream may skip forward and keep its gap (FFmpeg's own discontinuity threshold,
# dts_delta_threshold, is 10 s); a longer jump, or any step back, becomes one step.
MAX_GAP = 10.0

log = logging.getLogger(__name__)


class Timeline:
    """The corrections of one source's video and audio timestamps."""

    def __init__(self, name: str, start: float = 0.0, max_gap: float = MAX_GAP) -> None:
        """``start``: the source's start time (s), which becomes the output's zero."""
        self.name = name
        self.max_gap = max_gap
        self.jumps = 0
        self._lead = -start  # seconds added to both streams from the first
        self._video_offset = self._lead
        self._video_last: float | None = None
        self._audio_offset: int | None = None  # in the audio stream's time base
        self._audio_last: int | None = None  # the last packet's dts, corrected
        self._audio_next: int | None = None  # where the next packet would start

    def video(self, time: float, step: float) -> float:
        """A frame's time on the output clock; ``step`` is the nominal frame interval."""
        out = time + self._video_offset
        last = self._video_last
        if last is not None and not 0 < out - last <= self.max_gap:
            if out != last:  # a repeated stamp is only moved on, not reported
                self._jumped(out - last, last)
            self._video_offset += last + step - out
            out = last + step
        self._video_last = out
        return out

    def audio(self, packet: Any) -> None:
        """Shift an audio packet's pts and dts (in place) by the audio stream's offset."""
        if packet.dts is None or packet.time_base is None:
            return
        tb = Fraction(packet.time_base)
        if self._audio_offset is None:
            self._audio_offset = round(self._lead / tb)
        dts = packet.dts + self._audio_offset
        if self._audio_last is not None and self._audio_next is not None:
            gap = (dts - self._audio_next) * tb
            if dts <= self._audio_last or gap > self.max_gap:
                self._jumped(float(gap), float(self._audio_next * tb))
                self._audio_offset += self._audio_next - dts
                dts = self._audio_next
        if self._audio_offset:
            if packet.pts is not None:
                packet.pts += self._audio_offset
            packet.dts = dts
        self._audio_last = dts
        self._audio_next = dts + max(int(packet.duration or 0), 1)

    def _jumped(self, gap: float, at: float) -> None:
        self.jumps += 1
        if self.jumps > 1:
            return
        way = f"forward {gap:.6g} s" if gap > 0 else f"back {-gap:.6g} s"
        log.warning(
            "%s: its timestamps jump %s at %.3f s; the output goes on one step later "
            "(gaps over %g s and steps back are closed, as a player does)",
            self.name,
            way,
            at,
            self.max_gap,
        )
