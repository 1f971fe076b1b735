"""What a keyer that knew each pixel's true foreground colour could reach: a bound on the
partial pixels' alpha, per clip, beside ours.

For each clip of benchmarks.quality, on its first frames: our reference keyer at default
settings, then "oracle": at every pixel the truth makes partial (0 < α* < 1), α read from
where the pixel lies on the line from the screen's colour S (our calibrated screen map) to
the true foreground F*, a = (C − S)·(F* − S)/|F* − S|², our α elsewhere: a keyer that knew
F* and where the edge is. Three inputs C: the decoded
H.264 4:2:0 frame, the same with F* + k·S (the spill the subject reflects, which no keyer
can tell from screen seen through it, added to F*), and the camera's frame before
compression. SAD and the worst signed bias per truth decile, as benchmarks.quality reports
them. A target the oracle misses is one no colour model reaches on that clip.

    python -m benchmarks.bounds --workdir /tmp/ckf --frames 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.footage import all_specs  # noqa: E402
from benchmarks.footage import make_clips as make_footage  # noqa: E402
from benchmarks.metrics import DECILES  # noqa: E402
from benchmarks.quality import clip_params  # noqa: E402
from benchmarks.truth import make_clips  # noqa: E402
from chromakey.bench import parse_size  # noqa: E402
from chromakey.core.screenmap import keyed_params  # noqa: E402
from chromakey.io.sources import VideoSource  # noqa: E402
from chromakey.keying import reference as cpu  # noqa: E402
from chromakey.keying.calibration import ScreenCalibrator  # noqa: E402

F32 = np.float32
# |F* − S|² under which the line is too short to read α on: there the oracle keeps ours.
MIN_SPREAD = 0.02


def project(c: np.ndarray, s: np.ndarray, f: np.ndarray, ours: np.ndarray, edge: np.ndarray):
    line = f - s
    spread = (line * line).sum(-1)
    a = np.clip(((c - s) * line).sum(-1) / np.maximum(spread, 1e-6), 0, 1)
    return np.where(edge & (spread > MIN_SPREAD), a, ours)


class Score:
    def __init__(self) -> None:
        self.sad: list[float] = []
        self.bias = np.zeros(DECILES)
        self.n = np.zeros(DECILES)

    def add(self, a: np.ndarray, g: np.ndarray) -> None:
        d = a - g
        self.sad.append(float(np.abs(d).sum()) / 1000)
        part = (g > 1e-4) & (g < 1 - 1e-4)
        bins = np.minimum((g[part] * DECILES).astype(np.int64), DECILES - 1)
        np.add.at(self.bias, bins, d[part])
        np.add.at(self.n, bins, 1)

    def row(self) -> str:
        b = self.bias / np.maximum(self.n, 1)
        worst = b[np.argmax(np.abs(b))]
        return f"{np.mean(self.sad):.3f} | {worst:+.3f}"


def bound_clip(clip, frames: int) -> dict[str, Score]:
    params = clip_params(clip)
    calib = ScreenCalibrator(params)
    scores = {k: Score() for k in ("ours", "oracle", "oracle, spill in F*", "oracle, before H.264")}
    src = VideoSource(clip.path, audio=False)
    try:
        i = 0
        for kind, fr in src:
            if kind != "video":
                continue
            sm = calib.update(fr)
            rgb = cpu.decode_rgb(fr)
            _, a = cpu.key_frame(rgb, sm, keyed_params(params, sm), cpu.luma_weights(fr))
            a = np.clip(a, 0, 1)
            tf = clip.truth(i)
            g, f = tf.alpha, tf.foreground
            s = cpu.screen_colors(sm, rgb.shape[0], rgb.shape[1])
            edge = (g > 1e-4) & (g < 1 - 1e-4)
            scores["ours"].add(a, g)
            scores["oracle"].add(project(rgb, s, f, a, edge), g)
            spilled = f + tf.spill[..., None] * s
            scores["oracle, spill in F*"].add(project(rgb, s, spilled, a, edge), g)
            scores["oracle, before H.264"].add(project(tf.observed, s, f, a, edge), g)
            i += 1
            if i >= frames:
                break
    finally:
        src.close()
    return scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/ckf")
    ap.add_argument("--frames", type=int, default=4)
    args = ap.parse_args(argv)
    out = Path(args.workdir)
    clips = make_clips(out, [parse_size("720p")], [0], 3, single_slice=False)
    clips += make_footage(out, all_specs(24))
    names = ("ours", "oracle", "oracle, spill in F*", "oracle, before H.264")
    print("| clip | " + " | ".join(f"{n}: SAD | worst bias" for n in names) + " |")
    print("|---|" + "---:|---:|" * len(names))
    for clip in clips:
        scores = bound_clip(clip, args.frames)
        print(f"| {clip.name} | " + " | ".join(scores[n].row() for n in names) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
