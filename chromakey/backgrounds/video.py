"""A video under the subject: decoded on its own thread (``decoder``), timed by a HeyGen play
style (``play``), fitted to the output size (``fit``)."""

from __future__ import annotations

import math
import os
import queue
import time as _time
import weakref
from pathlib import Path

from ..core.errors import InputError
from .base import Background, Picture
from .decoder import EPS, Decoder
from .download import DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES
from .fit import Fitter, check_fit, letterbox_rgb
from .media import MAX_BACKGROUND_PIXELS, Media
from .play import PlayClock, check_play_style

# How long frame_at waits for the decoder: for the first frame, and for each later one.
FIRST_FRAME_WAIT = 10.0
FRAME_WAIT = 1.0


class VideoBackground(Background):
    """A video under the subject, decoded on its own thread, timed by a HeyGen play style.

    The play style's timing is a :class:`PlayClock` (``loop``, ``freeze``, ``fit_to_scene``,
    ``full_video``).

    ``frame_at(t)`` shows the newest frame whose timestamp is ≤ the background
    time for ``t``. It waits for the decoder when it is behind (at most
    ``FIRST_FRAME_WAIT`` s for the first frame, ``frame_wait`` s later), so a
    file render shows the right frame at each time.
    """

    def __init__(
        self,
        location: str | os.PathLike[str] | Media,
        play_style: str = "loop",
        fit: str = "cover",
        letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
        *,
        max_pixels: int = MAX_BACKGROUND_PIXELS,
        max_bytes: int = MAX_DOWNLOAD_BYTES,
        timeout: float = DOWNLOAD_TIMEOUT,
        queue_size: int = 4,
        frame_wait: float = FRAME_WAIT,
    ) -> None:
        self.play_style = check_play_style(play_style)
        self.fit = check_fit(fit)
        self.letterbox = letterbox_rgb(letterbox)
        self._media = (
            location
            if isinstance(location, Media)
            else Media(location, max_pixels=max_pixels, max_bytes=max_bytes, timeout=timeout)
        )
        self.location = self._media.location
        # Frames carry alpha (H×W×4) when the decoder's pixel format has it.
        self.has_alpha = self._media.has_alpha
        self.queue_size = queue_size
        self.frame_wait = float(frame_wait)
        self.clock = PlayClock(self.play_style, self._media.duration)
        self._decoder: Decoder | None = None
        self._size: tuple[int, int] | None = None
        self._current: tuple[float, Picture] | None = None
        self._peek: tuple[float, Picture] | None = None
        self._ended = False
        self._last_target = -math.inf
        self._closed = False

    # -- timing

    @property
    def duration(self) -> float | None:
        return self.clock.duration

    def bind(self, scene_duration: float | None) -> None:
        self.clock.bind(scene_duration)

    def background_time(self, time: float) -> float:
        """The background's own running time shown at output time ``time`` (PlayClock)."""
        return self.clock.background_time(time)

    # -- frames

    def frame_at(self, time: float, width: int, height: int) -> Picture:
        if self._closed:
            raise InputError(f"{self.location}: the background was closed")
        target = self.background_time(time)
        size = (int(width), int(height))
        if self._decoder is None or size != self._size or target < self._last_target - EPS:
            self._restart(size, target)
        self._last_target = target
        decoder = self._decoder
        assert decoder is not None
        decoder.target = target
        wait = FIRST_FRAME_WAIT if self._current is None else self.frame_wait
        deadline = _time.monotonic() + wait
        while True:
            if self._peek is None:
                if self._ended:
                    break
                remaining = deadline - _time.monotonic()
                try:
                    kind, a, b = decoder.queue.get(timeout=max(remaining, 0.0))
                except queue.Empty:
                    break  # the decoder is behind: show what we have, catch up next time
                if kind == "end":
                    self._ended = True
                    break
                if kind == "error":
                    raise a
                self._peek = (a, b)
            if self._current is None or self._peek[0] <= target + EPS:
                self._current, self._peek = self._peek, None
                continue
            break
        if self._current is None:
            raise InputError(
                f"{self.location}: the background video gave no frame within {wait:g} s"
            )
        return self._current[1]

    def _restart(self, size: tuple[int, int], target: float) -> None:
        if self._decoder is not None:
            self._decoder.close()
        self._size = size
        self._current = self._peek = None
        self._ended = False
        fitter = Fitter(size[0], size[1], self.fit, self.letterbox)
        # Weakly: a background dropped without close() lets its thread end instead of leaking it.
        ref = weakref.ref(self)
        self._decoder = Decoder(
            self._media, self.clock, fitter, target, self.queue_size, lambda: ref() is not None
        )

    @property
    def decoding(self) -> bool:
        """A decoder thread is running (a gauge for tests and status)."""
        return self._decoder is not None and self._decoder.thread.is_alive()

    @property
    def downloaded(self) -> Path | None:
        """The temporary copy of a URL background while it is in use, else None."""
        return self._media.temp

    def close(self) -> None:
        self._closed = True
        if self._decoder is not None:
            self._decoder.close()
            self._decoder = None
        self._current = self._peek = None
        self._media.remove()

    def __repr__(self) -> str:
        return (
            f"VideoBackground({self.location!r}, play_style={self.play_style!r}, fit={self.fit!r})"
        )
