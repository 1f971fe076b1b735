"""Any frame of the clip with its truth, rendered in row bands on a small thread pool."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core.errors import ParameterError
from .figure import _figure_box, _render_figure
from .geometry import _smoothstep, _unit, frame_noise, lit_screen
from .scene import (
    F32,
    SHADOW_DEPTH,
    SHADOW_OFFSET,
    SHADOW_SOFTNESS,
    SPILL_FALLOFF,
    SPILL_STRENGTH,
    SampleSpec,
    TruthFrame,
)


def _validate_index(index: object) -> int:
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool) or index < 0:
        raise ParameterError(f"frame index must be an integer >= 0, got {index!r}")
    return int(index)


_THREAD_MIN_PIXELS = 640 * 360  # smaller frames render on the calling thread
_executor: tuple[int, ThreadPoolExecutor] | None = None  # (owning pid, pool)
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    """Two worker threads, made on first use (and again in a forked child, whose copy is dead)."""
    global _executor
    with _executor_lock:
        if _executor is None or _executor[0] != os.getpid():
            pool = ThreadPoolExecutor(
                max_workers=max(1, min(2, os.cpu_count() or 1)),
                thread_name_prefix="chromakey-sample",
            )
            _executor = (os.getpid(), pool)
        return _executor[1]


def render_truth(spec: SampleSpec, index: int, *, threads: bool | None = None) -> TruthFrame:
    """Frame ``index`` of the clip with its ground truth; deterministic for (spec, index).

    Large frames (or any, with ``threads=True``; none with False) are rendered as two bands
    of rows on two threads (numpy releases the GIL); every pixel is computed the same way
    whatever the banding.
    """
    if not isinstance(spec, SampleSpec):
        raise ParameterError(f"spec must be a SampleSpec, got {type(spec).__name__}")
    index = _validate_index(index)
    t = index / spec.fps
    w, h = spec.width, spec.height
    screen = lit_screen(w, h, spec.seed)
    noise, negate = frame_noise(spec, index)
    observed = np.empty((h, w, 3), F32)
    alpha = np.zeros((h, w), F32)
    foreground = np.zeros((h, w, 3), F32)
    spill = np.zeros((h, w), F32)
    out = (observed, alpha, foreground, spill)
    args = (spec, t, screen, noise, negate, out)
    if not (w * h >= _THREAD_MIN_PIXELS if threads is None else threads):
        _render_rows(*args, 0, h)
    else:
        # The head and hair make the upper rows dearer than the torso's.
        mid = (h * 11 // 20) & ~1
        pool = _pool()
        jobs = [pool.submit(_render_rows, *args, r0, r1) for r0, r1 in ((0, mid), (mid, h))]
        for job in jobs:
            job.result()
    return TruthFrame(index, t, observed, alpha, foreground, spill)


def _render_rows(spec, t, screen, noise, negate, out, r0: int, r1: int) -> None:
    """Render frame rows [r0, r1) of the outputs in place."""
    observed, alpha, foreground, spill = out
    w, h = spec.width, spec.height
    u = _unit(spec)
    rows = slice(r0, r1)
    # The screen plus sensor noise; the shadow and the figure are laid in below, keeping
    # the same noise on every pixel.
    (np.subtract if negate else np.add)(screen[rows], noise[rows], out=observed[rows])

    x0, x1, fy0, fy1 = _figure_box(spec, t)
    ox, oy = round(SHADOW_OFFSET[0] * u), round(SHADOW_OFFSET[1] * u)
    # Figure rows to render: this band's, and those whose shadow falls on this band.
    y0, y1 = max(fy0, r0 - oy), min(fy1, r1)
    if x1 <= x0 or y1 <= y0:
        np.maximum(observed[rows], 0.0, out=observed[rows])
        return
    a, prem, sil, tight = _render_figure(spec, t, x0, x1, y0, y1)

    # The cast shadow: the silhouette, softened and offset, darkens the screen.
    soft = SHADOW_SOFTNESS * u
    sx0, sx1 = max(0, x0 + ox), min(w, x1 + ox)
    sy0, sy1 = max(r0, y0 + oy), min(r1, y1 + oy, h)
    if sx1 > sx0 and sy1 > sy0:
        src = sil[sy0 - y0 - oy : sy1 - y0 - oy, sx0 - x0 - ox : sx1 - x0 - ox]
        dark = F32(SHADOW_DEPTH) * _smoothstep(soft, -soft, src)
        observed[sy0:sy1, sx0:sx1] -= screen[sy0:sy1, sx0:sx1] * dark[..., None]

    # The figure over the screen, on this band's rows where alpha > 0.
    ty, tx = tight
    ty = slice(max(ty.start, r0 - y0), ty.stop)
    if ty.stop > ty.start and tx.stop > tx.start:
        box = (slice(y0 + ty.start, y0 + ty.stop), slice(x0 + tx.start, x0 + tx.stop))
        # Spill: the local (unshadowed) screen light, fading inward from the silhouette.
        spill_w = np.exp(np.minimum(sil[ty, tx], 0.0) * F32(1.0 / max(SPILL_FALLOFF * u, 0.75)))
        spill_w *= F32(SPILL_STRENGTH)
        a = a[ty, tx]
        prem = prem[ty, tx]
        a3 = a[..., None]
        obs = observed[box]
        # obs holds shadowed screen + noise; make it a·(F + spill) + (1 − a)·screen + noise.
        tmp = screen[box] * spill_w[..., None]
        (np.subtract if negate else np.add)(tmp, noise[box], out=tmp)
        tmp -= obs
        tmp *= a3
        tmp += prem
        obs += tmp
        np.minimum(obs, 1.0, out=obs)
        alpha[box] = a
        np.multiply(spill_w, a > 0, out=spill[box])
        # prem is 0 wherever a is, so the floor on a only guards the division.
        np.divide(prem, np.maximum(a3, F32(1e-6)), out=foreground[box])
    np.maximum(observed[rows], 0.0, out=observed[rows])


def truth_frames(spec: SampleSpec) -> Iterator[TruthFrame]:
    """Every frame of the clip, in order."""
    for i in range(spec.frame_count):
        yield render_truth(spec, i)
