"""Speed harness: our render against PyAV decode-only and the FFmpeg CLI, in one interleaved run.

``chromakey bench [INPUT]`` (or ``python -m benchmarks.speed``) times, on a recorded stream or
on generated sample clips (single-slice H.264 at a realistic bitrate, 720p and 1080p by default):

- ``decode``: PyAV decode only, ``thread_type="AUTO"`` — the ceiling of any pipeline on PyAV;
- ``ours raw``: decode → calibrate → key → composite over a colour, frames handed to a
  callback that drops them (the pipeline's own numbers: no encoder);
- ``ours mp4``: the same into the real VideoFileSink (libx264 veryfast crf 18 yuv420p);
- ``ffmpeg raw`` / ``ffmpeg mp4``: the FFmpeg CLI doing chromakey + overlay over a colour, to
  rgb24 raw video (the bytes our raw path delivers) or to the same x264 settings;
- ``ours nut`` / ``ffmpeg nut``: whole commands, process start-up included on both sides:
  ``chromakey render IN -o - --format nut > /dev/null`` against FFmpeg writing rgb24 NUT to
  its standard output — what a user chaining either with another tool waits for.

FFmpeg keys with the colour a user would pick with an eyedropper: the median of the input's
outer border over its first frames, decoded with the stream's own matrix and range
(``border_key_color``), not a constant — a recorded stream's screen is rarely the sample's.

Every contender runs in its own process, one after another, round-robin over several rounds
(the order rotates each round); the tables give medians. Peak memory is each process's own
peak resident set (VmHWM from /proc: read by our children at their end, sampled every 20 ms for
FFmpeg); ``ru_maxrss`` is not used, as Linux carries it over from the parent through fork and
exec. For our contenders it includes the interpreter, numpy, PyAV and, for the GPU, Mesa. Timings on a shared machine are noisy: read the ratios, not the digits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .memory import keep_freed_memory

__all__ = [
    "SIZES",
    "parse_size",
    "encode_clip",
    "sample_clip",
    "machine_info",
    "ffmpeg_path",
    "border_key_color",
    "ffmpeg_command",
    "run_bench",
    "main",
]

SIZES = {"360p": (640, 360), "540p": (960, 540), "720p": (1280, 720), "1080p": (1920, 1080)}
# The built-in sample's nominal screen colour, as a user would type it: the quality harness's
# key on its own clips. The speed peer samples each input's border instead (border_key_color).
FFMPEG_KEY = "0x05800A"
KEY_BORDER = 4  # px: the width of the outer ring the key colour is sampled from
KEY_FRAMES = 3  # how many of the first frames it is sampled over
FFMPEG_SIMILARITY = 0.10
FFMPEG_BLEND = 0.05
BACKGROUND = (1.0, 0.0, 1.0)  # magenta: the composite colour of every contender
PIPE = "nut"  # the whole-process contenders' output: NUT on standard output
_RESULT = "BENCH-RESULT "


def parse_size(text: str) -> tuple[int, int]:
    """``720p``-style names or ``WIDTHxHEIGHT``."""
    t = text.strip().lower()
    if t in SIZES:
        return SIZES[t]
    m = re.fullmatch(r"(\d+)x(\d+)", t)
    if not m:
        raise ValueError(f"size {text!r}: use one of {', '.join(SIZES)} or WIDTHxHEIGHT")
    return int(m[1]), int(m[2])


def size_name(w: int, h: int) -> str:
    for name, wh in SIZES.items():
        if wh == (w, h):
            return name
    return f"{w}x{h}"


# --- clips ---------------------------------------------------------------------------------


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

    from .sample import bt709_frame, render_truth, rgb_to_yuv420p

    path = Path(path)
    tmp = path.with_name(f".{path.stem}.partial{path.suffix}")
    rate = spec.rate
    opts = {"preset": preset}
    if bitrate is None:
        opts["crf"] = str(crf if crf is not None else 23)
    if slices:
        opts["x264-params"] = f"slices={slices}"
    with av.open(str(tmp), "w", format="mp4") as container:
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
    os.replace(tmp, path)
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
    from .sample import SampleSpec

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


# --- the FFmpeg peer's key colour ---------------------------------------------------------------


def _border_rgb(frame: Any, border: int) -> np.ndarray:
    """The outer ``border`` pixels of a decoded Frame as N×3 RGB in 0–255, through the frame's
    own matrix and range (chroma from the sample each pixel's 4:2:0 cell holds)."""
    h, w = frame.height, frame.width
    ring = np.zeros((h, w), bool)
    ring[:border], ring[-border:], ring[:, :border], ring[:, -border:] = True, True, True, True
    yy, xx = np.nonzero(ring)
    if frame.layout == "rgb":
        return frame.planes[0][yy, xx].astype(np.float64)
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    yuv = np.stack([y[yy, xx], u[yy // fy, xx // fx], v[yy // fy, xx // fx]], -1) / 255.0
    m, off = frame.yuv.to_rgb()
    return np.clip((yuv - off) @ m.T, 0.0, 1.0) * 255.0


def border_key_color(
    path: str, *, frames: int = KEY_FRAMES, border: int = KEY_BORDER
) -> tuple[int, int, int]:
    """The screen colour a user picks with an eyedropper, as 0–255 RGB: the median of the
    outer ``border`` pixels of the first ``frames`` frames, decoded with the right matrix."""
    import av

    from .sources import to_frame

    samples = []
    with av.open(path) as c:
        for i, av_frame in enumerate(c.decode(video=0)):
            samples.append(_border_rgb(to_frame(av_frame, i, 0.0), border))
            if i + 1 >= frames:
                break
    if not samples:
        raise ValueError(f"{path}: no video frame to sample the key colour from")
    med = np.median(np.concatenate(samples), axis=0)
    return tuple(int(round(c)) for c in med)  # type: ignore[return-value]


def background_rgb() -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in BACKGROUND)  # type: ignore[return-value]


def ffmpeg_color(rgb: tuple[int, int, int]) -> str:
    """0–255 RGB → FFmpeg's ``0xRRGGBB``."""
    return "0x{:02X}{:02X}{:02X}".format(*rgb)


# --- the machine -----------------------------------------------------------------------------


def ffmpeg_path() -> str | None:
    return shutil.which("ffmpeg")


def _ffmpeg_version(exe: str | None) -> str:
    if not exe:
        return "not installed"
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return "unusable"
    first = out.splitlines()[0] if out else ""
    m = re.match(r"ffmpeg version (\S+)", first)
    return m[1] if m else first


def _gl_renderer() -> str:
    try:
        from .gpu import create_context

        ctx = create_context("standalone")
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return f"none ({str(exc).splitlines()[0][:80]})"
    try:
        info = ctx.info
        return f"{info.get('GL_RENDERER', '?')}; OpenGL {info.get('GL_VERSION', '?')}"
    finally:
        ctx.release()


def machine_info(gl: bool = True) -> dict[str, str]:
    import av

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    lav = av.library_versions.get("libavcodec", ())
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "cores": f"{usable} usable ({os.cpu_count()} online)",
        "ram": ram,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pyav": f"{av.__version__} (libavcodec {'.'.join(map(str, lav))})",
        "ffmpeg cli": _ffmpeg_version(ffmpeg_path()),
        "gl": _gl_renderer() if gl else "not probed",
    }


# --- contenders (each runs in a child process) -------------------------------------------------


class _ColorLayer:
    """A colour background, duck-typed for Pipeline (frame_at, bind, close)."""

    transparent = False
    play_style = None
    duration = None

    def __init__(self, rgb: tuple[float, float, float]) -> None:
        self.rgb = np.asarray(rgb, np.float32)

    def bind(self, duration: float | None) -> None:
        pass

    def frame_at(self, time: float, width: int, height: int) -> np.ndarray:
        return self.rgb

    def close(self) -> None:
        pass


class _TimedCpuKeyer:
    """The compiled CpuKeyer, timed: its stages are fused in one pass over bands of rows on
    numba's threads, so the whole render counts as ``key``."""

    backend = "cpu"

    def __init__(self, params: Any) -> None:
        from .kernels import CpuKeyer

        self.inner = CpuKeyer(params)
        self.pixel_formats = self.inner.pixel_formats
        self.totals = {"key": 0.0}

    def set_params(self, params: Any) -> None:
        self.inner.set_params(params)

    def render(
        self, frame: Any, screen: Any, background: np.ndarray | None, *, pixel_format: Any = None
    ) -> Any:
        t0 = time.perf_counter()
        out = self.inner.render(frame, screen, background, pixel_format=pixel_format)
        self.totals["key"] += time.perf_counter() - t0
        return out

    def close(self) -> None:
        self.inner.close()


class _TimedGpuKeyer:
    """GpuKeyer with ``timing=True`` (a finish after upload and after the passes), stats summed."""

    backend = "gpu"

    def __init__(self, params: Any) -> None:
        from .gpu import GpuKeyer

        self.inner = GpuKeyer(params, timing=True)
        self.pixel_formats = self.inner.pixel_formats
        self.totals = {"upload": 0.0, "passes": 0.0, "readback": 0.0}

    def set_params(self, params: Any) -> None:
        self.inner.set_params(params)

    def render(
        self, frame: Any, screen: Any, background: np.ndarray | None, *, pixel_format: Any = None
    ) -> np.ndarray:
        out = self.inner.render(frame, screen, background, pixel_format=pixel_format)
        for k in self.totals:
            self.totals[k] += self.inner.stats.get(k, 0.0)
        return out

    def close(self) -> None:
        self.inner.close()


def _child_decode(path: str) -> dict[str, Any]:
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        t0 = time.perf_counter()
        n = 0
        for _ in c.decode(s):
            n += 1
        elapsed = time.perf_counter() - t0
    return {"frames": n, "elapsed": elapsed, "stages": {}}


def _child_ours(path: str, backend: str, output: str | None) -> dict[str, Any]:
    from .params import KeyerParams
    from .pipeline import Pipeline, open_sink
    from .sinks import CallbackSink
    from .sources import VideoSource

    params = KeyerParams()
    keyer: Any = _TimedCpuKeyer(params) if backend == "cpu" else _TimedGpuKeyer(params)
    source = VideoSource(path, audio=False)
    try:
        sink = open_sink(output, source, False) if output else CallbackSink(lambda im, t: None)
        # GL shaders compile in GpuKeyer(), before the clock starts; the first frame's
        # allocations are on it, as in a real run.
        pipe = Pipeline(source, keyer, _ColorLayer(BACKGROUND), [sink], params)
        stats = pipe.run()
    finally:
        keyer.close()
    stages = dict(stats.stages)
    stages.update({f"keyer.{k}": v for k, v in keyer.totals.items()})
    return {"frames": stats.frames, "elapsed": stats.elapsed, "stages": stages}


def _child(argv: Sequence[str]) -> int:
    kind, path = argv[0], argv[1]
    if kind == "decode":
        res = _child_decode(path)
    else:
        backend, output = argv[2], (argv[3] if len(argv) > 3 and argv[3] else None)
        keep_freed_memory()  # as the chromakey command does
        res = _child_ours(path, backend, output)
    res["vm_hwm_mib"] = _vm_hwm_mib()
    print(_RESULT + json.dumps(res), flush=True)
    return 0


# --- running and timing -----------------------------------------------------------------------


@dataclass
class Contender:
    name: str  # "decode", "ours raw|mp4|nut", "ffmpeg raw|mp4|nut"
    backend: str = ""  # cpu / gpu for ours
    output: str = ""  # "raw", "mp4" or PIPE ("nut": the whole command, NUT to stdout)

    @property
    def whole_process(self) -> bool:
        """Timed from process start to exit, start-up included (no per-stage numbers)."""
        return self.output == PIPE

    @property
    def label(self) -> str:
        out = "NUT stdout, whole process" if self.whole_process else self.output
        if self.name.startswith("ours"):
            return f"ours {self.backend} → {out}"
        if self.name.startswith("ffmpeg"):
            return f"FFmpeg chromakey+overlay → {out}"
        return "PyAV decode only"


@dataclass
class Run:
    fps: float
    frames: int
    elapsed: float
    maxrss_mib: float
    stages: dict[str, float] = field(default_factory=dict)


def _vm_hwm_mib(pid: int | str = "self") -> float | None:
    """The peak resident set of a process's current program (VmHWM), MiB; None if unknown.

    Not ``ru_maxrss``: Linux carries that across fork and exec, so a child of a large parent
    starts with the parent's peak. VmHWM belongs to the address space that exec created.
    """
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return None


def _wait_hwm(proc: subprocess.Popen, timeout: float, poll: bool) -> tuple[int, float]:
    """Wait for ``proc``; with ``poll``, sample its VmHWM every 20 ms: (returncode, last MiB)."""
    deadline = time.monotonic() + timeout
    hwm = float("nan")
    if not poll:
        try:
            return proc.wait(timeout), hwm
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"contender did not finish within {timeout:.0f} s") from None
    while True:
        seen = _vm_hwm_mib(proc.pid)
        if seen is not None:
            hwm = seen
        rc = proc.poll()
        if rc is not None:
            return rc, hwm
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise TimeoutError(f"contender did not finish within {timeout:.0f} s")
        time.sleep(0.02)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _run_python(args: list[str], timeout: float) -> Run:
    cmd = [sys.executable, "-m", "chromakey.bench", "--child", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=_env())
        rc, rss = _wait_hwm(proc, timeout, poll=False)
        out.seek(0)
        err.seek(0)
        text, etext = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"{' '.join(args[:1])} failed (exit {rc}): {etext.strip()[-600:]}")
    line = next(ln for ln in text.splitlines()[::-1] if ln.startswith(_RESULT))
    res = json.loads(line[len(_RESULT) :])
    fps = res["frames"] / res["elapsed"] if res["elapsed"] > 0 else 0.0
    rss = res.get("vm_hwm_mib") or rss  # its own figure, read at its end
    return Run(fps, res["frames"], res["elapsed"], rss, res["stages"])


