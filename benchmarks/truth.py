"""Ground-truth clips: chromakey.sample's avatar through a real 4:2:0 H.264 encoder.

Only the encoded observation is stored; the truth (alpha, clean foreground) of any frame is
regenerated with ``chromakey.sample.render_truth(spec, i)``, which is deterministic per
(spec, index).

- quality clips: libx264 ``preset=veryfast``, ``crf=23`` (≈ 1–3 Mb/s at 720p on this content:
  a realistic streaming quality), yuv420p, BT.709 limited range, tagged;
- speed clips (``single_slice=True``): ABR at 4 Mb/s per 720p worth of pixels and x264
  ``slices=1`` (one slice per frame, as a real-time encoder sends; a decoder cannot split a
  frame between threads and must use frame threads).

    python -m benchmarks.truth --sizes 360p,720p --seeds 0,1,2 --seconds 3 --out /tmp/clips
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chromakey.bench import encode_clip, parse_size, realistic_bitrate, size_name  # noqa: E402
from chromakey.sample import SampleSpec, TruthFrame, render_truth  # noqa: E402

QUALITY_CRF = 23
PRESET = "veryfast"


@dataclass(frozen=True)
class Clip:
    """An encoded clip and the spec that regenerates its truth."""

    path: Path
    spec: SampleSpec
    single_slice: bool

    @property
    def name(self) -> str:
        return f"sample {size_name(self.spec.width, self.spec.height)} seed {self.spec.seed}"

    def truth(self, i: int) -> TruthFrame:
        return render_truth(self.spec, i)


def make_clip(
    folder: str | Path,
    width: int,
    height: int,
    *,
    seed: int = 0,
    seconds: float = 3.0,
    fps: float = 30.0,
    single_slice: bool = False,
) -> Clip:
    """Encode (or reuse from ``folder``) one clip."""
    spec = SampleSpec(width, height, fps, seconds, seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if single_slice:
        rate = realistic_bitrate(width, height)
        name = f"truth_{width}x{height}_{spec.frame_count}f_seed{seed}_{rate // 1000}k_s1.mp4"
        path = folder / name
        if not path.exists():
            encode_clip(path, spec, bitrate=rate, preset=PRESET, slices=1)
    else:
        name = f"truth_{width}x{height}_{spec.frame_count}f_seed{seed}_crf{QUALITY_CRF}.mp4"
        path = folder / name
        if not path.exists():
            encode_clip(path, spec, crf=QUALITY_CRF, preset=PRESET)
    return Clip(path, spec, single_slice)


def make_clips(
    folder: str | Path,
    sizes: list[tuple[int, int]],
    seeds: list[int],
    seconds: float,
    *,
    single_slice: bool = False,
) -> list[Clip]:
    return [
        make_clip(folder, w, h, seed=s, seconds=seconds, single_slice=single_slice)
        for (w, h) in sizes
        for s in seeds
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="360p,720p")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--single-slice", action="store_true")
    p.add_argument("--out", default="/tmp/chromakey-bench")
    a = p.parse_args(argv)
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    seeds = [int(s) for s in a.seeds.split(",")]
    for c in make_clips(a.out, sizes, seeds, a.seconds, single_slice=a.single_slice):
        print(f"{c.name}: {c.path} ({c.path.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
