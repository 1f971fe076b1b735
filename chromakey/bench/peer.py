"""The FFmpeg peer: the key colour an eyedropper would pick on the input's border, and the
chromakey + overlay command at the same output as ours."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from .settings import BACKGROUND, FFMPEG_BLEND, FFMPEG_SIMILARITY, KEY_BORDER, KEY_FRAMES

# --- the FFmpeg peer's key colour ---------------------------------------------------------------


def _border_rgb(frame: Any, border: int) -> np.ndarray:
    """The outer ``border`` pixels of a decoded Frame as N×3 RGB in 0–255, through the frame's
    own matrix and range (chroma from the sample each pixel's 4:2:0 cell holds)."""
    h, w = frame.height, frame.width
    ring = np.zeros((h, w), bool)
    ring[:border], ring[-border:], ring[:, :border], ring[:, -border:] = True, True, True, True
    yy, xx = np.nonzero(ring)
    if frame.layout == "rgb":
        return frame.planes[0][yy, xx].astype(np.float64)
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    yuv = np.stack([y[yy, xx], u[yy // fy, xx // fx], v[yy // fy, xx // fx]], -1) / 255.0
    m, off = frame.yuv.to_rgb()
    return np.clip((yuv - off) @ m.T, 0.0, 1.0) * 255.0


def border_key_color(
    path: str, *, frames: int = KEY_FRAMES, border: int = KEY_BORDER
) -> tuple[int, int, int]:
    """The screen colour a user picks with an eyedropper, as 0–255 RGB: the median of the
    outer ``border`` pixels of the first ``frames`` frames, decoded with the right matrix."""
    import av

    from ..io.sources.decode import to_frame

    samples = []
    with av.open(path) as c:
        for i, av_frame in enumerate(c.decode(video=0)):
            samples.append(_border_rgb(to_frame(av_frame, i, 0.0), border))
            if i + 1 >= frames:
                break
    if not samples:
        raise ValueError(f"{path}: no video frame to sample the key colour from")
    med = np.median(np.concatenate(samples), axis=0)
    return tuple(int(round(c)) for c in med)  # type: ignore[return-value]


def background_rgb() -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in BACKGROUND)  # type: ignore[return-value]


def ffmpeg_color(rgb: tuple[int, int, int]) -> str:
    """0–255 RGB → FFmpeg's ``0xRRGGBB``."""
    return "0x{:02X}{:02X}{:02X}".format(*rgb)


def ffmpeg_command(
    exe: str,
    path: str,
    width: int,
    height: int,
    rate: Fraction,
    output: str,
    dest: str,
    *,
    key: str,
) -> list[str]:
    """FFmpeg chromakey (on ``key``, ``0xRRGGBB``) + overlay over the magenta colour: rgb24 raw
    (as ours delivers), x264, or rgb24 NUT with the input's audio copied (``nut``, as
    ``chromakey render -o - --format nut`` writes)."""
    color = ffmpeg_color(background_rgb())
    chroma = f"chromakey=color={key}:similarity={FFMPEG_SIMILARITY}:blend={FFMPEG_BLEND}"
    graph = f"[0:v]{chroma}[fg];[1:v][fg]overlay=shortest=1"
    cmd = [exe, "-hide_banner", "-nostdin", "-nostats", "-benchmark", "-i", path]
    cmd += ["-f", "lavfi", "-i", f"color=c={color}:s={width}x{height}:r={rate}"]
    if output == "raw":
        cmd += ["-filter_complex", graph + ",format=rgb24", "-f", "rawvideo", "-y", dest]
    elif output == "nut":
        cmd += ["-filter_complex", graph + ",format=rgb24[out]", "-map", "[out]", "-map", "0:a?"]
        cmd += ["-c:v", "rawvideo", "-pix_fmt", "rgb24", "-c:a", "copy", "-f", "nut", "-y", dest]
    else:
        cmd += ["-filter_complex", graph + ",format=yuv420p"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
        cmd += ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
        cmd += ["-an", "-y", dest]
    return cmd
