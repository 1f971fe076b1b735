"""Batch throughput: the same jobs one after another, on the local pool, and on Ray.

    python -m benchmarks.batch                       # 8 generated 10-second 720p recordings
    python -m benchmarks.batch --jobs 4 --seconds 2 --size 320x180 --modes sequential,pool

Each mode runs in a fresh process of its own (its imports, kernel load, pool or Ray start-up
all counted), over the same inputs, into fresh outputs. Overhead per job is what the wall
time holds beyond the jobs' own render time spread over the parallel slots:
(wall − Σ render seconds ÷ slots) ÷ jobs. The cluster estimate scales the measured per-core
throughput of the best mode; it is arithmetic, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
MODES = ("sequential", "pool", "ray")


def make_inputs(folder: Path, jobs: int, width: int, height: int, seconds: float) -> list[Path]:
    """The built-in avatar sample, one seed per recording; kept between runs."""
    from chromakey.sample import SampleSpec, write_sample

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(jobs):
        path = folder / f"rec{i}-{width}x{height}-{seconds:g}s.mp4"
        if not path.exists():
            write_sample(
                path, SampleSpec(width=width, height=height, fps=30, seconds=seconds, seed=i)
            )
        paths.append(path)
    return paths


def one_mode(mode: str, inputs: list[str], outdir: str, backend: str) -> dict:
    """Runs in the child: the jobs through chromakey.batch.run; its numbers as a dict."""
    from chromakey.batch import LocalExecutor, RayExecutor, SerialExecutor, run

    start = time.perf_counter()
    if mode == "sequential":
        executor = SerialExecutor()
    elif mode == "pool":
        executor = LocalExecutor()
    else:
        executor = RayExecutor("auto")
    jobs = [
        {"input": p, "output": str(Path(outdir) / f"{Path(p).stem}.mp4"), "background": "#1e90ff"}
        for p in inputs
    ]
    results = run(jobs, executor=executor, backend=backend)
    wall = time.perf_counter() - start
    if mode == "sequential":
        slots = 1
    elif mode == "pool":
        slots = executor.plan.workers
    else:
        slots = min(len(jobs), os.cpu_count() or 1)
    return {
        "mode": mode,
        "wall": wall,
        "frames": sum(r.frames for r in results),
        "render_seconds": sum(r.seconds for r in results),
        "statuses": sorted({r.status for r in results}),
        "errors": [r.error for r in results if r.error],
        "slots": slots,
        "threads": getattr(getattr(executor, "plan", None), "threads", None),
        "ray_startup": getattr(executor, "startup_seconds", None),
        "jobs": len(jobs),
    }


def run_child(mode: str, inputs: list[Path], outdir: Path, backend: str) -> dict:
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if mode == "ray":
        env.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # this machine alone: loopback
    load0 = os.getloadavg()[0]
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.batch", "--one", mode, "--outdir", str(outdir), "--backend", backend, *map(str, inputs)],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{mode} failed: {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    data["load"] = (load0, os.getloadavg()[0])
    return data


def table(rows: list[dict], cores: int) -> str:
    out = [
        "| mode | workers × keyer threads | wall s | frames | fps | fps per core | overhead per job s | Ray start-up s | load avg (1 min) before → after |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        fps = r["frames"] / r["wall"]
        overhead = (r["wall"] - r["render_seconds"] / r["slots"]) / r["jobs"]
        shape = {
            "sequential": f"1 × {cores}",
            "pool": f"{r['slots']} × {r['threads']}",
            "ray": f"{r['slots']} tasks × 1 CPU",
        }[r["mode"]]
        startup = f"{r['ray_startup']:.1f}" if r["ray_startup"] else "—"
        out.append(
            f"| {r['mode']} | {shape} | {r['wall']:.1f} | {r['frames']} | {fps:.1f} | {fps / cores:.1f} | "
            f"{overhead:.2f} | {startup} | {r['load'][0]:.1f} → {r['load'][1]:.1f} |"
        )
    return "\n".join(out)


def cluster_estimate(
    rows: list[dict], cores: int, seconds: float, machines=(1, 4, 16, 64), machine_cores: int = 16
) -> str:
    best = max(rows, key=lambda r: r["frames"] / r["wall"])
    per_core = best["frames"] / best["wall"] / cores
    frames_per_job = best["frames"] / best["jobs"]
    out = [
        f"Per-core throughput, measured ({best['mode']}): **{per_core:.1f} frames/s per core**. "
        f"Estimate for N machines of {machine_cores} such cores, one task per core, enough jobs "
        "to fill them, inputs and outputs on shared storage that keeps up (Ray adds its start-up "
        "once and its per-task overhead as measured above):",
        "",
        f"| machines | cores | frames/s | recordings like these ({seconds:g} s, {frames_per_job:.0f} frames) per hour |",
        "|---:|---:|---:|---:|",
    ]
    for n in machines:
        fps = per_core * n * machine_cores
        out.append(
            f"| {n} | {n * machine_cores} | {fps:,.0f} | {3600 * fps / frames_per_job:,.0f} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.batch", description=__doc__.splitlines()[0])
    p.add_argument("inputs", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    p.add_argument("--outdir", help=argparse.SUPPRESS)
    p.add_argument("--jobs", type=int, default=8, help="recordings [8]")
    p.add_argument("--seconds", type=float, default=10.0, help="length of each [10]")
    p.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT [1280x720]")
    p.add_argument("--modes", default=",".join(MODES), help=f"[{','.join(MODES)}]")
    p.add_argument("--rounds", type=int, default=1, help="rounds, modes interleaved [1]")
    p.add_argument("--backend", default="cpu", choices=("cpu", "gpu", "auto"), help="[cpu]")
    p.add_argument("--workdir", default="/tmp/chromakey-batch-bench", help="inputs and outputs")
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(one_mode(args.one, args.inputs, args.outdir, args.backend)))
        return 0
    from chromakey.batch.local import usable_cpus
    from chromakey.bench import machine_info, machine_table

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        p.error(f"unknown mode {unknown[0]}; use {', '.join(MODES)}")
    w, h = (int(v) for v in args.size.lower().split("x"))
    work = Path(args.workdir)
    inputs = make_inputs(work / "in", args.jobs, w, h, args.seconds)
    cores = len(usable_cpus())
    rows = []
    for _ in range(args.rounds):
        for mode in modes:
            rows.append(run_child(mode, inputs, work / f"out-{mode}", args.backend))
    print(
        f"### {args.jobs} recordings, {w}×{h}, {args.seconds:g} s at 30 fps, backend {args.backend}, {cores} cores\n"
    )
    print(table(rows, cores))
    print()
    print(cluster_estimate(rows, cores, args.seconds))
    print()
    print(machine_table(machine_info(gl=False)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
