"""One keyed frame of a footage clip over a checkerboard, as PNG: the README's before/after.

Keys with whichever chromakey Python imports, so the same command run against an older
installed copy and against the checkout gives the two halves of a comparison:

    python -m benchmarks.footage --out /tmp/chromakey-footage          # the clips
    python -m benchmarks.frame_png CLIP.mp4 --frame 12 -o after.png       # the checkout
    (cd / && python /path/to/benchmarks/frame_png.py CLIP.mp4 -o before.png)   # installed copy
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def checker(h: int, w: int, size: int = 16) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // size + xx // size) % 2).astype(np.float32)
    return (0.55 + 0.25 * light)[..., None] * np.ones(3, np.float32)


def main(argv: list[str] | None = None) -> int:
    from chromakey.calibration import ScreenCalibrator
    from chromakey.cpu import decode_rgb
    from chromakey.io.sources import VideoSource
    from chromakey.keying.select import make_keyer
    from chromakey.params import KeyerParams

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("input", help="a clip (benchmarks.footage writes them)")
    p.add_argument("--frame", type=int, default=12)
    p.add_argument("--observed", action="store_true", help="write the observed frame instead")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    params = KeyerParams()
    keyer, cal = make_keyer("cpu", params), ScreenCalibrator(params)
    src = VideoSource(Path(a.input), audio=False)
    i = 0
    for kind, frame in src:
        if kind != "video":
            continue
        rgba = keyer.render(frame, cal.update(frame), None).astype(np.float32) / 255
        if i == a.frame:
            observed = decode_rgb(frame)
            break
        i += 1
    src.close()
    if a.observed:
        img = observed
    else:
        al = rgba[..., 3:4]
        img = rgba[..., :3] * al + (1 - al) * checker(*al.shape[:2])
    import av

    out = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    with av.open(a.output, "w", format="image2") as c:
        s = c.add_stream("png", rate=1)
        s.width, s.height, s.pix_fmt = out.shape[1], out.shape[0], "rgb24"
        for pk in s.encode(av.VideoFrame.from_ndarray(out, format="rgb24")):
            c.mux(pk)
        for pk in s.encode(None):
            c.mux(pk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
