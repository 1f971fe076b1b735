"""Outputs that fail on a real file system: a full disk, a read-only folder, a file-size
limit, a folder removed mid-run, and the partial file a killed run leaves behind.

The full and read-only file systems are real tmpfs mounts, made in a private mount
namespace (``unshare``: as root, or as a user through a user namespace), so nothing of the
host's mounts changes and nothing needs cleaning up. Without ``unshare`` these tests skip,
except under CI, where they fail.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from media import write_clip

CLI = [sys.executable, "-m", "chromakey"]
ROOT = Path(__file__).resolve().parent.parent


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unshare_prefix() -> list[str]:
    """The command that runs a shell in a private mount namespace where it may mount."""
    exe = shutil.which("unshare")
    prefix = [exe, "--mount", "--propagation", "private"] if exe else []
    if exe and os.geteuid() != 0:
        prefix.insert(1, "--map-root-user")
    if exe:
        probe = subprocess.run(
            [*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt 2>/dev/null || exit 3"],
            capture_output=True,
            timeout=30,
        )
        if probe.returncode == 0:
            return prefix
    message = "cannot mount a private tmpfs here (unshare --mount, or a user namespace)"
    if _ci():
        pytest.fail(f"CI must run the file-system fault tests, but: {message}")
    pytest.skip(message)


def in_tmpfs(folder: Path, options: str, command: list[str]) -> tuple[int, str, list[str]]:
    """Run ``command`` with a fresh tmpfs (``options``) mounted on ``folder``, in a private
    mount namespace; (its exit status, its stderr, what the tmpfs holds when it ends)."""
    folder.mkdir(exist_ok=True)
    script = (
        f"mount -t tmpfs -o {options} tmpfs {shlex.quote(str(folder))} || exit 99\n"
        f"{shlex.join(command)} 2>{shlex.quote(str(folder.parent / 'stderr.txt'))}\n"
        "rc=$?\n"
        f"ls -A {shlex.quote(str(folder))} > {shlex.quote(str(folder.parent / 'left.txt'))}\n"
        "exit $rc\n"
    )
    r = subprocess.run(
        [*_unshare_prefix(), "sh", "-c", script], cwd=ROOT, capture_output=True, timeout=180
    )
    assert r.returncode != 99, r.stderr
    err = (folder.parent / "stderr.txt").read_text()
    left = (folder.parent / "left.txt").read_text().split()
    return r.returncode, err, left


def one_error_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("chromakey: error:")]
    assert len(lines) == 1, stderr
    assert "internal error" not in stderr and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "in.mp4", frames=20, width=160, height=96)


def test_a_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, clip):
    # 20 raw RGB frames of 160×96 are 900 KiB: they cannot fit in 256 KiB.
    out = tmp_path / "disk" / "out.nut"
    rc, err, left = in_tmpfs(
        out.parent, "size=256k", [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"]
    )
    line = one_error_line(err)
    assert rc == 5, err
    assert "the disk is full" in line and "No space left on device" in line, line
    assert left == []


def test_a_read_only_folder_is_an_output_error(tmp_path, clip):
    out = tmp_path / "ro" / "out.mp4"
    rc, err, left = in_tmpfs(
        out.parent, "ro,size=64k", [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"]
    )
    line = one_error_line(err)
    assert rc == 5 and "not writable" in line, err
    assert left == []


def test_a_png_sequence_on_a_full_disk_leaves_nothing(tmp_path, clip):
    out = tmp_path / "disk" / "frames" / "%05d.png"
    rc, err, left = in_tmpfs(
        out.parent.parent,
        "size=48k",
        [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"],
    )
    line = one_error_line(err)
    assert rc == 5 and "the disk is full" in line, err
    assert left == []


def test_a_file_size_limit_is_an_output_error(tmp_path, clip):
    """RLIMIT_FSIZE (ulimit -f): the kernel refuses the write with EFBIG."""
    import resource

    out = tmp_path / "out.nut"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    r = subprocess.run(
        [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"],
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=180,
    )
    line = one_error_line(r.stderr)
    assert r.returncode == 5 and "size" in line, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- runs we control: a render fed through its standard input ---------------------------------


def stream_clip(folder: Path) -> bytes:
    """A NUT stream (it can be read from a pipe) of 12 s: half of it is more than the 5 s
    FFmpeg reads to find the streams, so a render fed half starts writing and then waits."""
    path = write_clip(folder / "stream.nut", frames=300, width=160, height=96)
    data = path.read_bytes()
    path.unlink()
    return data


def start_render(out: Path, data: bytes) -> subprocess.Popen:
    """A render of standard input into ``out``, fed half the stream; returns once it writes."""
    before = set(out.parent.glob(f".{out.stem}.partial-*"))
    proc = subprocess.Popen(
        [*CLI, "render", "-", "-o", str(out), "--backend", "cpu"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=False,
    )
    proc.stdin.write(data[: len(data) // 2])
    proc.stdin.flush()
    deadline = time.monotonic() + 60
    while not set(out.parent.glob(f".{out.stem}.partial-*")) - before:
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.05)
    return proc


def finish(proc: subprocess.Popen, data: bytes) -> tuple[int, str]:
    try:
        proc.stdin.write(data[len(data) // 2 :])
        proc.stdin.close()
    except BrokenPipeError:
        pass
    proc.wait(timeout=120)  # its few lines of stderr fit in the pipe meanwhile
    return proc.returncode, proc.stderr.read().decode()


def test_a_folder_removed_mid_run_is_an_output_error(tmp_path):
    data = stream_clip(tmp_path)
    folder = tmp_path / "gone"
    folder.mkdir()
    proc = start_render(folder / "out.mp4", data)
    shutil.rmtree(folder)
    rc, err = finish(proc, data)
    line = one_error_line(err)
    assert rc == 5 and "does not exist any more" in line, err
    assert not folder.exists()


def test_a_killed_runs_partial_is_named_and_removed_by_the_next_run(tmp_path):
    data = stream_clip(tmp_path)
    out = tmp_path / "out.mp4"
    proc = start_render(out, data)
    proc.kill()  # SIGKILL: no handler runs, the partial stays
    proc.wait(timeout=60)
    (stale,) = tmp_path.glob(".out.partial-*")
    assert re.fullmatch(rf"\.out\.partial-{proc.pid}-\d+-[0-9a-f]{{8}}\.mp4", stale.name)

    clip = write_clip(tmp_path / "in.mp4", frames=5, width=160, height=96)
    r = subprocess.run(
        [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if stale.name in ln]
    assert len(notes) == 1 and "removed" in notes[0] and f"pid {proc.pid}" in notes[0], r.stderr
    assert not stale.exists() and out.exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_a_partial_still_being_written_or_not_ours_is_named_and_left(tmp_path):
    data = stream_clip(tmp_path)
    out = tmp_path / "out.mp4"
    foreign = tmp_path / ".out.partial-1a2b3c4d.mp4"  # an older chromakey's name: no writer
    foreign.write_bytes(b"half a file")
    proc = start_render(out, data)  # names the foreign one, and is itself still writing
    try:
        (live,) = [p for p in tmp_path.glob(".out.partial-*") if p != foreign]
        clip = write_clip(tmp_path / "in.mp4", frames=5, width=160, height=96)
        r = subprocess.run(
            [*CLI, "render", str(clip), "-o", str(out), "--backend", "cpu"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert r.returncode == 0, r.stderr
        assert any(live.name in ln and "being written" in ln for ln in r.stderr.splitlines())
        assert any(foreign.name in ln and "left alone" in ln for ln in r.stderr.splitlines())
        assert live.exists() and foreign.exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert foreign.exists()
