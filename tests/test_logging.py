"""The library logs (``logging``, logger ``chromakey``) and prints nothing itself; the command
line prints what it logs as ``chromakey: …`` lines on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from media import write_clip

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
DEAD_PID = 4_194_304  # above Linux's largest pid_max: never a running process

# A partial of an earlier run that was killed, beside the output: the next run removes it and
# says so (partial.clear_stale, as every file sink does when it opens).
NOTE = """
import sys
from pathlib import Path
{setup}
from chromakey.io.sinks.partial import clear_stale

folder = Path(sys.argv[1])
stale = folder / ".out.partial-{pid}-1-0123abcd.mp4"
stale.write_bytes(b"x")
clear_stale(folder / "out.mp4", prefix=".out", suffix=".mp4")
assert not stale.exists()
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=ENV, timeout=120)  # fmt: skip


def test_a_host_without_logging_configured_sees_nothing(tmp_path):
    r = _run(NOTE.format(setup="import chromakey", pid=DEAD_PID), str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""


def test_a_host_that_configures_logging_gets_the_note_as_a_record(tmp_path):
    setup = "import logging\nlogging.basicConfig(level=logging.INFO, format='%(name)s|%(levelname)s|%(message)s')"
    r = _run(NOTE.format(setup=setup, pid=DEAD_PID), str(tmp_path))
    assert r.returncode == 0, r.stderr
    name, level, message = r.stderr.strip().split("|", 2)
    assert (name, level) == ("chromakey.io.sinks.partial", "INFO")
    assert message.startswith(f"removed {tmp_path / '.out.partial-'}") and "killed" in message


def test_the_command_line_prints_the_libraries_notes(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", frames=3, width=64, height=48)
    stale = tmp_path / f".out.partial-{DEAD_PID}-1-0123abcd.mp4"
    stale.write_bytes(b"x")
    r = subprocess.run([sys.executable, "-m", "chromakey", "render", str(clip), "-o",
                        str(tmp_path / "out.mp4"), "--backend", "cpu"],
                       capture_output=True, text=True, env=ENV, timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if "partial output left by an earlier run" in ln]
    assert notes == [f"chromakey: note: removed {stale}, a partial output left by an earlier "
                     f"run (pid {DEAD_PID}) that was killed"]  # fmt: skip
    assert not stale.exists() and (tmp_path / "out.mp4").exists()
