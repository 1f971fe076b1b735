"""The sample's look and its spec: every constant of the scene, the clip's size, rate,
length and seed, and what one frame's truth holds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..core.errors import ParameterError

F32 = np.float32

# --- the look: every constant of the scene lives here ---------------------------------

SCREEN_RGB = (0.02, 0.50, 0.04)  # the screen's colour under average light
SKIN_RGB = (0.86, 0.64, 0.52)
SHIRT_RGB = (0.05, 0.06, 0.11)  # dark navy, near black
COLLAR_RGB = (0.92, 0.92, 0.89)  # a light shirt showing in the jacket's V
LIME_RGB = (0.60, 0.90, 0.10)  # tie, hue ≈ 82.5°
TEAL_RGB = (0.05, 0.60, 0.55)  # badge, hue ≈ 174.5°
HAIR_RGB = (0.04, 0.035, 0.03)  # near-black hair
FEATURE_RGB = (0.14, 0.09, 0.08)  # eyes and brows
MOUTH_RGB = (0.62, 0.32, 0.30)

LIGHT_RANGE = (0.80, 1.10)  # the screen's lighting factor stays inside this (≈ ±15 %)
SHADOW_DEPTH = 0.35  # the cast shadow keeps 65 % of the light
SHADOW_OFFSET = (85.0, 25.0)  # (x, y) in design units (pixels at 720p)
SHADOW_SOFTNESS = 22.0  # half-width of the shadow's soft edge, design units
SPILL_STRENGTH = 0.20  # share of the local screen light added at the very edge
SPILL_FALLOFF = 5.0  # e-folding distance of the spill inward from the edge, design units
NOISE_SIGMA = 1.5 / 255.0
SHUTTER = 0.5  # exposure as a fraction of the frame interval (180° shutter)

# Hair edge: a band outside the hair cap whose density falls off with radius, cut
# into strands by an angular pattern, plus individual flyaways of sub-pixel width.
HAIR_BAND = 0.30  # band width, in units of the hair ellipse's radius
HAIR_STRAND_PERIOD = 2.8  # pixels between strands of the band at the cap's edge
FLYAWAY_BINS = 64  # angular slots for flyaway strands around the head
FLYAWAY_FILL = 0.55  # share of the slots on the top of the head holding a strand
FLYAWAY_LENGTH = (0.12, 0.50)  # in units of the hair ellipse's radius
FLYAWAY_WIDTH = (0.35, 0.90)  # pixels, at the root (strands taper to half)
FLYAWAY_OPACITY = (0.55, 1.0)

# The figure in design units: pixels of a 1280×720 frame, y down, x from the figure's
# centre line; the frame's bottom edge is at y = 720.
_DESIGN_H = 720.0
_HEAD = (0.0, 262.0, 70.0, 90.0)  # ellipse cx, cy, rx, ry
_HAIR = (0.0, 250.0, 80.0, 102.0)  # ellipse around the head
_HAIR_CUT = 277.0  # the hair cap ends at ear level
_FACE = (0.0, 282.0, 62.0, 84.0)  # where the cap leaves skin showing
_NECK = (0.0, 370.0, 30.0, 50.0, 12.0)  # round box cx, cy, half w, half h, corner r
_TORSO = (0.0, 640.0, 250.0, 230.0, 110.0)
_TIE_KNOT = (0.0, 432.0, 15.0, 13.0)
_BADGE = (-130.0, 560.0, 30.0)
_EYES = ((-26.0, 268.0, 9.0, 5.5), (26.0, 268.0, 9.0, 5.5))
_BROWS = ((-27.0, 249.0, 15.0, 3.5), (27.0, 249.0, 15.0, 3.5))
_MOUTH = (0.0, 318.0, 19.0, 5.0)
_FIG_HALF_WIDTH = 250.0 + SHADOW_SOFTNESS + 4.0  # the shadow reads the SDF this far out
_FIG_TOP = _HAIR[1] - _HAIR[3] * (1.0 + FLYAWAY_LENGTH[1] + 0.08)

_SWAY_X = (60.0, 4.0)  # amplitude (design units), period (s) of the figure's sway
_BOB_Y = (8.0, 2.7)
_HEAD_X = (10.0, 3.1)  # the head's own sway on top of the body's

# --- the spec ----------------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class SampleSpec:
    """Size, rate, length and seed of a sample clip; validated on construction."""

    width: int = 1280
    height: int = 720
    fps: float = 30.0
    seconds: float = 5.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, hi in (("width", 7680), ("height", 4320)):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not (16 <= v <= hi) or v % 2:
                raise ParameterError(
                    f"{name} must be an even integer in [16, {hi}] (yuv420p), got {v!r}"
                )
        if not _number(self.fps) or not (math.isfinite(self.fps) and 0 < self.fps <= 240):
            raise ParameterError(f"fps must be a number in (0, 240], got {self.fps!r}")
        if not _number(self.seconds) or not (
            math.isfinite(self.seconds) and 0 < self.seconds <= 3600
        ):
            raise ParameterError(f"seconds must be a number in (0, 3600], got {self.seconds!r}")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ParameterError(f"seed must be an integer >= 0, got {self.seed!r}")

    @property
    def frame_count(self) -> int:
        return max(1, round(self.fps * self.seconds))

    @property
    def rate(self) -> Fraction:
        """The frame rate as the encoder gets it: 29.97 → 30000/1001, 25 → 25, 12.5 → 25/2."""
        ntsc = round(self.fps * 1.001)
        if ntsc > 0 and abs(self.fps * 1001 - ntsc * 1000) < 0.5:
            return Fraction(ntsc * 1000, 1001)
        return Fraction(self.fps).limit_denominator(1001)


@dataclass
class TruthFrame:
    """One frame of the clip and what a perfect keyer would recover from it."""

    index: int
    time: float
    observed: np.ndarray  # H×W×3 float32 in [0, 1]: what the camera sees
    alpha: np.ndarray  # H×W float32 in [0, 1]: subject coverage
    foreground: np.ndarray  # H×W×3 float32: clean subject colour, no spill (0 where alpha is 0)
    # H×W float32: the spill weight k, the share of the unshadowed screen light the subject
    # reflects (observed = a·(F + k·screen) + (1 − a)·shadowed screen + noise); 0 off the subject.
    # No keyer can tell that light from screen seen through the subject: benchmarks use it to
    # measure that floor.
    spill: np.ndarray
