"""What the background tests share: test pictures and clips, and pixel helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from chromakey.core.layers import Clear, Picture, Solid

from media import colour_frame, write_clip, write_image

RED, BLUE, WHITE, GREEN = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 255, 0)


def pixels_at(bg, time, width, height):
    """A background's pixels at ``time``: None (Clear), a colour (Solid) or an image."""
    match bg.frame_at(time, width, height):
        case Clear():
            return None
        case Solid(rgb=rgb):
            return rgb
        case Picture(pixels=pixels):
            return pixels


def near(px, rgb, tol=6) -> bool:
    return bool(np.all(np.abs(np.asarray(px[:3], int) - np.asarray(rgb, int)) <= tol))


def make_media(d: Path) -> dict[str, Path]:
    """The background test media, written into ``d``."""
    # 40×30: left half red, right half blue, a white band over the top 6 rows.
    split = np.zeros((30, 40, 3), np.uint8)
    split[:, :20], split[:, 20:] = RED, BLUE
    split[:6] = WHITE
    # RGBA: left half transparent black, right half opaque red; 4 columns of half-alpha blue.
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[:, 20:] = (255, 0, 0, 255)
    rgba[:, 30:34] = (0, 0, 255, 128)
    opaque_rgba = np.dstack([split, np.full((30, 40), 255, np.uint8)])
    out = {
        "split": write_image(d / "split.png", split),
        "rgba": write_image(d / "rgba.png", rgba),
        "opaque_rgba": write_image(d / "opaque.png", opaque_rgba),
        "jpeg": write_image(d / "split.jpg", split, codec="mjpeg"),
        # Frame i is solid FRAME_COLORS[i]: 10 fps, 1 s — the shown frame names the time.
        "clip": write_clip(
            d / "n10.mp4", width=64, height=48, frames=10, fps=10, make=colour_frame
        ),
        # The same in MPEG-TS (a stream start_time of 1.4 s) and WebM (no stream duration).
        "ts": write_clip(
            d / "n10.ts",
            width=64,
            height=48,
            frames=10,
            fps=10,
            make=colour_frame,
            container_format="mpegts",
        ),
        "webm": write_clip(
            d / "n10.webm",
            width=64,
            height=48,
            frames=10,
            fps=10,
            make=colour_frame,
            codec="libvpx-vp9",
        ),
        # 12 fps, 15 frames (1.25 s): another rate, longer than a 1 s foreground.
        "clip12": write_clip(
            d / "n12.mkv", width=48, height=64, frames=15, fps=12, make=colour_frame
        ),
    }
    (d / "garbage.png").write_bytes(b"this is not an image at all" * 10)
    (d / "empty.png").write_bytes(b"")
    return out
