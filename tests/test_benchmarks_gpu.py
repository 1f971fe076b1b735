"""The prepared GPU check (benchmarks/gpu_check.sh) and its parts, on llvmpipe: the gate
refuses a context that is not the expected driver in one line, a dry run with the session's
own driver and tiny clips goes through every step, the concurrent-streams report keeps its
structure, and big_clip scales and loops. No timing value is asserted.

Not named test_gpu_*: the GPU check runs those files, and these run the check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import pytest

from chromakey.keying.gpu import software_renderer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"
TRIAL_KEYS = {
    "streams", "expected", "shown", "warmup_dropped", "steady_frames", "dropped", "dropped_pct",
    "wall_s", "loop_ms_p50", "loop_ms_max", "render_busy", "gpu_wait", "cpu_busy",
}  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GPU_CHECK_")}
    return {**env, "GPU_CHECK_INSTALL": "0", **extra}


def _python(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def test_the_script_parses():
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_the_gate_refuses_llvmpipe_in_one_line(gl_ctx, tmp_path):
    if not software_renderer(gl_ctx):
        pytest.skip("this machine's context is a GPU's: nothing to refuse")
    out = tmp_path / "out"
    proc = subprocess.run(
        ["bash", str(SCRIPT)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env=_env(OUT=str(out), GPU_CHECK_WORK=str(tmp_path / "work")),
    )  # fmt: skip
    assert proc.returncode == 6, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "llvmpipe" in lines[0] and "not the NVIDIA driver" in lines[0]
    assert proc.stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["summary.txt"]
    assert (out / "summary.txt").read_text().startswith("gate: error: ")


def test_the_gate_module_names_the_driver(gl_ctx):
    vendor = str(gl_ctx.info["GL_VENDOR"])
    ok = _python("-m", "benchmarks.gpu_gate", "--expect", vendor, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("EGL renderer: ") and vendor in ok.stdout
    wrong = _python("-m", "benchmarks.gpu_gate", "--expect", "no such vendor", timeout=60)
    assert wrong.returncode == 6 and wrong.stdout == ""
    assert wrong.stderr.count("\n") == 1 and "not the no such vendor driver" in wrong.stderr


def _check_streams_report(report: dict, counts: list[int]) -> None:
    trials = report["trials"]
    assert trials and [t["streams"] for t in trials] == counts[: len(trials)]
    for t in trials:
        assert set(t) == TRIAL_KEYS
        assert t["expected"] == t["streams"] * report["clip_frames"]
        assert 0 <= t["shown"] <= t["expected"]
        assert 0 <= t["dropped"] <= t["steady_frames"] <= t["expected"]
        assert t["dropped_pct"] == pytest.approx(100 * t["dropped"] / t["steady_frames"])
    passed = [t["dropped_pct"] <= report["max_drop_pct"] for t in trials]
    # Counts stop at the first that fails; the best is the last that passed before it.
    assert all(passed[:-1])
    assert report["max_streams_ok"] == (trials[-1]["streams"] if passed[-1] else
                                        (trials[-2]["streams"] if len(trials) > 1 else 0))  # fmt: skip
    assert (report["limit"] is None) == passed[-1]


def test_concurrent_streams_report(gl_ctx, tmp_path):
    path = tmp_path / "streams.json"
    proc = _python(
        "-m", "benchmarks.gpu_streams", "--size", "64x48", "--counts", "2,1", "--seconds", "1.5",
        "--warmup", "0.5", "--workdir", str(tmp_path), "--json", str(path),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(path.read_text())
    assert report["size"] == [64, 48] and report["fps"] == 30
    assert report["clip_frames"] == 45 and report["warmup_s"] == 0.5
    assert report["gl"]["vendor"] == str(gl_ctx.info["GL_VENDOR"])
    _check_streams_report(report, [1, 2])
    rows = [ln for ln in proc.stdout.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert [int(r.split("|")[1]) for r in rows] == [t["streams"] for t in report["trials"]]
    assert "Largest count with ≤ 1% not shown after the 0.5 s warm-up: " in proc.stdout


@pytest.mark.parametrize(
    "args,status,words",
    [
        (["--counts", "0"], 2, "give stream counts ≥ 1"),
        (["--clip", "/nonexistent/clip.mp4"], 3, "no such file"),
        (["--size", "big"], 2, "--size 'big'"),
    ],
)
def test_concurrent_streams_bad_input(args, status, words):
    proc = _python("-m", "benchmarks.gpu_streams", *args, timeout=60)
    assert proc.returncode == status
    assert words in proc.stderr and "Traceback" not in proc.stderr


def test_big_clip_scales_and_loops(tmp_path):
    proc = _python(
        "-m", "benchmarks.big_clip", "--workdir", str(tmp_path), "--base", "64x48",
        "--size", "96x64", "--seconds", "0.5", "--loops", "3",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    made = Path(proc.stdout.strip())
    assert made.parent == tmp_path and made.name.endswith("_to_96x64_x3.mp4")
    with av.open(str(made)) as c:
        s = c.streams.video[0]
        frames = list(c.decode(s))
    assert (s.codec_context.width, s.codec_context.height) == (96, 64) and len(frames) == 45
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)


@pytest.mark.slow
def test_a_dry_run_goes_through_every_step(gl_ctx, tmp_path):
    """The whole check with the session's own driver expected and tiny clips."""
    out = tmp_path / "out"
    proc = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=600,
        env=_env(OUT=str(out), GPU_CHECK_WORK=str(tmp_path / "work"),
                 GPU_CHECK_EXPECT=str(gl_ctx.info["GL_VENDOR"]), GPU_CHECK_SMALL="1",
                 GPU_CHECK_TESTS="tests/test_gpu_context.py"),
    )  # fmt: skip
    summary = (out / "summary.txt").read_text()
    assert proc.returncode == 0, summary + proc.stderr
    lines = summary.splitlines()
    assert lines[0].startswith("EGL renderer: ")
    assert lines[-1].startswith("done in ") and lines[-1].endswith("every step passed")
    steps = [ln.split(":")[0] for ln in lines[1:-1]]
    assert sorted(steps[:3]) == ["clips", "numba cache", "tests (1 files)"]
    assert steps[3:] == ["bench 64x48", "bench 128x96", "streams"]
    names = sorted(p.name for p in out.iterdir())
    assert names == ["bench-1080p.json", "bench-2160p.json", "bench.txt", "pytest.txt",
                     "streams.json", "streams.txt", "summary.txt"]  # fmt: skip
    assert len(names) <= 8  # what the device tool brings back
    bench = (out / "bench.txt").read_text()
    assert bench.count("### GPU time per pass") == 2
    for name in ("bench-1080p.json", "bench-2160p.json"):
        saved = json.loads((out / name).read_text())
        assert list(saved["gpu_passes"]) and any("ours cpu" in k for k in saved["runs"])
    _check_streams_report(json.loads((out / "streams.json").read_text()), [1, 2])
    assert " passed" in (out / "pytest.txt").read_text()