def ffmpeg_command(
    exe: str,
    path: str,
    width: int,
    height: int,
    rate: Fraction,
    output: str,
    dest: str,
    *,
    key: str,
) -> list[str]:
    """FFmpeg chromakey (on ``key``, ``0xRRGGBB``) + overlay over the magenta colour: rgb24 raw
    (as ours delivers), x264, or rgb24 NUT with the input's audio copied (``nut``, as
    ``chromakey render -o - --format nut`` writes)."""
    color = ffmpeg_color(background_rgb())
    chroma = f"chromakey=color={key}:similarity={FFMPEG_SIMILARITY}:blend={FFMPEG_BLEND}"
    graph = f"[0:v]{chroma}[fg];[1:v][fg]overlay=shortest=1"
    cmd = [exe, "-hide_banner", "-nostdin", "-nostats", "-benchmark", "-i", path]
    cmd += ["-f", "lavfi", "-i", f"color=c={color}:s={width}x{height}:r={rate}"]
    if output == "raw":
        cmd += ["-filter_complex", graph + ",format=rgb24", "-f", "rawvideo", "-y", dest]
    elif output == "nut":
        cmd += ["-filter_complex", graph + ",format=rgb24[out]", "-map", "[out]", "-map", "0:a?"]
        cmd += ["-c:v", "rawvideo", "-pix_fmt", "rgb24", "-c:a", "copy", "-f", "nut", "-y", dest]
    else:
        cmd += ["-filter_complex", graph + ",format=yuv420p"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
        cmd += ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]
        cmd += ["-an", "-y", dest]
    return cmd


