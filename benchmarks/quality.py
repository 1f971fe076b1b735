"""Keying quality against ground truth: our keyer at default settings vs FFmpeg chromakey+despill.

For each ground-truth clip (benchmarks.truth: the sample avatar through libx264 4:2:0):

- ours: the real decode path, VideoSource → ScreenCalibrator → keyer (each backend), rendered
  with no background, so the keyer returns straight RGBA uint8;
- FFmpeg: the ffmpeg CLI decodes the same file and runs
  ``chromakey=color=0x05800A:similarity=S:blend=B,despill=type=green`` to straight RGBA.
  0x05800A is the sample's nominal screen colour (what a user would type). S and B are tuned
  per clip on a grid (similarity 0.05–0.30, blend 0–0.20, then ±0.025 around the best; on every
  third frame, alpha only), and the best point by SAD is reported. RGBA conversion uses
  ``-sws_flags bilinear+accurate_rnd+full_chroma_int+full_chroma_inp``, so the comparison is
  not hurt by swscale's fast chroma path.

Metrics per frame, averaged over the clip (alpha in 0–1):

- SAD: Σ|α − α*| / 1000;  MSE: mean (α − α*)² (shown ×1000);
- Grad: Σ (|∇α| − |∇α*|)² / 1000, with Gaussian-derivative gradients (σ = 1.4, normalised as
  alphamatting.com's gaussgradient);
- bg visible: share of pixels with α* = 0 that have α > 0.1; eaten: share of α* = 1 with α < 0.9;
- PSNR: composite over a test colour (magenta), ours = rgb·α + (1 − α)·c from the straight
  RGBA vs truth = α*·F* + (1 − α*)·c; over the whole frame and over the edge band (pixels with
  fractional α*, dilated by 3 px); the PSNR of the clip's mean squared error;
- dtSSD (Erofeev et al. 2015): sqrt(mean(((α_t − α_{t−1}) − (α*_t − α*_{t−1}))²)), ×100;
- issue 23's (benchmarks.metrics): lost patch px, the largest 4-connected patch of the sure
  subject (α* = 1, eroded by 3 px) keyed below 0.9, the largest over the frames; tint levels,
  the mean over partial pixels (0.05 < α* < 0.95, shown at α ≥ 0.02) of the straight colour's
  G − max(R, B) minus the truth's, ×255; lag px, how far the matte trails the truth along
  the subject's motion (sub-pixel, Gauss–Newton on the edges), the mean over the frames.

    python -m benchmarks.quality                       # 360p and 720p, seeds 0–2, 3 s
    python -m benchmarks.quality --sizes 720p,1080p --seeds 0 --seconds 2 --png-dir /tmp/err
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.ffmpeg_peer import Peer, border_color, ffmpeg_frames, tune_ffmpeg  # noqa: E402
from benchmarks.footage import FootageClip, all_specs, screen_by_name  # noqa: E402
from benchmarks.footage import make_clips as make_footage  # noqa: E402
from benchmarks.metrics import (  # noqa: E402
    BIAS,
    ISSUE23,
    REGIONS,
    TEST_COLOR,
    Acc,
    accumulate,
    lit_screen,
    screen_coloured_patch,
    spill_floor_sad,
    truth_ctx,
)
from benchmarks.quality_tables import MAIN, issue23_table, per_clip_table, table  # noqa: E402
from benchmarks.truth import Clip, make_clips  # noqa: E402
from chromakey.bench import machine_info, machine_table, parse_size  # noqa: E402
from chromakey.core.color import InputColour  # noqa: E402
from chromakey.core.layers import CLEAR  # noqa: E402
from chromakey.core.params import KeyerParams  # noqa: E402
from chromakey.io.sources import VideoSource  # noqa: E402
from chromakey.keying.calibration import ScreenCalibrator  # noqa: E402
from chromakey.keying.reference import ReferenceKeyer  # noqa: E402
from chromakey.keying.select import make_keyer  # noqa: E402

F32 = np.float32


def ours_frames(
    path: Path,
    backend: str,
    params: KeyerParams | None = None,
    input_colour: InputColour | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Straight alpha and colour of each frame; ``input_colour``: what the user states of the
    input's YUV (``--input-chroma-siting`` and the rest), put on each frame as the compositor
    does."""
    params = params or KeyerParams()  # the defaults: what is measured
    stated = input_colour or InputColour()
    # "reference": the numpy oracle the other two are held to, to try a change there first.
    keyer = ReferenceKeyer(params) if backend == "reference" else make_keyer(backend, params)
    calib = ScreenCalibrator(params)
    src = VideoSource(path, audio=False)
    try:
        for kind, frame in src:
            if kind != "video":
                continue
            frame.yuv = stated.apply(frame.yuv)
            rgba = keyer.render(frame, calib.update(frame), CLEAR)
            x = rgba.astype(F32) * F32(1 / 255)
            yield x[..., 3], x[..., :3]
    finally:
        src.close()
        keyer.close()


