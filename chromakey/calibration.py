"""The screen colour, measured from the frames and kept steady over time.

A real stream's green is rarely the nominal #008000: lighting, the avatar
service and the encoder all move it. Both paths take the estimate from here,
so the CPU and the GPU key against the same colour on the same frame.
"""

from __future__ import annotations

import math

import numpy as np

from . import cpu
from .color import rgb_to_hsl
from .frames import Frame
from .params import KeyerParams

SAMPLES = 16384  # pixels looked at per frame; enough for a stable median, cheap at 8K


def sample_rgb(frame: Frame) -> np.ndarray:
    """A sparse grid of the frame's pixels in RGB, converted as the keyer converts them."""
    step = max(2, 2 * round(math.sqrt(frame.width * frame.height / SAMPLES) / 2))
    if frame.layout == "rgb":
        return cpu.decode_rgb(Frame.from_rgb(frame.planes[0][::step, ::step]))
    y, u, v = frame.planes
    fx, fy = frame.chroma_factors
    ys = y[::step, ::step]
    us = u[:: step // fy, :: step // fx][: ys.shape[0], : ys.shape[1]]
    vs = v[:: step // fy, :: step // fx][: ys.shape[0], : ys.shape[1]]
    return cpu.decode_rgb(Frame.from_yuv(ys, us, vs, frame.yuv))


def default_screen(p: KeyerParams) -> np.ndarray:
    """A fully saturated colour at the hue window's centre and lightness 0.25 (#008000 for green)."""
    rgb = np.zeros(3, np.float32)
    rgb[cpu.key_channel(p)] = 0.5
    return rgb


def estimate_screen(rgb: np.ndarray, p: KeyerParams) -> np.ndarray | None:
    """The median colour of the well-lit half of the pixels that are clearly screen."""
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    member = cpu.screen_membership(cpu.hue_membership(hue, p), sat, light, chroma, p)
    screen = member > 0.9
    count = int(screen.sum())
    if count < max(32, rgb.shape[0] * rgb.shape[1] // 100):
        return None
    pixels = rgb[screen]
    excess = cpu.key_excess(pixels, cpu.key_channel(p))
    lit = pixels[excess >= np.median(excess)]
    return np.median(lit, axis=0).astype(np.float32)


class ScreenCalibrator:
    """Follows the screen colour with an exponential average; a user's colour overrides it."""

    def __init__(self, params: KeyerParams) -> None:
        self.params = params
        self.screen: np.ndarray | None = None

    def set_params(self, params: KeyerParams) -> None:
        if (params.hue_min, params.hue_max) != (self.params.hue_min, self.params.hue_max):
            self.screen = None
        self.params = params

    def update(self, frame: Frame) -> np.ndarray:
        p = self.params
        if p.screen_color is not None:
            return np.asarray(p.screen_color, np.float32)
        if self.screen is not None and p.screen_adapt == 0.0:
            return self.screen
        estimate = estimate_screen(sample_rgb(frame), p)
        if estimate is not None:
            if self.screen is None:
                self.screen = estimate
            else:
                self.screen = self.screen + np.float32(p.screen_adapt) * (estimate - self.screen)
        return self.screen if self.screen is not None else default_screen(p)