def _run_ffmpeg(cmd: list[str], frames: int, timeout: float) -> Run:
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        rc, rss = _wait_hwm(proc, timeout, poll=True)
        err.seek(0)
        text = err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"ffmpeg failed (exit {rc}): {text.strip()[-600:]}")
    # "bench: utime=…s stime=…s rtime=…s": rtime is the transcode's wall time, without start-up.
    m = re.search(r"rtime=([\d.]+)s", text)
    elapsed = float(m[1]) if m else float("nan")
    fm = re.findall(r"frame=\s*(\d+)", text)
    n = int(fm[-1]) if fm else frames
    return Run(n / elapsed if elapsed > 0 else 0.0, n, elapsed, rss, {})


def _run_whole(
    cmd: list[str], timeout: float, frames: int, count: str, env: dict[str, str] | None = None
) -> Run:
    """A whole command, its standard output into /dev/null, timed from start to exit.

    ``count`` is a regular expression for the frame count in its stderr (the last match).
    """
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
        )
        rc, rss = _wait_hwm(proc, timeout, poll=True)
        elapsed = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {rc}): {text.strip()[-600:]}")
    found = re.findall(count, text)
    n = int(found[-1]) if found else frames
    return Run(n / elapsed if elapsed > 0 else 0.0, n, elapsed, rss, {})


