"""An installed wheel, not the checkout, finds its shaders and renders on the GPU path.

Builds the wheel from a copy of the project (so the checkout gets no build/ or egg-info),
installs it into a fresh venv that borrows numpy/moderngl/av from the system, and renders
one frame there from a directory where the checkout is not importable. About 10–20 s.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent(
    """
    import pathlib
    import numpy as np
    import chromakey
    from chromakey.keying.gpu import glsl
    from chromakey.core.frames import Frame
    from chromakey.keying.gpu import GpuKeyer
    from chromakey.core.layers import CLEAR
    from chromakey.core.params import KeyerParams
    from chromakey.core.screenmap import ScreenMap

    here = pathlib.Path(chromakey.__file__).resolve().parent
    assert "site-packages" in str(here), here
    root = pathlib.Path(str(glsl.default_root())).resolve()
    assert root == here / "shaders", root
    img = np.zeros((8, 8, 3), np.uint8)
    img[...] = (0, 128, 0)
    img[2:6, 2:6] = (200, 150, 120)
    with GpuKeyer(KeyerParams()) as keyer:
        out = keyer.render(Frame.from_rgb(img), ScreenMap.constant((0, 0.5, 0)), CLEAR)
    assert out.shape == (8, 8, 4), out.shape
    assert out[0, 0, 3] == 0 and out[4, 4, 3] == 255, out[..., 3]
    assert tuple(out[4, 4, :3]) == (200, 150, 120), out[4, 4]
    print("rendered with shaders from", root)
    """
)


def _run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=240, **kw)
    assert r.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{r.stdout}\n{r.stderr}"
    return r


def _can_build_without_isolation() -> bool:
    if importlib.util.find_spec("wheel") is None:
        return False
    try:
        import setuptools

        return int(setuptools.__version__.split(".")[0]) >= 68
    except Exception:
        return False


@pytest.mark.slow
def test_installed_wheel_renders_on_the_gpu(gl_ctx, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("chromakey", "shaders"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(src)]
    if _can_build_without_isolation():
        build.insert(4, "--no-build-isolation")
    _run(build, env=env)
    (wheel,) = wheels.glob("chromakey-*.whl")
    with zipfile.ZipFile(wheel) as zf:  # typed for a host's type checker (PEP 561)
        assert "chromakey/py.typed" in zf.namelist()

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], env=env)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run([python, "-m", "pip", "install", "--no-deps", "--force-reinstall", str(wheel)], env=env)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = _run([python, "-c", SCRIPT], cwd=elsewhere, env=env)
    assert "rendered with shaders from" in r.stdout
