"""examples/web/ unpacks packed alpha in WebGL: headless Chromium plays a packed MP4 that
chromakey wrote and reads its own canvas back — clear where the screen was, the subject's
colour, opaque, where it was drawn."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from chromakey.pipeline import render

from webrtc_net import Lines, chromium, chromium_command

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
W, H = 320, 180
SUBJECTS = {(80, 90): (220, 40, 200), (240, 90): (217, 160, 102)}  # centre → colour drawn
SCREEN_POINTS = [(10, 10), (160, 170), (310, 90)]


def _clip(path: Path, seconds: int = 2) -> None:
    """Two flat rectangles on a #008000 screen, ``seconds`` of H.264."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = (0, 128, 0)
    for (cx, cy), colour in SUBJECTS.items():
        rgb[cy - 40 : cy + 40, cx - 40 : cx + 40] = colour
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"crf": "12", "preset": "ultrafast"}
        s.codec_context.colorspace, s.codec_context.color_range = 1, 1  # bt709, limited
        for i in range(30 * seconds):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(
                format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG
            )
            f.colorspace, f.color_range = 1, 1
            f.pts, f.time_base = i, Fraction(1, 30)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)


def test_web_example_unpacks_packed_alpha(tmp_path):
    exe = chromium()
    site = tmp_path / "site"
    shutil.copytree(ROOT / "examples" / "web", site)
    _clip(tmp_path / "green.mp4")
    render(
        tmp_path / "green.mp4",
        site / "packed.mp4",
        background="transparent",
        backend="cpu",
        pack_alpha=True,
    )
    with socket.socket() as probe_port:
        probe_port.bind(("127.0.0.1", 0))
        port = probe_port.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "tests/webrtc_page.py", "127.0.0.1", str(port), str(site)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = Lines(server)
        lines.wait_for(lambda line: line == "serving", 30)
        points = [*SUBJECTS, *SCREEN_POINTS]
        probe = ";".join(f"{x},{y}" for x, y in points)
        url = f"http://127.0.0.1:{port}/index.html?file=packed.mp4&probe={probe}"
        cmd = chromium_command(exe, tmp_path / "profile", url)
        cmd[1:1] = ["--use-gl=angle", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
        browser = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            probed = lines.wait_for(
                lambda line: line.startswith(("report probed", "report error")), 120
            )
        finally:
            browser.kill()
            browser.wait(10)
    finally:
        server.kill()
        server.wait(10)
    assert probed.startswith("report probed "), probed
    got = {}
    for item in probed.split(" ", 2)[2].split(";"):
        x, y, *rgba = (int(v) for v in item.split(","))
        got[(x, y)] = np.array(rgba)
    assert len(got) == len(points), "\n".join(lines.lines)
    for point, colour in SUBJECTS.items():
        assert got[point][3] == 255, (point, got[point])
        # Two H.264 encodes and the browser's own YUV→RGB of the video (Chromium's differs
        # from FFmpeg's by a few levels on saturated colours) lie between drawn and shown.
        assert np.abs(got[point][:3] - colour).max() <= 8, (point, got[point], colour)
    for point in SCREEN_POINTS:
        assert got[point][3] <= 2, (point, got[point])  # the page shows through
