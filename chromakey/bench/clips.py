"""The clips speed is measured on: the sample avatar as single-slice H.264 at a streaming
bitrate, generated once and cached by size, length and seed."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..io.media import writing
from ..io.sinks.partial import create_partial, publish


def realistic_bitrate(width: int, height: int) -> int:
    """4 Mb/s at 720p, scaled by the pixel count (≈ 9 Mb/s at 1080p): a streaming avatar's rate."""
    return max(200_000, round(4_000_000 * width * height / (1280 * 720)))


def encode_clip(
    path: str | os.PathLike[str],
    spec: Any,
    *,
    crf: int | None = 23,
    bitrate: int | None = None,
    preset: str = "veryfast",
    slices: int | None = None,
) -> Path:
    """The observed frames of ``chromakey.sample`` → H.264 yuv420p, BT.709 limited, tagged.

    Rate control is ``crf`` or, if given, ``bitrate`` (bits/s, ABR). ``slices=1`` forces one
    slice per frame (x264 ``slices=1``), as a real-time encoder typically sends. No audio.
    Written to a temporary name and moved into place when complete.
    """
    import av

    from ..sample import bt709_frame, render_truth, rgb_to_yuv420p

    path = Path(path)
    rate = spec.rate
    opts = {"preset": preset}
    if bitrate is None:
        opts["crf"] = str(crf if crf is not None else 23)
    if slices:
        opts["x264-params"] = f"slices={slices}"
    tmp = create_partial(path)
    try:
        with writing(str(path), path), av.open(str(tmp), "w", format="mp4") as container:
            vs = container.add_stream("libx264", rate=rate)
            vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
            cc = vs.codec_context
            cc.time_base = 1 / rate
            cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
            if bitrate is not None:
                cc.bit_rate = int(bitrate)
            cc.options = opts

            def make(i: int) -> np.ndarray:
                return rgb_to_yuv420p(render_truth(spec, i).observed)

            with ThreadPoolExecutor(2) as pool:
                for i, yuv in enumerate(pool.map(make, range(spec.frame_count))):
                    container.mux(vs.encode(bt709_frame(yuv, i, rate)))
            container.mux(vs.encode(None))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish(tmp, path)
    return path


def sample_clip(
    folder: str | os.PathLike[str],
    width: int,
    height: int,
    seconds: float,
    *,
    seed: int = 0,
    fps: float = 30.0,
    single_slice: bool = True,
) -> Path:
    """A cached speed-test clip: the sample avatar, single-slice H.264 at a realistic bitrate."""
    from ..sample import SampleSpec

    spec = SampleSpec(width, height, fps, seconds, seed)
    kbps = realistic_bitrate(width, height) // 1000
    tag = "s1" if single_slice else "sN"
    path = Path(folder) / f"speed_{width}x{height}_{spec.frame_count}f_seed{seed}_{kbps}k_{tag}.mp4"
    if not path.exists():
        encode_clip(
            path,
            spec,
            bitrate=realistic_bitrate(width, height),
            slices=1 if single_slice else None,
        )
    return path
