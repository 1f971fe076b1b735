"""A background download has a total deadline, however slowly a real server on 127.0.0.1
trickles its headers or its body; passing it is one InputError line and leaves no temporary
file. The deadline is short here through its parameter and its environment variable; the
default is documented (README, DOWNLOAD_DEADLINE)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from chromakey.backgrounds.download import DEADLINE_ENV, download
from chromakey.core.errors import InputError

from media import write_clip
from slow_http import SlowServer

ROOT = Path(__file__).resolve().parent.parent
BODY = bytes(range(256)) * 64  # 16 KiB: at a byte every 0.5 s, hours to send


@pytest.fixture
def tmpdir_for_downloads(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_a_body_trickled_a_byte_at_a_time_ends_at_the_deadline(tmpdir_for_downloads):
    with SlowServer(BODY, head=100, every=0.5) as server, pytest.raises(InputError) as err:
        download(f"{server.url}/bg.png", deadline=1.5)
    assert "took more than 1.5 s in all" in str(err.value)
    assert DEADLINE_ENV in str(err.value) and "\n" not in str(err.value)
    assert list(tmpdir_for_downloads.iterdir()) == []


class TrickledHeaders:
    """A raw server that sends its status line one byte every 0.5 s: no read ever waits
    the per-read timeout, and the headers never end."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        conn, _ = self.listener.accept()
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000:
                if self.stop.wait(0.5):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.listener.getsockname()[1]}/bg.png"

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.listener.close()


def test_headers_trickled_a_byte_at_a_time_end_at_the_deadline(tmpdir_for_downloads):
    with TrickledHeaders() as url, pytest.raises(InputError) as err:
        download(url, deadline=1.5)
    assert "took more than 1.5 s in all" in str(err.value)
    assert list(tmpdir_for_downloads.iterdir()) == []


def _render(tmp_path: Path, background: str, deadline: str) -> subprocess.CompletedProcess:
    clip = write_clip(tmp_path / "in.mp4", frames=5)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), DEADLINE_ENV: deadline}
    env["TMPDIR"] = str(tmp_path / "tmp")
    return subprocess.run(
        [sys.executable, "-m", "chromakey", "render", str(clip), "-o", str(tmp_path / "out.mp4"),
         "-b", background, "--backend", "cpu"],
        capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path,
    )  # fmt: skip


def test_the_command_line_says_so_in_one_line_and_writes_nothing(tmp_path):
    with SlowServer(BODY, head=100, every=0.5) as server:
        r = _render(tmp_path, f"{server.url}/bg.png", "2")
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("chromakey: error:")]
    assert r.returncode == 4 and len(lines) == 1, r.stderr
    assert "took more than 2 s in all" in lines[0] and "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "tmp"]
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize("value", ["soon", "0", "-3", "inf", "nan"])
def test_a_bad_deadline_in_the_environment_is_a_parameter_error(tmp_path, value):
    r = _render(tmp_path, "http://127.0.0.1:9/bg.png", value)
    assert r.returncode == 2, r.stderr
    assert DEADLINE_ENV in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
