"""The GPU check's gate: the EGL context chromakey makes, and whether it is the NVIDIA driver.

    python -m benchmarks.gpu_gate            # prints renderer, vendor, version; 0 if NVIDIA
    python -m benchmarks.gpu_gate --expect Mesa   # any other driver's vendor, by substring

Prints one line and exits 0 when the context's vendor or renderer names the expected driver;
otherwise one ``error:`` line and exit status 6 (BackendUnavailableError's), so that a check
meant for a GPU never reports llvmpipe's numbers as the GPU's.
"""

from __future__ import annotations

import argparse
import sys

from chromakey.core.errors import BackendUnavailableError


def describe(ctx) -> dict[str, str]:
    info = ctx.info
    return {k: str(info.get(f"GL_{k.upper()}", "?")) for k in ("renderer", "vendor", "version")}


def gate(expect: str) -> tuple[int, str]:
    """(exit status, the one line to print)."""
    from chromakey.keying.gpu import create_context

    try:
        ctx = create_context("standalone")
    except BackendUnavailableError as exc:
        return exc.exit_status, f"error: {exc}"
    try:
        gl = describe(ctx)
    finally:
        ctx.release()
    line = f"EGL renderer: {gl['renderer']}; vendor: {gl['vendor']}; OpenGL {gl['version']}"
    if expect.lower() in f"{gl['vendor']} {gl['renderer']}".lower():
        return 0, line
    return BackendUnavailableError.exit_status, (
        f"error: the EGL context is {gl['renderer']} ({gl['vendor']}, OpenGL {gl['version']}), "
        f"not the {expect} driver; install its EGL vendor library (libEGL_nvidia, "
        "__EGL_VENDOR_LIBRARY_FILENAMES) or run on a machine with that GPU"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--expect", default="NVIDIA", help="the driver's vendor, a substring [NVIDIA]")
    args = ap.parse_args(argv)
    status, line = gate(args.expect)
    print(line, file=sys.stderr if status else sys.stdout)
    return status


if __name__ == "__main__":
    sys.exit(main())