def ours_pipe_command(path: str, backend: str) -> list[str]:
    """``chromakey render IN -o - --format nut`` over the bench's colour, as a user runs it."""
    from .color import format_color

    cmd = [sys.executable, "-m", "chromakey", "render", path, "-o", "-", "--format", PIPE]
    return cmd + ["--backend", backend, "-b", format_color(BACKGROUND)]


def _probe(path: str) -> tuple[int, int, Fraction, int]:
    import av

    with av.open(path) as c:
        s = c.streams.video[0]
        rate = Fraction(s.average_rate or s.guessed_rate or 30)
        n = s.frames
        if not n:
            n = sum(1 for _ in c.demux(s) if _.size)
        return s.codec_context.width, s.codec_context.height, rate, n


def run_bench(
    inputs: list[tuple[str, str]],
    backends: list[str],
    rounds: int,
    *,
    ffmpeg: str | None,
    workdir: Path,
    mp4: bool = True,
    pipe: bool = True,
    timeout: float = 1800.0,
    log: Any = None,
) -> dict[str, Any]:
    """Round-robin every contender on every input, ``rounds`` times. Returns all runs."""
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    outputs = ["raw"] + (["mp4"] if mp4 else []) + ([PIPE] if pipe else [])
    contenders = [Contender("decode")]
    for out in outputs:
        contenders += [Contender(f"ours {out}", b, out) for b in backends]
        if ffmpeg:
            contenders.append(Contender(f"ffmpeg {out}", "", out))
    runs: dict[tuple[str, str], list[Run]] = {}
    probes = {name: _probe(path) for name, path in inputs}
    keys = {name: ffmpeg_color(border_key_color(path)) for name, path in inputs} if ffmpeg else {}
    for r in range(rounds):
        for name, path in inputs:
            w, h, rate, frames = probes[name]
            k = (r * 3) % len(contenders)  # rotate the order from round to round
            for c in contenders[k:] + contenders[:k]:
                dest = str(workdir / f"bench_out_{name}.mp4")
                if c.name == "decode":
                    run = _run_python(["decode", path], timeout)
                elif c.name.startswith("ours") and c.whole_process:
                    cmd = ours_pipe_command(path, c.backend)
                    run = _run_whole(cmd, timeout, frames, r"(\d+) frames in", env=_env())
                elif c.name.startswith("ours"):
                    args = ["ours", path, c.backend, dest if c.output == "mp4" else ""]
                    run = _run_python(args, timeout)
                else:
                    target = {"raw": os.devnull, PIPE: "-"}.get(c.output, dest)
                    cmd = ffmpeg_command(
                        ffmpeg or "ffmpeg", path, w, h, rate, c.output, target, key=keys[name]
                    )
                    if c.whole_process:
                        run = _run_whole(cmd, timeout, frames, r"frame=\s*(\d+)")
                    else:
                        run = _run_ffmpeg(cmd, frames, timeout)
                runs.setdefault((name, c.label), []).append(run)
                log(
                    f"  round {r + 1}/{rounds} {name:>9} {c.label:<36} {run.fps:7.1f} fps "
                    f"({run.frames} frames, peak RSS {run.maxrss_mib:.0f} MiB)"
                )
    return {"contenders": contenders, "runs": runs, "probes": probes, "keys": keys}


