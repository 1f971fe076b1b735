"""What a user writes for a background — ``#RRGGBB``, a CSS name, ``transparent``, an image or
video path or http(s) URL, HeyGen's JSON object — turned into a Background."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.color import CSS_COLORS, parse_color
from ..core.errors import InputNotFoundError, ParameterError
from ..core.jsontext import loads, nested_deeper
from ..core.quote import quoted, shown
from ..io.locations import DOWNLOAD_SCHEMES, check_url, path_exists, scheme
from ..io.names import check_path
from .base import Background, ColorBackground, TransparentBackground
from .fit import Fit, check_fit
from .image import ImageBackground
from .media import Media
from .play import PlayStyle, check_play_style
from .video import VideoBackground

# A background JSON file is small; anything bigger is not one.
MAX_JSON_BYTES = 1024 * 1024


def open_media_background(
    location: str | os.PathLike[str],
    *,
    fit: Fit | None = None,
    play_style: PlayStyle | None = None,
    letterbox: str | tuple[float, float, float] = (0.0, 0.0, 0.0),
    kind: str | None = None,
) -> Background:
    """An image or a video background from a path or URL; ``kind`` forces one, else PyAV decides."""
    media = Media(location)
    try:
        if kind == "image" or (kind is None and media.is_image):
            return ImageBackground(media, fit or "cover", letterbox)
        return VideoBackground(media, play_style or "loop", fit or "cover", letterbox)
    except BaseException:
        media.remove()
        raise


_HINT = (
    "use #RRGGBB, a CSS colour name, 'transparent', an image or video path or http(s) URL, "
    'or JSON such as {"type": "color", "value": "#FAFAFA"}'
)


# What parse_background takes: CLI text, a file's path, HeyGen's JSON (parsed), or a layer.
BackgroundSpec = str | os.PathLike[str] | dict[str, Any] | Background


def parse_background(
    spec: BackgroundSpec,
    *,
    fit: Fit | None = None,
    play_style: PlayStyle | None = None,
) -> Background:
    """A background from a CLI/API spec.

    ``#RRGGBB`` / ``#RGB`` / a CSS name, ``transparent``, an image or video path
    or http(s) URL, HeyGen's JSON object (a dict, inline text, or a ``.json``
    file), or a ``Background`` as is. ``fit`` and ``play_style`` (the CLI's
    ``--fit`` and ``--play-style``) apply to image and video specs; in JSON
    they fill in what the object does not say. Besides HeyGen's keys, an image
    or video object may give ``"letterbox"``: the colour of ``contain``'s bars.
    A relative path inside a ``.json`` file is relative to that file.
    """
    if fit is not None:
        check_fit(fit)
    if play_style is not None:
        check_play_style(play_style)
    if isinstance(spec, Background):
        return spec
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
        if spec.lower().endswith(".json"):
            return _from_json_file(spec, fit, play_style)
        return open_media_background(spec, fit=fit, play_style=play_style)
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise ParameterError(f"the background is empty; {_HINT}")
        if text.startswith("{"):
            return _from_dict(_loads(text, "background JSON"), fit, play_style, None)
        if text.lower() == "transparent":
            return TransparentBackground()
        if text.startswith("#") or text.lower() in CSS_COLORS:
            return ColorBackground(parse_color(text))
        if scheme(text) is not None:
            check_url(text, DOWNLOAD_SCHEMES, what="a background")
            return open_media_background(text, fit=fit, play_style=play_style)
        if text.lower().endswith(".json"):
            return _from_json_file(text, fit, play_style)
        if not path_exists(text) and "/" not in text and "." not in text:
            raise ParameterError(
                f"invalid colour {quoted(text)} (and no such file) for the background; {_HINT}"
            )
        return open_media_background(text, fit=fit, play_style=play_style)
    if isinstance(spec, dict):
        return _from_dict(spec, fit, play_style, None)
    raise ParameterError(
        f"background must be a string, a JSON object or a Background, got {quoted(spec)}"
    )


_EXAMPLE = '{"type": "image", "url": "https://…/bg.png"}'


def _loads(text: str, what: str) -> Any:
    return loads(text, what, _EXAMPLE)


def _read_json_file(path: str) -> Any:
    p = Path(check_path(path, what="the background"))
    if not p.is_file():
        raise InputNotFoundError(f"{shown(path)}: no such file; check the path")
    if p.stat().st_size > MAX_JSON_BYTES:
        raise ParameterError(
            f"{shown(path)}: too large for a background JSON file; it holds one object"
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"{shown(path)}: not UTF-8 text; a background JSON file is text"
        ) from exc
    return _loads(text, shown(path))


def _from_json_file(path: str, fit: str | None, play_style: str | None) -> Background:
    return _from_dict(_read_json_file(path), fit, play_style, Path(path).resolve().parent)


def background_files(spec: Any) -> list[str]:
    """The local files a background spec reads: a media path, a ``.json`` file and the file
    it names. An output must never be one of them (io.safety); a spec that does not parse
    names none here, and parse_background says what is wrong with it."""
    if isinstance(spec, Background):
        spec = getattr(spec, "location", None)  # an image or video background's file
    if isinstance(spec, os.PathLike):
        spec = os.fspath(spec)
    try:
        if isinstance(spec, dict):
            return _object_files(spec, None)
        if not isinstance(spec, str):
            return []
        text = spec.strip()
        if not text or text.lower() == "transparent" or text.startswith("#") or scheme(text):
            return []
        if text.startswith("{"):
            return _object_files(_loads(text, "background JSON"), None)
        if text.lower().endswith(".json"):
            return [text, *_json_file_files(text)]
        return [] if text.lower() in CSS_COLORS and not path_exists(text) else [text]
    except (ParameterError, InputNotFoundError, OSError):
        return []


def _json_file_files(path: str) -> list[str]:
    try:
        return _object_files(_read_json_file(path), Path(path).resolve().parent)
    except (ParameterError, InputNotFoundError, OSError):
        return []


def _object_files(spec: Any, base: Path | None) -> list[str]:
    if not isinstance(spec, dict) or str(spec.get("type", "")).lower() not in ("image", "video"):
        return []
    loc = _media_location(spec, str(spec["type"]).lower(), base)
    return [] if scheme(loc) is not None else [loc]


def _media_location(spec: dict[str, Any], kind: str, base: Path | None) -> str:
    loc = spec.get("url", spec.get("path"))
    if loc is None:
        asset = spec.get(f"{kind}_asset_id")
        extra = " (HeyGen asset ids only work inside HeyGen)" if asset else ""
        raise ParameterError(
            f'background {{"type": "{kind}"}} needs a "url": an http(s) URL or a file path{extra}'
        )
    if not isinstance(loc, str) or not loc.strip():
        raise ParameterError(
            f'background {kind} "url" must be a non-empty string (a URL or a path), got {quoted(loc)}'
        )
    loc = loc.strip()
    if base is not None and scheme(loc) is None and not Path(loc).is_absolute():
        loc = str(base / loc)  # a path in a .json file is relative to that file
    return loc


def _from_dict(spec: Any, fit: str | None, play_style: str | None, base: Path | None) -> Background:
    if nested_deeper(spec):
        raise ParameterError("background JSON nests too deeply; write it like " + _EXAMPLE)
    if not isinstance(spec, dict):
        raise ParameterError(
            f'background JSON must be an object like {{"type": "color", "value": "#FAFAFA"}}, '
            f"got {type(spec).__name__}"
        )
    kinds = "color, image, video or transparent"
    if "type" not in spec:
        raise ParameterError(f'background JSON needs a "type": {kinds}')
    kind = spec["type"]
    if not isinstance(kind, str) or kind.lower() not in (
        "color",
        "colour",
        "image",
        "video",
        "transparent",
    ):
        raise ParameterError(f"background type {quoted(kind)} is not supported; use {kinds}")
    kind = "color" if kind.lower() == "colour" else kind.lower()
    if kind == "transparent":
        return TransparentBackground()
    if kind == "color":
        if "value" not in spec:
            raise ParameterError('background {"type": "color"} needs a "value" such as "#FAFAFA"')
        value = spec["value"]
        if not isinstance(value, str):
            raise ParameterError(
                f'background color "value" must be a string such as "#FAFAFA", got {quoted(value)}'
            )
        return ColorBackground(parse_color(value))
    loc = _media_location(spec, kind, base)
    obj_fit = spec.get("fit", fit)
    if obj_fit is not None:
        check_fit(obj_fit)
    letterbox = spec.get("letterbox", (0.0, 0.0, 0.0))
    if kind == "image":
        return open_media_background(loc, fit=obj_fit, letterbox=letterbox, kind="image")
    style = spec.get("play_style", play_style)
    if style is not None:
        check_play_style(style)
    return open_media_background(
        loc, fit=obj_fit, play_style=style, letterbox=letterbox, kind="video"
    )
