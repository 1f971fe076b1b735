"""Test media made on the spot with PyAV: real codecs, real containers, nothing committed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SCREEN = (0, 128, 0)
SKIN = (205, 160, 130)


def figure_frame(i: int, width: int, height: int) -> np.ndarray:
    """A skin-coloured block that moves right over #008000, as RGB uint8."""
    img = np.zeros((height, width, 3), np.uint8)
    img[...] = SCREEN
    x0 = width // 4 + i
    img[height // 4 : 3 * height // 4, x0 : x0 + width // 3] = SKIN
    return img


def write_clip(
    path: str | Path,
    *,
    width: int = 160,
    height: int = 96,
    frames: int = 10,
    fps: int = 25,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    audio: bool = False,
    container_format: str | None = None,
    make=figure_frame,
) -> Path:
    """Encode ``frames`` pictures from ``make(i, w, h)`` (RGB uint8) with optional AAC audio."""
    path = Path(path)
    with av.open(str(path), "w", format=container_format) as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = width, height, pix_fmt
        s.time_base = Fraction(1, fps)
        a = None
        if audio:
            a = c.add_stream("aac", rate=48000)
            a.layout = "mono"
        for i in range(frames):
            f = av.VideoFrame.from_ndarray(make(i, width, height), format="rgb24")
            f = f.reformat(format=pix_fmt)
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
        if a is not None:
            n = int(48000 * frames / fps)
            t = np.arange(n) / 48000
            pcm = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for k in range(0, n, 1024):
                chunk = pcm[k : k + 1024]
                af = av.AudioFrame.from_ndarray(chunk[None], format="fltp", layout="mono")
                af.sample_rate = 48000
                af.pts = k
                for p in a.encode(af):
                    c.mux(p)
            for p in a.encode(None):
                c.mux(p)
    return path


def decode_rgb_frames(path: str | Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def read_png(path: str | Path) -> np.ndarray:
    with av.open(str(path)) as c:
        f = next(c.decode(video=0))
        fmt = "rgba" if "a" in f.format.name else "rgb24"
        return f.to_ndarray(format=fmt)


def stream_summary(path: str | Path) -> dict[str, tuple[str, int, float]]:
    """{type: (codec, decoded frame count, end time in s)}, by decoding each stream."""
    out = {}
    with av.open(str(path)) as probe:
        kinds = [(s.type, s.index) for s in probe.streams]
    for kind, index in kinds:
        with av.open(str(path)) as c:
            s = c.streams[index]
            count, end = 0, 0.0
            for fr in c.decode(s):
                count += 1
                if kind == "audio":
                    dur = fr.samples / fr.sample_rate
                else:
                    dur = float(fr.duration * fr.time_base) if fr.duration else 1 / float(s.average_rate)
                end = max(end, float(fr.time) + dur)
            out[kind] = (s.codec_context.name, count, end)
    return out
