"""How many live streams one GPU keys at once: N LiveCompositors on the GPU path, each playing
the sample clip in real time from its own decoder, all in one host's render loop.

    python -m benchmarks.gpu_streams                                # 1080p30: 1, 4, 8 … 32
    python -m benchmarks.gpu_streams --counts 1,2 --size 160x96 --seconds 1   # a smoke run
    python -m benchmarks.gpu_streams --json streams.json --budget 70

The host: one thread, one shared OpenGL context (a window showing N avatars), a loop ticking
at twice the clip's rate that calls every compositor's ``update()`` and then ``finish()``, as a
swap would wait for the GPU. Each compositor's file source decodes on its own thread and is
paced to real time (``open_source``), so a loop that falls behind loses frames, as a live
stream would. A count passes when at most ``--max-drop`` % of the frames its streams carried
after a warm-up (``--warmup`` seconds: every stream's first frame builds its targets and runs
a full calibration) were not shown: dropped late, dropped by a source (the compositors' own
counts), or not reached before the deadline. The warm-up's own drops are reported apart.

Counts run in increasing order and stop at the first that fails, or when ``--budget`` seconds
would be exceeded by the next; the report gives the largest count that passed and, for the
one that failed, what was saturated: the CPU cores (decoding, mostly), the GPU (the loop
spent most of its time waiting in ``finish()``), the render thread (most of it in the
``update()`` calls: calibration, upload, issuing the passes, Python), or none (the loop had
time to spare: frames came late from their decoders). The JSON is rewritten after each
count, so a run stopped by a time limit keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from chromakey.core.errors import ChromakeyError
from chromakey.core.params import KeyerParams
from chromakey.core.sizes import parse_size

from .gpu_gate import describe

DEFAULT_COUNTS = (1, 4, 8, 12, 16, 20, 24, 32)
SATURATED = 0.9  # a resource busy this fraction of the wall time is what set the limit


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _probe(path: Path) -> tuple[int, int, float, int]:
    """A clip's width, height, frame rate and frame count."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rate = float(s.average_rate or s.guessed_rate or 30)
        n = s.frames or sum(1 for p in c.demux(s) if p.size)
        return s.codec_context.width, s.codec_context.height, rate, n


def _counts_now(lives: list[Any]) -> tuple[int, int]:
    return sum(lv.stats.shown for lv in lives), sum(lv.stats.dropped for lv in lives)


def run_count(
    ctx: Any, clip: Path, n: int, fps: float, frames: int, *, warmup: float, tail: float
) -> dict:
    """N compositors on ``clip`` until every stream ended (or ``tail`` seconds past its
    length); what was shown and dropped after ``warmup`` seconds, and before."""
    from chromakey.io.sources import open_source
    from chromakey.live import LiveCompositor

    lives = []
    try:
        for _ in range(n):
            live = LiveCompositor(ctx, KeyerParams(), "transparent", backend="gpu", sync=False)
            lives.append(live)
        for live in lives:
            live.attach(open_source(clip), own=True)
        tick = 0.5 / fps
        loop_s: list[float] = []
        wait_s = 0.0
        t_start = time.perf_counter()
        steady_at, deadline = t_start + warmup, t_start + frames / fps + tail
        at_warm: tuple[int, int] | None = None
        cpu0 = os.times()
        while not all(live.ended for live in lives) and time.perf_counter() < deadline:
            start = time.perf_counter()
            if at_warm is None and start >= steady_at:
                at_warm, cpu0, t0 = _counts_now(lives), os.times(), start
                loop_s, wait_s = [], 0.0
            for live in lives:
                live.update(start)
            issued = time.perf_counter()
            ctx.finish()
            end = time.perf_counter()
            loop_s.append(end - start)
            wait_s += end - issued
            time.sleep(max(0.0, tick - (end - start)))
        end = time.perf_counter()
        cpu1 = os.times()
        shown, reported = _counts_now(lives)
    finally:
        for live in lives:
            live.close()
    if at_warm is None:  # the clip ended within the warm-up: all of it counts
        at_warm, t0 = (0, 0), t_start
    expected = n * frames
    unreached = max(0, expected - shown - reported)  # still in a queue at the deadline
    steady_shown, steady_dropped = shown - at_warm[0], reported - at_warm[1] + unreached
    steady = steady_shown + steady_dropped
    wall = end - t0
    cpu_s = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    return {
        "streams": n,
        "expected": expected,
        "shown": shown,
        "warmup_dropped": at_warm[1],
        "steady_frames": steady,
        "dropped": steady_dropped,
        "dropped_pct": 100.0 * steady_dropped / steady if steady else 0.0,
        "wall_s": wall,
        "loop_ms_p50": 1e3 * statistics.median(loop_s) if loop_s else 0.0,
        "loop_ms_max": 1e3 * max(loop_s) if loop_s else 0.0,
        "render_busy": sum(loop_s) / wall if wall > 0 else 0.0,
        "gpu_wait": wait_s / wall if wall > 0 else 0.0,
        "cpu_busy": cpu_s / wall / _cores() if wall > 0 else 0.0,
    }


def limit_of(trial: dict) -> str:
    """What was saturated in a count that failed."""
    if trial["cpu_busy"] >= SATURATED:
        return "the CPU cores (decoding, and the render thread)"
    if trial["render_busy"] >= SATURATED:
        if trial["gpu_wait"] >= trial["render_busy"] / 2:
            return "the GPU (the render loop waited in finish() most of its time)"
        return "the render thread (calibration, upload, issuing the passes, Python; one core)"
    return "none: the render loop had time to spare; frames came late from their decoders"


