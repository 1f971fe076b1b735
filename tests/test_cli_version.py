"""`chromakey --version`: the version a bug report names, from the one place it is written."""

from __future__ import annotations

import subprocess
import sys

import chromakey


def test_version_prints_the_package_version():
    r = subprocess.run(
        [sys.executable, "-m", "chromakey", "--version"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"chromakey {chromakey.__version__}"
