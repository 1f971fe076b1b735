"""Start-up: a short render loads only what it uses (no WebRTC, Ray, LiveKit or OpenGL
modules on the CPU path; no SciPy linear algebra behind numba), and ``--backend auto``
remembers a software rasteriser instead of making a context on every run. Structural
checks on ``python -X importtime``'s list of modules, never a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chromakey.keying import glprobe

from media import write_clip

ROOT = Path(__file__).resolve().parent.parent
# Imported only where used: never by a render of a file on the CPU path.
NOT_ON_THE_CPU_PATH = (
    "aiortc", "ray", "livekit", "moderngl", "glcontext", "glfw", "scipy.linalg", "pycparser",
)  # fmt: skip


def _imported(stderr: str) -> set[str]:
    """Module names from ``-X importtime`` output."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    return names


def _render(
    clip: Path, out: Path, backend: str, cache: Path
) -> tuple[subprocess.CompletedProcess, set[str]]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache))
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "chromakey", "render", str(clip), "-o", str(out)]
        + ["--backend", backend],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return r, _imported(r.stderr)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("startup") / "clip.mp4", frames=3)


def _loaded(names: set[str], package: str) -> bool:
    """The package itself was imported (an import that failed, as numba's BLAS probe of
    ``scipy.linalg.cython_blas`` does, lists only the name it asked for)."""
    return package in names


def test_a_cpu_render_imports_no_webrtc_ray_livekit_opengl_or_scipy_linalg(clip, tmp_path):
    r, names = _render(clip, tmp_path / "out.nut", "cpu", tmp_path / "cache")
    assert _loaded(names, "chromakey.keying.kernels") and _loaded(names, "av")
    assert [m for m in NOT_ON_THE_CPU_PATH if _loaded(names, m)] == []
    assert "3 frames" in r.stdout


# In a process of its own: the CPU keyer's kernels load with numba's probes answered "not
# installed"; afterwards what they blocked imports as usual (aiortc needs cffi), the collector
# is as the host left it, and a command line's start-up pause ends at its first frame.
AFTER_THE_KERNELS = textwrap.dedent(
    """
    import gc, sys
    from chromakey.core.params import KeyerParams
    from chromakey.keying.select import cpu_keyer

    cpu_keyer(KeyerParams()).close()
    import numba.core.typing.cffi_utils as cffi_utils
    assert not cffi_utils.SUPPORTED  # numba typed no cffi in this process
    assert "pycparser" not in sys.modules and "scipy.linalg" not in sys.modules
    import cffi
    cffi.FFI().cdef("int f(int);")  # cffi itself works
    assert gc.isenabled()
    from chromakey.core.memory import pause_collector, settle_collector

    pause_collector()
    assert not gc.isenabled()
    settle_collector()
    assert gc.isenabled() and gc.get_freeze_count() > 0
    settle_collector()  # once only
    print("ok")
    """
)


def test_the_kernels_load_without_scipy_or_cffi_which_then_import_as_usual():
    r = subprocess.run([sys.executable, "-c", AFTER_THE_KERNELS], capture_output=True,
                       text=True, cwd=ROOT, timeout=300)  # fmt: skip
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-2000:]


def test_a_command_line_render_ends_its_start_up_pause_at_the_first_frame(clip, tmp_path):
    probe = textwrap.dedent(
        f"""
        import gc, runpy, sys
        sys.argv = ["chromakey", "render", {str(clip)!r}, "-o", {str(tmp_path / "o.nut")!r},
                    "--backend", "cpu"]
        seen = []
        import chromakey.app.cli as cli
        real = cli.Progress.__call__
        def spy(self, done, total):
            real(self, done, total)
            seen.append(gc.isenabled())
        cli.Progress.__call__ = spy
        try:
            runpy.run_module("chromakey", run_name="__main__")
        except SystemExit as exc:
            assert exc.code == 0, exc.code
        assert seen and all(seen), seen
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT,
                       timeout=300)  # fmt: skip
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "ok", r.stderr[-2000:]


def test_auto_remembers_a_software_rasteriser_and_then_makes_no_context(clip, tmp_path):
    cache = tmp_path / "cache"
    first, first_names = _render(clip, tmp_path / "a.nut", "auto", cache)
    remembered = cache / "chromakey" / "opengl.json"
    if not remembered.exists():
        # A hardware GPU (used, so its context is made anyway) or no OpenGL: nothing kept.
        assert "llvmpipe" not in first.stderr
        pytest.skip("OpenGL here is not a software rasteriser: nothing to remember")
    assert _loaded(first_names, "moderngl")  # the first run learnt it from a context
    renderer = json.loads(remembered.read_text())["software_renderer"]
    second, names = _render(clip, tmp_path / "b.nut", "auto", cache)
    assert [m for m in NOT_ON_THE_CPU_PATH if _loaded(names, m)] == []
    note = [ln for ln in second.stderr.splitlines() if ln.startswith("chromakey: note:")]
    assert len(note) == 1 and renderer in note[0] and "using the CPU path" in note[0]
    assert note == [ln for ln in first.stderr.splitlines() if ln.startswith("chromakey: note:")]


def test_what_picks_the_driver_changes_the_fingerprint(monkeypatch):
    base = glprobe.fingerprint()
    assert glprobe.fingerprint() == base
    for var in (
        "EGL_PLATFORM",
        "__EGL_VENDOR_LIBRARY_FILENAMES",
        "DISPLAY",
        "LIBGL_ALWAYS_SOFTWARE",
    ):
        with monkeypatch.context() as m:
            m.setenv(var, "something-else")
            assert glprobe.fingerprint() != base, var


def test_a_remembered_answer_counts_only_for_the_same_fingerprint(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert glprobe.remembered_software_renderer() is None
    glprobe.remember("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert glprobe.remembered_software_renderer() == "llvmpipe (LLVM 15.0.6, 256 bits)"
    monkeypatch.setenv("GALLIUM_DRIVER", "zink")
    assert glprobe.remembered_software_renderer() is None
    monkeypatch.delenv("GALLIUM_DRIVER")
    glprobe.remember(None)  # a hardware renderer: nothing kept, the old answer gone
    assert glprobe.remembered_software_renderer() is None
    glprobe.cache_file().parent.mkdir(parents=True, exist_ok=True)
    glprobe.cache_file().write_text("{not json")
    assert glprobe.remembered_software_renderer() is None


def test_a_cache_folder_that_cannot_be_written_only_means_probing_again(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # a file where a folder should be
    glprobe.remember("llvmpipe")
    assert glprobe.remembered_software_renderer() is None
