"""Which YUV matrix and range each WebRTC publisher sends: the measurement behind
``chromakey.core.color.WEBRTC_UNTAGGED``.

    sudo python3 benchmarks/webrtc_colour.py [--publishers chromium-canvas-vp8,…]

Root: a network namespace per publisher (tests/webrtc_net.py). Each publisher sends known
colours to chromakey's WHIP endpoint (``open_webrtc("whip://…")``, the preview's path); the
receiver averages the raw Y, U, V of frames 60–89 at sample points and notes what the
publisher signalled (an H.264 VUI; VP8 carries none). The truth is

- ``chromium-canvas-*``: the colours a page drew on a canvas (tests/webrtc_patches.py);
- ``chromium-camera-*``: Chromium's fake camera, read back by the page itself (it draws the
  camera's frames on a canvas): the RGB the browser shows for them;
- ``ffmpeg``: FFmpeg's ``whip`` muxer (tests/webrtc_ffmpeg_whip.py, ``synthetic:``), whose
  picture is converted by FFmpeg's default RGB→YUV (swscale) before libx264.

Per publisher and per candidate (matrix, range), the error between the RGB the received YUV
decodes to and the truth: median and maximum over the sample points, in levels (0–255). For
the canvas, also where its chroma sits across (chroma_shift): the patches' chroma edges against
their luma edges with chroma read as H.264 sites it, 0 px for H.264's siting, −0.5 px for
centred (``--input-chroma-siting``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from webrtc_net import Lines, Netns, chromium, chromium_command  # noqa: E402
from webrtc_patches import SCREEN, patch_boxes, patches_html  # noqa: E402

PORT, PAGE_PORT = 8889, 8000
SIZE = (640, 360)
FIRST, LAST = 60, 90  # frames averaged (the encoder's first second left out)
PUBLISHERS = (
    "chromium-canvas-vp8",
    "chromium-canvas-h264",
    "chromium-camera-vp8",
    "chromium-camera-h264",
    "ffmpeg",
)
CANDIDATES = [(m, full) for m in ("bt601", "bt709") for full in (False, True)]


def _hex(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def receive(url: str, out: str) -> int:
    """Inside the namespace: frames FIRST..LAST of the first publisher, averaged, to ``out``."""
    from chromakey.io.sources.webrtc import open_webrtc

    source = open_webrtc(url, once=True, audio=False, queue_size=120)
    sums: list[np.ndarray] | None = None
    n = 0
    signalled = None
    try:
        print("listening", flush=True)
        for kind, frame in source:
            if kind != "video":
                continue
            if frame.index >= FIRST:
                planes = [p.astype(np.float64) for p in frame.planes]
                sums = (
                    planes if sums is None else [s + p for s, p in zip(sums, planes, strict=True)]
                )
                n += 1
                signalled = source.signalled
            if frame.index + 1 >= LAST:
                break
    finally:
        source.close()
    assert sums is not None
    tag = None if signalled is None else [signalled.matrix, signalled.full_range]
    np.savez(out, y=sums[0] / n, u=sums[1] / n, v=sums[2] / n, tag=json.dumps(tag))
    print("received", n, flush=True)
    return 0


def _sample(planes: dict[str, np.ndarray], x: int, y: int, r: int = 4) -> np.ndarray:
    """Mean Y, U, V in a (2r)² box of luma around (x, y), its chroma box with it."""
    yy = planes["y"][y - r : y + r, x - r : x + r].mean()
    cx, cy, cr = x // 2, y // 2, r // 2
    u = planes["u"][cy - cr : cy + cr, cx - cr : cx + cr].mean()
    v = planes["v"][cy - cr : cy + cr, cx - cr : cx + cr].mean()
    return np.array([yy, u, v])


def chroma_shift(
    planes: dict[str, np.ndarray], boxes: list[tuple[str, int, int, int, int]]
) -> float:
    """Where the chroma's edges sit against luma's, in luma pixels, with chroma read as H.264
    sites it (sample j on column 2j): 0 for H.264-sited chroma, −0.5 for centred (each sample
    on its 2×2 block's centre). Each patch's left and right edge, over the middle half of its
    rows: the centroid of luma's steps between columns, and of U's and V's between samples,
    each step signed by its edge's direction (ringing counts against it); a codec's blur is
    symmetric and leaves a centroid where it was. The mean weighted by chroma's step."""
    total = weight = 0.0
    for _colour, x, y, bw, bh in boxes:
        r0, r1 = y + bh // 4, y + 3 * bh // 4
        luma = planes["y"][r0:r1].mean(0)
        for edge in (x, x + bw):  # the first column inside, the first past: both even
            ks = np.arange(edge - 4, edge + 5)
            d = luma[ks] - luma[ks - 1]  # the step between columns k − 1 and k, at k − 0.5
            if abs(float(d.sum())) < 2.0:  # luma hardly steps here (a codec's worst)
                continue
            d = d * np.sign(d.sum())
            at_luma = float((d * (ks - 0.5)).sum() / d.sum())
            js = np.arange(edge // 2 - 3, edge // 2 + 4)
            for name in ("u", "v"):
                c = planes[name][r0 // 2 : r1 // 2].mean(0)
                dc = c[js] - c[js - 1]  # between samples j − 1 and j: at 2j − 1, H.264 sited
                step = abs(float(dc.sum()))
                if step < 2.0:
                    continue
                dc = dc * np.sign(dc.sum())
                at_chroma = float((dc * (2 * js - 1)).sum() / dc.sum())
                total += step * (at_chroma - at_luma)
                weight += step
    return total / weight


def _truth_points(kind: str, reports: list[str]) -> list[tuple[int, int, tuple[int, int, int]]]:
    w, h = SIZE
    if kind.startswith("chromium-canvas"):
        points = [(x + bw // 2, y + bh // 2, _hex(c)) for c, x, y, bw, bh in patch_boxes(w, h)]
        return points + [(w // 2, h // 2, _hex(SCREEN)), (8 * 2, h // 2, _hex(SCREEN))]
    if kind.startswith("chromium-camera"):
        got = []
        for line in reports:
            if line.startswith("report readback "):
                for item in line.split(" ", 2)[2].split(";"):
                    x, y, r, g, b = (int(v) for v in item.split(","))
                    got.append((x, y, (r, g, b)))
        return got
    # tests/webrtc_ffmpeg_whip.py's synthetic picture: screen, face and shirt.
    return [
        (int(0.08 * w), h // 2, (0, 128, 0)),
        (int(0.92 * w), h // 2, (0, 128, 0)),
        (w // 2, int(0.42 * h), (0xD9, 0xA0, 0x66)),
        (w // 2, int(0.85 * h), (0x30, 0x50, 0xA0)),
    ]


def measure(kind: str, tmp: Path) -> dict:
    netns = Netns()
    try:
        whip = f"http://{netns.a}:{PORT}/live"
        out = tmp / f"{kind}.npz"
        recv = netns.python(
            __file__, "receive", f"whip://{netns.a}:{PORT}/live", str(out), stdout=-1, stderr=-3
        )
        got = Lines(recv)
        got.wait_for(lambda line: line == "listening", 60)
        reports: Lines | None = None
        if kind.startswith("chromium"):
            _, mode, codec = kind.split("-")
            site = tmp / kind
            site.mkdir()
            (site / "index.html").write_text(
                patches_html(whip, mode=mode, codec=codec.upper(), width=SIZE[0], height=SIZE[1])
            )
            server = netns.python(
                "tests/webrtc_page.py", netns.b, str(PAGE_PORT), str(site), stdout=-1
            )
            reports = Lines(server)
            reports.wait_for(lambda line: line == "serving", 30)
            cmd = chromium_command(
                chromium(), tmp / f"profile-{kind}", f"http://{netns.b}:{PAGE_PORT}/index.html"
            )
            if mode == "camera":
                # getUserMedia needs a secure context: the page's origin is taken as one.
                cmd[1:1] = [
                    "--use-fake-device-for-media-stream",
                    f"--unsafely-treat-insecure-origin-as-secure=http://{netns.b}:{PAGE_PORT}",
                ]
            netns.popen(cmd, stdout=-3, stderr=-3)
        else:
            netns.python(
                "tests/webrtc_ffmpeg_whip.py",
                f"synthetic:{SIZE[0]}x{SIZE[1]}",
                whip,
                "--seconds",
                "20",
                stdout=-3,
                stderr=-3,
            )
        try:
            got.wait_for(lambda line: line.startswith("received"), 120)
        except AssertionError:
            if reports is not None:
                print(reports.text(), file=sys.stderr)
            raise
        if reports is not None and "camera" in kind:
            reports.wait_for(lambda line: line.startswith("report readback "), 60)
        codec = "H.264" if kind == "ffmpeg" else "?"
        if reports is not None:
            sent = [ln for ln in reports.lines if ln.startswith("report sent")]
            codec = sent[-1].split("codec=")[-1] if sent else "?"
        data = np.load(out)
        planes = {k: data[k] for k in ("y", "u", "v")}
        tag = json.loads(str(data["tag"]))
        truth = _truth_points(kind, reports.lines if reports is not None else [])
        canvas = kind.startswith("chromium-canvas")
        return {
            "kind": kind,
            "codec": codec,
            "tag": tag,
            "samples": [(x, y, rgb, _sample(planes, x, y).tolist()) for x, y, rgb in truth],
            # Only the canvas has edges whose place is known (the patches').
            "chroma shift": chroma_shift(planes, patch_boxes(*SIZE)) if canvas else None,
        }
    finally:
        netns.close()


def fit(result: dict) -> dict[str, tuple[float, float]]:
    """Per candidate: (median, max) of the per-point error in levels."""
    from chromakey.core.color import YuvSpec

    scores = {}
    for matrix, full in CANDIDATES:
        m, off = YuvSpec(matrix, full).to_rgb()
        errs = []
        for _x, _y, rgb, yuv in result["samples"]:
            got = np.clip(m @ (np.asarray(yuv) / 255.0 - off), 0, 1) * 255
            errs.append(float(np.abs(got - np.asarray(rgb)).max()))
        name = f"{matrix} {'full' if full else 'limited'}"
        scores[name] = (float(np.median(errs)), float(np.max(errs)))
    return scores


def table(results: list[dict]) -> str:
    names = [f"{m} {'full' if f else 'limited'}" for m, f in CANDIDATES]
    head = "| publisher | codec | signalled | " + " | ".join(names) + " | best | chroma shift px |"
    rows = [head, "|" + "---|" * (len(names) + 5)]
    for r in results:
        scores = fit(r)
        best = min(scores, key=lambda k: scores[k])
        tag = (
            "none" if r["tag"] is None else f"{r['tag'][0]} {'full' if r['tag'][1] else 'limited'}"
        )
        cells = [f"{scores[n][0]:.1f} / {scores[n][1]:.1f}" for n in names]
        shift = r.get("chroma shift")
        sited = "—" if shift is None else f"{shift:+.2f} ({'center' if shift < -0.25 else 'left'})"
        rows.append(
            f"| {r['kind']} | {r['codec']} | {tag} | "
            + " | ".join(cells)
            + f" | {best} | {sited} |"
        )
    return "\n".join(rows)


def main(argv: list[str]) -> int:
    if argv[:1] == ["receive"]:
        return receive(argv[1], argv[2])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--publishers", default=",".join(PUBLISHERS))
    parser.add_argument("--json", metavar="PATH", help="also write the raw samples")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="colour-") as tmp:
        for kind in args.publishers.split(","):
            t0 = time.monotonic()
            results.append(measure(kind, Path(tmp)))
            print(f"{kind}: measured in {time.monotonic() - t0:.0f} s", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    print("error after decoding, median / max over the sample points, levels 0–255")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
