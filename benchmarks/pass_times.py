"""The GPU keyer's time per pass, by OpenGL timer queries (GpuKeyer's ``timer``, a
PassTimer), over a frame of the built-in sample clip (an avatar over a lit #008000-ish
screen, with hair, motion blur and anti-aliased edges), as yuv420p.

    python -m benchmarks.pass_times                        # 1280×720, default settings
    python -m benchmarks.pass_times --size 1920x1080 --frames 30 --set sat_max=0.9
    python -m benchmarks.pass_times --scene mixed  # every pixel half skin, half screen
    python -m benchmarks.pass_times --scene camera # frames 30… with a camera's noise each

Prints the GPU's mean milliseconds (GL_TIME_ELAPSED) of the upload of the frame's Y, U and V
planes, of each pass, of the read-back, and per frame (their sum), over the frames (the first,
which compiles, left out), and the wall-clock render for comparison. ``--scene mixed`` is the
reach pass's worst case: every pixel can be a mix with the screen and is not all screen, so
every one reads its window. ``--scene camera`` keys the sample's frames 30 onwards with a
camera's noise, new each frame (chromakey.bench's camera clip, before encoding): the still
hold then sees the colour move, where a repeated frame holds every partial pixel still (the
hold pass's costliest case). On a software rasteriser (llvmpipe) the "GPU" is the CPU: its
timer queries take the time its rasteriser threads spent between the query's begin and end.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from chromakey.bench.clips import clip_frame
from chromakey.bench.gpu_times import gpu_time_table
from chromakey.core.color import YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying.calibration import default_screen
from chromakey.keying.gpu import GpuKeyer, PassTimer, mean_ms
from chromakey.sample.encode import rgb_to_yuv420p
from chromakey.sample.scene import SampleSpec
from chromakey.sample.truth import render_truth

from .passes import parse_setting

# A skin tone and the default screen, #008000, half and half: hue about 90°, outside the window.
MIXED = 0.5 * np.array([0.8, 0.6, 0.5], np.float32) + 0.5 * np.array([0.0, 0.5, 0.0], np.float32)


def sample_frame(width: int, height: int, scene: str = "sample", index: int = 30) -> Frame:
    """Frame ``index`` of the sample clip at width × height (with a camera's noise for
    ``camera``; or the flat MIXED colour), as the yuv420p an encoder would get."""
    if scene == "mixed":
        rgb = np.broadcast_to(MIXED, (height, width, 3))
    elif scene == "camera":
        rgb = clip_frame(SampleSpec(width=width, height=height), index, "camera")
    else:
        rgb = render_truth(SampleSpec(width=width, height=height), index).observed
    return Frame.from_yuv420p(rgb_to_yuv420p(rgb), YuvSpec("bt709", False))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1280x720", help="frame size WxH (even) [1280x720]")
    ap.add_argument(
        "--scene",
        choices=("sample", "mixed", "camera"),
        default="sample",
        help="a sample-clip frame, every pixel a mix, or frames with a camera's noise [sample]",
    )
    ap.add_argument("--frames", type=int, default=15, help="timed frames [15]")
    ap.add_argument(
        "--set", action="append", type=parse_setting, default=[], metavar="NAME=VALUE",
        help="a non-default setting (repeatable)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    width, height = (int(x) for x in args.size.lower().split("x"))
    params = KeyerParams(**dict(args.set))
    moving = args.scene == "camera"
    frames = [
        sample_frame(width, height, args.scene, 30 + i)
        for i in range(args.frames + 1 if moving else 1)
    ]
    screen = ScreenMap.constant(default_screen(params))
    timer = PassTimer()
    totals = []
    with GpuKeyer(params, timer=timer) as keyer:
        keyer.render(frames[0], screen, Solid((0, 0, 0)))  # compiles and allocates
        for i in range(args.frames):
            t0 = time.perf_counter()
            keyer.render(frames[(i + 1) % len(frames)], screen, Solid((0, 0, 0)))
            totals.append(time.perf_counter() - t0)
        renderer = keyer.ctx.info.get("GL_RENDERER", "?")
    print(f"{width}×{height} yuv420p {args.scene}, {args.frames} frames, {renderer}")
    print(gpu_time_table(mean_ms(timer.frames[1:])))
    print(f"\nWall clock per render() (median): {1e3 * statistics.median(totals):.2f} ms")


if __name__ == "__main__":
    main()