# --- tables -------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt_ratio(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:.2f}×"


def speed_tables(result: dict[str, Any], inputs: list[tuple[str, str]]) -> str:
    contenders: list[Contender] = result["contenders"]
    runs: dict[tuple[str, str], list[Run]] = result["runs"]
    lines: list[str] = []
    for name, _path in inputs:
        w, h, rate, frames = result["probes"][name]
        n_rounds = len(runs.get((name, contenders[0].label), []))
        key = result.get("keys", {}).get(name)
        lines.append(
            f"\n### {name}: {w}×{h}, {float(rate):.3g} fps, {frames} frames, "
            f"median of {n_rounds} round(s)" + (f"; FFmpeg keys {key}" if key else "") + "\n"
        )
        lines.append(
            "| contender | fps (median) | min–max | ours ÷ FFmpeg | ÷ decode-only | peak RSS MiB |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|")
        med = {c.label: _median([x.fps for x in runs.get((name, c.label), [])]) for c in contenders}
        decode = med.get(Contender("decode").label, float("nan"))
        for c in contenders:
            rs = runs.get((name, c.label), [])
            if not rs:
                continue
            fps = [x.fps for x in rs]
            vs_ff = float("nan")
            if c.name.startswith("ours"):
                vs_ff = med[c.label] / med.get(
                    Contender(f"ffmpeg {c.output}", "", c.output).label, float("nan")
                )
            vs_dec = med[c.label] / decode if c.name != "decode" else float("nan")
            lines.append(
                f"| {c.label} | {med[c.label]:.1f} | {min(fps):.1f}–{max(fps):.1f} | "
                f"{_fmt_ratio(vs_ff)} | {_fmt_ratio(vs_dec)} | {_median([x.maxrss_mib for x in rs]):.0f} |"
            )
        # Per-stage times of our contenders.
        ours = [c for c in contenders if c.name.startswith("ours") and not c.whole_process]
        if ours:
            lines.append(
                "\nPer-stage ms/frame (median over rounds). wait = decode queue wait; "
                "convert/upload = YUV→RGB (cpu) or plane upload (gpu); key = matte + despill "
                "(cpu: convert, key and composite fused in the compiled keyer) "
                "(gpu: all passes); composite; readback; encode = the sink (RGB→YUV + x264, "
                "or nothing for raw); other = the rest of the loop.\n"
            )
            lines.append(
                "| contender | wait | calibrate | convert/upload | key | composite | readback | encode | other | total |"
            )
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for c in ours:
                rs = runs.get((name, c.label), [])
                if not rs:
                    continue

                def per(key: str, rs: list[Run] = rs) -> float:
                    return _median([1000 * x.stages.get(key, 0.0) / max(x.frames, 1) for x in rs])

                if c.backend == "cpu":
                    # The compiled keyer fuses its stages: all of it is "key".
                    conv, key, comp, rb = float("nan"), per("keyer.key"), float("nan"), 0.0
                else:
                    conv, key, comp, rb = (
                        per("keyer.upload"),
                        per("keyer.passes"),
                        float("nan"),
                        per("keyer.readback"),
                    )
                total = _median([1000 * x.elapsed / max(x.frames, 1) for x in rs])
                wait, cal, sink = per("wait"), per("calibrate"), per("sink")
                inside = sum(0.0 if np.isnan(x) else x for x in (conv, key, comp, rb))
                other = total - wait - cal - sink - inside
                comp_s = "(in key)" if np.isnan(comp) else f"{comp:.1f}"
                conv_s = "(in key)" if np.isnan(conv) else f"{conv:.1f}"
                lines.append(
                    f"| {c.label} | {wait:.1f} | {cal:.1f} | {conv_s} | {key:.1f} | {comp_s} | "
                    f"{rb:.1f} | {sink:.1f} | {other:.1f} | {total:.1f} |"
                )
    return "\n".join(lines)


