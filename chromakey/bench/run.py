"""Running the contenders round-robin, each in its own process, and timing them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .child import _vm_hwm_mib
from .peer import border_key_color, ffmpeg_color, ffmpeg_command
from .settings import _RESULT, BACKGROUND, MP4_FILE, PIPE

# --- running and timing -----------------------------------------------------------------------


@dataclass
class Contender:
    name: str  # "decode", "ours raw|mp4|nut", "ffmpeg raw|mp4|nut"
    backend: str = ""  # cpu / gpu for ours
    # "raw", "mp4", or whole commands: PIPE (NUT to stdout) or MP4_FILE (an MP4 file)
    output: str = ""

    @property
    def whole_process(self) -> bool:
        """Timed from process start to exit, start-up included (no per-stage numbers)."""
        return self.output in (PIPE, MP4_FILE)

    @property
    def label(self) -> str:
        out = {PIPE: "NUT stdout, whole process", MP4_FILE: "MP4 file, whole process"}.get(
            self.output, self.output
        )
        if self.name.startswith("ours"):
            return f"ours {self.backend} → {out}"
        if self.name.startswith("ffmpeg"):
            return f"FFmpeg chromakey+overlay → {out}"
        return "PyAV decode only"


@dataclass
class Run:
    fps: float
    frames: int
    elapsed: float
    maxrss_mib: float
    stages: dict[str, float] = field(default_factory=dict)


def _wait_hwm(proc: subprocess.Popen, timeout: float, poll: bool) -> tuple[int, float]:
    """Wait for ``proc``; with ``poll``, sample its VmHWM every 20 ms: (returncode, last MiB)."""
    deadline = time.monotonic() + timeout
    hwm = float("nan")
    if not poll:
        try:
            return proc.wait(timeout), hwm
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"contender did not finish within {timeout:.0f} s") from None
    while True:
        seen = _vm_hwm_mib(proc.pid)
        if seen is not None:
            hwm = seen
        rc = proc.poll()
        if rc is not None:
            return rc, hwm
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"contender did not finish within {timeout:.0f} s")
        time.sleep(0.02)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # the folder that holds chromakey/
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def python_child(args: list[str], timeout: float) -> dict[str, Any]:
    """``python -m chromakey.bench --child ARGS``: its result line, parsed."""
    cmd = [sys.executable, "-m", "chromakey.bench", "--child", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_env())
        rc, _ = _wait_hwm(proc, timeout, poll=False)
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed (exit {rc}): {etext.strip()[-600:]}")
    line = next(ln for ln in text.splitlines()[::-1] if ln.startswith(_RESULT))
    return json.loads(line[len(_RESULT) :])


def _run_python(args: list[str], timeout: float) -> Run:
    res = python_child(args, timeout)
    fps = res["frames"] / res["elapsed"] if res["elapsed"] > 0 else 0.0
    rss = res.get("vm_hwm_mib") or float("nan")  # its own figure, read at its end
    return Run(fps, res["frames"], res["elapsed"], rss, res["stages"])


def _run_ffmpeg(cmd: list[str], frames: int, timeout: float) -> Run:
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        rc, rss = _wait_hwm(proc, timeout, poll=True)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"ffmpeg failed (exit {rc}): {text.strip()[-600:]}")
    # "bench: utime=…s stime=…s rtime=…s": rtime is the transcode's wall time, without start-up.
    m = re.search(r"rtime=([\d.]+)s", text)
    elapsed = float(m[1]) if m else float("nan")
    fm = re.findall(r"frame=\s*(\d+)", text)
    n = int(fm[-1]) if fm else frames
    return Run(n / elapsed if elapsed > 0 else 0.0, n, elapsed, rss, {})


def _run_whole(
    cmd: list[str], timeout: float, frames: int, count: str, env: dict[str, str] | None = None
) -> Run:
    """A whole command, its standard output into /dev/null, timed from start to exit.

    ``count`` is a regular expression for the frame count in its stderr (the last match).
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        rc, rss = _wait_hwm(proc, timeout, poll=True)
        elapsed = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {rc}): {text.strip()[-600:]}")
    found = re.findall(count, text)
    n = int(found[-1]) if found else frames
    return Run(n / elapsed if elapsed > 0 else 0.0, n, elapsed, rss, {})


