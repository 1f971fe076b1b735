"""The GPU keyer's pass table: passes, render-target formats, bytes written per pixel and per
frame, computed from chromakey.keying.gpu.pass_graph (the graph GpuKeyer draws), so it cannot drift.

    python -m benchmarks.passes                   # default settings, 1080p, 4:2:0
    python -m benchmarks.passes --set choke=2 --set feather=1.5 --size 1280x720
    python -m benchmarks.passes --chroma 444      # no chroma guide pass (4:4:4 or RGB frames)

Needs no OpenGL context.
"""

from __future__ import annotations

import argparse
import dataclasses

from chromakey.core.params import INTEGER_FIELDS, KeyerParams
from chromakey.keying.gpu import pass_graph, pass_table

# The frame's chroma subsampling → Frame.chroma_factors (4:2:0 is what H.264 sources give).
CHROMA = {"420": (2, 2), "422": (2, 1), "444": (1, 1)}


def parse_setting(text: str) -> tuple[str, int | float]:
    name, _, value = text.partition("=")
    names = {f.name for f in dataclasses.fields(KeyerParams)}
    if name not in names or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: use NAME=VALUE with a KeyerParams field")
    return name, int(value) if name in INTEGER_FIELDS else float(value)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1920x1080", help="frame size WxH [1920x1080]")
    ap.add_argument(
        "--set", action="append", type=parse_setting, default=[], metavar="NAME=VALUE",
        help="a non-default setting, after the default table (repeatable)",
    )  # fmt: skip
    ap.add_argument(
        "--chroma", choices=sorted(CHROMA), default="420",
        help="the frames' chroma subsampling [420]; 444 also stands for RGB frames",
    )  # fmt: skip
    args = ap.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))
    chroma = CHROMA[args.chroma]
    print(f"### Default settings, {args.chroma} frames\n")
    print(pass_table(pass_graph(KeyerParams(), chroma), width, height))
    if args.set:
        changes = dict(args.set)
        label = ", ".join(f"{k}={v}" for k, v in changes.items())
        print(f"\n### {label}\n")
        print(pass_table(pass_graph(KeyerParams(**changes), chroma), width, height))


if __name__ == "__main__":
    main()