def machine_table(info: dict[str, str]) -> str:
    rows = ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in info.items()]
    return "\n".join(rows)


# --- command line ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="chromakey bench",
        description="Frames per second of our render against PyAV decode-only and the FFmpeg CLI "
        "(chromakey + overlay), interleaved in one run; medians of several rounds.",
    )
    p.add_argument(
        "input", nargs="?", help="a recorded stream to measure; default: generated sample clips"
    )
    p.add_argument("--seconds", type=float, default=3.0, help="length of generated clips [3]")
    p.add_argument("--rounds", type=int, default=3, help="round-robin rounds [3]")
    p.add_argument(
        "--sizes",
        default="720p,1080p",
        help="generated clip sizes: 360p, 720p, 1080p or WxH [720p,1080p]",
    )
    p.add_argument("--backends", default="cpu,gpu", help="our backends to time: cpu, gpu [cpu,gpu]")
    p.add_argument("--no-mp4", action="store_true", help="skip the MP4 (encode) contenders")
    p.add_argument(
        "--no-pipe",
        action="store_true",
        help="skip the whole-process NUT-to-stdout contenders (chromakey render -o - vs ffmpeg)",
    )
    p.add_argument("--workdir", help="folder for generated clips and outputs [a temp folder]")
    p.add_argument("--json", help="also write every run's numbers to this JSON file")
    p.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child is not None:
        return _child(args.child)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for b in backends:
        if b not in ("cpu", "gpu"):
            print(f"error: --backends: unknown backend {b!r}; use cpu and/or gpu", file=sys.stderr)
            return 2
    if args.rounds < 1 or args.seconds <= 0:
        print("error: --rounds must be ≥ 1 and --seconds > 0", file=sys.stderr)
        return 2
    info = machine_info(gl="gpu" in backends)
    if "gpu" in backends and info["gl"].startswith("none"):
        print(f"note: no OpenGL context ({info['gl']}); the gpu rows are skipped", file=sys.stderr)
        backends = [b for b in backends if b != "gpu"]
    ffmpeg = ffmpeg_path()
    notes = []
    if not ffmpeg:
        notes.append(
            "ffmpeg CLI not found on PATH: the FFmpeg rows are skipped "
            "(Debian/Ubuntu: apt-get install ffmpeg)"
        )
    tmp = None
    if args.workdir:
        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="chromakey-bench-")
        workdir = Path(tmp.name)
    try:
        if args.input:
            if not Path(args.input).exists() and "://" not in args.input:
                print(f"error: {args.input}: no such file", file=sys.stderr)
                return 2
            inputs = [(Path(args.input).name, args.input)]
        else:
            inputs = []
            for s in args.sizes.split(","):
                try:
                    w, h = parse_size(s)
                except ValueError as exc:
                    print(f"error: --sizes: {exc}", file=sys.stderr)
                    return 2
                print(
                    f"generating {size_name(w, h)} sample clip ({args.seconds:g} s)…",
                    file=sys.stderr,
                )
                inputs.append((size_name(w, h), str(sample_clip(workdir, w, h, args.seconds))))
        result = run_bench(
            inputs,
            backends,
            args.rounds,
            ffmpeg=ffmpeg,
            workdir=workdir,
            mp4=not args.no_mp4,
            pipe=not args.no_pipe,
        )
        print("## Speed\n")
        print(machine_table(info))
        for n in notes:
            print(f"\nNote: {n}")
        print(
            "\nContenders run one at a time, each in its own process, round-robin; fps = frames / "
            "wall time of the run (our pipeline's RenderStats.elapsed, PyAV's decode loop, "
            "FFmpeg's -benchmark rtime; process start-up excluded), except the 'NUT stdout, "
            "whole process' rows: `chromakey render IN -o - --format nut > /dev/null` and "
            "FFmpeg writing rgb24 NUT to its stdout, timed from process start to exit. Peak "
            "RSS = VmHWM of the contender's own process (/proc; sampled every 20 ms for "
            "FFmpeg and the whole commands). FFmpeg: chromakey=KEY"
            + f":{FFMPEG_SIMILARITY}:{FFMPEG_BLEND} + overlay on a colour source, KEY the "
            f"median of the input's outer {KEY_BORDER}-px border over its first {KEY_FRAMES} "
            "frames (an eyedropper's pick, decoded with the stream's matrix); raw = rgb24 "
            "(the bytes our raw path hands over), mp4 = libx264 veryfast crf 18 yuv420p, as ours."
        )
        print(speed_tables(result, inputs))
        if args.json:
            payload = {
                "machine": info,
                "inputs": inputs,
                "ffmpeg_keys": result["keys"],
                "runs": {
                    f"{k[0]} | {k[1]}": [r.__dict__ for r in v] for k, v in result["runs"].items()
                },
            }
            Path(args.json).write_text(json.dumps(payload, indent=1))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
