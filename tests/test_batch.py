"""chromakey batch on the local pool: real clips in, real files out, decoded back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from media import decode_rgb_frames, stream_summary, write_clip

ROOT = Path(__file__).resolve().parent.parent
FRAMES = 8


def run_cli(*args, cwd=None, env=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three tiny clips with audio, and one file that is no video at all."""
    folder = tmp_path_factory.mktemp("clips")
    made = [write_clip(folder / f"lesson{i}.mp4", frames=FRAMES, audio=True) for i in range(3)]
    bad = folder / "corrupt.mp4"
    bad.write_bytes(made[0].read_bytes()[:300])  # a header and nothing after: truncated
    return {"good": made, "bad": bad, "folder": folder}


def write_manifest(path: Path, entries: list) -> Path:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries))
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_no_partials(folder: Path) -> None:
    left = [p.name for p in folder.rglob("*") if ".partial-" in p.name]
    assert not left, left


def test_manifest_jobs_decode_with_frames_and_audio_and_a_corrupt_one_fails_alone(clips, tmp_path):
    good, bad = clips["good"], clips["bad"]
    manifest = write_manifest(
        tmp_path / "jobs.jsonl",
        [
            {"input": str(good[0]), "output": "out/a.mp4", "background": "#ff0000"},
            {"input": str(bad), "output": "out/bad.mp4"},
            {
                "input": str(good[1]),
                "output": "out/b.mp4",
                "background": {"type": "color", "value": "#0000FF"},
            },
            {
                "input": str(good[2]),
                "output": "out/c.webm",
                "background": "transparent",
                "params": {"spill": 0.5},
            },
        ],
    )
    r = run_cli("batch", manifest, "--backend", "cpu", "--workers", "2")
    assert r.returncode == 1, r.stderr  # one job failed; the others finished
    assert "corrupt.mp4" in r.stderr and "failed" in r.stderr
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "b.mp4", "c.webm"]
    for name in ("a.mp4", "b.mp4", "c.webm"):
        summary = stream_summary(out / name)
        assert summary["video"][1] == FRAMES
        assert "audio" in summary and summary["audio"][2] > 0.25
    corner = decode_rgb_frames(out / "a.mp4")[3][4:12, 4:12].reshape(-1, 3).mean(0)
    np.testing.assert_allclose(corner, [255, 0, 0], atol=12)
    corner = decode_rgb_frames(out / "b.mp4")[3][4:12, 4:12].reshape(-1, 3).mean(0)
    np.testing.assert_allclose(corner, [0, 0, 255], atol=12)
    recs = {Path(x["output"]).name: x for x in records(tmp_path / "results.jsonl")}
    assert recs["bad.mp4"]["status"] == "failed" and "corrupt.mp4" in recs["bad.mp4"]["error"]
    assert recs["bad.mp4"]["line"] == 2
    for name in ("a.mp4", "b.mp4", "c.webm"):
        rec = recs[name]
        assert rec["status"] == "done" and rec["frames"] == FRAMES and rec["backend"] == "cpu"
        assert rec["host"] and rec["seconds"] > 0 and rec["fps"] > 0
    assert_no_partials(tmp_path)


def test_rerun_skips_finished_jobs_redoes_failed_and_force_redoes_all(clips, tmp_path):
    good = clips["good"]
    manifest = write_manifest(
        tmp_path / "jobs.jsonl",
        [{"input": str(good[0]), "output": "a.mp4"}, {"input": str(good[1]), "output": "b.mp4"}],
    )
    assert run_cli("batch", manifest, "--backend", "cpu").returncode == 0
    before = {p: (tmp_path / p).stat().st_mtime_ns for p in ("a.mp4", "b.mp4")}
    r = run_cli("batch", manifest, "--backend", "cpu")
    assert r.returncode == 0, r.stderr
    assert "2 skipped" in r.stdout
    assert {p: (tmp_path / p).stat().st_mtime_ns for p in before} == before
    (tmp_path / "b.mp4").unlink()  # an output gone since: that job runs again
    r = run_cli("batch", manifest, "--backend", "cpu")
    assert "1 done, 1 skipped" in r.stdout, r.stdout
    assert stream_summary(tmp_path / "b.mp4")["video"][1] == FRAMES
    assert (tmp_path / "a.mp4").stat().st_mtime_ns == before["a.mp4"]
    r = run_cli("batch", manifest, "--backend", "cpu", "--force")
    assert "2 done" in r.stdout, r.stdout
    assert (tmp_path / "a.mp4").stat().st_mtime_ns != before["a.mp4"]
    statuses = [x["status"] for x in records(tmp_path / "results.jsonl")]
    assert statuses == ["done"] * 5


