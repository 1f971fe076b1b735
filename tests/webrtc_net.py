"""What the WebRTC tests share: prerequisites, a private network, processes inside it.

aioice leaves loopback out when it gathers candidates, so peers on one machine need another
address. :class:`Netns` makes a network namespace with a veth pair given two private
addresses (``ip netns``, iproute2; root), and runs processes inside it: nothing there can
reach any other network, and ICE servers are empty, so the peers contact only each other.

Without a prerequisite (aiortc, Chromium, ``ip`` and root) a test skips, except under CI
(env CI set), where it fails: CI installs them and must run the tests.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_COUNTER = itertools.count()


def ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(message: str) -> None:
    if ci():
        pytest.fail(f"CI must run the WebRTC tests, but: {message}")
    pytest.skip(message)


def require_aiortc() -> None:
    try:
        import aiohttp  # noqa: F401
        import aiortc  # noqa: F401
    except ImportError as exc:
        missing(f"aiortc is not installed ({exc}; pip install '.[webrtc]')")


def require_livekit() -> None:
    try:
        from livekit import rtc  # noqa: F401
    except ImportError as exc:
        missing(f"the livekit SDK is not installed ({exc}; pip install '.[livekit]')")


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        missing("Chromium is not installed (Debian: apt-get install -y chromium)")
    return exe  # type: ignore[return-value]


def chromium_command(exe: str, profile: Path, url: str) -> list[str]:
    return [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        url,
    ]


class Lines:
    """A process's output, read on a thread, line by line; wait for a line that matches."""

    def __init__(self, proc: subprocess.Popen, stream: str = "stdout") -> None:
        self.proc = proc
        self.lines: list[str] = []
        self._cond = threading.Condition()
        pipe = getattr(proc, stream)
        threading.Thread(target=self._read, args=(pipe,), daemon=True).start()

    def _read(self, pipe) -> None:  # noqa: ANN001 - a text pipe
        for line in pipe:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self.lines.append("")  # EOF marker
            self._eof = True
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float = 60.0) -> str:  # noqa: ANN001
        deadline = time.monotonic() + timeout
        seen = 0
        with self._cond:
            while True:
                for line in self.lines[seen:]:
                    if line and predicate(line):
                        return line
                seen = len(self.lines)
                if getattr(self, "_eof", False):
                    raise AssertionError("the process ended first:\n" + self.text())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s:\n" + self.text())
                self._cond.wait(left)

    def until(self, state, timeout: float = 60.0):  # noqa: ANN001, ANN201
        """Wait until ``state(lines so far)`` is truthy and return it: a state reached, with a
        deadline, whatever order or grouping the lines that make it came in."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = state([line for line in self.lines if line])
                if got:
                    return got
                if getattr(self, "_eof", False):
                    raise AssertionError("the process ended first:\n" + self.text())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out after {timeout} s:\n" + self.text())
                self._cond.wait(left)

    def wait(self, timeout: float) -> int:
        """The process's exit status; AssertionError with its last lines if it runs longer."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s:\n{self.text()}") from None

    def text(self) -> str:
        with self._cond:
            return "\n".join(self.lines[-60:])


class Netns:
    """A network namespace with a veth pair: ``a`` and ``b`` are its two addresses."""

    def __init__(self) -> None:
        if shutil.which("ip") is None:
            missing("iproute2's ip is not installed (apt-get install -y iproute2)")
        if os.geteuid() != 0:
            missing("network namespaces need root (ip netns add)")
        n = next(_COUNTER)
        self.name = f"ck{os.getpid()}x{n}"
        net = 10 + (os.getpid() + n) % 200
        self.a, self.b = f"10.231.{net}.1", f"10.231.{net}.2"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        script = (
            "set -e; ip link set lo up; ip link add cka type veth peer name ckb; "
            f"ip addr add {self.a}/24 dev cka; ip addr add {self.b}/24 dev ckb; "
            "ip link set cka up; ip link set ckb up"
        )
        done = subprocess.run(self.wrap(["sh", "-c", script]), capture_output=True, text=True)
        if done.returncode != 0:
            self.close()
            missing(f"cannot make a veth pair in a network namespace: {done.stderr.strip()}")
        self.procs: list[subprocess.Popen] = []

    def wrap(self, cmd: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]

    def popen(
        self, cmd: Sequence[str], *, env: dict[str, str] | None = None, **kwargs
    ) -> subprocess.Popen:  # noqa: ANN003
        full_env = dict(os.environ) | {"PYTHONPATH": str(ROOT)} | (env or {})
        proc = subprocess.Popen(
            self.wrap(cmd),
            cwd=ROOT,
            env=full_env,
            stdin=subprocess.DEVNULL,
            text=True,
            **kwargs,
        )
        self.procs.append(proc)
        return proc

    def python(self, *args: str, **kwargs) -> subprocess.Popen:  # noqa: ANN003
        return self.popen([sys.executable, *args], **kwargs)

    def chromakey(self, *args: str, **kwargs) -> subprocess.Popen:  # noqa: ANN003
        return self.python("-m", "chromakey", *args, **kwargs)

    def close(self) -> None:
        for proc in getattr(self, "procs", []):
            if proc.poll() is None:
                proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def free_port() -> int:
    """A port number for a server inside a fresh namespace (any is free there)."""
    return 20000 + (os.getpid() * 7 + next(_COUNTER) * 13) % 20000
