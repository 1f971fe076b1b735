"""What reading 4:2:0 chroma with the wrong siting costs, and what stating the right one gives.

Each footage clip (benchmarks.footage) is made twice: through our encoder (H.264's siting,
``chroma left``) and through FFmpeg's swscale (each chroma sample centred on its 2×2 block,
``chroma center``: a file made from an RGB render with ``ffmpeg -pix_fmt yuv420p``), both
then libx264 crf 23, which writes no siting. Each file is keyed by the CPU keyer at default
settings as benchmarks.quality keys (calibration included), read once as each siting
(``--input-chroma-siting``). Per clip and encoder: SAD and edge PSNR read each way, and the
wrong siting's SAD over the right one's.

    python -m benchmarks.siting --workdir /tmp/chromakey-siting --frames 12
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.footage import all_specs  # noqa: E402
from benchmarks.footage import make_clips as make_footage  # noqa: E402
from benchmarks.quality import clip_params, evaluate, ours_frames  # noqa: E402
from chromakey.bench import parse_size  # noqa: E402
from chromakey.core.color import CHROMA_SITINGS, InputColour  # noqa: E402


def rows(workdir: Path, frames: int, size: str, backend: str, only: list[str]) -> None:
    """Print the table's rows as each clip is measured."""
    w, h = parse_size(size)
    for spec in all_specs(frames, w, h):
        if only and not any(k in spec.name for k in only):
            continue
        for chroma in CHROMA_SITINGS:
            (clip,) = make_footage(workdir, [dataclasses.replace(spec, chroma=chroma)])
            methods = {
                read: ours_frames(
                    clip.path, backend, clip_params(clip), InputColour(chroma_siting=read)
                )
                for read in CHROMA_SITINGS
            }
            result = evaluate(clip, methods)
            wrong = "left" if chroma == "center" else "center"
            sad = {r: result[r]["SAD"] for r in CHROMA_SITINGS}
            psnr = {r: result[r]["edge PSNR dB"] for r in CHROMA_SITINGS}
            line = (
                f"| {spec.name} | {chroma} | {sad['left']:.3f} | {sad['center']:.3f} | "
                f"{psnr['left']:.2f} | {psnr['center']:.2f} | "
                f"{sad[wrong] / sad[chroma]:.2f}× |"
            )
            print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--workdir", default="/tmp/chromakey-siting", help="clip cache folder")
    p.add_argument("--frames", type=int, default=12, help="frames per clip [12]")
    p.add_argument("--size", default="720p", help="clip size: 360p, 720p, 1080p or WxH [720p]")
    p.add_argument("--backend", default="cpu", help="cpu, gpu or reference [cpu]")
    p.add_argument("--footage", help="only clips whose name contains one of these (a,b)")
    a = p.parse_args(argv)
    print(
        "| clip | encoder's siting | SAD read left | SAD read center | edge PSNR dB left | "
        "edge PSNR dB center | wrong ÷ right SAD |\n|---|---|---:|---:|---:|---:|---:|",
        flush=True,
    )
    only = a.footage.split(",") if a.footage else []
    rows(Path(a.workdir), a.frames, a.size, a.backend, only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
