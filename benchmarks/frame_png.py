"""One keyed frame of a footage clip over a checkerboard, as PNG: the README's before/after.

Keys with whichever chromakey Python imports, so the same command run against an older
installed copy and against the checkout gives the two halves of a comparison:

    python -m benchmarks.footage --out /tmp/chromakey-footage          # the clips
    python -m benchmarks.frame_png CLIP.mp4 --frame 12 -o after.png       # the checkout
    (cd / && python /path/to/benchmarks/frame_png.py CLIP.mp4 -o before.png)   # installed copy

``--crop X,Y,W,H`` keeps a region (the subject) so that the picture stays small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from chromakey.core.layers import CLEAR


def checker(h: int, w: int, size: int = 16) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w]
    light = ((yy // size + xx // size) % 2).astype(np.float32)
    return (0.55 + 0.25 * light)[..., None] * np.ones(3, np.float32)


def main(argv: list[str] | None = None) -> int:
    from chromakey.core.params import KeyerParams
    from chromakey.io.sources import VideoSource
    from chromakey.keying.calibration import ScreenCalibrator
    from chromakey.keying.reference import decode_rgb
    from chromakey.keying.select import make_keyer

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("input", help="a clip (benchmarks.footage writes them)")
    p.add_argument("--frame", type=int, default=12)
    p.add_argument("--observed", action="store_true", help="write the observed frame instead")
    p.add_argument("--crop", help="X,Y,W,H: keep only this region")
    p.add_argument("-o", "--output", required=True)
    a = p.parse_args(argv)
    crop = None
    if a.crop:
        try:
            x, y, w, h = (int(v) for v in a.crop.split(","))
        except ValueError:
            p.error(f"--crop takes X,Y,W,H in pixels, got {a.crop!r}")
        if w < 1 or h < 1 or x < 0 or y < 0:
            p.error(f"--crop needs X, Y ≥ 0 and W, H ≥ 1, got {a.crop!r}")
        crop = (slice(y, y + h), slice(x, x + w))
    params = KeyerParams()
    keyer, cal = make_keyer("cpu", params), ScreenCalibrator(params)
    src = VideoSource(Path(a.input), audio=False)
    i = 0
    for kind, frame in src:
        if kind != "video":
            continue
        rgba = keyer.render(frame, cal.update(frame), CLEAR).astype(np.float32) / 255
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

    if crop is not None:
        img = img[crop]
        if img.shape[0] % 2 or img.shape[1] % 2:  # keep even sizes, as every encoder takes
            img = img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2]
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
