"""True colour from a browser publisher: headless Chromium draws known patches on a canvas and
publishes it over WHIP (VP8, which states no colour space, and H.264, whose VUI does); each
keyed patch comes out within 3 levels of the colour drawn."""

from __future__ import annotations

import re
import signal

import av
import numpy as np
import pytest

from webrtc_net import Lines, chromium, chromium_command, free_port, require_aiortc
from webrtc_patches import patch_boxes, patches_html

pytestmark = pytest.mark.slow

W, H = 640, 360
TOLERANCE = 3.0  # levels (0–255): issue 24's target


def _sent(line: str) -> int:
    m = re.match(r"report sent (\d+)", line)
    return int(m.group(1)) if m else -1


@pytest.mark.parametrize("codec", ["VP8", "H264"])
def test_chromium_canvas_patches_keep_their_colour(netns, tmp_path, codec):
    require_aiortc()
    exe = chromium()
    port = free_port()
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(
        patches_html(f"http://{netns.a}:{port}/live", codec=codec, width=W, height=H)
    )
    server = netns.python("tests/webrtc_page.py", netns.b, "8000", str(site), stdout=-1)
    reports = Lines(server)
    reports.wait_for(lambda line: line == "serving", 30)
    frames = tmp_path / "out"
    frames.mkdir()
    render = netns.chromakey(
        "render",
        f"whip://{netns.a}:{port}/live",
        "-o",
        str(frames / "%05d.png"),
        "-b",
        "#1e90ff",
        "--backend",
        "cpu",
        "--stall-timeout",
        "2",
        stdout=-1,
        stderr=-1,
    )
    log = Lines(render, "stderr")
    log.wait_for(lambda line: "listening on" in line, 60)
    page = f"http://{netns.b}:8000/index.html"
    browser = netns.popen(chromium_command(exe, tmp_path / "profile", page), stdout=-3, stderr=-3)
    assert reports.wait_for(lambda line: line.startswith("report post"), 90) == "report post 201"
    sent = reports.wait_for(lambda line: _sent(line) >= 90, 120)
    assert f"codec=video/{codec}" in sent, sent
    browser.send_signal(signal.SIGKILL)
    assert log.wait(120) == 0, log.text()
    pngs = sorted(frames.glob("*.png"))
    assert len(pngs) >= 30, log.text()
    with av.open(str(pngs[-1])) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(float)
    errors = {}
    for colour, x, y, bw, bh in patch_boxes(W, H):
        want = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], float)
        # The patch's inner half: its edges are the codec's and the keyer's.
        inner = rgb[y + bh // 4 : y + 3 * bh // 4, x + bw // 4 : x + 3 * bw // 4]
        errors[colour] = float(np.abs(inner.reshape(-1, 3).mean(axis=0) - want).max())
    print(codec, {k: round(v, 1) for k, v in errors.items()})  # shown with -s
    assert max(errors.values()) <= TOLERANCE, errors
    corner = rgb[4, W // 2]
    assert np.abs(corner - (0x1E, 0x90, 0xFF)).max() <= 3, corner
