"""WHIP ingest measured end to end, per publisher: Chromium (a canvas) and FFmpeg's whip muxer.

    sudo python3 benchmarks/webrtc.py [--seconds 30] [--size 1280x720] [--publishers chromium,ffmpeg]

Root: it makes a network namespace with a veth pair (tests/webrtc_net.py), since aioice
leaves loopback out, and runs everything inside it. Per publisher, the preview's own path —
``chromakey.network.open_source("whip://…")`` into a ``LiveCompositor`` (CPU keyer on
llvmpipe, as ``chromakey preview`` takes it) — runs for ``--seconds`` of 30 fps; the
publisher then leaves (DELETE) and a new one comes.

It prints, per publisher: frames received (by the endpoint), dropped (by the queue, or due
together with a newer one in the compositor), shown; latency from the frame's *capture* to
its composite being ready — the publisher draws a frame counter into the picture and
reports each frame's wall-clock capture time, the compositor reads the counter back from the
Y plane of the frame it shows — median and p95; and the recovery: from the moment the first
publisher's session ends to the next publisher's first frame on show, and from that
publisher's offer to its first frame on show.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from webrtc_net import Lines, Netns, chromium, chromium_command  # noqa: E402
from webrtc_page import publisher_html, read_barcode  # noqa: E402

PORT, PAGE_PORT = 8889, 8000


class Stamps:
    """Capture times (wall clock, s) by frame number, from a publisher's ``drew N MS`` lines."""

    def __init__(self, lines: Lines) -> None:
        self.at: dict[int, float] = {}
        self.lines = lines
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        seen = 0
        while True:
            with self.lines._cond:
                self.lines._cond.wait(0.2)
                new, seen = self.lines.lines[seen:], len(self.lines.lines)
            for line in new:
                parts = line.replace("report ", "").split()
                if len(parts) == 3 and parts[0] == "drew":
                    self.at[int(parts[1])] = float(parts[2]) / 1000.0


def _publisher(
    kind: str, ns_a: str, ns_b: str, size: tuple[int, int], seconds: float, tmp: Path, run
) -> tuple[list[subprocess.Popen], Stamps, Callable[[], None]]:  # noqa: ANN001
    """Start the first publisher; returns (processes, stamps, start_second)."""
    whip = f"http://{ns_a}:{PORT}/live"
    w, h = size
    if kind == "chromium":
        site = tmp / "site"
        site.mkdir(exist_ok=True)
        html = publisher_html(
            whip, width=w, height=h, leave_after=int(seconds * 30), rounds=2, stamps=True
        )
        (site / "index.html").write_text(html)
        server = run([sys.executable, "tests/webrtc_page.py", ns_b, str(PAGE_PORT), str(site)])
        lines = Lines(server)
        lines.wait_for(lambda line: line == "serving", 30)
        browser = run(
            chromium_command(chromium(), tmp / "profile", f"http://{ns_b}:{PAGE_PORT}/index.html"),
            quiet=True,
        )
        return [server, browser], Stamps(lines), lambda: None  # the page comes back itself
    args = [sys.executable, "tests/webrtc_ffmpeg_whip.py", f"synthetic:{w}x{h}", whip, "--stamps"]
    first = run([*args, "--seconds", str(seconds)])
    lines = Lines(first)
    stamps = Stamps(lines)
    procs = [first]

    def second() -> None:
        proc = run([*args, "--seconds", "8", "--start", "1000000"])
        procs.append(proc)
        _merge(stamps, Lines(proc))

    return procs, stamps, second


def _merge(stamps: Stamps, lines: Lines) -> None:
    extra = Stamps(lines)

    def copy() -> None:
        while True:
            stamps.at.update(extra.at)
            time.sleep(0.2)

    threading.Thread(target=copy, daemon=True).start()


