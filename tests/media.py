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
                    dur = (
                        float(fr.duration * fr.time_base)
                        if fr.duration
                        else 1 / float(s.average_rate)
                    )
                end = max(end, float(fr.time) + dur)
            out[kind] = (s.codec_context.name, count, end)
    return out


# --- live preview, pacing and network tests (issue 5) ------------------------------------------


def numbered_frame(i: int, width: int, height: int) -> np.ndarray:
    """``figure_frame`` with the figure moved by 4·i pixels: consecutive frames clearly differ."""
    return figure_frame(4 * i % max(1, width // 2), width, height)


def write_vfr_clip(
    path: str | Path,
    times_ms: list[int],
    *,
    width: int = 160,
    height: int = 96,
    make=numbered_frame,
) -> Path:
    """A variable-frame-rate H.264 clip: frame i at ``times_ms[i]`` (time base 1/1000).

    Matroska keeps millisecond timestamps as they are; no B-frames, so decode order is
    presentation order.
    """
    path = Path(path)
    with av.open(str(path), "w", format="matroska") as c:
        s = c.add_stream("libx264", rate=25, options={"bf": "0", "preset": "ultrafast"})
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.time_base = Fraction(1, 1000)
        s.codec_context.time_base = Fraction(1, 1000)
        for i, t in enumerate(times_ms):
            f = av.VideoFrame.from_ndarray(make(i, width, height), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts = t
            f.time_base = Fraction(1, 1000)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def write_hls(
    folder: str | Path,
    *,
    seconds: float = 10.0,
    fps: int = 25,
    segment: float = 1.0,
    width: int = 160,
    height: int = 96,
    make=numbered_frame,
) -> Path:
    """A VOD HLS stream (index.m3u8 + MPEG-TS segments of ``segment`` seconds, H.264)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    playlist = folder / "index.m3u8"
    gop = str(max(1, round(fps * segment)))
    options = {
        "hls_time": f"{segment:g}",
        "hls_list_size": "0",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(folder / "seg%04d.ts"),
    }
    with av.open(str(playlist), "w", format="hls", options=options) as c:
        s = c.add_stream(
            "libx264",
            rate=fps,
            options={"g": gop, "keyint_min": gop, "sc_threshold": "0", "preset": "ultrafast"},
        )
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(round(seconds * fps)):
            f = av.VideoFrame.from_ndarray(make(i, width, height), format="rgb24")
            f = f.reformat(format="yuv420p")
            f.pts = i
            f.time_base = Fraction(1, fps)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return playlist


def write_image(path: str | Path, img: np.ndarray, codec: str = "png") -> Path:
    """One still (RGB, RGBA or gray uint8) as PNG (``codec="png"``) or JPEG (``"mjpeg"``)."""
    path = Path(path)
    fmt = {2: "gray", 3: "rgb24", 4: "rgba"}[img.ndim if img.ndim == 2 else img.shape[2]]
    pix_fmt = "yuvj444p" if codec == "mjpeg" else fmt
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream(codec, rate=1)
        s.height, s.width = img.shape[:2]
        s.pix_fmt = pix_fmt
        f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt)
        if pix_fmt != fmt:
            f = f.reformat(format=pix_fmt, dst_color_range="JPEG")
        for p in s.encode(f):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


# colour_frame's colours: distinct, well separated, robust to 4:2:0 coding.
FRAME_COLORS = [
    (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255),
    (0, 255, 255), (255, 255, 255), (0, 0, 0), (128, 0, 0), (0, 128, 0),
    (0, 0, 128), (128, 128, 0), (128, 0, 128), (0, 128, 128), (128, 128, 128),
    (255, 128, 0),
]  # fmt: skip


def colour_frame(i: int, width: int, height: int) -> np.ndarray:
    """Frame ``i`` of a clip whose every frame is one solid colour from FRAME_COLORS."""
    img = np.empty((height, width, 3), np.uint8)
    img[...] = FRAME_COLORS[i % len(FRAME_COLORS)]
    return img


def colour_index(img: np.ndarray) -> int:
    """Which FRAME_COLORS entry (the frame number mod 16) an image shows, at its centre."""
    h, w = img.shape[:2]
    px = img[h // 2, w // 2, :3].astype(int)
    dist = [int(((px - np.array(c)) ** 2).sum()) for c in FRAME_COLORS]
    return int(np.argmin(dist))


def rotate_mp4(path: str | Path, name: str = "rotated.mp4") -> Path:
    """A copy of an mp4 whose track header carries a phone's portrait display matrix (90° cw)."""
    import struct

    path = Path(path)
    data = bytearray(path.read_bytes())
    i = data.index(b"tkhd") + 4
    assert data[i] == 0  # version 0 header
    matrix = i + 4 + 20 + 8 + 8
    data[matrix : matrix + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    out = path.with_name(name)
    out.write_bytes(bytes(data))
    return out


def items_until_end(source, seconds: float = 120.0) -> list[tuple[str, object]]:
    """Every item of a source until its end, within ``seconds``: a source that hangs fails
    the test instead of hanging it. Error items are raised, as iterating the source would."""
    import time

    deadline = time.monotonic() + seconds
    items = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"the source gave no end within {seconds:g} s")
        item = source.get(timeout=min(left, 1.0))
        if item is None:
            continue
        kind, payload = item
        if kind == "end":
            return items
        if kind == "error":
            raise payload
        items.append(item)
