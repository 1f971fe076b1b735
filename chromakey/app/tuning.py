"""Tuning by keyboard in the preview: which key moves which setting, by how much, and the
``chromakey render`` options that reproduce what is on screen."""

from __future__ import annotations

import shlex

from ..color import format_color
from ..core.errors import ParameterError
from ..params import _RANGES, INTEGER_FIELDS, KeyerParams

# key name → (field, step). Steps are added; the result is clamped to the field's range.
KEYS: dict[str, tuple[str, float]] = {
    "LEFT_BRACKET": ("hue_min", -2.0),
    "RIGHT_BRACKET": ("hue_min", +2.0),
    "SEMICOLON": ("hue_max", -2.0),
    "APOSTROPHE": ("hue_max", +2.0),
    "S": ("sat_min", +0.02),
    "X": ("sat_min", -0.02),
    "F": ("feather", +0.5),
    "V": ("feather", -0.5),
    "C": ("choke", +1),
    "D": ("choke", -1),
    "G": ("guide_radius", +1),
    "H": ("guide_radius", -1),
    "P": ("spill", +0.05),
    "O": ("spill", -0.05),
}
# Always printed (the ones the keys move), then any other field that is not the default.
_SHOWN = ("hue_min", "hue_max", "sat_min", "feather", "choke", "guide_radius", "spill")


def render_options(params: KeyerParams, background: str | None) -> str:
    """The settings as ``chromakey render`` options, to copy into a command."""
    defaults = KeyerParams()
    parts = []
    if background is not None:
        parts.append(f"--background {shell_quote(background)}")
    for name in (*_SHOWN, *(n for n in params.as_dict() if n not in _SHOWN)):
        value = getattr(params, name)
        if name not in _SHOWN and value == getattr(defaults, name):
            continue
        if value is None:
            continue
        if name == "screen_color":
            value = format_color(value)
        text = f"{value:g}" if isinstance(value, float) else str(value)
        parts.append(f"--{name.replace('_', '-')} {text}")
    return " ".join(parts)


def shell_quote(text: str) -> str:
    return shlex.quote(text)  # '#' would start a shell comment


def step_param(params: KeyerParams, name: str, delta: float) -> KeyerParams:
    """``params`` with ``name`` moved by ``delta``, clamped into its range; unchanged if the
    result is refused (e.g. hue_min reaching hue_max)."""
    lo, hi = _RANGES[name]
    value = getattr(params, name) + delta
    value = min(max(value, lo), hi)
    value = int(round(value)) if name in INTEGER_FIELDS else round(float(value), 4)
    try:
        return params.replace(**{name: value})
    except ParameterError:
        return params
