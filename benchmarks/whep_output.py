"""The WHEP output measured end to end: what share of the frames a viewer receives, and how
long a frame takes from the server to a viewer's decoded picture.

    sudo python3 benchmarks/whep_output.py [--seconds 20] [--size 1280x720] [--viewers 1]

Root: it makes a network namespace with a veth pair (tests/webrtc_net.py), since aioice
leaves loopback out, and runs the server and the viewers inside it. The server is
:class:`chromakey.io.sinks.whep.WhepSink` fed 30 fps of frames that carry their number as a
barcode in the top row (tests/webrtc_page.py's), at real-time pace, as a render of a file
feeds it; it notes when each frame was handed over. Each viewer is our own WHEP source
(``open_webrtc("whep://…", once=True)``, as ``render`` pulls), a separate process, reading the barcode
back from every frame it decodes. Latency: handed over → decoded by the viewer (both on this
machine's clock); the key before it is not included (``chromakey bench`` has that).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from webrtc_net import Lines, Netns  # noqa: E402
from webrtc_page import BARCODE_BITS, BARCODE_CELL, read_barcode  # noqa: E402

PORT = 8890


def _frame(n: int, w: int, h: int, base: np.ndarray) -> np.ndarray:
    img = base.copy()
    for b in range(BARCODE_BITS):
        img[:BARCODE_CELL, b * BARCODE_CELL : (b + 1) * BARCODE_CELL] = 255 if n >> b & 1 else 0
    return img


def serve(ns_a: str, w: int, h: int, seconds: float, viewers: int) -> None:
    """Inside the namespace: the server; prints ``sent N T`` lines and ``done``."""
    from chromakey.io.sinks.whep import WhepSink

    sink = WhepSink(
        f"whep://{ns_a}:{PORT}/live", w, h, max_viewers=viewers, log=lambda s: print(s, flush=True)
    )
    rng = np.random.default_rng(0)
    base = rng.integers(40, 200, (h, w, 3), dtype=np.uint8)  # camera-like noise to encode
    frames = int(seconds * 30)
    for n in range(frames):
        sink.write(_frame(n, w, h, base), n / 30)
        print(f"sent {n} {time.time():.4f}", flush=True)
    time.sleep(1.0)  # the last frames on their way
    sink.close()
    print("done", flush=True)


def watch(ns_a: str) -> None:
    """Inside the namespace: one viewer; prints ``got N T`` for each frame it decodes."""
    from chromakey.io.sources.webrtc import open_webrtc

    # As a render takes it: the session the server ends ends the stream.
    source = open_webrtc(f"whep://{ns_a}:{PORT}/live", once=True, queue_size=64, audio=False)
    for item in source:
        if item[0] != "video":
            continue
        frame = item[1]
        print(f"got {read_barcode(frame.planes[0])} {time.time():.4f}", flush=True)
    print("ended", flush=True)


def measure(ns: Netns, size: tuple[int, int], seconds: float, viewers: int) -> dict:
    w, h = size
    env = {"PYTHONPATH": str(ROOT)}
    me = [__file__, "--inside"]
    server = ns.python(*me, "serve", ns.a, str(w), str(h), str(seconds), str(viewers),
                       stdout=-1, stderr=-1, env=env)  # fmt: skip
    served = Lines(server)
    served.wait_for(lambda line: "listening on" in line, 60)
    watchers = [
        ns.python(*me, "watch", ns.a, stdout=-1, stderr=-1, env=env) for _ in range(viewers)
    ]
    seen = [Lines(p) for p in watchers]
    served.wait_for(lambda line: line == "done", seconds + 120)
    for p in watchers:
        p.wait(60)
    sent = {}
    for line in served.lines:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "sent":
            sent[int(parts[1])] = float(parts[2])
    rows = []
    for lines in seen:
        got = {}
        for line in lines.lines:
            parts = line.split()
            if len(parts) == 3 and parts[0] == "got":
                got.setdefault(int(parts[1]), float(parts[2]))
        latency = [1000 * (t - sent[n]) for n, t in got.items() if n in sent]
        rows.append(
            {
                "size": f"{w}x{h}",
                "viewers": viewers,
                "sent": len(sent),
                "received": len([n for n in got if n in sent]),
                "share": round(len([n for n in got if n in sent]) / max(1, len(sent)), 3),
                "latency_median_ms": round(float(np.median(latency)), 1) if latency else None,
                "latency_p95_ms": round(float(np.percentile(latency, 95)), 1) if latency else None,
            }
        )
    return {"rows": rows, "log": [line for line in served.lines if "whep:" in line]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--viewers", type=int, default=1)
    ap.add_argument("--inside", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.inside:
        what, *rest = args.inside
        if what == "serve":
            serve(rest[0], int(rest[1]), int(rest[2]), float(rest[3]), int(rest[4]))
        else:
            watch(rest[0])
        return 0
    w, h = (int(x) for x in args.size.split("x"))
    ns = Netns()
    try:
        result = measure(ns, (w, h), args.seconds, args.viewers)
    finally:
        ns.close()
    cols = ["size", "viewers", "sent", "received", "share", "latency_median_ms", "latency_p95_ms"]
    print("| viewer | " + " | ".join(cols) + " |")
    print("|" + "---|" * (len(cols) + 1))
    for i, row in enumerate(result["rows"]):
        print(f"| {i + 1} | " + " | ".join(str(row[c]) for c in cols) + " |")
    print(json.dumps(result["log"][-4:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
