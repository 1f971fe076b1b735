"""The machine a run was measured on, for the report's table."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

# --- the machine -----------------------------------------------------------------------------


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def _ffmpeg_version(exe: str | None) -> str:
    if not exe:
        return "not installed"
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "unusable"
    first = out.splitlines()[0] if out else ""
    m = re.match(r"ffmpeg version (\S+)", first)
    return m[1] if m else first


def _gl_renderer() -> str:
    try:
        from ..gpu import create_context

        ctx = create_context("standalone")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"none ({str(exc).splitlines()[0][:80]})"
    try:
        info = ctx.info
        return f"{info.get('GL_RENDERER', '?')}; OpenGL {info.get('GL_VERSION', '?')}"
    finally:
        ctx.release()


def machine_info(gl: bool = True) -> dict[str, str]:
    import av

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    lav = av.library_versions.get("libavcodec", ())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyav": f"{av.__version__} (libavcodec {'.'.join(map(str, lav))})",
        "ffmpeg cli": _ffmpeg_version(ffmpeg_path()),
        "gl": _gl_renderer() if gl else "not probed",
    }


def machine_table(info: dict[str, str]) -> str:
    rows = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    return "\n".join(rows)
