"""Contenders run in child processes (``python -m chromakey.bench --child …``): decode only,
or our pipeline with timed keyers; each prints its numbers and its own peak memory."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..core.layers import Layer
from ..core.memory import keep_freed_memory
from .settings import _RESULT, BACKGROUND

# --- contenders (each runs in a child process) -------------------------------------------------


class TimedCpuKeyer:
    """The compiled CpuKeyer, timed: its stages are fused in one pass over bands of rows on
    numba's threads, so the whole render counts as ``key``."""

    backend = "cpu"

    def __init__(self, params: Any) -> None:
        from ..keying.kernels import CpuKeyer

        self.inner = CpuKeyer(params)
        self.pixel_formats = self.inner.pixel_formats
        self.totals = {"key": 0.0}

    def set_params(self, params: Any) -> None:
        self.inner.set_params(params)

    def render(
        self, frame: Any, screen: Any, background: Layer, *, pixel_format: Any = None
    ) -> Any:
        t0 = time.perf_counter()
        out = self.inner.render(frame, screen, background, pixel_format=pixel_format)
        self.totals["key"] += time.perf_counter() - t0
        return out

    def close(self) -> None:
        self.inner.close()


class TimedGpuKeyer:
    """GpuKeyer with ``timing=True`` (a finish after upload and after the passes), stats summed."""

    backend = "gpu"

    def __init__(self, params: Any) -> None:
        from ..keying.gpu import GpuKeyer

        self.inner = GpuKeyer(params, timing=True)
        self.pixel_formats = self.inner.pixel_formats
        self.totals = {"upload": 0.0, "passes": 0.0, "readback": 0.0}

    def set_params(self, params: Any) -> None:
        self.inner.set_params(params)

    def render(
        self, frame: Any, screen: Any, background: Layer, *, pixel_format: Any = None
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
    from ..backgrounds import ColorBackground
    from ..core.params import KeyerParams
    from ..io.sinks import CallbackSink, open_sink
    from ..io.sinks.threaded import ThreadedSink
    from ..io.sources import VideoSource
    from ..pipeline import Pipeline

    params = KeyerParams()
    keyer: Any = TimedCpuKeyer(params) if backend == "cpu" else TimedGpuKeyer(params)
    source = VideoSource(path, audio=False)
    try:
        # An encoder writes on its own thread, as ``render`` has it (io.sinks.threaded).
        sink = (
            ThreadedSink(open_sink(output, source.info, False))
            if output
            else CallbackSink(lambda im, t: None)
        )
        # GL shaders compile in GpuKeyer(), before the clock starts; the first frame's
        # allocations are on it, as in a real run.
        pipe = Pipeline(source, keyer, ColorBackground(BACKGROUND), [sink], params)
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
    elif kind == "passes":
        from .gpu_times import child_gpu_passes

        res = child_gpu_passes(path)
    else:
        backend, output = argv[2], (argv[3] if len(argv) > 3 and argv[3] else None)
        keep_freed_memory()  # as the chromakey command does
        res = _child_ours(path, backend, output)
    res["vm_hwm_mib"] = _vm_hwm_mib()
    print(_RESULT + json.dumps(res), flush=True)
    return 0


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
