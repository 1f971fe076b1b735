"""The clips speed is measured on, generated once and cached by kind, size, length and seed:

- ``sample``: the built-in sample avatar (hair strands, spill, a cast shadow, mild sensor
  noise, motion blur) as single-slice H.264 at a streaming bitrate;
- ``camera``: the same scene as a camera records it: a camera's sensor noise on top
  (CAMERA_NOISE, fresh every frame, so that little of the screen repeats from frame to
  frame), kept by a high-quality encode (crf 18, several slices);
- ``avatar``: a talking avatar as a service renders it: the sample's figure (a fifth to two
  fifths of the frame, swaying and bobbing) composited on a flat, still, noiseless #008000
  screen with no shadow or spill, single-slice H.264 at a streaming bitrate.
"""

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


CLIP_KINDS = ("sample", "camera", "avatar")
CAMERA_NOISE = 3.0 / 255.0  # σ of the camera's noise on each channel, on top of the sample's
AVATAR_SCREEN = (0.0, 128 / 255, 0.0)  # #008000, the digital screen avatar services render on


def clip_frame(spec: Any, i: int, kind: str = "sample") -> np.ndarray:
    """Frame ``i`` of a clip ``kind`` (CLIP_KINDS) as float32 RGB in 0–1."""
    from ..sample import render_truth

    truth = render_truth(spec, i)
    if kind == "sample":
        return truth.observed
    if kind == "camera":
        rng = np.random.default_rng((spec.seed, i))
        noisy = truth.observed + rng.standard_normal(truth.observed.shape, np.float32) * np.float32(
            CAMERA_NOISE
        )
        return np.clip(noisy, 0.0, 1.0, out=noisy)
    if kind == "avatar":
        a = truth.alpha[..., None]
        screen = np.asarray(AVATAR_SCREEN, np.float32)
        return truth.foreground * a + screen * (np.float32(1.0) - a)
    raise ValueError(f"clip kind {kind!r} is unknown; use {', '.join(CLIP_KINDS)}")


def encode_clip(
    path: str | os.PathLike[str],
    spec: Any,
    *,
    crf: int | None = 23,
    bitrate: int | None = None,
    preset: str = "veryfast",
    slices: int | None = None,
    kind: str = "sample",
) -> Path:
    """The frames of a clip ``kind`` (:func:`clip_frame`) → H.264 yuv420p, BT.709 limited, tagged.

    Rate control is ``crf`` or, if given, ``bitrate`` (bits/s, ABR). ``slices=1`` forces one
    slice per frame (x264 ``slices=1``), as a real-time encoder typically sends. No audio.
    Written to a temporary name and moved into place when complete.
    """
    import av

    from ..sample import bt709_frame, rgb_to_yuv420p

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
                return rgb_to_yuv420p(clip_frame(spec, i, kind))

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
    kind: str = "sample",
) -> Path:
    """A cached speed-test clip of ``kind`` (CLIP_KINDS): ``sample`` and ``avatar`` as a
    stream arrives (single-slice H.264 at a realistic bitrate), ``camera`` as a camera
    records (crf 18, the encoder's own slicing)."""
    from ..sample import SampleSpec

    if kind not in CLIP_KINDS:
        raise ValueError(f"clip kind {kind!r} is unknown; use {', '.join(CLIP_KINDS)}")
    spec = SampleSpec(width, height, fps, seconds, seed)
    size = f"{width}x{height}_{spec.frame_count}f_seed{seed}"
    if kind == "camera":
        path = Path(folder) / f"speed_camera_{size}_crf18.mp4"
        if not path.exists():
            encode_clip(path, spec, crf=18, kind=kind)
        return path
    kbps = realistic_bitrate(width, height) // 1000
    tag = "s1" if single_slice else "sN"
    prefix = "speed" if kind == "sample" else f"speed_{kind}"
    path = Path(folder) / f"{prefix}_{size}_{kbps}k_{tag}.mp4"
    if not path.exists():
        encode_clip(
            path,
            spec,
            bitrate=realistic_bitrate(width, height),
            slices=1 if single_slice else None,
            kind=kind,
        )
    return path
