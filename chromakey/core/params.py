"""The keyer's settings: one frozen, validated dataclass that both paths read.

The numpy reference takes these fields as arguments and the shaders take them
as uniforms of the same names, so a setting cannot mean one thing on the CPU
and another on the GPU.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from .color import parse_color
from .errors import ParameterError
from .quote import quoted

# The clip range is divided by; a narrower one would be a step that float32 cannot express.
MIN_CLIP_GAP = 0.01

# Fields that take whole numbers (pixels); the rest are floats.
INTEGER_FIELDS = frozenset({"choke", "spill_radius", "guide_radius"})

# (low, high) allowed per numeric field, inclusive (read-only: the tuner and the tests read it).
RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "hue_min": (0.0, 360.0),
        "hue_max": (0.0, 360.0),
        "hue_softness": (0.0, 90.0),
        "sat_min": (0.0, 1.0),
        "sat_softness": (0.0, 1.0),
        "sat_max": (0.0, 1.0),
        "dark_guard": (0.0, 0.5),
        "bright_guard": (0.5, 1.0),
        "clip_black": (0.0, 1.0),
        "clip_white": (0.0, 1.0),
        "guide_radius": (0, 16),
        "guide_eps": (1e-5, 1.0),
        "edge_tolerance": (0.01, 1.0),
        "choke": (-10, 10),
        "feather": (0.0, 10.0),
        "spill": (0.0, 1.0),
        "spill_radius": (0, 32),
        "screen_adapt": (0.0, 1.0),
        "still_hold": (0.0, 0.5),
        "screen_noise": (0.0, 0.5),
    }
)

_HELP: dict[str, str] = {
    "hue_min": "lower edge of the screen's hue window, degrees",
    "hue_max": "upper edge of the screen's hue window, degrees (below hue_min wraps through 0)",
    "hue_softness": "width of the soft ramp outside the hue window, degrees",
    "sat_min": "HSL saturation above which a pixel can be screen",
    "sat_softness": "width of the soft ramp below sat_min (and above sat_max)",
    "sat_max": "HSL saturation above which a pixel is too vivid to be this screen (1 = off); "
    "set from the measured screen when it is a pale one, so a saturated lime tie stays",
    "dark_guard": "chroma (max−min of RGB) below which a pixel is never screen: keeps black hair",
    "bright_guard": "lightness above which a pixel stops counting as screen: keeps highlights",
    "clip_black": "matte values below this become 0 away from edges (keys shadows on the screen)",
    "clip_white": "matte values above this become 1 away from edges",
    "guide_radius": "radius in pixels of the luma-guided filter that gives the matte the full-resolution "
    "luma's edges (4:2:0 chroma has half the resolution); 0 turns it off",
    "guide_eps": "luma variance a window needs before the matte follows its luma: "
    "larger keeps more of the chroma matte",
    "edge_tolerance": "local matte range that marks an edge, where clipping is not applied",
    "choke": "pixels to erode (positive) or dilate (negative) the matte",
    "feather": "radius in pixels of the matte's edge blur",
    "spill": "strength of green spill removal, 0 off, 1 full",
    "spill_radius": "pixels from the screen within which any colour may carry spill",
    "still_hold": "the most (0–1) a pixel's shown matte may differ from this frame's where the "
    "picture around it does not move: a still subject's edge then stops shimmering with camera "
    "and codec noise, while a moving one takes each frame's matte; 0 turns the hold off",
    "screen_noise": "the screen's grain: the spread (standard deviation) of its share of the key "
    "colour from pixel to pixel, which the edge test looks past (a grainy screen keys clean); "
    "at least this, raised to what is measured from the frames",
    "screen_adapt": "per-frame weight of a new screen colour estimate (0 freezes the first)",
    "screen": "the screen's family: green (any green, from yellowish to bluish) or blue",
    "auto_hue": "centre the hue window on the measured screen (off when you give --hue-min/--hue-max)",
    "auto_sat": "lower sat_min (and set sat_max) for a pale measured screen (off when you give --sat-min)",
}

# The screen families: the hues a screen of that family can have (where calibration looks
# for it), and the nominal hue window used until one is measured.
SCREEN_FAMILIES: dict[str, dict[str, tuple[float, float]]] = {
    "green": {"search": (60.0, 175.0), "window": (100.0, 140.0)},
    "blue": {"search": (180.0, 270.0), "window": (205.0, 245.0)},
}
# Fields that are not numbers in a range.
_OTHER_FIELDS = frozenset({"screen_color", "screen", "auto_hue", "auto_sat"})


@dataclass(frozen=True)
class KeyerParams:
    """How the screen is recognised, how the matte is refined, how spill is removed."""

    hue_min: float = 100.0
    hue_max: float = 140.0
    hue_softness: float = 15.0
    sat_min: float = 0.40
    sat_softness: float = 0.15
    sat_max: float = 1.0
    dark_guard: float = 0.10
    bright_guard: float = 0.95
    clip_black: float = 0.50
    clip_white: float = 0.90
    guide_radius: int = 4
    guide_eps: float = 1e-3
    edge_tolerance: float = 0.20
    choke: int = 0
    feather: float = 0.0
    spill: float = 1.0
    spill_radius: int = 2
    screen_adapt: float = 0.1
    still_hold: float = 0.15
    screen_noise: float = 0.0
    screen_color: tuple[float, float, float] | None = field(default=None)
    screen: str = "green"
    auto_hue: bool = True
    auto_sat: bool = True

    def __post_init__(self) -> None:
        if self.screen not in SCREEN_FAMILIES:
            raise ParameterError(
                f"screen={quoted(self.screen)} is not a screen family: use one of {', '.join(SCREEN_FAMILIES)}"
            )
        for name in ("auto_hue", "auto_sat"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(
                    f"{name} must be true or false, got {quoted(getattr(self, name))}"
                )
        green = SCREEN_FAMILIES["green"]["window"]
        if self.screen != "green" and (self.hue_min, self.hue_max) == green:
            # The green window is the dataclass default: another family brings its own.
            lo, hi = SCREEN_FAMILIES[self.screen]["window"]
            object.__setattr__(self, "hue_min", lo)
            object.__setattr__(self, "hue_max", hi)
        for f in fields(self):
            if f.name in _OTHER_FIELDS:
                continue
            value = getattr(self, f.name)
            lo, hi = RANGES[f.name]
            integral = f.name in INTEGER_FIELDS
            ok_type = isinstance(value, int) if integral else isinstance(value, (int, float))
            if isinstance(value, bool) or not ok_type:
                kind = "an integer" if integral else "a number"
                raise ParameterError(
                    f"{f.name} must be {kind} in [{lo:g}, {hi:g}], got {quoted(value)}"
                )
            if not (math.isfinite(value) and lo <= value <= hi):
                raise ParameterError(
                    f"{f.name}={quoted(value)} is out of range: use a value in [{lo:g}, {hi:g}] "
                    f"({_HELP[f.name]})"
                )
            if not integral:
                object.__setattr__(self, f.name, float(value))
        if self.clip_white - self.clip_black < MIN_CLIP_GAP:
            raise ParameterError(
                f"clip_black={self.clip_black:g} must be below clip_white={self.clip_white:g} "
                f"by at least {MIN_CLIP_GAP:g}"
            )
        if self.sat_max < self.sat_min:
            raise ParameterError(
                f"sat_max={self.sat_max:g} is below sat_min={self.sat_min:g}: nothing could be "
                "screen; raise sat_max or lower sat_min"
            )
        if self.hue_min == self.hue_max:
            raise ParameterError("hue_min and hue_max are equal: give the hue window a width")
        sc = self.screen_color
        if sc is not None:
            if isinstance(sc, str):
                sc = parse_color(sc)
            elif (
                not isinstance(sc, (tuple, list))
                or len(sc) != 3
                or not all(isinstance(c, (int, float)) and 0.0 <= c <= 1.0 for c in sc)
            ):
                raise ParameterError(
                    f"screen_color must be '#RRGGBB' or three numbers in [0, 1], got {quoted(sc)}"
                )
            object.__setattr__(self, "screen_color", tuple(float(c) for c in sc))

    # The hue window as centre and half-width, so that a window through 0° works.
    @property
    def hue_center(self) -> float:
        return (self.hue_min + self.hue_width / 2.0) % 360.0

    @property
    def hue_width(self) -> float:
        return (self.hue_max - self.hue_min) % 360.0

    @classmethod
    def given(cls, fields_given: dict[str, Any]) -> KeyerParams:
        """The settings a user gave (CLI options, a manifest line), defaults for the rest: a
        hue or saturation window given is kept as given, so calibration no longer moves it."""
        given = dict(fields_given)
        if "hue_min" in given or "hue_max" in given:
            given.setdefault("auto_hue", False)
        if "sat_min" in given or "sat_max" in given:
            given.setdefault("auto_sat", False)
        return cls(**given)

    def replace(self, **changes: Any) -> KeyerParams:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def help(name: str) -> str:
        return _HELP.get(name, "")
