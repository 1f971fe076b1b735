"""Colour parsing, YUV↔RGB matrices and RGB↔HSL: the single home of colour constants."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .errors import ParameterError
from .quote import quoted

# Luma coefficients (Kr, Kb) per matrix.
LUMA_COEFFICIENTS: dict[str, tuple[float, float]] = {
    "bt601": (0.299, 0.114),
    "bt709": (0.2126, 0.0722),
    "bt2020": (0.2627, 0.0593),
}

MATRICES = tuple(LUMA_COEFFICIENTS)
RANGES = ("limited", "full")
# Where 4:2:0 and 4:2:2 chroma samples sit across, FFmpeg's names: "left", co-sited with the
# even luma columns (H.264's and MPEG-2's default, what an untagged stream is taken as), or
# "center", between two columns (JPEG and MPEG-1; what swscale's and libyuv's RGB → YUV
# conversions write). Vertically both sit between two rows.
CHROMA_SITINGS = ("left", "center")

# FFmpeg's AVColorSpace values that name a matrix we know.
_AVCOL_SPC = {1: "bt709", 5: "bt601", 6: "bt601", 9: "bt2020", 10: "bt2020"}
_AVCOL_RANGE_MPEG = 1  # AVCOL_RANGE_MPEG: limited, stated
_AVCOL_RANGE_FULL = 2  # AVCOL_RANGE_JPEG


@dataclass(frozen=True)
class YuvSpec:
    """How a YUV frame's numbers map to RGB, and where its chroma samples sit."""

    matrix: str = "bt709"
    full_range: bool = False
    chroma_siting: str = "left"

    @property
    def centred(self) -> bool:
        """Whether subsampled chroma sits between two luma columns (CHROMA_SITINGS)."""
        return self.chroma_siting == "center"

    @property
    def sws_colorspace(self) -> str:
        """The matrix as swscale (PyAV's reformat) names it."""
        return {"bt709": "ITU709", "bt601": "ITU601", "bt2020": "BT2020"}[self.matrix]

    @property
    def sws_range(self) -> str:
        """The range as swscale names it: JPEG full, MPEG limited."""
        return "JPEG" if self.full_range else "MPEG"

    @classmethod
    def for_frame(
        cls,
        colorspace: int,
        color_range: int,
        width: int,
        height: int,
        untagged: YuvSpec | None = None,
    ) -> YuvSpec:
        """Matrix and range from FFmpeg's tags. What a tag leaves unsaid comes from
        ``untagged`` where the caller knows its publishers (WebRTC), else from the size:
        untagged HD is BT.709, SD BT.601, both limited range (as mpv). The chroma siting is
        never read from a stream (PyAV exposes no chroma location): ``untagged``'s, else
        H.264's."""
        matrix = _AVCOL_SPC.get(int(colorspace))
        if matrix is None:
            if untagged is not None:
                matrix = untagged.matrix
            else:
                matrix = "bt709" if (width >= 1280 or height > 576) else "bt601"
        siting = untagged.chroma_siting if untagged is not None else "left"
        rng = int(color_range)
        if rng not in (_AVCOL_RANGE_MPEG, _AVCOL_RANGE_FULL) and untagged is not None:
            return cls(matrix, untagged.full_range, siting)
        return cls(matrix, rng == _AVCOL_RANGE_FULL, siting)

    @staticmethod
    def tagged(colorspace: int, color_range: int) -> bool:
        """Whether FFmpeg's tags state a matrix or a range at all."""
        return int(colorspace) in _AVCOL_SPC or int(color_range) in (
            _AVCOL_RANGE_MPEG,
            _AVCOL_RANGE_FULL,
        )

    def describe(self) -> str:
        return f"{self.matrix} {'full' if self.full_range else 'limited'} range"

    def to_rgb(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, offset) with rgb = M @ (yuv − offset), all in 0–1 units."""
        kr, kb = LUMA_COEFFICIENTS[self.matrix]
        kg = 1.0 - kr - kb
        if self.full_range:
            ys, cs, y0 = 1.0, 1.0, 0.0
        else:
            ys, cs, y0 = 255.0 / 219.0, 255.0 / 224.0, 16.0 / 255.0
        m = np.array(
            [
                [ys, 0.0, cs * 2 * (1 - kr)],
                [ys, -cs * 2 * (1 - kb) * kb / kg, -cs * 2 * (1 - kr) * kr / kg],
                [ys, cs * 2 * (1 - kb), 0.0],
            ],
            dtype=np.float64,
        )
        return m, np.array([y0, 128.0 / 255.0, 128.0 / 255.0])

    def from_rgb(self) -> tuple[np.ndarray, np.ndarray]:
        """(M, offset) with yuv = M @ rgb + offset: the exact inverse of ``to_rgb``."""
        m, off = self.to_rgb()
        return _inverse3(m), off


def _inverse3(m: np.ndarray) -> np.ndarray:
    """A 3×3 inverse by its adjugate: numpy's ``linalg.inv`` calls LAPACK, whose OpenBLAS
    threads then spin on the other core for a tenth of a second, during start-up."""
    adj = np.array([np.cross(m[1], m[2]), np.cross(m[2], m[0]), np.cross(m[0], m[1])]).T
    return np.asarray(adj / float((m[0] * adj[:, 0]).sum()), dtype=np.float64)


# What an untagged WebRTC frame is taken to be (no VUI, no RTP colour-space extension):
# measured from the publishers that send one (README, "Colour from WebRTC publishers";
# benchmarks/webrtc_colour.py). Browsers convert their canvas and camera to I420 this way;
# the canvas's chroma is centred (libyuv's), as FFmpeg's (swscale's) is.
WEBRTC_UNTAGGED = YuvSpec("bt709", True, "center")
# What a browser shows an untagged WebRTC frame as: Chromium, the viewer of examples/web/,
# shows VP8 as BT.601 limited range (tests/test_whep_output.py measured the three choices:
# only this one keeps a drawn colour within 8 levels). The WHEP output encodes this way.
WEBRTC_DISPLAYED = YuvSpec("bt601", False)


@dataclass(frozen=True)
class InputColour:
    """The user's word on what a source's YUV numbers mean (``--input-matrix``,
    ``--input-range``, ``--input-chroma-siting``): it overrides any tag and any default, part
    by part."""

    matrix: str | None = None
    full_range: bool | None = None
    chroma_siting: str | None = None

    @classmethod
    def parse(
        cls,
        matrix: str | None = None,
        range: str | None = None,  # noqa: A002
        chroma_siting: str | None = None,
    ) -> InputColour:
        if matrix is not None and matrix not in LUMA_COEFFICIENTS:
            raise ParameterError(
                f"input matrix {quoted(matrix)} is unknown; use {', '.join(MATRICES)}"
            )
        if range is not None and range not in RANGES:
            raise ParameterError(f"input range {quoted(range)} is unknown; use limited or full")
        if chroma_siting is not None and chroma_siting not in CHROMA_SITINGS:
            raise ParameterError(
                f"input chroma siting {quoted(chroma_siting)} is unknown; use left or center"
            )
        return cls(matrix, None if range is None else range == "full", chroma_siting)

    def __bool__(self) -> bool:
        return any(x is not None for x in (self.matrix, self.full_range, self.chroma_siting))

    def apply(self, spec: YuvSpec | None) -> YuvSpec | None:
        """``spec`` with what the user stated put in; an RGB frame (None) stays RGB."""
        if spec is None or not self:
            return spec
        return YuvSpec(
            self.matrix if self.matrix is not None else spec.matrix,
            self.full_range if self.full_range is not None else spec.full_range,
            self.chroma_siting if self.chroma_siting is not None else spec.chroma_siting,
        )


# Chroma and HSL denominator below which hue and saturation are taken as 0.
HSL_EPS = 1e-6


def rgb_to_hsl(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hue in degrees [0, 360), HSL saturation, lightness, and chroma (max − min).

    Chroma comes along because the keyer guards on it: near-black and
    near-white pixels have a hue and an HSL saturation that noise decides.
    """
    f32 = np.float32
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    chroma = mx - mn
    lightness = (mx + mn) * f32(0.5)
    has_hue = chroma > f32(HSL_EPS)
    inv = f32(1.0) / np.where(has_hue, chroma, f32(1.0))
    h = np.where(mx == r, (g - b) * inv, np.where(mx == g, (b - r) * inv + 2, (r - g) * inv + 4))
    h = np.where(h < 0, h + 6, h) * f32(60.0)
    h *= has_hue
    denom = f32(1.0) - np.abs(f32(2.0) * lightness - f32(1.0))
    sat = np.minimum(chroma / np.maximum(denom, f32(HSL_EPS)), f32(1.0))
    sat *= denom > f32(HSL_EPS)
    return h, sat, lightness, chroma