def test_folder_and_glob_name_outputs_and_a_rerun_does_not_key_its_own_outputs(clips, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for p in clips["good"][:2]:
        (src / p.name).write_bytes(p.read_bytes())
    (src / "notes.txt").write_text("not a video")
    r = run_cli("batch", src, "-o", src, "--backend", "cpu", "-b", "#00ff00")
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in src.glob("*-keyed.mp4")) == [
        "lesson0-keyed.mp4",
        "lesson1-keyed.mp4",
    ]
    r = run_cli("batch", src, "-o", src, "--backend", "cpu", "-b", "#00ff00")
    assert r.returncode == 0 and "2 skipped" in r.stdout, r.stdout
    assert not list(src.glob("*-keyed-keyed*"))
    out = tmp_path / "glob-out"
    r = run_cli(
        "batch",
        str(src / "lesson1.*"),
        "-o",
        out,
        "--name",
        "{index:02d}-{stem}.webm",
        "--backend",
        "cpu",
    )
    assert r.returncode == 0, r.stderr
    assert [p.name for p in out.iterdir() if p.suffix == ".webm"] == ["01-lesson1.webm"]
    assert stream_summary(out / "01-lesson1.webm")["video"][1] == FRAMES


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ('{"input": "lesson0.mp4", "output": "x.mp4"', None, "malformed JSON"),
        (
            {"input": "lesson0.mp4", "output": "x.mp4", "backgroud": "#fff"},
            "backgroud",
            "unknown field",
        ),
        ({"input": "lesson0.mp4", "output": "x.mp4", "background": "#ggg"}, "background", "colour"),
        ({"input": "missing.mp4", "output": "x.mp4"}, "input", "no such file"),
        ({"input": "lesson1.mp4", "output": "a.mp4"}, "output", "also the output of"),
        ({"input": "lesson1.mp4", "output": "{clips}/lesson2.mp4"}, "output", "is the input of"),
        (
            {"input": "lesson1.mp4", "output": "x.mp4", "params": {"spil": 1}},
            "params.spil",
            "unknown keyer",
        ),
        (
            {"input": "lesson1.mp4", "output": "x.mp4", "params": {"spill": 7}},
            "params",
            "out of range",
        ),
        ({"input": "lesson1.mp4", "output": "x.avi"}, "output", "unknown output type"),
        ({"input": "lesson1.mp4", "output": "x.mp4", "fit": "zoom"}, "fit", "zoom"),
        (
            {
                "input": "lesson1.mp4",
                "output": "x.mp4",
                "input_colour": {"chroma_siting": "centre"},
            },
            "input_colour",
            "use left or center",
        ),
        (
            {"input": "lesson1.mp4", "output": "x.mp4", "input_colour": {"siting": "center"}},
            "input_colour.siting",
            "unknown part",
        ),
        (
            {"input": "lesson1.mp4", "output": "x.mp4", "input_colour": {"range": 1}},
            "input_colour.range",
            "must be a string",
        ),
        (
            {"input": "lesson1.mp4", "output": "x.mp4", "input_colour": "bt601"},
            "input_colour",
            "must be an object",
        ),
    ],
)
def test_a_bad_manifest_line_stops_everything_before_any_work(clips, tmp_path, line, field, words):
    folder = clips["folder"]
    text = line if isinstance(line, str) else json.dumps(line).replace("{clips}", str(folder))
    manifest = write_manifest(
        folder / f"bad-{tmp_path.name}.jsonl",
        [
            {"input": "lesson0.mp4", "output": "a.mp4"},
            text,
            {"input": "lesson2.mp4", "output": "c.mp4"},
        ],
    )
    r = run_cli("batch", manifest, "-o", tmp_path, "--backend", "cpu")
    assert r.returncode == 2, r.stderr
    errors = [x for x in r.stderr.splitlines() if x.startswith("chromakey: error:")]
    assert errors, r.stderr
    first = errors[0]
    assert f"{manifest}:2:" in first, first
    if field is not None:
        assert f"field {field!r}" in first, first
    assert words in first, first
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "a.mp4").exists() and not (tmp_path / "c.mp4").exists()
    assert not (tmp_path / "results.jsonl").exists()


