"""Start-up: a short clip rendered as a whole process, wall and CPU seconds (median of rounds).

    python -m benchmarks.startup [--clip CLIP] [--rounds 5] [--backend auto --backend cpu]
                                 [--checkout OTHER_TREE]

Writes a 3-frame 720p sample clip when none is given. Each round runs every (checkout,
backend) once, interleaved, so that a shared machine's load falls on all of them alike;
``--checkout`` adds another source tree of chromakey (an older commit, say) run the same
way, for a before/after ratio. CPU seconds (user + system of the child) are steadier than
wall seconds where other work shares the cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(tree: Path, clip: Path, out: Path, backend: str) -> tuple[float, float]:
    """(wall, CPU) seconds of one ``chromakey render`` from ``tree``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(clip), "-o", str(out)]
        + ["--backend", backend],
        cwd=tree,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"{tree}: render failed ({r.returncode}): {r.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, help="the clip to render [a 3-frame 720p sample]")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--backend", action="append", choices=("auto", "cpu", "gpu"))
    ap.add_argument("--checkout", type=Path, action="append", default=[], help="another tree")
    args = ap.parse_args(argv)
    backends = args.backend or ["auto", "cpu"]
    trees = [ROOT, *(p.resolve() for p in args.checkout)]
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.clip
        if clip is None:
            clip = Path(tmp) / "clip.mp4"
            subprocess.run(
                [sys.executable, "-m", "chromakey", "sample", "-o", str(clip), "--seconds", "0.1"],
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        out = Path(tmp) / "out.nut"
        times: dict[tuple[Path, str], list[tuple[float, float]]] = {}
        for tree in trees:  # one run each first: caches (numba's, the OpenGL probe's) made
            for backend in backends:
                run_once(tree, clip, out, backend)
        for _ in range(args.rounds):
            for tree in trees:
                for backend in backends:
                    times.setdefault((tree, backend), []).append(run_once(tree, clip, out, backend))
    load = os.getloadavg()[0]
    print(f"{clip.name}: render to .nut, median of {args.rounds} (load average {load:.1f})")
    print(f"{'tree':<40} {'backend':<8} {'wall s':>7} {'CPU s':>7}")
    for (tree, backend), runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{str(tree):<40} {backend:<8} {wall:7.2f} {cpu:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
