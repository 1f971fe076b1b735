"""Speed: our render vs PyAV decode-only and the FFmpeg CLI, interleaved in one run.

A thin wrapper: the harness ships in the package as ``chromakey.bench`` (``chromakey bench``).

    python -m benchmarks.speed                              # generated 720p and 1080p clips
    python -m benchmarks.speed --sizes 1080p --rounds 5 --seconds 4
    python -m benchmarks.speed recorded.mp4 --backends cpu
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chromakey.bench import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
