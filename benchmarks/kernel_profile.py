"""Where the compiled CPU keyer's time goes, per numba function, measured by a profiler.

``py-spy --native`` shows numba's compiled code as bare addresses (``0x7fd1af… (?)``): the
code numba loads has no symbols a profiler can read. ``perf`` reads a JIT's symbols from
``/tmp/perf-PID.map``; this writes one from numba's JIT engine (every symbol its objects
define, at its address) once the kernel is loaded, keys a clip's frames under
``perf record -e cpu-clock`` (a software clock: no hardware counters needed, as on a VM),
and prints each numba function's share and milliseconds per frame.

    python -m benchmarks.kernel_profile CLIP [--frames 20] [--reps 8] [--threads 1] [-b '#3050e0']

Needs ``perf`` (Debian: ``apt-get install linux-perf``). Reading the engine's symbols uses
numba internals (``JitEngine._defined_symbols``), checked by tests/test_kernel_profile.py.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# perf's sampling rate (Hz): a prime, so that samples do not lock to a frame's period.
SAMPLE_HZ = 1999
# What the map's names start with, to tell numba's functions in perf's report.
PREFIX = "numba:"
# Bytes given to the last symbol of the map (its size is not known from the next one's start).
LAST_SIZE = 1 << 16


def numba_symbols() -> list[tuple[int, str]]:
    """(address, mangled name) of every symbol numba's JIT engine has loaded, sorted."""
    from numba.core.registry import cpu_target

    engine = cpu_target.target_context.codegen()._engine
    found = []
    for name in engine._defined_symbols:
        address = engine.get_function_address(name)
        if address:
            found.append((address, name))
    return sorted(found)


def demangle(name: str) -> str:
    """numba's Itanium-style name → ``module.function`` (``_ZN8chromakey…6pixels11_key_pixelsB3v61…``
    → ``pixels._key_pixels``); anything else as it is."""
    if not name.startswith("_ZN"):
        return name
    parts, i = [], 3
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        n = int(name[i:j])
        parts.append(name[j : j + n])
        i = j + n
    return ".".join(parts[-2:]) if parts else name


def write_perf_map(path: Path | None = None) -> Path:
    """/tmp/perf-PID.map for this process: each numba symbol, up to the next one's address."""
    symbols = numba_symbols()
    if not symbols:
        raise RuntimeError("numba's JIT engine holds no symbols: load the kernel first")
    path = path or Path(f"/tmp/perf-{os.getpid()}.map")
    ends = [a for a, _ in symbols[1:]] + [symbols[-1][0] + LAST_SIZE]
    with open(path, "w") as fh:
        for (address, name), end in zip(symbols, ends, strict=True):
            fh.write(f"{address:x} {end - address:x} {PREFIX}{demangle(name)}\n")
    return path


def child(args: argparse.Namespace) -> int:
    """Under perf: load the kernel, write the map, key the clip's frames ``reps`` times."""

    from chromakey.core.color import parse_color
    from chromakey.core.layers import CLEAR, Solid
    from chromakey.core.params import KeyerParams
    from chromakey.io.sources import VideoSource
    from chromakey.keying.calibration import ScreenCalibrator
    from chromakey.keying.kernels import CpuKeyer

    params = KeyerParams()
    keyer = CpuKeyer(params, incremental=not args.every_pixel)
    calib = ScreenCalibrator(params)
    frames = []
    src = VideoSource(args.clip, audio=False)
    try:
        for kind, frame in src:
            if kind == "video":
                frames.append((frame, calib.update(frame)))
            if len(frames) >= args.frames:
                break
    finally:
        src.close()
    if not frames:
        raise SystemExit(f"kernel_profile: {args.clip} has no video frames")
    bg = CLEAR if args.background == "none" else Solid(parse_color(args.background))
    try:
        keyer.render(*frames[0], bg)  # compiles or loads the kernel
        write_perf_map()
        t = time.perf_counter()
        for _ in range(args.reps):
            for frame, screen in frames:
                keyer.render(frame, screen, bg)
        seconds = time.perf_counter() - t
    finally:
        keyer.close()
    timed = args.reps * len(frames)
    Path(args.result).write_text(
        json.dumps({"renders": 1 + timed, "timed": timed, "seconds": seconds})
    )
    return 0


_ROW = re.compile(r"^\s*([\d.]+)%\s+(\d+)\s+\[[.k]\]\s+(.+?)\s*$")


