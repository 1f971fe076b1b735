"""The kernels' cache is dropped when a source they compile from changes (numba alone would
keep a kernel whose callee in another file changed)."""

from __future__ import annotations

from pathlib import Path

from chromakey.keying.kernels import cache_guard


def _tree(tmp_path: Path) -> tuple[tuple[Path, ...], Path]:
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    (kernels / "pixels.py").write_text("X = 1\n")
    table = tmp_path / "param_table.py"
    table.write_text("P_A = 0\n")
    cache = kernels / "__pycache__"
    cache.mkdir()
    for name in ("frame._band-69.py311.nbi", "frame._band-69.py311.1.nbc", "keep.pyc"):
        (cache / name).write_bytes(b"x")
    return (kernels, table), cache


def test_a_changed_source_drops_the_cached_kernels_and_only_them(tmp_path):
    sources, cache = _tree(tmp_path)
    # No stamp yet: the cache may be from any sources.
    assert cache_guard.drop_stale_cache(cache, cache_guard.sources_digest(sources))
    assert sorted(p.name for p in cache.iterdir()) == sorted([cache_guard.STAMP, "keep.pyc"])
    (cache / "frame._band-69.py311.nbi").write_bytes(b"x")  # compiled again
    assert not cache_guard.drop_stale_cache(cache, cache_guard.sources_digest(sources))
    assert (cache / "frame._band-69.py311.nbi").exists()
    # A callee's file changes, or a settings slot: the kernel that calls it must recompile.
    for src in (sources[0] / "pixels.py", sources[1]):
        src.write_text(src.read_text() + "Y = 2\n")
        (cache / "frame._band-69.py311.nbi").write_bytes(b"x")
        assert cache_guard.drop_stale_cache(cache, cache_guard.sources_digest(sources))
        assert not (cache / "frame._band-69.py311.nbi").exists()


def test_a_cache_folder_that_cannot_be_written_is_left_alone(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert not cache_guard.drop_stale_cache(blocker / "__pycache__", "0" * 64)


def test_the_digest_covers_the_kernels_the_table_and_the_reference():
    names = {p.name for p in cache_guard.SOURCES}
    assert {"kernels", "param_table.py", "reference", "core"} <= names
    assert len(cache_guard.sources_digest()) == 64
