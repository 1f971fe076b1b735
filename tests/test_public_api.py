"""The public API is ``chromakey``'s own namespace: every name it exports imports, the README
lists exactly that surface, and importing the package loads none of the heavy backends."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import chromakey

ROOT = Path(__file__).resolve().parent.parent


def test_every_exported_name_imports():
    for name in chromakey.__all__:
        assert getattr(chromakey, name) is not None, name
    ns: dict[str, object] = {}
    exec(f"from chromakey import {', '.join(chromakey.__all__)}", ns)
    assert callable(ns["render"]) and isinstance(ns["Pipeline"], type)
    assert issubclass(ns["ParameterError"], ns["ChromakeyError"])


def test_the_readme_lists_exactly_the_exported_names():
    text = (ROOT / "README.md").read_text()
    m = re.search(
        r"The public API is the `chromakey` namespace, exactly: `from chromakey import ([^`]+)`",
        text,
    )
    assert m, "README's public API sentence is missing"
    listed = {n.strip() for n in re.sub(r"\s+", " ", m.group(1)).split(",")}
    assert listed == set(chromakey.__all__)


def test_importing_the_package_loads_no_backend():
    code = (
        "import sys, chromakey\n"
        "heavy = [m for m in ('numba', 'moderngl', 'aiortc', 'ray', 'livekit', 'chromakey.pipeline')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"import chromakey loaded {r.stdout.strip()}"


def test_an_unknown_name_is_an_attribute_error():
    try:
        chromakey.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("chromakey.no_such_thing resolved")


def test_pipeline_and_live_compositor_take_the_same_changes():
    """set_background and set_params read the same on both drivers, and both refuse
    settings that are not a KeyerParams when they are set, not a frame later."""
    import inspect

    import pytest

    from chromakey.compositor import Compositor
    from chromakey.keying.kernels import CpuKeyer

    for name in ("set_background", "set_params"):
        a = inspect.signature(getattr(chromakey.Pipeline, name))
        b = inspect.signature(getattr(chromakey.LiveCompositor, name))
        assert a == b, (name, a, b)
    p = chromakey.KeyerParams()
    comp = Compositor(CpuKeyer(p), chromakey.parse_background("#000"), p)
    with pytest.raises(chromakey.ParameterError, match="KeyerParams"):
        comp.set_params({"spill": 0.5})  # type: ignore[arg-type]
