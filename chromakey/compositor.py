"""The one frame step that file rendering and live views share: calibrate the screen, take the
background at scene time, key, composite.

The callers keep their own clocks: a file render (``pipeline``) counts scene time from the
first frame and starts a swapped-in video background from its beginning, a live view
(``live``) maps stream time to a wall clock. Both hand the step a frame and a scene time.
Changes (a new background, new keyer settings) arrive from any thread and are applied
between frames, so that a live swap never tears a frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .backgrounds import Background, Layer
from .core.color import InputColour
from .core.errors import ParameterError
from .core.frames import Frame, YuvImage
from .core.params import KeyerParams
from .core.screenmap import ScreenMap
from .keying.calibration import ScreenCalibrator
from .keying.select import Keyer, TextureKeyer

if TYPE_CHECKING:
    import moderngl


class PendingChanges:
    """A new background or keyer settings, handed over from any thread and taken by the
    render thread between frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._background: Background | None = None
        self._params: KeyerParams | None = None

    def put_background(self, background: Background) -> None:
        with self._lock:
            self._background = background

    def put_params(self, params: KeyerParams) -> None:
        with self._lock:
            self._params = params

    def take(self) -> tuple[Background | None, KeyerParams | None]:
        with self._lock:
            taken = self._background, self._params
            self._background = self._params = None
        return taken


class Compositor:
    """Calibrator, background and keyer for one stream, and the step that joins them.

    ``timings`` sums the seconds of each part over the run (``calibrate``, ``key``: the
    background, keying and compositing), for a caller's statistics.
    """

    def __init__(
        self,
        keyer: Keyer,
        background: Background,
        params: KeyerParams,
        input_colour: InputColour | None = None,
    ) -> None:
        self.keyer = keyer
        # The same keyer where its composite can stay in a texture (the GLSL passes), else None.
        self.texture_keyer = keyer if isinstance(keyer, TextureKeyer) else None
        self.input_colour = input_colour or InputColour()
        self.background = background
        self.params = params
        self.calibrator = ScreenCalibrator(params)
        self.timings = {"calibrate": 0.0, "key": 0.0}
        self._pending = PendingChanges()

    # --- changes, from any thread ---------------------------------------------------------

    def set_background(self, background: Background) -> None:
        """Use ``background`` from the next frame on (the old one is closed then)."""
        self._pending.put_background(background)

    def set_params(self, params: KeyerParams) -> None:
        """New keyer settings from the next frame on (checked now: a wrong type would only
        fail on the render thread, a frame later)."""
        if not isinstance(params, KeyerParams):
            raise ParameterError(f"params must be a KeyerParams, got {type(params).__name__}")
        self._pending.put_params(params)

    def apply_pending(self, bind: Callable[[Background], Any]) -> bool:
        """Between frames, on the render thread: take what was set since the last frame
        (``bind`` readies a new background: its scene duration). True when anything changed."""
        background, params = self._pending.take()
        if background is not None:
            old, self.background = self.background, background
            bind(background)
            if old is not background:
                old.close()
        if params is not None:
            self.params = params
            self.keyer.set_params(params)
            self.calibrator.set_params(params)
        return background is not None or params is not None

    # --- the frame step, on the render thread -----------------------------------------------

    def _prepare(self, frame: Frame, scene_time: float) -> tuple[ScreenMap, Layer, float]:
        """The screen measured on ``frame``, the background at ``scene_time``, and when the
        calibration ended (the keying time counts from there, the background's included).
        The user's ``input_colour`` is put on the frame first: every keyer reads it there."""
        frame.yuv = self.input_colour.apply(frame.yuv)
        t0 = time.perf_counter()
        screen = self.calibrator.update(frame)  # a ScreenMap: a colour per block of the frame
        t1 = time.perf_counter()
        self.timings["calibrate"] += t1 - t0
        return screen, self.background.frame_at(scene_time, frame.width, frame.height), t1

    def step(
        self, frame: Frame, scene_time: float, *, pixel_format: str | None = None
    ) -> np.ndarray | YuvImage:
        """One frame keyed and composited over the background at ``scene_time``: an image in
        ``pixel_format`` where the keyer writes it, else uint8 RGB(A)."""
        screen, layer, t1 = self._prepare(frame, scene_time)
        image = self.keyer.render(frame, screen, layer, pixel_format=pixel_format)
        self.timings["key"] += time.perf_counter() - t1
        return image

    def step_texture(self, frame: Frame, scene_time: float) -> moderngl.Texture:
        """The same step into the keyer's texture (no read-back); only where the keyer is a
        :class:`TextureKeyer` (``texture_keyer``)."""
        keyer = self.texture_keyer
        if keyer is None:
            raise TypeError(f"{type(self.keyer).__name__} renders no texture; use step()")
        screen, layer, t1 = self._prepare(frame, scene_time)
        tex = keyer.render_texture(frame, screen, layer)
        self.timings["key"] += time.perf_counter() - t1
        return tex
