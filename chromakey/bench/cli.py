"""``chromakey bench``: its options and the report it prints."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from ..core.sizes import parse_size, size_name
from .child import _child
from .clips import CLIP_KINDS, sample_clip
from .gpu_times import gpu_time_table
from .machine import ffmpeg_path, machine_info, machine_table
from .run import python_child, run_bench
from .settings import FFMPEG_BLEND, FFMPEG_SIMILARITY, KEY_BORDER, KEY_FRAMES
from .tables import speed_tables

# --- command line ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chromakey bench",
        description="Frames per second of our render against PyAV decode-only and the FFmpeg CLI "
        "(chromakey + overlay), interleaved in one run; medians of several rounds.",
    )
    p.add_argument(
        "input", nargs="?", help="a recorded stream to measure; default: generated sample clips"
    )
    p.add_argument("--seconds", type=float, default=3.0, help="length of generated clips [3]")
    p.add_argument("--rounds", type=int, default=3, help="round-robin rounds [3]")
    p.add_argument(
        "--sizes",
        default="720p,1080p",
        help="generated clip sizes: 360p, 720p, 1080p, 2160p (4k) or WxH [720p,1080p]",
    )
    p.add_argument(
        "--kinds",
        default="camera,avatar",
        help="generated clip kinds: camera (the sample avatar with a camera's noise), avatar "
        "(a talking avatar on a flat #008000 screen), sample (the built-in clip as it is) "
        "[camera,avatar]",
    )
    p.add_argument("--backends", default="cpu,gpu", help="our backends to time: cpu, gpu [cpu,gpu]")
    p.add_argument("--no-mp4", action="store_true", help="skip the MP4 (encode) contenders")
    p.add_argument(
        "--no-pipe",
        action="store_true",
        help="skip the whole-process NUT-to-stdout contenders (chromakey render -o - vs ffmpeg)",
    )
    p.add_argument(
        "--gpu-passes",
        action="store_true",
        help="also the GPU's own ms per pass, upload and read-back (OpenGL timer queries), "
        "over every frame of each clip, in a process of its own",
    )
    p.add_argument("--workdir", help="folder for generated clips and outputs [a temp folder]")
    p.add_argument("--json", help="also write every run's numbers to this JSON file")
    p.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child is not None:
        return _child(args.child)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("cpu", "gpu"):
            print(f"error: --backends: unknown backend {b!r}; use cpu and/or gpu", file=sys.stderr)
            return 2
    if args.rounds < 1 or args.seconds <= 0:
        print("error: --rounds must be ≥ 1 and --seconds > 0", file=sys.stderr)
        return 2
    info = machine_info(gl="gpu" in backends)
    if "gpu" in backends and info["gl"].startswith("none"):
        print(f"note: no OpenGL context ({info['gl']}); the gpu rows are skipped", file=sys.stderr)
        backends = [b for b in backends if b != "gpu"]
    ffmpeg = ffmpeg_path()
    notes = []
    if not ffmpeg:
        notes.append(
            "ffmpeg CLI not found on PATH: the FFmpeg rows are skipped "
            "(Debian/Ubuntu: apt-get install ffmpeg)"
        )
    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chromakey-bench-")
        workdir = Path(tmp.name)
    try:
        if args.input:
            if not Path(args.input).exists() and "://" not in args.input:
                print(f"error: {args.input}: no such file", file=sys.stderr)
                return 2
            inputs = [(Path(args.input).name, args.input)]
        else:
            inputs = []
            kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
            unknown = [k for k in kinds if k not in CLIP_KINDS] or ([] if kinds else ["none"])
            if unknown:
                print(
                    f"error: --kinds: {', '.join(unknown)}: use {', '.join(CLIP_KINDS)}",
                    file=sys.stderr,
                )
                return 2
            for kind in kinds:
                for s in args.sizes.split(","):
                    try:
                        w, h = parse_size(s)
                    except ValueError as exc:
                        print(f"error: --sizes: {exc}", file=sys.stderr)
                        return 2
                    name = f"{kind} {size_name(w, h)}"
                    print(f"generating the {name} clip ({args.seconds:g} s)…", file=sys.stderr)
                    clip = sample_clip(workdir, w, h, args.seconds, kind=kind)
                    inputs.append((name, str(clip)))
        result = run_bench(
            inputs,
            backends,
            args.rounds,
            ffmpeg=ffmpeg,
            workdir=workdir,
            mp4=not args.no_mp4,
            pipe=not args.no_pipe,
        )
        print("## Speed\n")
        print(machine_table(info))
        for n in notes:
            print(f"\nNote: {n}")
        print(
            "\nContenders run one at a time, each in its own process, round-robin; fps = frames / "
            "wall time of the run (our pipeline's RenderStats.elapsed, PyAV's decode loop, "
            "FFmpeg's -benchmark rtime; process start-up excluded), except the 'whole "
            "process' rows, timed from process start to exit: `chromakey render IN -o - "
            "--format nut > /dev/null` against FFmpeg writing rgb24 NUT to its stdout, and "
            "`chromakey render IN -o OUT.mp4` against FFmpeg writing the same x264 MP4. Peak "
            "RSS = VmHWM of the contender's own process (/proc; sampled every 20 ms for "
            "FFmpeg and the whole commands). FFmpeg: chromakey=KEY"
            + f":{FFMPEG_SIMILARITY}:{FFMPEG_BLEND} + overlay on a colour source, KEY the "
            f"median of the input's outer {KEY_BORDER}-px border over its first {KEY_FRAMES} "
            "frames (an eyedropper's pick, decoded with the stream's matrix); raw = rgb24 "
            "(the bytes our raw path hands over), mp4 = libx264 veryfast crf 18 yuv420p, as ours."
        )
        print(speed_tables(result, inputs))
        gpu_passes = {}
        if args.gpu_passes and "gpu" in backends:
            gpu_passes = {name: python_child(["passes", path], 1800.0) for name, path in inputs}
            print(
                "\n### GPU time per pass\n\nOpenGL timer queries (GL_TIME_ELAPSED) around the "
                "upload of the frame's planes, each pass and the read-back, in the GPU's own "
                "time, no finish() between draws; the mean over every frame of the clip but the "
                "first, through the whole pipeline (calibration, the bench's colour behind). "
                "frame = upload + passes + readback."
            )
            for name, res in gpu_passes.items():
                print(f"\n#### {name}: {res['timed_frames']} frames, {res['renderer']}\n")
                print(gpu_time_table(res["gpu_ms"]))
        elif args.gpu_passes:
            print("\nNote: --gpu-passes needs the gpu backend; no GPU times", file=sys.stderr)
        if args.json:
            payload = {
                "machine": info,
                "inputs": inputs,
                "ffmpeg_keys": result["keys"],
                "gpu_passes": gpu_passes,
                "runs": {
                    f"{k[0]} | {k[1]}": [r.__dict__ for r in v] for k, v in result["runs"].items()
                },
            }
            Path(args.json).write_text(json.dumps(payload, indent=1))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