def test_skip_invalid_runs_the_valid_jobs_and_records_the_invalid(clips, tmp_path):
    manifest = write_manifest(
        tmp_path / "jobs.jsonl",
        [
            {"input": str(clips["good"][0]), "output": "a.mp4"},
            {"input": "nowhere.mp4", "output": "b.mp4"},
        ],
    )
    r = run_cli("batch", manifest, "--backend", "cpu", "--skip-invalid")
    assert r.returncode == 0, r.stderr
    assert "skipped invalid job" in r.stderr and ":2: field 'input'" in r.stderr
    assert stream_summary(tmp_path / "a.mp4")["video"][1] == FRAMES
    assert [x["status"] for x in records(tmp_path / "results.jsonl")] == ["invalid", "done"]


def test_api_run_returns_results_in_job_order(clips, tmp_path):
    from chromakey.batch import InvalidJobsError, JobResult, SerialExecutor, run

    good = clips["good"]
    jobs = [
        {"input": str(good[1]), "output": str(tmp_path / "b.mp4"), "background": "white"},
        {"input": str(clips["bad"]), "output": str(tmp_path / "bad.mp4")},
        {"input": str(good[0]), "output": str(tmp_path / "frames" / "%03d.png")},
    ]
    results = run(jobs, executor=SerialExecutor(), backend="cpu", results=tmp_path / "r.jsonl")
    assert [type(r) for r in results] == [JobResult] * 3
    assert [r.status for r in results] == ["done", "failed", "done"]
    assert results[0].frames == FRAMES and results[0].output.endswith("b.mp4")
    assert len(list((tmp_path / "frames").glob("*.png"))) == FRAMES
    again = run(jobs, executor="local", backend="cpu", results=tmp_path / "r.jsonl")
    assert [r.status for r in again] == ["skipped", "failed", "skipped"]
    with pytest.raises(InvalidJobsError) as err:
        run([{"input": str(good[0]), "output": str(tmp_path / "x.mp4"), "colour": "red"}])
    assert isinstance(err.value, ValueError) and err.value.errors[0].field == "colour"


def test_progress_bar_and_summary_on_a_terminal_only(clips, tmp_path):
    import pty

    manifest = write_manifest(
        tmp_path / "jobs.jsonl", [{"input": str(clips["good"][0]), "output": "a.mp4"}]
    )
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "chromakey", "batch", str(manifest), "--backend", "cpu"],
        stdout=subprocess.PIPE,
        stderr=slave,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(master)
    shown = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, shown
    assert "batch [" in shown and "1/1 jobs" in shown and "fps" in shown
    assert "output" in shown and "status" in shown and "a.mp4" in shown  # the summary table
    r = run_cli("batch", manifest, "--backend", "cpu", "--force")
    assert r.returncode == 0 and r.stderr == "", r.stderr  # not a terminal: no bar, no table


def test_a_script_without_the_main_guard_gets_a_clear_error(clips, tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        "from chromakey.batch import run\n"
        f"run([{{'input': {str(clips['good'][0])!r}, 'output': {str(tmp_path / 'o.mp4')!r}}}], backend='cpu')\n"
    )
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert r.returncode != 0
    assert "if __name__ == '__main__':" in r.stderr.strip().splitlines()[-1], r.stderr[-800:]
    assert not (tmp_path / "o.mp4").exists()


def test_pool_plan_fills_the_cores():
    from chromakey.batch.local import plan

    p = plan(100, list(range(16)), None, None, True)
    assert (p.workers, p.threads) == (16, 1) and p.cpus[3] == (3,)
    p = plan(4, list(range(16)), None, None, True)
    assert (p.workers, p.threads) == (4, 4) and p.cpus[1] == (4, 5, 6, 7)
    p = plan(10, [0, 1], 1, None, True)
    assert (p.workers, p.threads, p.cpus) == (1, 2, None)
    assert plan(3, list(range(8)), 5, None, False).workers == 3


