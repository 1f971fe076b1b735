"""What the subject is composited over: a colour, or nothing (transparent output)."""

from __future__ import annotations

import json

import numpy as np

from .color import format_color, parse_color
from .errors import ParameterError


class Background:
    """A layer under the subject; ``frame_at`` gives its pixels for one output time."""

    transparent = False

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray | None:
        raise NotImplementedError

    @property
    def duration(self) -> float | None:
        """None for still layers; a video's length in seconds."""
        return None

    def bind(self, scene_duration: float | None) -> None:
        """Told the foreground's duration before the first frame (fit_to_scene needs it)."""

    def close(self) -> None:
        pass


class ColorBackground(Background):
    def __init__(self, rgb: tuple[float, float, float]) -> None:
        self.rgb = np.asarray(rgb, np.float32)

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray:
        return self.rgb

    def __repr__(self) -> str:
        return f"ColorBackground({format_color(tuple(self.rgb))!r})"


class TransparentBackground(Background):
    transparent = True

    def frame_at(self, time: float, width: int, height: int) -> None:
        return None

    def __repr__(self) -> str:
        return "TransparentBackground()"


def parse_background(
    spec: str | dict | Background, *, fit: str | None = None, play_style: str | None = None
) -> Background:
    """A background from a CLI/API spec: ``#RRGGBB``, a CSS name, ``transparent``, or HeyGen's JSON."""
    if isinstance(spec, Background):
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text.startswith("{"):
            try:
                spec = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ParameterError(
                    f"background JSON is malformed: {exc.msg} at character {exc.pos}"
                ) from exc
        elif text.lower() == "transparent":
            return TransparentBackground()
        else:
            return ColorBackground(parse_color(text))
    if isinstance(spec, dict):
        kind = spec.get("type")
        if kind == "color":
            if "value" not in spec:
                raise ParameterError(
                    'background {"type": "color"} needs a "value" such as "#FAFAFA"'
                )
            return ColorBackground(parse_color(spec["value"]))
        if kind == "transparent":
            return TransparentBackground()
        raise ParameterError(
            f"background type {kind!r} is not supported; use 'color' or 'transparent'"
        )
    raise ParameterError(
        f"background must be a colour, 'transparent' or a JSON object, got {spec!r}"
    )