def report_table(report: dict) -> str:
    lines = [
        f"{report['size'][0]}×{report['size'][1]} at {report['fps']:g} fps, "
        f"{report['clip_frames']} frames a stream; {report['gl']['renderer']} "
        f"({report['gl']['vendor']}, {report['gl']['version']}); {report['cores']} cores",
        "",
        "| streams | frames | shown | warm-up drops | after warm-up | not shown | % | loop ms p50 "
        "| loop ms max | render loop busy | in finish() | CPU cores busy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in report["trials"]:
        lines.append(
            f"| {t['streams']} | {t['expected']} | {t['shown']} | {t['warmup_dropped']} | "
            f"{t['steady_frames']} | {t['dropped']} | "
            f"{t['dropped_pct']:.2f} | {t['loop_ms_p50']:.1f} | {t['loop_ms_max']:.1f} | "
            f"{100 * t['render_busy']:.0f}% | {100 * t['gpu_wait']:.0f}% | "
            f"{100 * t['cpu_busy']:.0f}% |"
        )
    best = report["max_streams_ok"]
    lines.append("")
    lines.append(
        f"Largest count with ≤ {report['max_drop_pct']:g}% not shown after the "
        f"{report['warmup_s']:g} s warm-up: {best}"
        + (f"; at the next, saturated: {report['limit']}" if report["limit"] else "")
        + (f"; stopped: {report['stopped']}" if report["stopped"] else "")
    )
    return "\n".join(lines)


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give stream counts ≥ 1, like 1,4,8")
    return sorted(set(counts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1080p", help="clip size: 720p, 1080p, WxH [1080p]")
    ap.add_argument("--fps", type=float, default=30.0, help="the clip's frame rate [30]")
    ap.add_argument("--seconds", type=float, default=4.0, help="clip length per count [4]")
    ap.add_argument(
        "--counts",
        type=_counts,
        default=list(DEFAULT_COUNTS),
        help="stream counts to try, in increasing order [1,4,8,12,16,20,24,32]",
    )
    ap.add_argument(
        "--warmup",
        type=float,
        default=1.0,
        help="seconds of each count not judged (start-up, first calibration) [1]",
    )
    ap.add_argument("--max-drop", type=float, default=1.0, help="%% not shown that passes [1]")
    ap.add_argument(
        "--budget",
        type=float,
        default=0.0,
        help="seconds for all counts; stop before one that would pass it [none]",
    )
    ap.add_argument(
        "--clip",
        help="a clip to play instead of the generated one "
        "(benchmarks.big_clip makes a longer one); --size and --fps then its own",
    )
    ap.add_argument("--workdir", help="folder for the generated clip [a temp folder]")
    ap.add_argument("--json", help="also write the report to this JSON file")
    args = ap.parse_args(argv)
    try:
        return _run(args)
    except ChromakeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_status


def _run(args: argparse.Namespace) -> int:
    from chromakey.bench import sample_clip
    from chromakey.keying.gpu import create_context

    started = time.perf_counter()
    w, h = parse_size(args.size, option="--size")
    if args.clip and not Path(args.clip).is_file():
        print(f"error: --clip {args.clip}: no such file", file=sys.stderr)
        return 3
    if args.seconds <= 0 or args.fps <= 0 or not 0 <= args.warmup < args.seconds:
        print("error: --seconds and --fps must be > 0, --warmup in [0, --seconds)", file=sys.stderr)
        return 2
    tmp = None if args.workdir else tempfile.TemporaryDirectory(prefix="chromakey-streams-")
    workdir = Path(args.workdir or tmp.name)  # type: ignore[union-attr]
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = create_context("standalone")
    try:
        if args.clip:
            clip = Path(args.clip)
            w, h, args.fps, frames = _probe(clip)
            args.seconds = frames / args.fps
        else:
            clip = sample_clip(workdir, w, h, args.seconds, fps=args.fps)
            frames = _probe(clip)[3]
        report: dict[str, Any] = {
            "gl": describe(ctx), "cores": _cores(), "size": [w, h], "fps": args.fps,
            "clip_frames": frames, "max_drop_pct": args.max_drop, "warmup_s": args.warmup,
            "trials": [],
            "max_streams_ok": 0, "limit": None, "stopped": None,
        }  # fmt: skip
        tail = 2.0 + args.seconds / 2
        for n in args.counts:
            elapsed = time.perf_counter() - started
            # A count takes the clip's length, its tail at most, and its start-up.
            if args.budget and elapsed + args.seconds + tail + 2.0 > args.budget:
                report["stopped"] = f"the {args.budget:g} s budget, before {n} streams"
                break
            trial = run_count(ctx, clip, n, args.fps, frames, warmup=args.warmup, tail=tail)
            report["trials"].append(trial)
            ok = trial["dropped_pct"] <= args.max_drop
            if ok:
                report["max_streams_ok"] = n
            else:
                report["limit"] = limit_of(trial)
            if args.json:
                Path(args.json).write_text(json.dumps(report, indent=1))
            print(f"  {n} streams: {trial['dropped_pct']:.2f}% not shown", file=sys.stderr)
            if not ok:
                break
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1))
        print(report_table(report))
    finally:
        ctx.release()
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
