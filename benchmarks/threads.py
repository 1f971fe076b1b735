"""Thread counts on this machine: numba's threads for the kernel against the encoder's, for a
render to MP4 (x264) and to raw NUT, now that writing overlaps keying (io.sinks.threaded).

    python -m benchmarks.threads CLIP [--rounds 3]

Each (numba threads, encoder threads) pair renders CLIP in a process of its own, over the
bench's colour, round-robin over the rounds (the order rotates each round); the table gives
the median wall seconds of the render (start-up excluded: the pipeline's own clock) and the
ratio to the default (numba's threads = the CPUs, the encoder's own choice, ``0``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
RESULT = "THREADS-RESULT "


def child(clip: str, out: str, encoder_threads: int) -> int:
    from chromakey.backgrounds import ColorBackground
    from chromakey.bench.settings import BACKGROUND
    from chromakey.core.memory import keep_freed_memory
    from chromakey.core.params import KeyerParams
    from chromakey.io.sinks import open_sink
    from chromakey.io.sinks.threaded import ThreadedSink
    from chromakey.io.sources import VideoSource
    from chromakey.keying.select import cpu_keyer
    from chromakey.pipeline import Pipeline

    keep_freed_memory()
    params = KeyerParams()
    keyer = cpu_keyer(params)
    source = VideoSource(clip, audio=False)
    inner = open_sink(out, source.info, False)
    inner.stream.codec_context.thread_count = encoder_threads  # type: ignore[attr-defined]
    try:
        stats = Pipeline(
            source, keyer, ColorBackground(BACKGROUND), [ThreadedSink(inner)], params
        ).run()
    finally:
        keyer.close()
    print(RESULT + json.dumps({"elapsed": stats.elapsed, "frames": stats.frames}), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1], int(args.child[2]))
    if not args.clip:
        ap.error("give a clip")
    cpus = os.cpu_count() or 1
    numba_counts = sorted({1, cpus})
    encoder_counts = [0, 1, cpus]  # 0: the encoder's own choice
    combos = [
        (out, nt, et)
        for out in ("mp4", "nut")
        for nt in numba_counts
        for et in (encoder_counts if out == "mp4" else [0])
    ]
    times: dict[tuple[str, int, int], list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            k = r % len(combos)
            for out, nt, et in combos[k:] + combos[:k]:
                env = dict(os.environ, NUMBA_NUM_THREADS=str(nt))
                dest = str(Path(tmp) / f"out.{out}")
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.threads",
                        "--child",
                        args.clip,
                        dest,
                        str(et),
                    ],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                )
                line = [ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT)]
                if proc.returncode != 0 or not line:
                    raise SystemExit(f"render failed: {proc.stderr.strip()[-800:]}")
                res = json.loads(line[-1][len(RESULT) :])
                times.setdefault((out, nt, et), []).append(res["elapsed"])
                print(f"  {out} numba {nt} encoder {et}: {res['elapsed']:.2f} s", file=sys.stderr)
    load = os.getloadavg()[0]
    print(f"{Path(args.clip).name}: median of {args.rounds} (load average {load:.1f})\n")
    print("| output | numba threads | encoder threads | render s | ÷ default |")
    print("|---|---:|---:|---:|---:|")
    for out, nt, et in combos:
        med = statistics.median(times[(out, nt, et)])
        base = statistics.median(times[(out, max(numba_counts), 0)])
        enc = "auto" if et == 0 else str(et)
        if out == "nut":
            enc = "—"
        print(f"| {out} | {nt} | {enc} | {med:.2f} | {base / med:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
