"""FFmpeg as the quality peer: chromakey + despill to straight RGBA, and its tuning grid."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chromakey.bench import FFMPEG_KEY
from chromakey.io.sources import VideoSource
from chromakey.keying.reference import decode_rgb

if TYPE_CHECKING:
    from benchmarks.footage import FootageClip
    from benchmarks.truth import Clip

F32 = np.float32
GRID_SIMILARITY = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
GRID_BLEND = (0.0, 0.05, 0.10, 0.15, 0.20)
GRID_EVERY = 3
# The real-footage clips' FFmpeg grid: 3×3, the key colour sampled from the border.
GRID3_SIMILARITY = (0.06, 0.12, 0.20)
GRID3_BLEND = (0.0, 0.05, 0.10)
SWS = "bilinear+accurate_rnd+full_chroma_int+full_chroma_inp"


def _ffmpeg_stream(cmd: list[str], frame_bytes: int) -> Iterator[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)  # type: ignore[union-attr]
            if len(buf) < frame_bytes:
                break
            yield buf
    finally:
        proc.stdout.close()  # type: ignore[union-attr]
        err = proc.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
        rc = proc.wait()
        if rc not in (0, -13, 255) and err.strip():  # -13/255: we closed the pipe early
            raise RuntimeError(f"ffmpeg failed ({rc}): {err.strip()[-500:]}")


def ffmpeg_key(sim: float, blend: float, color: str = FFMPEG_KEY) -> str:
    return f"chromakey=color={color}:similarity={sim:.4g}:blend={blend:.4g}"


def border_color(path: Path) -> str:
    """The median colour of the first frame's 4-px border, as 0xRRGGBB: the key colour a user
    picks for FFmpeg with a colour picker on the screen."""
    src = VideoSource(path, audio=False)
    try:
        for kind, frame in src:
            if kind == "video":
                rgb = decode_rgb(frame)
                break
    finally:
        src.close()
    ring = np.concatenate(
        [
            rgb[:4].reshape(-1, 3),
            rgb[-4:].reshape(-1, 3),
            rgb[:, :4].reshape(-1, 3),
            rgb[:, -4:].reshape(-1, 3),
        ]
    )
    r, g, b = (int(round(255 * float(c))) for c in np.median(ring, axis=0))
    return f"0x{r:02X}{g:02X}{b:02X}"


@dataclass(frozen=True)
class Peer:
    """How FFmpeg is told about a clip's screen: the key colour and the despill type."""

    color: str
    despill: str = "green"


def ffmpeg_frames(
    exe: str, clip: Clip | FootageClip, sim: float, blend: float, peer: Peer
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    w, h = clip.spec.width, clip.spec.height
    vf = f"{ffmpeg_key(sim, blend, peer.color)},despill=type={peer.despill},format=rgba"
    cmd = [exe, "-v", "error", "-nostdin", "-i", str(clip.path), "-sws_flags", SWS, "-vf", vf]
    cmd += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:"]
    for buf in _ffmpeg_stream(cmd, w * h * 4):
        x = np.frombuffer(buf, np.uint8).reshape(h, w, 4).astype(F32) * F32(1 / 255)
        yield x[..., 3], x[..., :3]


def ffmpeg_alpha_sad(
    exe: str, clip: Clip | FootageClip, sim: float, blend: float, truth: list, peer: Peer
) -> float:
    """Mean SAD of FFmpeg's alpha on every GRID_EVERY-th frame (alpha plane only, no despill)."""
    w, h = clip.spec.width, clip.spec.height
    vf = (
        f"select='not(mod(n\\,{GRID_EVERY}))',{ffmpeg_key(sim, blend, peer.color)},"
        "format=yuva420p,alphaextract"
    )
    cmd = [exe, "-v", "error", "-nostdin", "-i", str(clip.path), "-vf", vf]
    cmd += ["-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:"]
    sads = []
    for i, buf in enumerate(_ffmpeg_stream(cmd, w * h)):
        if i >= len(truth):
            break
        a = np.frombuffer(buf, np.uint8).reshape(h, w).astype(F32) * F32(1 / 255)
        sads.append(float(np.abs(a - truth[i]).sum()) / 1000)
    return float(np.mean(sads)) if sads else float("inf")


def tune_ffmpeg(
    exe: str, clip: Clip | FootageClip, peer: Peer, small: bool = False, grid3: bool = False
) -> tuple[float, float, float]:
    """(similarity, blend, SAD) of the best grid point, then ±0.025 around it (not on the
    issue-12 3×3 grid, ``grid3``, which is reported as it is)."""
    truth = [clip.truth(i).alpha for i in range(0, clip.spec.frame_count, GRID_EVERY)]
    sims = GRID_SIMILARITY[1:4:2] if small else GRID3_SIMILARITY if grid3 else GRID_SIMILARITY
    blends = GRID_BLEND[1:4:2] if small else GRID3_BLEND if grid3 else GRID_BLEND
    scores = {(s, b): ffmpeg_alpha_sad(exe, clip, s, b, truth, peer) for s in sims for b in blends}
    if not small and not grid3:
        s0, b0 = min(scores, key=scores.get)
        for ds in (-0.025, 0.0, 0.025):
            for db in (-0.025, 0.0, 0.025):
                s, b = round(s0 + ds, 4), round(b0 + db, 4)
                if s > 0 and b >= 0 and (s, b) not in scores:
                    scores[(s, b)] = ffmpeg_alpha_sad(exe, clip, s, b, truth, peer)
    (s, b) = min(scores, key=scores.get)
    return s, b, scores[(s, b)]
