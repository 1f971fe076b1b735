"""The GPU keyer's pass table: passes, render-target formats, bytes written per pixel and per
frame, computed from chromakey.keying.gpu.pass_graph (the graph GpuKeyer draws), so it cannot drift.

    python -m benchmarks.passes                   # default settings, 1080p
    python -m benchmarks.passes --set choke=2 --set feather=1.5 --size 1280x720

Needs no OpenGL context.
"""

from __future__ import annotations

import argparse
import dataclasses

from chromakey.core.params import INTEGER_FIELDS, KeyerParams
from chromakey.keying.gpu import pass_graph, pass_table


def _setting(text: str) -> tuple[str, int | float]:
    name, _, value = text.partition("=")
    names = {f.name for f in dataclasses.fields(KeyerParams)}
    if name not in names or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: use NAME=VALUE with a KeyerParams field")
    return name, int(value) if name in INTEGER_FIELDS else float(value)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1920x1080", help="frame size WxH [1920x1080]")
    ap.add_argument(
        "--set", action="append", type=_setting, default=[], metavar="NAME=VALUE",
        help="a non-default setting, after the default table (repeatable)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))
    print("### Default settings\n")
    print(pass_table(pass_graph(KeyerParams()), width, height))
    if args.set:
        changes = dict(args.set)
        label = ", ".join(f"{k}={v}" for k, v in changes.items())
        print(f"\n### {label}\n")
        print(pass_table(pass_graph(KeyerParams(**changes)), width, height))


if __name__ == "__main__":
    main()
