"""How a video background's own time follows the scene's, by HeyGen's play styles."""

from __future__ import annotations

from typing import Literal, get_args

from ..core.errors import ParameterError
from ..core.quote import quoted

PlayStyle = Literal["loop", "freeze", "fit_to_scene", "full_video"]
PLAY_STYLES: tuple[PlayStyle, ...] = get_args(PlayStyle)


def check_play_style(play_style: object) -> PlayStyle:
    if play_style not in PLAY_STYLES:
        raise ParameterError(
            f"play_style {quoted(play_style)} is not known; use one of {', '.join(PLAY_STYLES)}"
        )
    return play_style


class PlayClock:
    """The background time shown at each output time, for one play style.

    ``loop`` repeats the video; ``freeze`` stops on its last frame; ``fit_to_scene``
    retimes it to the foreground's duration (from :meth:`bind`; with no known duration it
    loops); ``full_video`` plays it once and holds its last frame (the pipeline runs on
    until the longer of the two ends). Shared by the background and its decoder thread,
    which measures the length of one pass where the header had none.
    """

    def __init__(self, style: str, duration: float | None) -> None:
        self.style = check_play_style(style)
        self.duration = duration
        self.period = duration or 0.0  # seconds of one lap, as measured so far
        self.scene: float | None = None

    def bind(self, scene_duration: float | None) -> None:
        self.scene = scene_duration if scene_duration and scene_duration > 0 else None

    @property
    def loops(self) -> bool:
        return self.style == "loop" or (self.style == "fit_to_scene" and not self.scene)

    def learn_end(self, end: float) -> None:
        """The decoder's measure of one pass, when the header had none."""
        if end > 0 and not self.duration:
            self.duration = end
            self.period = end

    def background_time(self, time: float) -> float:
        """The background's own running time shown at output time ``time``.

        For ``loop`` this keeps counting past the end (lap k is k·duration later); the frame
        shown is the one at that time modulo the duration.
        """
        t = max(float(time), 0.0)
        if self.style == "fit_to_scene" and self.scene and self.duration:
            return t * self.duration / self.scene
        return t