def _tag(clip, i: int) -> str:
    s = clip.spec
    name = clip.name.replace(" ", "_").replace("(", "").replace(")", "")
    return f"{name}_{s.width}x{s.height}_f{i}"


def _save_png(path: Path, gray: np.ndarray) -> None:
    _save_rgb(path, np.repeat(gray[..., None], 3, axis=-1))


def _save_rgb(path: Path, rgb: np.ndarray) -> None:
    import av

    rgb = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8)
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = rgb.shape[1], rgb.shape[0], "rgb24"
        for p in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def evaluate(
    clip: Clip,
    methods: dict[str, Iterator[tuple[np.ndarray, np.ndarray]]],
    png_dir: Path | None = None,
) -> dict[str, dict[str, float]]:
    """Per method the metrics; under "floor", the clip's spill_floor_sad ("SAD") and, on
    footage, its screen_coloured_patch ("screen-coloured px")."""
    accs = {m: Acc() for m in methods}
    floor: list[float] = []
    # The lost patch's floor (screen-coloured subject) on footage, whose screen is known.
    coloured = 0
    screen_rgb = screen_by_name(clip.spec.screen).rgb if isinstance(clip, FootageClip) else None
    lit = lit_screen(clip.spec) if isinstance(clip, Clip) else None
    prev_g = None
    snap = clip.spec.frame_count // 2
    for i in range(clip.spec.frame_count):
        tf = clip.truth(i)
        t = truth_ctx(
            tf, prev_g, lit, getattr(clip, "motion_x", None), getattr(clip, "screen_channel", 1)
        )
        floor.append(spill_floor_sad(tf))
        if screen_rgb is not None:
            patch = screen_coloured_patch(tf.alpha, tf.foreground, screen_rgb, clip_params(clip))
            coloured = max(coloured, patch)
        for m, it in methods.items():
            got = next(it, None)
            if got is None:
                raise RuntimeError(f"{m}: ended after {i} of {clip.spec.frame_count} frames")
            accumulate(accs[m], t, *got)
            if png_dir is not None and i == snap:
                tag = _tag(clip, i)
                # |alpha error| ×4 (0.25 error is white); and the composites side by side.
                who = m.split()[-1] if m.startswith("ours") else "ffmpeg"
                _save_png(png_dir / f"err_{tag}_{who}.png", 4 * np.abs(got[0] - t.g))
                _save_rgb(
                    png_dir / f"comp_{tag}_{who}.png",
                    got[1] * got[0][..., None] + (1 - got[0][..., None]) * np.asarray(TEST_COLOR),
                )
        prev_g = t.g
        if png_dir is not None and i == snap:
            _save_png(
                png_dir / f"truth_{_tag(clip, i)}.png",
                t.g,
            )
            _save_rgb(png_dir / f"observed_{_tag(clip, i)}.png", tf.observed)
    for it in methods.values():
        close = getattr(it, "close", None)
        if close:
            close()
    floors = {"SAD": float(np.mean(floor))}
    if screen_rgb is not None:
        floors["screen-coloured px"] = float(coloured)
    return {m: a.result() for m, a in accs.items()} | {"floor": floors}


