"""What ``--backend auto`` learnt about this machine's OpenGL, remembered between runs.

Learning that OpenGL is a software rasteriser (Mesa's llvmpipe) takes an OpenGL context:
moderngl imported, EGL and the driver loaded, a context made, the shaders built — about as
long as the whole of a short render. The answer only changes when what picks the driver
changes, so ``auto`` remembers it in ``$XDG_CACHE_HOME/chromakey/opengl.json`` (default
``~/.cache/chromakey/``), keyed by a fingerprint of those things:

- the environment variables that steer EGL, GLVND and Mesa (``DISPLAY``, ``EGL_PLATFORM``,
  ``__EGL_VENDOR_LIBRARY_*``, ``LIBGL_ALWAYS_SOFTWARE``, ``GALLIUM_DRIVER``, …,
  ``LD_LIBRARY_PATH``);
- the driver files' modification times: the dynamic linker's cache (``/etc/ld.so.cache``,
  rewritten whenever a library is installed or removed), GLVND's vendor files, the GPU
  device nodes (``/dev/dri``, ``/dev/nvidia*``), and glcontext, moderngl's EGL loader.

Only a software renderer is remembered (a run on it then takes the CPU path without making a
context, with the same note); a hardware GPU is used, so its context is made anyway, and a
failure is probed again each run. Delete the file to probe again; a cache folder that cannot
be written only means the next run probes again.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

VERSION = 1  # of the file's layout and of what the fingerprint covers

ENV_VARS = (
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "EGL_PLATFORM",
    "EGL_DEVICE_ID",
    "__EGL_VENDOR_LIBRARY_DIRS",
    "__EGL_VENDOR_LIBRARY_FILENAMES",
    "__GLX_VENDOR_LIBRARY_NAME",
    "__NV_PRIME_RENDER_OFFLOAD",
    "DRI_PRIME",
    "LIBGL_ALWAYS_SOFTWARE",
    "GALLIUM_DRIVER",
    "MESA_LOADER_DRIVER_OVERRIDE",
    "MESA_GL_VERSION_OVERRIDE",
    "CUDA_VISIBLE_DEVICES",
    "NVIDIA_VISIBLE_DEVICES",
    "LD_LIBRARY_PATH",
    "LD_PRELOAD",
)
DRIVER_FILES = (
    "/etc/ld.so.cache",
    "/usr/share/glvnd/egl_vendor.d/*",
    "/etc/glvnd/egl_vendor.d/*",
    "/dev/dri",
    "/dev/dri/*",
    "/dev/nvidia*",
)


def cache_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "chromakey" / "opengl.json"


def _glcontext_dir() -> str:
    """glcontext's folder, found without importing it (or moderngl)."""
    from importlib.util import find_spec

    try:
        spec = find_spec("glcontext")
    except (ImportError, ValueError):
        return ""
    locations = list(spec.submodule_search_locations or []) if spec else []
    return locations[0] if locations else ""


def fingerprint() -> str:
    """A digest of what decides which OpenGL driver a new context gets."""
    parts: list[str] = [f"v{VERSION}"]
    parts += [f"{k}={os.environ.get(k, '')}" for k in ENV_VARS]
    patterns = [*DRIVER_FILES, os.path.join(_glcontext_dir() or "-", "*")]
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            try:
                st = os.stat(path)
            except OSError:
                continue
            parts.append(f"{path}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def remembered_software_renderer() -> str | None:
    """The software renderer a context made here had, if this machine's OpenGL is unchanged
    since; else None (not known: make a context to learn it)."""
    try:
        data = json.loads(cache_file().read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != fingerprint():
        return None
    renderer = data.get("software_renderer")
    return renderer if isinstance(renderer, str) and renderer else None


def remember(software_renderer: str | None) -> None:
    """Keep what a context just said: its renderer if it is a software one, else nothing."""
    path = cache_file()
    try:
        if software_renderer is None:
            path.unlink(missing_ok=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        body = {"fingerprint": fingerprint(), "software_renderer": software_renderer}
        tmp.write_text(json.dumps(body))
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot keep the OpenGL probe's answer in %s: %s", path, exc)
