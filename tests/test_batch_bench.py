"""Smoke test of benchmarks/batch.py: it runs its modes on tiny clips and prints its tables.

No timing is asserted: benchmarks measure, tests check behaviour.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_batch_benchmark_prints_its_tables(tmp_path):
    modes = "sequential,pool"
    try:
        import ray  # noqa: F401

        modes += ",ray"
    except ImportError:
        pass  # the Ray mode is covered by tests/test_batch_ray.py, which CI must run
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.batch", "--jobs", "2", "--seconds", "0.4", "--size", "160x96",
         "--modes", modes, "--workdir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for mode in modes.split(","):
        assert f"| {mode} |" in out
    assert "frames/s per core" in out and "| machines | cores |" in out
