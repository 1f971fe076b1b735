"""Checks of what the WebRTC tests render: the avatar keyed over the background, the tone."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

SKIN = np.array([0xD9, 0xA0, 0x66])  # the publisher page's "face"
SHIRT = np.array([0x30, 0x50, 0xA0])


def near(rgb: np.ndarray, colour, tol: float = 40.0) -> bool:  # noqa: ANN001
    return float(np.abs(rgb.astype(float) - np.asarray(colour, float)).max()) <= tol


def green_left(rgb: np.ndarray) -> float:
    """The fraction of pixels still screen-green (G well above R and B)."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return float(((g > r + 40) & (g > b + 40)).mean())


def check_keyed(rgb: np.ndarray, background) -> None:  # noqa: ANN001
    """The page's layout, keyed: background at the sides, face and shirt where drawn, no
    green left (the top rows, where the frame counter is drawn, are left out)."""
    h, w, _ = rgb.shape
    body = rgb[h // 10 :]
    assert green_left(body) < 0.01, f"{green_left(body):.1%} of the picture is still green"
    for x, y in ((0.08, 0.5), (0.92, 0.5), (0.1, 0.9), (0.9, 0.9)):
        px = rgb[int(y * h), int(x * w)]
        assert near(px, background), f"background at ({x}, {y}) is {px}, not {background}"
    face = rgb[int(0.42 * h), w // 2]
    assert near(face, SKIN), f"the face is {face}"
    shirt = rgb[int(0.85 * h), w // 2]
    assert near(shirt, SHIRT), f"the shirt is {shirt}"


def decode(path: Path) -> tuple[list[np.ndarray], np.ndarray | None, int]:
    """(RGB frames, mono audio samples as float or None, audio rate)."""
    frames: list[np.ndarray] = []
    chunks: list[np.ndarray] = []
    rate = 0
    with av.open(str(path)) as c:
        streams = [c.streams.video[0], *c.streams.audio[:1]]
        for frame in c.decode(*streams):
            if isinstance(frame, av.VideoFrame):
                frames.append(frame.to_ndarray(format="rgb24"))
            else:
                rate = frame.sample_rate
                a = frame.to_ndarray().astype(np.float64)
                chunks.append(a.mean(axis=0) if a.shape[0] > 1 else a.reshape(-1))
    audio = np.concatenate(chunks) if chunks else None
    return frames, audio, rate


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum[1:])) + 1])


def background_share(rgb: np.ndarray, background, tol: float = 40.0) -> float:  # noqa: ANN001
    """The fraction of pixels that show the background colour."""
    diff = np.abs(rgb.astype(np.int16) - np.asarray(background, np.int16)).max(axis=2)
    return float((diff <= tol).mean())


def check_like_reference(frames: list[np.ndarray], reference: list[np.ndarray], background) -> None:  # noqa: ANN001
    """Frames received over WebRTC keyed as the same clip keyed from its file: the corners
    show the background, and as much of the picture does (within 5 points)."""
    want = float(np.median([background_share(f, background) for f in reference]))
    for rgb in (frames[len(frames) // 2], frames[-1]):
        h, w, _ = rgb.shape
        for y, x in ((2, 2), (2, w - 3), (h // 2, 2), (h // 2, w - 3)):
            assert near(rgb[y, x], background), f"({x}, {y}) is {rgb[y, x]}"
        got = background_share(rgb, background)
        assert abs(got - want) < 0.05, f"{got:.1%} background, the file keys to {want:.1%}"
