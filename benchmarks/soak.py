"""Soak: render a looping generated clip for a long time and watch the process's memory.

    python benchmarks/soak.py --minutes 30 --backend cpu

Prints RSS at the start (after warm-up) and every minute, and the growth per 1000 frames.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from chromakey.backgrounds import parse_background
from chromakey.io.sinks import CallbackSink
from chromakey.io.sources import VideoSource
from chromakey.keying.select import make_keyer
from chromakey.params import KeyerParams
from chromakey.pipeline import Pipeline
from chromakey.sample import SampleSpec, write_sample


def rss_mib() -> float:
    """Resident set size of this process, MiB (Linux /proc)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def soak(
    seconds: float, *, backend: str = "cpu", size: tuple[int, int] = (640, 360), report=print
) -> dict:
    """Render the sample clip over and over through the full pipeline for ``seconds``."""
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_sample(
            Path(tmp) / "soak.mp4", SampleSpec(width=size[0], height=size[1], fps=25, seconds=4)
        )
        params = KeyerParams()
        keyer = make_keyer(backend, params)
        frames = 0
        samples: list[tuple[int, float]] = []
        start = time.perf_counter()
        next_report = start
        warm = None
        try:
            while time.perf_counter() - start < seconds:
                count = [0]

                def sink_fn(img, t, count=count):
                    count[0] += 1

                pipe = Pipeline(
                    VideoSource(clip),
                    keyer,
                    parse_background("#336699"),
                    [CallbackSink(sink_fn)],
                    params,
                )
                pipe.run()
                frames += count[0]
                now = time.perf_counter()
                if warm is None:
                    warm = (
                        frames,
                        rss_mib(),
                    )  # after one full loop: allocators and caches are warm
                    samples.append(warm)
                if now >= next_report:
                    samples.append((frames, rss_mib()))
                    report(
                        f"{now - start:7.1f} s  {frames:7d} frames  RSS {samples[-1][1]:.1f} MiB"
                    )
                    next_report = now + 60
        finally:
            keyer.close()
        samples.append((frames, rss_mib()))
    first, last = samples[0], samples[-1]
    growth = (last[1] - first[1]) / max(last[0] - first[0], 1) * 1000
    result = {
        "frames": frames,
        "seconds": time.perf_counter() - start,
        "rss_start_mib": first[1],
        "rss_end_mib": last[1],
        "growth_mib_per_1000_frames": growth,
        "samples": samples,
    }
    report(
        f"soak: {frames} frames in {result['seconds']:.0f} s; RSS {first[1]:.1f} → {last[1]:.1f} MiB "
        f"({growth:+.3f} MiB per 1000 frames)"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--backend", choices=("cpu", "gpu"), default="cpu")
    ap.add_argument("--size", default="640x360")
    args = ap.parse_args(argv)
    w, h = (int(v) for v in args.size.split("x"))
    soak(args.minutes * 60, backend=args.backend, size=(w, h))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
