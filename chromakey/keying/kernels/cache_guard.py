"""numba's on-disk cache keys a compiled kernel to the file that defines it, and nothing else.

A kernel whose callee in another file changed, or that reads a changed constant (a slot of
``param_table``, a ramp of ``reference``), would load its old machine code: a silent mismatch
with the reference that looks like a real bug. An installed copy never meets this (an upgrade
replaces every file); a working tree does, after an edit. So the cache beside the kernels is
dropped when any source they are compiled from changed since it was written.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

log = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
_PACKAGE = _HERE.parent.parent  # chromakey/
# What the kernels compile from: their own modules, the settings' slots, the reference's
# constants and the core types they import.
SOURCES = (_HERE, _HERE.parent / "param_table.py", _HERE.parent / "reference", _PACKAGE / "core")
STAMP = "kernel-sources.sha256"


def sources_digest(sources: tuple[Path, ...] = SOURCES) -> str:
    """SHA-256 over the sources' names and bytes, in a fixed order."""
    h = hashlib.sha256()
    for src in sources:
        files = sorted(src.glob("*.py")) if src.is_dir() else [src]
        for f in files:
            h.update(f"{f.parent.name}/{f.name}".encode())
            h.update(b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()


def drop_stale_cache(cache: Path = _HERE / "__pycache__", digest: str | None = None) -> bool:
    """Removes numba's cached kernels from ``cache`` when the sources' digest is not the one
    they were compiled from, and records the new one. True if it removed any. Quietly does
    nothing where the folder cannot be written (numba then caches elsewhere, or not at all)."""
    digest = digest or sources_digest()
    stamp = cache / STAMP
    try:
        if stamp.read_text().strip() == digest:
            return False
    except OSError:
        pass  # no stamp yet: a fresh tree, or a cache from before the stamp
    removed = 0
    try:
        cache.mkdir(exist_ok=True)
        for f in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            f.unlink(missing_ok=True)
            removed += 1
        stamp.write_text(digest + "\n")
    except OSError as exc:
        log.debug("kernel cache %s left as it is: %s", cache, exc)
        return False
    if removed:
        log.info("dropped %d cached kernel files: their sources changed", removed)
    return removed > 0