def hsl_to_rgb(hue: np.ndarray, sat: np.ndarray, light: np.ndarray) -> np.ndarray:
    """The inverse of :func:`rgb_to_hsl` (hue in degrees): screens are described in HSL."""
    f32 = np.float32
    h = np.asarray(hue, f32) % f32(360.0)
    s, lt = np.asarray(sat, f32), np.asarray(light, f32)
    chroma = (f32(1.0) - np.abs(f32(2.0) * lt - f32(1.0))) * s
    x = chroma * (f32(1.0) - np.abs((h / f32(60.0)) % f32(2.0) - f32(1.0)))
    m = lt - chroma * f32(0.5)
    sector = (h // f32(60.0)).astype(np.int64) % 6
    z = np.zeros_like(chroma)
    table = [
        (chroma, x, z),
        (x, chroma, z),
        (z, chroma, x),
        (z, x, chroma),
        (x, z, chroma),
        (chroma, z, x),
    ]
    out = np.zeros(np.broadcast(h, s, lt).shape + (3,), f32)
    for k, (r, g, b) in enumerate(table):
        sel = sector == k
        out[..., 0] = np.where(sel, r, out[..., 0])
        out[..., 1] = np.where(sel, g, out[..., 1])
        out[..., 2] = np.where(sel, b, out[..., 2])
    rgb: np.ndarray = out + m[..., None]
    return rgb


# CSS Color Module Level 4 named colours, name:hex.
_CSS_TABLE = """
aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff
beige:f5f5dc bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff
blueviolet:8a2be2 brown:a52a2a burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00
chocolate:d2691e coral:ff7f50 cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c
cyan:00ffff darkblue:00008b darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9
darkgreen:006400 darkgrey:a9a9a9 darkkhaki:bdb76b darkmagenta:8b008b
darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc darkred:8b0000
darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b darkslategray:2f4f4f
darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 deeppink:ff1493
deepskyblue:00bfff dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222
floralwhite:fffaf0 forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc ghostwhite:f8f8ff
gold:ffd700 goldenrod:daa520 gray:808080 green:008000 greenyellow:adff2f grey:808080
honeydew:f0fff0 hotpink:ff69b4 indianred:cd5c5c indigo:4b0082 ivory:fffff0 khaki:f0e68c
lavender:e6e6fa lavenderblush:fff0f5 lawngreen:7cfc00 lemonchiffon:fffacd
lightblue:add8e6 lightcoral:f08080 lightcyan:e0ffff lightgoldenrodyellow:fafad2
lightgray:d3d3d3 lightgreen:90ee90 lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a
lightseagreen:20b2aa lightskyblue:87cefa lightslategray:778899 lightslategrey:778899
lightsteelblue:b0c4de lightyellow:ffffe0 lime:00ff00 limegreen:32cd32 linen:faf0e6
magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa mediumblue:0000cd
mediumorchid:ba55d3 mediumpurple:9370db mediumseagreen:3cb371 mediumslateblue:7b68ee
mediumspringgreen:00fa9a mediumturquoise:48d1cc mediumvioletred:c71585
midnightblue:191970 mintcream:f5fffa mistyrose:ffe4e1 moccasin:ffe4b5 navajowhite:ffdead
navy:000080 oldlace:fdf5e6 olive:808000 olivedrab:6b8e23 orange:ffa500 orangered:ff4500
orchid:da70d6 palegoldenrod:eee8aa palegreen:98fb98 paleturquoise:afeeee
palevioletred:db7093 papayawhip:ffefd5 peachpuff:ffdab9 peru:cd853f pink:ffc0cb
plum:dda0dd powderblue:b0e0e6 purple:800080 rebeccapurple:663399 red:ff0000
rosybrown:bc8f8f royalblue:4169e1 saddlebrown:8b4513 salmon:fa8072 sandybrown:f4a460
seagreen:2e8b57 seashell:fff5ee sienna:a0522d silver:c0c0c0 skyblue:87ceeb
slateblue:6a5acd slategray:708090 slategrey:708090 snow:fffafa springgreen:00ff7f
steelblue:4682b4 tan:d2b48c teal:008080 thistle:d8bfd8 tomato:ff6347 turquoise:40e0d0
violet:ee82ee wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 yellow:ffff00
yellowgreen:9acd32
"""
CSS_COLORS: dict[str, str] = dict(item.split(":") for item in _CSS_TABLE.split())

_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def parse_color(text: str) -> tuple[float, float, float]:
    """``#RRGGBB``, ``#RGB`` or a CSS colour name → RGB floats in 0–1."""
    if not isinstance(text, str):
        raise ParameterError(f"colour must be a string like '#00b140', got {quoted(text)}")
    s = text.strip().lower()
    s = "#" + CSS_COLORS[s] if s in CSS_COLORS else s
    m = _HEX.fullmatch(s)
    if m is None or not s.startswith("#"):
        raise ParameterError(
            f"invalid colour {quoted(text)}: use #RRGGBB, #RGB or a CSS colour name such as 'white'"
        )
    digits = m.group(1)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def format_color(rgb: tuple[float, float, float]) -> str:
    """RGB floats → ``#rrggbb``."""
    return "#" + "".join(f"{round(min(max(c, 0.0), 1.0) * 255):02x}" for c in rgb)