OUTSIDE = "(outside numba: decode, Python, libraries)"
REST = "(the rest)"


def parse_report(text: str) -> dict[str, int]:
    """``perf report --stdio --show-nr-samples --sort sym`` → samples per symbol: numba's by
    name (the map's PREFIX), the rest under one heading."""
    counts: dict[str, int] = {}
    for line in text.splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        samples, sym = int(m.group(2)), m.group(3)
        key = sym[len(PREFIX) :] if sym.startswith(PREFIX) else OUTSIDE
        counts[key] = counts.get(key, 0) + samples
    return counts


def table(counts: dict[str, int], renders: int, seconds: float, timed: int) -> str:
    total = sum(counts.values()) or 1
    ms = 1000.0 / SAMPLE_HZ / renders
    rows = ["| function | share of samples | ms per frame |", "|---|---:|---:|"]
    order = sorted(counts.items(), key=lambda kv: (kv[0] == REST, -kv[1]))  # the rest last
    for name, n in order:
        rows.append(f"| {name} | {100 * n / total:.1f}% | {n * ms:.2f} |")
    wall = 1000.0 * seconds / max(timed, 1)
    rows.append(f"\n{renders} renders; the timed loop took {wall:.2f} ms a frame (wall clock).")
    return "\n".join(rows)


def _checked(args: argparse.Namespace) -> str:
    """perf's path, once the clip, the colour and perf itself are there: a bad input is a
    one-line error here, not a child's traceback under perf."""
    from chromakey.core.color import parse_color
    from chromakey.core.errors import BackendUnavailableError, InputNotFoundError

    if not Path(args.clip).is_file():
        raise InputNotFoundError(f"{args.clip}: no such file; give a video the keyer can read")
    if args.background != "none":
        parse_color(args.background)  # ParameterError names the colour and the forms
    perf = shutil.which("perf")
    if perf is None:
        raise BackendUnavailableError(
            "perf not found: install it (Debian: apt-get install linux-perf)"
        )
    return perf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", help="a video the keyer reads (e.g. a benchmarks.speed clip)")
    ap.add_argument("--frames", type=int, default=20, help="frames decoded and kept")
    ap.add_argument("--reps", type=int, default=8, help="times each frame is keyed")
    ap.add_argument("--threads", type=int, default=1, help="numba's threads (NUMBA_NUM_THREADS)")
    ap.add_argument("-b", "--background", default="none",
                    help="a colour to composite over, or none (transparent RGBA)")  # fmt: skip
    ap.add_argument("--top", type=int, default=25, help="functions listed")
    ap.add_argument("--every-pixel", action="store_true",
                    help="key every pixel of every frame (no incremental keying)")  # fmt: skip
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.frames < 1 or args.reps < 1:
        ap.error("--frames and --reps must be at least 1")
    if args.child:
        return child(args)
    from chromakey.core.errors import ChromakeyError

    try:
        perf = _checked(args)
    except ChromakeyError as exc:
        print(f"kernel_profile: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ck-prof-") as tmp:
        data, result = Path(tmp) / "perf.data", Path(tmp) / "result.json"
        env = dict(os.environ, NUMBA_NUM_THREADS=str(args.threads))
        cmd: list[Any] = [
            perf, "record", "-q", "-e", "cpu-clock", "-F", str(SAMPLE_HZ), "-o", data, "--",
            sys.executable, "-m", "benchmarks.kernel_profile", args.clip, "--child",
            "--frames", str(args.frames), "--reps", str(args.reps), "--result", result,
            "--background", args.background, *(["--every-pixel"] if args.every_pixel else []),
        ]  # fmt: skip
        keyed = subprocess.run([str(c) for c in cmd], env=env, capture_output=True, text=True)
        if keyed.returncode != 0 or not result.exists():
            why = (keyed.stderr.strip().splitlines() or [f"exit status {keyed.returncode}"])[-1]
            print(f"kernel_profile: keying {args.clip} under perf failed: {why}", file=sys.stderr)
            return 1
        report = subprocess.run(
            [perf, "report", "-i", str(data), "--stdio", "--no-children", "--show-nr-samples",
             "--sort", "sym"],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        done = json.loads(result.read_text())
    counts = parse_report(report)
    top = dict(sorted(counts.items(), key=lambda kv: -kv[1])[: args.top])
    rest = sum(counts.values()) - sum(top.values())
    if rest:
        top[REST] = rest
    print(table(top, done["renders"], done["seconds"], done["timed"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
