"""Pushing the composite over SRT: ``-o srt://HOST:PORT`` as MPEG-TS (H.264 and AAC).

The FFmpeg inside PyAV is built without libsrt, so where it lacks the protocol the stream is
handed to the ``ffmpeg`` command (Debian's has libsrt), which copies it to the SRT server
unchanged: one relay process a connection, fed MPEG-TS on its standard input. Everything
else is the RTMP push's (:class:`chromakey.io.sinks.stream.StreamSink`): the source's pace,
reconnecting with backoff when the server goes away, one StreamError line when it refuses or
stays away. The relay says when it has connected (its ``Output #0`` line); one that exits
before that was refused, and its reason is shown.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from typing import Any

import av

from ...core.errors import ParameterError, StreamError
from .stream import RECONNECT_MAX, StreamSink

__all__ = ["SrtSink", "check_srt", "srt_available"]

RELAY_PROBE = "200000"  # bytes and µs the relay probes its input for: a few frames
CLOSE_WAIT = 10.0  # s for the relay to send what it holds when the stream ends


def srt_available() -> bool:
    """Whether the FFmpeg inside PyAV has the SRT protocol (libsrt)."""
    try:
        c = av.open("srt://127.0.0.1:9", "w", format="mpegts")
        s = c.add_stream("mpeg2video", rate=1)
        s.width = s.height = 16
        c.start_encoding()
    except av.error.ProtocolNotFoundError:
        return False
    except Exception:  # noqa: BLE001 - anything else means the protocol is there
        return True
    return True


def _relay_command() -> str | None:
    """The ffmpeg command, where it has the SRT protocol."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "-hide_banner", "-protocols"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None
    outputs = done.stdout.split("Output:", 1)[-1].split()
    return exe if "srt" in outputs else None


def check_srt(location: str) -> None:
    """Refuse ``srt://`` where neither PyAV's FFmpeg nor an ``ffmpeg`` command can send it."""
    if not srt_available() and _relay_command() is None:
        raise ParameterError(
            f"{location}: this build's FFmpeg (inside PyAV) has no SRT protocol (libsrt), and no "
            "ffmpeg command with it was found; install ffmpeg (Debian's has libsrt) or push to "
            "rtmp:// instead"
        )


class _Relay:
    """``ffmpeg`` copying MPEG-TS from its standard input to the SRT server."""

    def __init__(self, exe: str, url: str) -> None:
        self.proc = subprocess.Popen(
            [exe, "-hide_banner", "-loglevel", "info", "-probesize", RELAY_PROBE,
             "-analyzeduration", RELAY_PROBE, "-f", "mpegts", "-i", "pipe:0", "-map", "0",
             "-c", "copy", "-f", "mpegts", url],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        self.connected = threading.Event()
        self.said = ""  # its last error line
        threading.Thread(target=self._read, daemon=True, name="chromakey-srt-relay").start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").strip()
            if line.startswith("Output #0"):
                self.connected.set()
            elif "rror" in line or "failed" in line or "refused" in line:
                self.said = line

    @property
    def ended(self) -> bool:
        return self.proc.poll() is not None

    def why(self) -> str:
        return self.said or f"the relay ended with status {self.proc.returncode}"

    def finish(self, wait: float) -> None:
        """Its input closed: it sends what it holds and ends (killed after ``wait`` s)."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()


class SrtSink(StreamSink):
    """The composite as MPEG-TS (H.264 yuv420p BT.709, AAC) pushed to an SRT server."""

    container_format = "mpegts"

    def __init__(self, url: str, width: int, height: int, **kwargs: Any) -> None:
        check_srt(url)
        self._exe = None if srt_available() else _relay_command()
        self._relay: _Relay | None = None
        self._ever_connected = False
        self._outage: float | None = None  # when the connection was last lost
        super().__init__(url, width, height, **kwargs)

    def _open_container(self) -> Any:
        if self._exe is None:
            return av.open(self.url, "w", format=self.container_format)
        self._relay = relay = _Relay(self._exe, self.url)
        assert relay.proc.stdin is not None
        return av.open(relay.proc.stdin, "w", format=self.container_format)

    def _refused(self, relay: _Relay) -> StreamError:
        relay.finish(CLOSE_WAIT)  # let it say why
        return StreamError(f"{self.url}: the server refused the stream ({relay.why()})")

    def _mux(self, packets: Any) -> None:
        relay = self._relay
        if relay is not None and self._container is not None:
            if relay.connected.is_set():
                self._ever_connected = True
                self._outage = None
            elif relay.ended and not self._ever_connected:
                raise self._refused(relay)
            if relay.ended:
                self._lost(OSError(relay.why()))
                return
        super()._mux(packets)

    def _lost(self, exc: BaseException) -> None:
        relay = self._relay
        came_up = relay is not None and relay.connected.is_set()
        if relay is not None and not self._ever_connected and not came_up:
            raise self._refused(relay)  # the first connection never came up: refused
        outage, backoff = self._outage, self._backoff
        super()._lost(exc)
        if relay is not None:
            relay.kill()
            self._relay = None
        if came_up or outage is None:
            self._outage = self._down_since  # a new outage starts
        else:
            # A relay that never connected is a failed reconnect, not a new outage: the give-up
            # clock and the backoff go on from the outage's start.
            self._down_since = outage
            self._backoff = min(2 * backoff, RECONNECT_MAX)
            self._retry_at = self.clock() + self._backoff

    def close(self) -> None:
        relay = self._relay
        super().close()
        if relay is not None:
            relay.finish(CLOSE_WAIT)
            if not relay.connected.is_set() and not self._ever_connected:
                raise self._refused(relay)

    def abort(self) -> None:
        super().abort()
        if self._relay is not None:
            self._relay.kill()
            self._relay = None