# --- Ctrl-C (shared with the Ray tests) --------------------------------------------------------

LONG_FRAMES = 200


def long_clips(folder: Path, n: int = 4) -> list[Path]:
    """Clips long enough that a job is still running when the driver is interrupted."""
    return [
        write_clip(folder / f"long{i}.mp4", width=320, height=180, frames=LONG_FRAMES, audio=True)
        for i in range(n)
    ]


def interrupt_then_resume(tmp_path: Path, extra: list[str], env: dict | None = None) -> None:
    """SIGINT to the driver alone while a job writes: exit 130, no partial file, every output
    left complete; the same command again finishes the rest and keeps what was done."""
    import select
    import signal
    import time

    inputs = long_clips(tmp_path)
    out = tmp_path / "out"
    manifest = write_manifest(
        tmp_path / "jobs.jsonl", [{"input": str(p), "output": f"out/{p.stem}.mp4"} for p in inputs]
    )
    args = [sys.executable, "-m", "chromakey", "batch", str(manifest), "--backend", "cpu", *extra]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env
    )
    deadline = time.monotonic() + 240
    while not (out.is_dir() and any(".partial-" in p.name for p in out.iterdir())):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no job started writing"
        select.select([], [], [], 0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err, err
    assert_no_partials(tmp_path)
    finished = sorted(p.name for p in out.iterdir())
    assert len(finished) < len(inputs), finished  # it was stopped before the end
    for name in finished:
        assert stream_summary(out / name)["video"][1] == LONG_FRAMES
    done = [x for x in records(tmp_path / "results.jsonl") if x["status"] == "done"]
    assert sorted(Path(x["output"]).name for x in done) == finished
    again = subprocess.run(args, capture_output=True, text=True, env=full_env, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"{len(inputs) - len(finished)} done" in again.stdout, again.stdout
    if finished:
        assert f"{len(finished)} skipped" in again.stdout, again.stdout
    for p in inputs:
        summary = stream_summary(out / f"{p.stem}.mp4")
        assert summary["video"][1] == LONG_FRAMES and "audio" in summary
    assert_no_partials(tmp_path)


def test_sigint_to_the_driver_leaves_no_partial_and_the_rerun_completes(tmp_path):
    interrupt_then_resume(tmp_path, ["--workers", "2"])


def test_input_colour_keys_each_job_as_render_would_and_a_change_redoes_it(clips, tmp_path):
    """--input-chroma-siting for every job, a line's own input_colour over it: each job's
    frames are render's with the same options (lossless PNG), the two sitings differ, and a
    re-run with another siting keys the jobs again."""
    good = clips["good"][0]
    manifest = write_manifest(
        tmp_path / "jobs.jsonl",
        [
            {"input": str(good), "output": "centre/%03d.png"},
            {
                "input": str(good),
                "output": "left/%03d.png",
                "input_colour": {"chroma_siting": "left"},
            },
        ],
    )
    r = run_cli("batch", manifest, "--backend", "cpu", "--input-chroma-siting", "center")
    assert r.returncode == 0, r.stderr
    for siting, folder in (("center", "centre"), ("left", "left")):
        want = tmp_path / f"render-{siting}" / "%03d.png"
        r = run_cli("render", good, "-o", want, "--backend", "cpu", "--input-chroma-siting", siting)
        assert r.returncode == 0, r.stderr
        got = sorted((tmp_path / folder).glob("*.png"))
        assert len(got) == FRAMES
        for png in got:
            assert png.read_bytes() == (want.parent / png.name).read_bytes(), (siting, png.name)
    assert (tmp_path / "centre" / "001.png").read_bytes() != (
        tmp_path / "left" / "001.png"
    ).read_bytes()
    again = run_cli("batch", manifest, "--backend", "cpu", "--input-chroma-siting", "center")
    assert again.returncode == 0 and "2 skipped" in again.stdout, again.stdout
    other = run_cli("batch", manifest, "--backend", "cpu", "--input-matrix", "bt601")
    assert other.returncode == 0 and "2 done" in other.stdout, other.stdout
    left = run_cli("batch", manifest, "--backend", "cpu", "--input-matrix", "bt601")
    assert "2 skipped" in left.stdout, left.stdout
