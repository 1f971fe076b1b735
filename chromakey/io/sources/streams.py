"""How a network stream is opened and reported: FFmpeg's options per protocol (timeouts,
reconnects, low latency) and the status a user interface shows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# Demuxer options for live pictures: no input buffering, low-delay decoding, a small probe.
LOW_LATENCY = {
    "fflags": "nobuffer",
    "flags": "low_delay",
    "probesize": "500000",  # bytes
    "analyzeduration": "1000000",  # µs
}


def stream_options(
    url: str, *, io_timeout: float = 5.0, low_latency: bool = True
) -> dict[str, str]:
    """FFmpeg options for opening ``url``: timeouts (µs), reconnects, low latency."""
    scheme = url.split("://", 1)[0].lower()
    us = str(int(io_timeout * 1_000_000))
    opts = dict(LOW_LATENCY) if low_latency else {}
    opts["rw_timeout"] = us  # any protocol's read/write
    if scheme in ("http", "https"):
        # nobuffer drops the packets read while probing: over HTTP (HLS, a progressive file,
        # possibly on demand) that is the start of the video, so it is kept.
        opts.pop("fflags", None)
        opts |= {
            "timeout": us,  # the socket's, µs
            "reconnect": "1",
            "reconnect_streamed": "1",
            "reconnect_on_network_error": "1",
            "reconnect_delay_max": "2",  # s; our own backoff takes over beyond a stall
        }
    elif scheme in ("rtsp", "rtsps"):
        opts |= {"timeout": us, "rtsp_transport": "tcp"}
    elif scheme in ("srt", "udp", "tcp"):
        opts["timeout"] = us
        if scheme == "udp":
            opts |= {"overrun_nonfatal": "1", "fifo_size": "50000"}
    # rtmp(s): "timeout" would put FFmpeg's RTMP client into listen mode; rw_timeout only.
    return opts


@dataclass(frozen=True)
class NetworkStatus:
    """A snapshot of a network source's health."""

    state: str
    reconnects: int
    attempts: int
    last_gap: float | None
    last_error: str | None
    since_packet: float | None

    @classmethod
    def of(cls, source: Any, last_packet: float | None) -> NetworkStatus:
        """The status of a live source (its state, reconnects, attempts, last gap and error),
        ``last_packet`` its last media's time.monotonic()."""
        return cls(
            state=source.state,
            reconnects=source.reconnects,
            attempts=source.attempts,
            last_gap=source.last_gap,
            last_error=source.last_error,
            since_packet=None if last_packet is None else time.monotonic() - last_packet,
        )

    def summary(self) -> str:
        text = self.state
        if self.reconnects:
            text += f", {self.reconnects} reconnects"
        if self.last_gap is not None:
            text += f", last gap {self.last_gap:.1f} s"
        return text
