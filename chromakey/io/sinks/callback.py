"""Composited frames handed to a Python function: the numpy end of the pipeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...core.frames import YuvImage
from .base import Sink, rgb_image


class CallbackSink(Sink):
    """Hands each composited frame to a Python function: ``fn(image, time)``."""

    def __init__(self, fn: Callable[[np.ndarray, float], Any], *, alpha: bool = False) -> None:
        self.fn = fn
        self.pixel_format = "rgba" if alpha else "rgb24"

    def write(self, image: np.ndarray | YuvImage, time: float) -> None:
        self.fn(rgb_image(image), time)
