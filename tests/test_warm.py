"""A live view's warm-up: it loads every kernel that keying decoded frames on either path
then needs, so that none loads after the view's clock starts (a late frame)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from media import write_clip

# In a fresh process: what a live view's warm-up loads is all that keying decoded frames on
# either path then needs (no kernel loaded after the clock starts: a late frame).
WARMED = """
import sys
import av
import numpy as np
from chromakey.core.layers import Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sources.decode import to_frame
from chromakey.keying.kernels import CpuKeyer, incremental, jobs, plain

def loaded():
    fns = [incremental.changed_blocks, incremental.copy_blocks, plain.block_ranges]
    return [sorted(map(str, f.signatures)) for f in fns], jobs._jobs_kernel is not None

keyer = CpuKeyer(KeyerParams(), incremental=True)
keyer.warm(int(sys.argv[2]), int(sys.argv[3]))
before = loaded()
assert before[1], "the jobs kernel is loaded"
screen = ScreenMap.constant((0.1, 0.6, 0.2))
with av.open(sys.argv[1]) as c:
    for i, f in enumerate(c.decode(video=0)):
        keyer.render(to_frame(f, i, i / 25), screen, Solid((0.2, 0.3, 0.9)))
assert keyer.reused > 0, "the last frames were keyed incrementally"
assert loaded() == before, (before, loaded())
print("ok")
"""


@pytest.mark.parametrize("size", [(160, 96), (200, 120)])  # contiguous planes, padded rows
def test_warm_loads_every_kernel_that_keying_decoded_frames_needs(tmp_path, size):
    w, h = size
    clip = write_clip(tmp_path / "c.mp4", width=w, height=h, frames=12)
    r = subprocess.run(
        [sys.executable, "-c", WARMED, str(clip), str(w), str(h)],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]