def measure(kind: str, ns_a: str, ns_b: str, size: tuple[int, int], seconds: float) -> dict:
    """Inside the namespace: one publisher's run; the numbers as a dict."""
    import tempfile

    from chromakey.io.sources import open_source
    from chromakey.live import LiveCompositor

    events: list[tuple[float, str]] = []
    source = open_source(
        f"whip://{ns_a}:{PORT}/live",
        queue_size=4,
        log=lambda line: events.append((time.time(), line)),
    )
    live = LiveCompositor("standalone", background="#1e90ff", backend="auto")
    procs: list[subprocess.Popen] = []

    def run(cmd, quiet=False):  # noqa: ANN001, ANN202
        proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            text=True,
            stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ) | {"PYTHONPATH": str(ROOT)},
        )
        procs.append(proc)
        return proc

    tmp = Path(tempfile.mkdtemp(prefix="ck-webrtc-bench-"))
    shown: list[tuple[float, int, int]] = []  # (wall time shown, frame number, session)
    try:
        started, stamps, second = _publisher(kind, ns_a, ns_b, size, seconds, tmp, run)
        live.attach(source, own=True)  # its size is known at the first frame: waits for it
        first_shown = None
        window = None
        left_at = None
        deadline = time.time() + seconds + 90
        while time.time() < deadline:
            live.update()
            if live.changed and live.current is not None:
                n = read_barcode(live.current.planes[0])
                shown.append((time.time(), n, getattr(live.current, "session", 0)))
                if first_shown is None:
                    first_shown = time.time()
                    window = (
                        source.frames,
                        source.dropped,
                        live.stats.dropped_late,
                        live.stats.shown,
                    )
            if left_at is None and any("left" in line for _, line in events):
                left_at = next(t for t, line in events if "left" in line)
                end_window = (
                    source.frames,
                    source.dropped,
                    live.stats.dropped_late,
                    live.stats.shown,
                )
                second()
            if shown and shown[-1][2] >= 2:
                break  # the next publisher's first frame is on show
            time.sleep(0.003)
        if left_at is None or window is None:
            raise SystemExit(f"{kind}: the publisher never left: {events[-5:]}")
        connects = [t for t, line in events if "connected" in line]
        after = [s for s in shown if s[2] >= 2]
        last_before = max(s[0] for s in shown if s[2] == 1)
        lat = [t - stamps.at[n] for t, n, k in shown if n in stamps.at and k == 1]
        return {
            "publisher": kind,
            "size": f"{size[0]}x{size[1]}",
            "seconds": round(left_at - first_shown, 1),
            "received": end_window[0] - window[0],
            "dropped_queue": end_window[1] - window[1],
            "dropped_late": end_window[2] - window[2],
            "shown": end_window[3] - window[3],
            "latency_median_ms": round(1000 * float(np.median(lat)), 1) if lat else None,
            "latency_p95_ms": round(1000 * float(np.percentile(lat, 95)), 1) if lat else None,
            "latency_samples": len(lat),
            "gap_on_screen_s": round(after[0][0] - last_before, 2) if after else None,
            "left_to_shown_s": round(after[0][0] - left_at, 2) if after else None,
            "offer_to_shown_s": round(after[0][0] - connects[-1], 2) if after else None,
            "backend": live.backend,
        }
    finally:
        live.close()
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--size", default="1280x720")
    p.add_argument("--publishers", default="chromium,ffmpeg")
    p.add_argument("--inside", nargs=3, metavar=("KIND", "A", "B"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x"))
    if args.inside:
        kind, a, b = args.inside
        print("RESULT " + json.dumps(measure(kind, a, b, size, args.seconds)), flush=True)
        return 0
    rows = []
    for kind in args.publishers.split(","):
        ns = Netns()
        try:
            cmd = ns.wrap(
                [
                    sys.executable,
                    __file__,
                    "--seconds",
                    str(args.seconds),
                    "--size",
                    args.size,
                    "--inside",
                    kind,
                    ns.a,
                    ns.b,
                ]
            )
            done = subprocess.run(
                cmd,
                cwd=ROOT,
                capture_output=True,
                text=True,
                env=dict(os.environ) | {"PYTHONPATH": str(ROOT)},
                timeout=args.seconds + 180,
            )
            found = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if not found:
                print(f"{kind}: failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
                continue
            rows.append(json.loads(found[0][7:]))
        finally:
            ns.close()
    cols = [
        "publisher",
        "size",
        "seconds",
        "received",
        "dropped_queue",
        "dropped_late",
        "shown",
        "latency_median_ms",
        "latency_p95_ms",
        "latency_samples",
        "gap_on_screen_s",
        "left_to_shown_s",
        "offer_to_shown_s",
        "backend",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row.get(c)) for c in cols) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