def ours_pipe_command(path: str, backend: str, dest: str = "-") -> list[str]:
    """``chromakey render IN -o - --format nut`` (or ``-o DEST.mp4``) over the bench's colour,
    as a user runs it."""
    from ..core.color import format_color

    out = ["-o", "-", "--format", PIPE] if dest == "-" else ["-o", dest]
    cmd = [sys.executable, "-m", "chromakey", "render", path, *out]
    return cmd + ["--backend", backend, "-b", format_color(BACKGROUND)]


def _probe(path: str) -> tuple[int, int, Fraction, int]:
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        rate = Fraction(s.average_rate or s.guessed_rate or 30)
        n = s.frames
        if not n:
            n = sum(1 for _ in c.demux(s) if _.size)
        return s.codec_context.width, s.codec_context.height, rate, n


def as_installed() -> None:
    """Byte-compile the package being timed, once, as pip does when it installs it: a
    whole-process run then starts as a user's installed copy does, also where this
    environment writes no bytecode (PYTHONDONTWRITEBYTECODE) and would compile every module
    from source in every run (about 0.1 s)."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1]), quiet=2)


def run_bench(
    inputs: list[tuple[str, str]],
    backends: list[str],
    rounds: int,
    *,
    ffmpeg: str | None,
    workdir: Path,
    mp4: bool = True,
    pipe: bool = True,
    timeout: float = 1800.0,
    log: Any = None,
) -> dict[str, Any]:
    """Round-robin every contender on every input, ``rounds`` times. Returns all runs."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    outputs = ["raw"] + (["mp4"] if mp4 else []) + ([PIPE] if pipe else [])
    outputs += [MP4_FILE] if mp4 and pipe else []
    contenders = [Contender("decode")]
    for out in outputs:
        contenders += [Contender(f"ours {out}", b, out) for b in backends]
        if ffmpeg:
            contenders.append(Contender(f"ffmpeg {out}", "", out))
    runs: dict[tuple[str, str], list[Run]] = {}
    if pipe:
        as_installed()
    probes = {name: _probe(path) for name, path in inputs}
    keys = {name: ffmpeg_color(border_key_color(path)) for name, path in inputs} if ffmpeg else {}
    for r in range(rounds):
        for name, path in inputs:
            w, h, rate, frames = probes[name]
            k = (r * 3) % len(contenders)  # rotate the order from round to round
            for c in contenders[k:] + contenders[:k]:
                dest = str(workdir / f"bench_out_{name.replace(' ', '_')}.mp4")
                if c.name == "decode":
                    run = _run_python(["decode", path], timeout)
                elif c.name.startswith("ours") and c.whole_process:
                    cmd = ours_pipe_command(path, c.backend, "-" if c.output == PIPE else dest)
                    run = _run_whole(cmd, timeout, frames, r"(\d+) frames in", env=_env())
                elif c.name.startswith("ours"):
                    args = ["ours", path, c.backend, dest if c.output == "mp4" else ""]
                    run = _run_python(args, timeout)
                else:
                    target = {"raw": os.devnull, PIPE: "-"}.get(c.output, dest)
                    kind = "mp4" if c.output == MP4_FILE else c.output
                    cmd = ffmpeg_command(
                        ffmpeg or "ffmpeg", path, w, h, rate, kind, target, key=keys[name]
                    )
                    if c.whole_process:
                        run = _run_whole(cmd, timeout, frames, r"frame=\s*(\d+)")
                    else:
                        run = _run_ffmpeg(cmd, frames, timeout)
                runs.setdefault((name, c.label), []).append(run)
                log(
                    f"  round {r + 1}/{rounds} {name:>9} {c.label:<36} {run.fps:7.1f} fps "
                    f"({run.frames} frames, peak RSS {run.maxrss_mib:.0f} MiB)"
                )
    return {"contenders": contenders, "runs": runs, "probes": probes, "keys": keys}
