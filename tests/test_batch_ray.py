"""chromakey batch on a real local Ray instance (loopback only), and without Ray installed.

Ray is the optional extra ``chromakey[ray]``: without it these tests skip, except under CI
(env CI set), where they fail: CI installs the extra and must run them.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest
from test_batch import (
    FRAMES,
    assert_no_partials,
    interrupt_then_resume,
    records,
    run_cli,
    write_manifest,
)

from media import stream_summary, write_clip

ROOT = Path(__file__).resolve().parent.parent
# Every Ray process binds and connects on 127.0.0.1 only; drivers given an address present
# the instance's token (~/.ray/auth_token), as Ray asks of a driver that joins by address.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "token"}
# Read by Ray when it is imported, so set for this process (the API test's driver) up front.
os.environ.update(LOOPBACK)

HEAD = """
import sys, ray
ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
print(ray.get_runtime_context().gcs_address, flush=True)
sys.stdin.read()  # until the test closes it
ray.shutdown()
"""


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _need_ray() -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        message = "Ray is not installed (pip install 'chromakey[ray]')"
        if _ci():
            pytest.fail(f"CI must run the Ray tests, but: {message}")
        pytest.skip(message)


@pytest.fixture(scope="module")
def ray_address():
    """A Ray instance of 2 CPUs on loopback, run by a process of its own; yields its address."""
    _need_ray()
    proc = subprocess.Popen(
        [sys.executable, "-c", HEAD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, **LOOPBACK, "PYTHONPATH": str(ROOT)},
    )
    ready, _, _ = select.select([proc.stdout], [], [], 120)
    address = proc.stdout.readline().strip() if ready else ""
    if not address.startswith("127.0.0.1:"):
        proc.kill()
        proc.wait()
        pytest.fail(f"the Ray instance did not start on loopback (got {address!r})")
    yield address
    proc.stdin.close()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rayclips")
    made = [write_clip(folder / f"reply{i}.mp4", frames=FRAMES, audio=True) for i in range(3)]
    bad = folder / "corrupt.mp4"
    bad.write_bytes(made[0].read_bytes()[:300])
    return {"good": made, "bad": bad}


def test_ray_auto_starts_or_joins_an_instance_and_runs_the_jobs(clips, tmp_path):
    _need_ray()
    manifest = write_manifest(
        tmp_path / "jobs.jsonl", [{"input": str(clips["good"][0]), "output": "a.mp4"}]
    )
    r = run_cli("batch", manifest, "--ray", "--backend", "cpu", env=LOOPBACK, timeout=600)
    assert r.returncode == 0, r.stderr
    assert stream_summary(tmp_path / "a.mp4")["video"][1] == FRAMES
    assert len(r.stderr.strip().splitlines()) == 0, r.stderr  # Ray's start-up chatter kept quiet


def test_ray_jobs_decode_and_a_corrupt_input_fails_alone_then_a_rerun_skips(
    ray_address, clips, tmp_path
):
    good = clips["good"]
    manifest = write_manifest(
        tmp_path / "jobs.jsonl",
        [
            {"input": str(good[0]), "output": "out/a.mp4", "background": "#ff0000"},
            {"input": str(clips["bad"]), "output": "out/bad.mp4"},
            {"input": str(good[1]), "output": "out/b.mov", "background": "transparent"},
            {
                "input": str(good[2]),
                "output": "out/c.mp4",
                "background": {"type": "color", "value": "#FAFAFA"},
            },
        ],
    )
    r = run_cli(
        "batch", manifest, "--ray", ray_address, "--backend", "cpu", env=LOOPBACK, timeout=600
    )
    assert r.returncode == 1, r.stderr
    for name in ("a.mp4", "b.mov", "c.mp4"):
        summary = stream_summary(tmp_path / "out" / name)
        assert summary["video"][1] == FRAMES and "audio" in summary
    recs = {Path(x["output"]).name: x for x in records(tmp_path / "results.jsonl")}
    assert recs["bad.mp4"]["status"] == "failed" and "corrupt.mp4" in recs["bad.mp4"]["error"]
    assert all(recs[n]["status"] == "done" and recs[n]["host"] for n in ("a.mp4", "b.mov", "c.mp4"))
    r = run_cli(
        "batch", manifest, "--ray", ray_address, "--backend", "cpu", env=LOOPBACK, timeout=600
    )
    assert "3 skipped, 1 failed" in r.stdout, r.stdout
    assert_no_partials(tmp_path)


def test_api_run_on_a_ray_cluster(ray_address, clips, tmp_path):
    from chromakey.batch import RayExecutor, run

    jobs = [
        {"input": str(p), "output": str(tmp_path / f"{p.stem}.webm"), "background": "transparent"}
        for p in clips["good"][:2]
    ]
    results = run(jobs, executor=RayExecutor(ray_address), backend="cpu")
    assert [r.status for r in results] == ["done", "done"], [r.error for r in results]
    for p in clips["good"][:2]:
        assert stream_summary(tmp_path / f"{p.stem}.webm")["video"][1] == FRAMES


def test_ray_missing_is_a_one_line_install_hint(tmp_path):
    """Ray made unimportable in the process itself (None in sys.modules), not mocked."""
    clip = write_clip(tmp_path / "in.mp4", frames=2)
    manifest = write_manifest(
        tmp_path / "jobs.jsonl", [json.dumps({"input": str(clip), "output": "o.mp4"})]
    )
    code = (
        "import sys; sys.modules['ray'] = None\n"
        "from chromakey.app.cli import main\n"
        f"sys.exit(main(['batch', {str(manifest)!r}, '--ray']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.returncode == 6, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "pip install 'chromakey[ray]'" in lines[0]
    assert not (tmp_path / "o.mp4").exists()


def test_sigint_to_a_ray_driver_cancels_its_tasks_and_the_rerun_completes(ray_address, tmp_path):
    interrupt_then_resume(tmp_path, ["--ray", ray_address], env=LOOPBACK)
