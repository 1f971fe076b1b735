"""Incremental keying against keying every pixel: ms per frame in process, interleaved rounds.

    python -m benchmarks.incremental CLIP [--frames 30] [--rounds 5] [--noise 2.0] [--hold-map]

Decodes the clip's first frames (``--noise``: camera noise of that sigma added to each frame
and the clip encoded again with x264, so that the noise is what a codec leaves of it),
calibrates a screen map per frame as ``render`` does (``--hold-map``: the first frame's map
for all, what a calibration that stands still on a still scene gives), then keys the frames
with an incremental CpuKeyer and with one that keys every pixel, alternating which goes first
in each round. Prints the median ms per frame of each, their ratio, and the share of 16-px
blocks the incremental keyer kept from the frame before.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from chromakey.core.layers import Solid


def noisy_copy(clip: str, sigma: float, frames: int, out: Path) -> Path:
    """``clip``'s first frames with Gaussian noise added to each, x264 crf 18 veryfast."""
    import av

    rng = np.random.default_rng(0)
    with av.open(clip) as src, av.open(str(out), "w") as dst:
        vs = dst.add_stream("libx264", rate=30)
        vs.pix_fmt = "yuv420p"
        vs.codec_context.options = {"crf": "18", "preset": "veryfast"}
        vs.width, vs.height = src.streams.video[0].width, src.streams.video[0].height
        for i, f in enumerate(src.decode(video=0)):
            if i >= frames:
                break
            rgb = f.to_ndarray(format="rgb24").astype(np.float32)
            rgb += rng.normal(0.0, sigma, rgb.shape).astype(np.float32)
            nf = av.VideoFrame.from_ndarray(np.clip(rgb, 0, 255).astype(np.uint8), "rgb24")
            nf = nf.reformat(format="yuv420p")
            nf.pts, nf.time_base = i, Fraction(1, 30)
            for p in vs.encode(nf):
                dst.mux(p)
        for p in vs.encode(None):
            dst.mux(p)
    return out


def load(clip: str, frames: int, hold_map: bool) -> list:
    """(frame, screen map) pairs, the planes copied (a decoder reuses its buffers)."""
    from chromakey.core.frames import Frame
    from chromakey.core.params import KeyerParams
    from chromakey.io.sources import VideoSource
    from chromakey.keying.calibration import ScreenCalibrator

    calib = ScreenCalibrator(KeyerParams())
    out = []
    src = VideoSource(clip, audio=False)
    try:
        for kind, frame in src:
            if kind != "video":
                continue
            own = Frame(tuple(np.array(p) for p in frame.planes), frame.layout, frame.yuv,
                        frame.time, frame.index)  # fmt: skip
            screen = calib.update(own)
            if hold_map and out:
                screen = out[0][1]
            out.append((own, screen))
            if len(out) >= frames:
                break
    finally:
        src.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip")
    ap.add_argument("--frames", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--noise", type=float, default=0.0)
    ap.add_argument("--hold-map", action="store_true")
    ap.add_argument("-b", "--background", default="#3050e0")
    args = ap.parse_args(argv)

    from chromakey.core.color import parse_color
    from chromakey.core.params import KeyerParams
    from chromakey.keying.kernels import CpuKeyer

    clip = args.clip
    with tempfile.TemporaryDirectory() as tmp:
        if args.noise > 0:
            clip = str(noisy_copy(clip, args.noise, args.frames, Path(tmp) / "noisy.mp4"))
        frames = load(clip, args.frames, args.hold_map)
    bg = Solid(parse_color(args.background))
    keyers = {
        "on": CpuKeyer(KeyerParams(), incremental=True),
        "off": CpuKeyer(KeyerParams(), incremental=False),
    }
    for k in keyers.values():
        k.render(*frames[0], bg)  # loads the kernel, faults in the scratch
    ms: dict[str, list[float]] = {"on": [], "off": []}
    reused: list[float] = []
    plain: list[float] = []
    for r in range(args.rounds):
        for name in ("on", "off") if r % 2 == 0 else ("off", "on"):
            keyer = keyers[name]
            keyer.render(*frames[-1], bg)  # the round starts after a different frame
            t = time.perf_counter()
            for i, (frame, screen) in enumerate(frames):
                keyer.render(frame, screen, bg)
                if name == "on" and r == 0 and i > 0:
                    reused.append(keyer.reused)
                    plain.append(keyer._kept.plain)
            ms[name].append(1000 * (time.perf_counter() - t) / len(frames))
    for k in keyers.values():
        k.close()
    on, off = statistics.median(ms["on"]), statistics.median(ms["off"])
    ratios = [b / a for a, b in zip(ms["on"], ms["off"], strict=True)]
    h, w = frames[0][0].height, frames[0][0].width
    print(f"{clip}: {w}x{h}, {len(frames)} frames × {args.rounds} rounds, noise {args.noise}, "
          f"map {'held' if args.hold_map else 'calibrated per frame'}")  # fmt: skip
    print(f"  ms per frame: incremental {on:.1f}, every pixel {off:.1f}; "
          f"every pixel ÷ incremental: median of rounds {statistics.median(ratios):.2f}×")  # fmt: skip
    print(f"  blocks kept: mean {np.mean(reused):.1%}, median {np.median(reused):.1%}; "
          f"found plain screen (of all): mean {np.mean(plain):.1%}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
