"""Process-wide allocator and collector settings for the command-line renderer.

A frame's float32 temporaries are megabytes each. glibc hands such freed blocks back to the
kernel, so every frame faults the same pages in again (a fifth of the CPU path's time at
1080p). The renderer's working set is the same every frame, so keeping it is cheaper. This
changes how the whole process allocates, so only the application (the CLI) calls it, not
the library.
"""

from __future__ import annotations

import ctypes
import gc
import sys

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest: blocks up to this come from the heap
TRIM_THRESHOLD = 1024 * 1024 * 1024  # return free heap only above a GiB
TOP_PAD = 64 * 1024 * 1024  # grow the heap in steps of 64 MiB


def keep_freed_memory() -> bool:
    """Keep freed frame buffers for reuse (glibc only); True if the allocator took it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (M_TOP_PAD, TOP_PAD),
    )
    return all(mallopt(param, value) == 1 for param, value in settings)


class _Collector:
    paused = False  # by pause_collector, not yet settled


def pause_collector() -> None:
    """No cyclic garbage collection during start-up. The imports and the kernels' loading make
    about a million objects that live as long as the process (numba's typing and its
    registries); each full collection on the way walks them all: 40–60 ms of a 0.6 s render,
    for no garbage. Called first thing by ``python -m chromakey``, which owns the process."""
    if gc.isenabled():
        gc.disable()
        _Collector.paused = True


def settle_collector() -> None:
    """Start-up is over (the first frame is out, or a command that keys nothing is about to
    run): what it made is moved out of the collector's sight (``gc.freeze``) and collection
    resumes, for the cycles that a long run makes."""
    if _Collector.paused:
        _Collector.paused = False
        gc.freeze()
        gc.enable()
