"""The clip encoded: BT.709 limited-range yuv420p H.264 with a tone track for checking
audio sync, written under a partial name until complete."""

from __future__ import annotations

import contextlib
import os
import pathlib
import queue
import threading
from collections.abc import Callable, Generator
from fractions import Fraction
from typing import TypeVar

import av
import numpy as np

from ..core.color import YuvSpec
from ..core.errors import OutputError, ParameterError
from ..core.queues import bounded_put
from ..io.media import output_error
from ..io.sinks.partial import create_partial, discard, publish
from .scene import F32, SampleSpec
from .truth import render_truth

_X264_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)
_CONTAINERS = {".mp4": "mp4", ".mkv": "matroska", ".mov": "mov"}
AUDIO_RATE = 48000
_NOTES_HZ = (440, 494, 554, 659, 740, 659, 554, 494)  # one per second, integral Hz
_BEEP_HZ = 1760
_BEEP_SECONDS = 0.05


# --- encoding -------------------------------------------------------------------------------


_BT709_M, _BT709_OFF = (a.astype(F32) for a in YuvSpec("bt709", False).from_rgb())


def rgb_to_yuv420p(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 float RGB → the (H·3/2)×W uint8 buffer of a BT.709 limited-range yuv420p frame.

    Chroma is sited as H.264 expects by default (left): co-sited with the even
    luma columns ([1, 2, 1]/4 horizontally), centred between row pairs.
    """
    h, w, _ = rgb.shape
    m = _BT709_M * F32(255.0)
    off = _BT709_OFF * F32(255.0) + F32(0.5)  # + 0.5: round on the cast below
    out = np.empty(w * h * 3 // 2, np.uint8)

    def put(start: int, pixels: np.ndarray, row: int) -> None:
        v = pixels @ m[row]
        v += off[row]
        np.clip(v, 0.0, 255.0, out=v)
        out[start : start + v.size] = v  # truncating cast of the rounded values

    put(0, np.ascontiguousarray(rgb, dtype=F32).reshape(-1, 3), 0)
    rows = rgb[0::2] + rgb[1::2]  # (h/2, w, 3), twice the row-pair mean
    sub = rows[:, 0::2] * F32(0.25)
    sub += F32(0.125) * rows[:, 1::2]  # right neighbour
    sub[:, 1:] += F32(0.125) * rows[:, 1:-1:2]  # left neighbour
    sub[:, 0] += F32(0.125) * rows[:, 0]  # clamped at the left edge
    flat = sub.reshape(-1, 3)
    q = w * h // 4
    put(w * h, flat, 1)
    put(w * h + q, flat, 2)
    return out.reshape(h * 3 // 2, w)


def audio_samples(start: int, stop: int) -> np.ndarray:
    """Mono float32 samples [start, stop) of the tone track at AUDIO_RATE.

    A soft sine note that changes pitch each whole second (integral Hz, so the
    phase is continuous), and a short bright beep at the start of every second.
    """
    n = np.arange(start, stop, dtype=np.int64)
    sec = n // AUDIO_RATE
    within = (n - sec * AUDIO_RATE).astype(np.float64) / AUDIO_RATE
    freq = np.asarray(_NOTES_HZ, np.float64)[sec % len(_NOTES_HZ)]
    tone = 0.12 * np.sin(2 * np.pi * freq * within) + 0.03 * np.sin(4 * np.pi * freq * within)
    env = np.where(
        within < _BEEP_SECONDS, np.sin(np.pi * np.minimum(within / _BEEP_SECONDS, 1.0)) ** 2, 0.0
    )
    beep = 0.25 * env * np.sin(2 * np.pi * _BEEP_HZ * within)
    return (tone + beep).astype(F32)


T = TypeVar("T")


def _prefetched(make: Callable[[int], T], count: int, depth: int = 2) -> Generator[T, None, None]:
    """make(0), make(1), … computed on a helper thread up to ``depth`` ahead of the consumer.

    Closing the generator (or an exception in the consumer) stops the helper.
    """
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[object, BaseException | None]) -> bool:
        return bounded_put(q, entry, stop)[0]

    def run() -> None:
        try:
            for i in range(count):
                if not put((make(i), None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((None, exc))

    worker = threading.Thread(target=run, name="chromakey-sample-render", daemon=True)
    worker.start()
    try:
        for _ in range(count):
            item, exc = q.get()
            if exc is not None:
                raise exc
            yield item
    finally:
        stop.set()
        worker.join()


def _check_output(path: pathlib.Path) -> str:
    ext = path.suffix.lower()
    if ext not in _CONTAINERS:
        raise OutputError(
            f"cannot write a sample to {str(path)!r}: use a .mp4, .mkv or .mov file name"
        )
    folder = path.parent
    if not folder.is_dir():
        raise OutputError(
            f"output folder {str(folder)!r} does not exist: create it first or choose another path"
        )
    if path.is_dir():
        raise OutputError(f"{str(path)!r} is a folder: give a file name ending in {ext}")
    return _CONTAINERS[ext]


def bt709_frame(yuv: np.ndarray, index: int, rate: Fraction) -> av.VideoFrame:
    """Frame ``index`` of a clip from a stacked yuv420p array, tagged BT.709 limited range."""
    frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
    frame.colorspace = frame.color_range = 1
    frame.color_primaries = frame.color_trc = 1
    frame.pts = index
    frame.time_base = 1 / rate
    return frame


def write_sample(
    path,
    spec: SampleSpec = SampleSpec(),  # noqa: B008 - frozen, immutable default
    *,
    crf: int = 18,
    preset: str = "veryfast",
    audio: bool = True,
    progress: Callable[[int, int], object] | None = None,
) -> pathlib.Path:
    """Encode the clip's observed frames to H.264 (yuv420p, BT.709 limited, tagged).

    The container follows the extension (.mp4, .mkv, .mov). With ``audio`` an
    AAC tone track of exactly the video's duration comes along. The file is
    written under a temporary name in the same folder and moved into place
    only when complete. Returns the path written.
    """
    import av  # local: the truth renderer must not need FFmpeg

    if not isinstance(crf, int) or isinstance(crf, bool) or not 0 <= crf <= 51:
        raise ParameterError(f"crf must be an integer in [0, 51], got {crf!r}")
    if preset not in _X264_PRESETS:
        raise ParameterError(f"preset must be one of {', '.join(_X264_PRESETS)}; got {preset!r}")
    if not isinstance(spec, SampleSpec):
        raise ParameterError(f"spec must be a SampleSpec, got {type(spec).__name__}")
    path = pathlib.Path(os.fsdecode(path)).expanduser()
    fmt = _check_output(path)

    tmp = create_partial(path)

    total = spec.frame_count
    rate = spec.rate
    try:
        with contextlib.ExitStack() as stack:
            container = stack.enter_context(av.open(str(tmp), "w", format=fmt))
            vs = container.add_stream("libx264", rate=rate)
            vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
            cc = vs.codec_context
            cc.time_base = 1 / rate
            cc.colorspace = cc.color_range = cc.color_primaries = cc.color_trc = 1
            cc.options = {"crf": str(crf), "preset": preset}
            astream = None
            if audio:
                astream = container.add_stream("aac", rate=AUDIO_RATE)
                astream.layout = "mono"
                astream.bit_rate = 128_000
            done_samples = 0
            # Rendering (numpy, GIL released) overlaps encoding (x264's own threads).
            planes = _prefetched(lambda i: rgb_to_yuv420p(render_truth(spec, i).observed), total)
            stack.enter_context(contextlib.closing(planes))
            for i, yuv in enumerate(planes):
                container.mux(vs.encode(bt709_frame(yuv, i, rate)))
                if astream is not None:
                    stop = round(Fraction(i + 1) * AUDIO_RATE / rate)
                    if stop > done_samples:
                        samples = audio_samples(done_samples, stop)
                        af = av.AudioFrame.from_ndarray(
                            samples[None, :], format="fltp", layout="mono"
                        )
                        af.sample_rate = AUDIO_RATE
                        af.pts = done_samples
                        af.time_base = Fraction(1, AUDIO_RATE)
                        container.mux(astream.encode(af))
                        done_samples = stop
                if progress is not None:
                    progress(i + 1, total)
            container.mux(vs.encode(None))
            if astream is not None:
                container.mux(astream.encode(None))
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise output_error(exc, str(path), path=path) from exc
        raise
    publish(tmp, path)
    return path
