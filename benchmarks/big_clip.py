"""The sample clip at a size or a length its renderer is slow at: rendered once at 1080p
(``chromakey.bench.sample_clip``, cached), then scaled (bicubic) and looped by re-encoding
with the bench clips' own settings (single-slice H.264 at a streaming bitrate, BT.709).

    python -m benchmarks.big_clip --workdir /tmp/ck --size 2160p          # 4K, 2 s
    python -m benchmarks.big_clip --workdir /tmp/ck --size 1080p --loops 3

Prints the clip's path. At 4K the ground-truth renderer takes seconds a frame; a GPU's
time per pass depends on the pixel count, not on whether the detail is native.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from chromakey.bench import realistic_bitrate, sample_clip
from chromakey.core.errors import ChromakeyError
from chromakey.core.sizes import parse_size, size_name
from chromakey.io.media import writing
from chromakey.io.sinks.partial import create_partial, publish

BASE = "1080p"  # the size the sample is rendered at


def scaled_clip(src: Path, dest: Path, width: int, height: int, loops: int = 1) -> Path:
    """``src`` scaled to width × height and played ``loops`` times, into ``dest``."""
    import av

    tmp = create_partial(dest)
    try:
        with (
            av.open(str(src)) as inp,
            writing(str(dest), dest),
            av.open(str(tmp), "w", format="mp4") as out,
        ):
            ins = inp.streams.video[0]
            rate = ins.average_rate or ins.guessed_rate
            frames = [f.reformat(width, height, "yuv420p", interpolation="BICUBIC")
                      for f in inp.decode(ins)]  # fmt: skip
            vs = out.add_stream("libx264", rate=rate)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            cc = vs.codec_context
            cc.time_base = 1 / rate
            cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
            cc.bit_rate = realistic_bitrate(width, height)
            cc.options = {"preset": "veryfast", "x264-params": "slices=1"}
            for i in range(loops * len(frames)):
                f = frames[i % len(frames)]
                f.pts, f.time_base = i, cc.time_base
                out.mux(vs.encode(f))
            out.mux(vs.encode(None))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish(tmp, dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", required=True, help="folder for the clips (cached there)")
    ap.add_argument("--size", default="2160p", help="the clip's size: 2160p, 1080p, WxH [2160p]")
    ap.add_argument("--seconds", type=float, default=2.0, help="the rendered clip's length [2]")
    ap.add_argument("--base", default=BASE, help=f"the size it is rendered at [{BASE}]")
    ap.add_argument("--loops", type=int, default=1, help="times it is played [1]")
    args = ap.parse_args(argv)
    try:
        w, h = parse_size(args.size, option="--size")
        base = parse_size(args.base, option="--base")
        if args.loops < 1 or args.seconds <= 0:
            print("error: --loops must be ≥ 1 and --seconds > 0", file=sys.stderr)
            return 2
        folder = Path(args.workdir)
        folder.mkdir(parents=True, exist_ok=True)
        src = sample_clip(folder, *base, args.seconds)
        dest = folder / f"{src.stem}_to_{size_name(w, h)}_x{args.loops}.mp4"
        if not dest.exists():
            scaled_clip(src, dest, w, h, args.loops)
    except ChromakeyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_status
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