def mean_results(per_clip: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for m in per_clip[0]:
        keys = per_clip[0][m].keys()
        out[m] = {k: float(np.mean([r[m][k] for r in per_clip if m in r])) for k in keys}
    return out


def clip_params(clip) -> KeyerParams:
    """Our settings for a clip: the defaults, plus what a user says of a blue screen."""
    if isinstance(clip, FootageClip):
        return KeyerParams(**dict(screen_by_name(clip.spec.screen).params))
    return KeyerParams()


def clip_peer(clip) -> Peer:
    blue = isinstance(clip, FootageClip) and clip.spec.screen == "blue"
    return Peer(border_color(clip.path), "blue" if blue else "green")


def _kbps(clip) -> float:
    return clip.path.stat().st_size * 8 / (clip.spec.frame_count / float(clip.spec.fps)) / 1e3


def evaluate_clip(clip, backends: list[str], exe: str | None, args) -> tuple[dict, str | None]:
    methods: dict[str, Iterator] = {
        f"ours {b}": ours_frames(clip.path, b, clip_params(clip)) for b in backends
    }
    peer_name = None
    if exe:
        peer = clip_peer(clip)
        footage = isinstance(clip, FootageClip)
        s, b, _ = tune_ffmpeg(exe, clip, peer, small=args.small_grid, grid3=footage)
        peer_name = f"FFmpeg {peer.color} s={s:g} b={b:g}"
        methods[peer_name] = ffmpeg_frames(exe, clip, s, b, peer)
    png_dir = Path(args.png_dir) if args.png_dir else None
    return evaluate(clip, methods, png_dir), peer_name


def run(args: argparse.Namespace) -> int:
    sizes = [parse_size(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    backends = [b for b in args.backends.split(",") if b]
    sets = [x for x in args.set.split(",") if x]
    exe = shutil.which("ffmpeg")
    out_dir = Path(args.workdir)
    if args.png_dir:
        Path(args.png_dir).mkdir(parents=True, exist_ok=True)
    info = machine_info(gl="gpu" in backends)
    if "gpu" in backends and info["gl"].startswith("none"):
        print(f"note: no OpenGL context ({info['gl']}); gpu rows skipped", file=sys.stderr)
        backends = [b for b in backends if b != "gpu"]
    print(f"encoding clips into {out_dir} …", file=sys.stderr)
    clips: list = []
    if "sample" in sets:
        clips += make_clips(out_dir, sizes, seeds, args.seconds, single_slice=args.abr)
    if "footage" in sets:
        specs = all_specs(args.footage_frames)
        if args.footage:
            specs = [sp for sp in specs if any(k in sp.name for k in args.footage.split(","))]
        clips += make_footage(out_dir, specs)
    print("## Quality\n")
    print(machine_table(info))
    print(
        "\nClips: the built-in sample (libx264 veryfast crf 23 yuv420p, BT.709 tv) and real "
        "foregrounds with exact alpha on four screens (benchmarks/footage.py). Ours: "
        "KeyerParams() defaults (screen='blue' on the blue screen), screen calibrated from the "
        "frames. FFmpeg: chromakey with the key colour sampled from the border + despill, "
        "similarity/blend tuned per clip (best alpha SAD: a 6×5 grid refined on the sample, "
        "the 3×3 grid on real footage). Composite over magenta."
    )
    if not exe:
        print("\nNote: ffmpeg CLI not found on PATH: the FFmpeg columns are skipped.")
    per_clip = []
    rows = []
    for clip in clips:
        t0 = time.perf_counter()
        res, peer = evaluate_clip(clip, backends, exe, args)
        floors = res.pop("floor")
        floor = floors["SAD"]
        keyed = {("FFmpeg (tuned)" if m == peer else m): v for m, v in res.items()}
        keyed["floor"] = floors
        per_clip.append((clip, keyed))
        s = clip.spec
        print(
            f"\n### {clip.name}: {s.width}×{s.height}, {s.frame_count} frames, "
            f"{_kbps(clip):.0f} kb/s ({time.perf_counter() - t0:.0f} s)\n"
        )
        print(table(res, MAIN, peer))
        print("\nSigned alpha bias of partial pixels per truth decile (target ±0.05):\n")
        print(table(res, BIAS, None))
        print("\nIssue 23's measures (lost patch: the largest over the frames):\n")
        print(table(res, ISSUE23, None))
        print(f"\nSAD floor of an exact screen-share keyer (spill reads as coverage): {floor:.3f}")
        if "screen-coloured px" in floors:
            print(
                "Lost patch floor (the sure subject whose own colour keys as the screen): "
                f"{floors['screen-coloured px']:.0f} px"
            )
        rows.append((clip, keyed))
    print("\n### Per clip\n")
    print(per_clip_table(rows, backends))
    print(
        "\n### Issue 23's measures per clip (ours · FFmpeg's best of grid; the lost patch's "
        "floor after them)\n"
    )
    print(issue23_table(rows, backends))
    sample_rows = [
        {m: v for m, v in k.items() if m != "floor"} for c, k in per_clip if isinstance(c, Clip)
    ]
    if sample_rows:
        summary = mean_results(sample_rows)
        peer_key = "FFmpeg (tuned)" if exe else None
        print(f"\n### The sample: mean over {len(sample_rows)} clips\n")
        print(table(summary, MAIN, peer_key))
        print("\nSAD per region (mean per frame, /1000):\n")
        print(table(summary, tuple(f"SAD {r}" for r in REGIONS), peer_key))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="Matting quality vs ground truth; ours vs FFmpeg chromakey+despill."
    )
    p.add_argument("--sizes", default="360p,720p", help="clip sizes: 360p, 720p, 1080p or WxH")
    p.add_argument("--seeds", default="0,1,2", help="sample seeds [0,1,2]")
    p.add_argument("--seconds", type=float, default=3.0, help="clip length [3]")
    p.add_argument(
        "--backends",
        default="cpu,gpu",
        help="our backends: cpu, gpu, reference (the numpy oracle, slow)",
    )
    p.add_argument("--workdir", default="/tmp/chromakey-bench", help="clip cache folder")
    p.add_argument("--png-dir", help="save |alpha error| PNGs of each clip's middle frame here")
    p.add_argument(
        "--abr",
        action="store_true",
        help="clips at 4 Mb/s per 720p (ABR, slices=1) instead of crf 23",
    )
    p.add_argument("--small-grid", action="store_true", help="a 2×2 FFmpeg grid (smoke tests)")
    p.add_argument("--set", default="sample,footage", help="clip sets: sample, footage [both]")
    p.add_argument("--footage", help="only footage clips whose name contains one of these (a,b)")
    p.add_argument("--footage-frames", type=int, default=24, help="frames per footage clip [24]")
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
