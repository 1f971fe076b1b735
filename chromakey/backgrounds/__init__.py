"""What the subject is composited over: a colour, an image, a video, or nothing.

The flow: ``spec`` parses what the user wrote (CLI text, HeyGen JSON); ``download`` fetches
URLs; ``media`` opens and checks a file; ``fit`` scales pictures to the output; ``image`` and
``video`` (with its ``decoder`` thread and ``play`` styles) are the layers; ``base`` has the
contract and the layer types a background gives per frame.
"""

from .base import (
    CLEAR,
    Background,
    Clear,
    ColorBackground,
    Layer,
    Picture,
    Solid,
    TransparentBackground,
)
from .download import DOWNLOAD_DEADLINE, DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES, download
from .fit import FITS, check_fit
from .image import ImageBackground
from .media import MAX_BACKGROUND_PIXELS
from .play import PLAY_STYLES, PlayClock, check_play_style
from .spec import MAX_JSON_BYTES, BackgroundSpec, open_media_background, parse_background
from .video import FIRST_FRAME_WAIT, FRAME_WAIT, VideoBackground

__all__ = [
    "CLEAR",
    "DOWNLOAD_DEADLINE",
    "DOWNLOAD_TIMEOUT",
    "FIRST_FRAME_WAIT",
    "FITS",
    "FRAME_WAIT",
    "MAX_BACKGROUND_PIXELS",
    "MAX_DOWNLOAD_BYTES",
    "MAX_JSON_BYTES",
    "PLAY_STYLES",
    "Background",
    "BackgroundSpec",
    "Clear",
    "ColorBackground",
    "ImageBackground",
    "Layer",
    "Picture",
    "PlayClock",
    "Solid",
    "TransparentBackground",
    "VideoBackground",
    "check_fit",
    "check_play_style",
    "download",
    "open_media_background",
    "parse_background",
]
