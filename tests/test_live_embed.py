"""examples/embed_glfw.py: a host's own context and scene with chromakey's avatar in it, headless."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from media import read_png

ROOT = Path(__file__).resolve().parent.parent


def _greenish(rgb: np.ndarray) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (g > r + 40) & (g > b + 40)


def test_the_embedding_example_runs_headless(tmp_path, gl_ctx):
    shot = tmp_path / "embed.png"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DISPLAY", None)
    r = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "embed_glfw.py"), "--headless", "--frames", "8"]
        + ["--output", str(shot), "--size", "480x270"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "check host-scene-where-keyed-out: ok" in r.stdout
    assert "check avatar-where-subject: ok" in r.stdout
    m = re.search(r"avatar (\d+)x(\d+) at x=(\d+) y=(\d+)", r.stdout)
    assert m, r.stdout
    w, h, x, y = map(int, m.groups())
    img = read_png(shot)
    assert img.shape == (270, 480, 3)
    quad = img[y : y + h, x : x + w]
    # The sample is mostly green screen; keyed, almost none of it is left (the lime tie is).
    assert _greenish(quad).mean() < 0.05
    outside = img.copy()
    outside[y : y + h, x : x + w] = 0
    assert not _greenish(outside).any()  # the host's scene has no green at all
    # The subject is there: skin at the head, dark clothes below it.
    skin = (quad[..., 0] > 170) & (quad[..., 1] > 120) & (quad[..., 2] > 90) & (quad[..., 2] < 170)
    assert skin[: h // 2].sum() > 100
