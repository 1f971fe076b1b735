"""``chromakey bench --gpu-passes``: the GPU's own time per pass, by timer queries, over every
frame of each clip, in a child process of its own (the fps contenders carry no queries)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .settings import BACKGROUND


def gpu_time_table(rows: Sequence[tuple[str, float]]) -> str:
    """``mean_ms`` rows as a Markdown table: the spans, then the passes' sum and the frame's."""
    lines = ["| span | GPU ms/frame (mean) |", "|---|---:|"]
    for name, ms in rows:
        label = {"passes": "**passes (key + composite)**", "frame": "**frame**"}.get(name, name)
        lines.append(f"| {label} | {ms:.3f} |")
    return "\n".join(lines)


def child_gpu_passes(path: str) -> dict[str, Any]:
    """The pipeline over ``path`` with a timed GpuKeyer, the bench's colour behind: the mean
    GPU ms of each span over every frame but the first (which allocates its targets)."""
    from ..backgrounds import ColorBackground
    from ..core.params import KeyerParams
    from ..io.sinks import CallbackSink
    from ..io.sources import VideoSource
    from ..keying.gpu import GpuKeyer, PassTimer, mean_ms
    from ..pipeline import Pipeline

    params = KeyerParams()
    timer = PassTimer()
    keyer = GpuKeyer(params, timer=timer)
    try:
        info = keyer.ctx.info
        renderer = f"{info.get('GL_RENDERER', '?')} ({info.get('GL_VENDOR', '?')})"
        source = VideoSource(path, audio=False)
        sink = CallbackSink(lambda im, t: None)
        stats = Pipeline(source, keyer, ColorBackground(BACKGROUND), [sink], params).run()
    finally:
        keyer.close()
    frames = timer.frames[1:] or timer.frames
    return {
        "frames": stats.frames,
        "elapsed": stats.elapsed,
        "stages": {},
        "renderer": renderer,
        "timed_frames": len(frames),
        "gpu_ms": mean_ms(frames),
    }
