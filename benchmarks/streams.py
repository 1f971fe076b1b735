"""Streams per machine: how many paced 720p30 avatar streams this machine keys at once, CPU
path, with at most 1% of frames dropped — what a server compositing avatar sessions costs.

    python -m benchmarks.streams                  # 720p30 avatar clips, 10 s, N = 1, 2, 3, …
    python -m benchmarks.streams --seconds 20 --max-streams 12 --threads 1
    python -m benchmarks.streams --quick          # tiny clips, N up to 2: the test's run

Each stream is a process of its own that plays the ``avatar`` clip of ``chromakey bench``
(a talking avatar on a flat #008000 screen) as a live stream: the file is paced to real time
(``io.sources.pacing.Pacer``) into a decode queue of ``--queue`` frames (8, VideoSource's
own: a quarter of a second of jitter) that drops its oldest frame when the keyer falls
behind (``VideoSource(drop=True)``), and every frame is keyed and composited over a
colour by the CPU keyer (``--threads`` numba threads a stream) and handed to a sink that
drops it. All streams of a trial load first, then start together on a signal, so no
stream's start-up falls on another's clock. A trial passes when at most ``--max-drop`` of
the frames (all streams together, and each stream on its own) were dropped; N steps up from
1 until a trial fails or ``--max-streams`` passes. Every trial lasts the clip's length, so
the whole run is bounded by ``max-streams`` × (length + start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
READY, GO, RESULT = "STREAM-READY", "go", "STREAM-RESULT "
START_TIMEOUT = 300.0  # seconds all streams of a trial may take to load


def child(clip: str, queue: int) -> int:
    """One stream: load, say ready, wait for the signal, play the clip paced, report."""
    from chromakey.backgrounds import ColorBackground
    from chromakey.bench.settings import BACKGROUND
    from chromakey.core.memory import keep_freed_memory
    from chromakey.core.params import KeyerParams
    from chromakey.io.sinks import CallbackSink
    from chromakey.io.sources import VideoSource
    from chromakey.io.sources.pacing import Pacer
    from chromakey.keying.select import cpu_keyer
    from chromakey.pipeline import Pipeline

    keep_freed_memory()
    params = KeyerParams()
    keyer = cpu_keyer(params)
    try:
        probe = VideoSource(clip, audio=False)
        keyer.warm(probe.info.width, probe.info.height)
        probe.close()
        print(READY, flush=True)
        if sys.stdin.readline().strip() != GO:
            return 1
        source = VideoSource(clip, audio=False, drop=True, queue_size=queue, gate=Pacer())
        sink = CallbackSink(lambda image, t: None)
        stats = Pipeline(source, keyer, ColorBackground(BACKGROUND), [sink], params).run()
    finally:
        keyer.close()
    print(RESULT + json.dumps({"frames": stats.frames, "dropped": stats.dropped}), flush=True)
    return 0


def trial(clip: Path, n: int, threads: int, queue: int) -> list[dict[str, int]]:
    """``n`` streams at once: each stream's keyed and dropped frame counts."""
    env = dict(os.environ, NUMBA_NUM_THREADS=str(threads))
    env["PYTHONPATH"] = str(ROOT) + (
        os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
    )
    cmd = [sys.executable, "-m", "benchmarks.streams", "--child", str(clip), "--queue", str(queue)]
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(n)
    ]
    try:
        deadline = time.monotonic() + START_TIMEOUT
        for p in procs:
            line = p.stdout.readline() if p.stdout else ""
            if line.strip() != READY or time.monotonic() > deadline:
                raise RuntimeError(f"a stream did not start (exit {p.poll()}): {line.strip()!r}")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(GO + "\n")
            p.stdin.flush()
        results = []
        for p in procs:
            out, _ = p.communicate(timeout=START_TIMEOUT)
            found = [ln for ln in out.splitlines() if ln.startswith(RESULT)]
            if p.returncode != 0 or not found:
                raise RuntimeError(f"a stream failed (exit {p.returncode})")
            results.append(json.loads(found[-1][len(RESULT) :]))
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT of the clip [1280x720]")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of each trial [10]")
    ap.add_argument("--max-streams", type=int, default=12, help="stop stepping here [12]")
    ap.add_argument("--max-drop", type=float, default=0.01, help="share of frames [0.01]")
    ap.add_argument("--threads", type=int, default=1, help="numba threads per stream [1]")
    ap.add_argument("--queue", type=int, default=8, help="decode queue, frames [8]")
    ap.add_argument("--workdir", help="folder for the clip [a temporary folder]")
    ap.add_argument("--quick", action="store_true", help="160x96, 1 s, up to 2 streams")
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.queue)
    from chromakey.bench.clips import sample_clip
    from chromakey.core.sizes import parse_size

    if args.quick:
        args.size, args.seconds, args.max_streams = "160x96", 1.0, 2
    w, h = parse_size(args.size)
    with tempfile.TemporaryDirectory(prefix="chromakey-streams-") as tmp:
        folder = Path(args.workdir or tmp)
        clip = sample_clip(folder, w, h, args.seconds, kind="avatar")
        rows, best = [], 0
        for n in range(1, args.max_streams + 1):
            results = trial(clip, n, args.threads, args.queue)
            frames = sum(r["frames"] + r["dropped"] for r in results)
            dropped = sum(r["dropped"] for r in results)
            worst = max(r["dropped"] / max(r["frames"] + r["dropped"], 1) for r in results)
            ok = dropped <= args.max_drop * frames and worst <= args.max_drop
            rows.append((n, frames, dropped, worst, ok))
            print(
                f"  {n} stream(s): {dropped} of {frames} frames dropped "
                f"(worst stream {100 * worst:.1f}%){'' if ok else ' — over the limit'}",
                file=sys.stderr,
                flush=True,
            )
            if not ok:
                break
            best = n
    load = os.getloadavg()[0]
    print(f"## Streams: paced {w}×{h} avatar streams at once, CPU path\n")
    print(
        f"{args.seconds:g} s a trial, {args.threads} numba thread(s) and a {args.queue}-frame "
        f"queue a stream, {os.cpu_count()} "
        f"CPUs, load average {load:.1f} at the end\n"
    )
    print("| streams | frames | dropped | dropped % | worst stream % | ≤ limit |")
    print("|---:|---:|---:|---:|---:|:---:|")
    for n, frames, dropped, worst, ok in rows:
        share = 100 * dropped / max(frames, 1)
        print(
            f"| {n} | {frames} | {dropped} | {share:.1f} | {100 * worst:.1f} | {'yes' if ok else 'no'} |"
        )
    capped = best == args.max_streams
    print(
        f"\nLargest N with at most {100 * args.max_drop:g}% of frames dropped: {best}"
        + (" (the --max-streams cap; more may hold)" if capped else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
