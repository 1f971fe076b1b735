"""Headless Chromium publishes a green-screen canvas to the WHIP endpoint, from a page on
another origin, inside a private network namespace (tests/webrtc_net.py).

The tests follow the page through :class:`webrtc_page.PageState` (its reports are delivered
and acknowledged, never lost) and wait for states, each with a deadline."""

from __future__ import annotations

import re
import signal

import av
import numpy as np
import pytest

from webrtc_media import check_keyed, decode, dominant_hz
from webrtc_net import Lines, chromium, chromium_command, free_port, require_aiortc
from webrtc_page import LOSE_EVERY, PageState, publisher_html

pytestmark = pytest.mark.slow


def _serve_page(netns, tmp_path, **page):  # noqa: ANN001, ANN003, ANN202
    port = free_port()
    whip = f"http://{netns.a}:{port}/live"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(publisher_html(whip, **page))
    # Every LOSE_EVERY-th report request is lost on purpose: the page must deliver anyway.
    server = netns.python(
        "tests/webrtc_page.py", netns.b, "8000", str(site), str(LOSE_EVERY), stdout=-1
    )
    reports = Lines(server)
    reports.wait_for(lambda line: line == "serving", 30)
    return port, reports, f"http://{netns.b}:8000/index.html"


def _page(reports: Lines, reached, timeout: float) -> PageState:  # noqa: ANN001
    """The page's state once ``reached(state)`` holds (a page error fails at once)."""

    def state(lines: list[str]) -> PageState | None:
        now = PageState(lines)
        return now if reached(now) else None

    return reports.until(state, timeout)


def test_chromium_publishes_render_finishes_keyed_mp4_with_audio(netns, tmp_path):
    require_aiortc()
    exe = chromium()
    port, reports, page = _serve_page(netns, tmp_path, audio=True)
    out = tmp_path / "keyed.mp4"
    render = netns.chromakey(
        "render",
        f"whip://{netns.a}:{port}/live",
        "-o",
        str(out),
        "-b",
        "#1e90ff",
        "--backend",
        "cpu",
        "--stall-timeout",
        "2",
        stdout=-1,
        stderr=-1,
    )
    log, report = Lines(render, "stderr"), Lines(render)
    log.wait_for(lambda line: "listening on" in line, 60)
    browser = netns.popen(chromium_command(exe, tmp_path / "profile", page), stdout=-3, stderr=-3)
    state = _page(reports, lambda s: 0 in s.posts, 90)
    # The page on the other origin got 201 and could read the exposed Location.
    status, location = state.posts[0]
    assert status == 201 and re.fullmatch(r"/live/\S+", location), state.posts
    _page(reports, lambda s: s.sent.get(0, 0) >= 90, 120)
    assert sum(line.startswith("report post") for line in reports.lines) == 1  # printed once
    browser.send_signal(signal.SIGKILL)  # the browser goes away without a word
    assert log.wait(120) == 0, log.text()
    assert any("left" in line for line in log.lines), log.text()
    wrote = report.wait_for(lambda line: line.startswith("wrote"), 5)
    assert out.exists() and not list(tmp_path.glob(".keyed.mp4*")), wrote
    frames, audio, rate = decode(out)
    assert len(frames) >= 30, wrote
    assert frames[0].shape == (360, 640, 3)
    for rgb in (frames[len(frames) // 2], frames[-1]):
        check_keyed(rgb, (0x1E, 0x90, 0xFF))
    # The page's 440 Hz tone came through the publisher's audio track into the file.
    assert audio is not None and rate == 48000
    assert audio.size / rate > 0.5 * len(frames) / 30
    tail = audio[-rate:]
    assert np.sqrt(np.mean(tail**2)) > 0.01
    assert abs(dominant_hz(tail, rate) - 440) < 5
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"


def test_chromium_preview_shows_keyed_avatar_and_takes_the_next_publisher(
    netns, tmp_path, xvfb_display
):
    require_aiortc()
    exe = chromium()
    port, reports, page = _serve_page(netns, tmp_path, leave_after=45, rounds=2)
    shot = tmp_path / "shot.png"
    preview = netns.chromakey(
        "preview",
        f"whip://{netns.a}:{port}/live",
        "-b",
        "#ff00ff",
        "--backend",
        "cpu",
        "--max-frames",
        "80",
        "--screenshot",
        str(shot),
        stderr=-1,
        env={"DISPLAY": xvfb_display},
    )
    log = Lines(preview, "stderr")
    log.wait_for(lambda line: "listening on" in line, 60)
    netns.popen(chromium_command(exe, tmp_path / "profile", page), stdout=-3, stderr=-3)
    assert _page(reports, lambda s: 0 in s.deleted, 120).deleted[0] == 200
    assert log.wait(180) == 0, log.text()
    text = "\n".join(log.lines)
    assert "left (it sent DELETE)" in text and "waiting for the next publisher" in text
    assert text.count("connected (offers") == 2, text
    state = _page(reports, lambda s: 1 in s.posts, 30)
    assert state.posts[0][0] == 201 and state.posts[1][0] == 201, state.posts
    # Lost requests and acknowledgements were retried; none printed twice or out of order.
    posts = [line for line in reports.lines if line.startswith("report post")]
    assert len(posts) == 2, posts
    with av.open(str(shot)) as c:
        rgb = next(c.decode(video=0)).to_ndarray(format="rgb24")
    check_keyed(rgb, (0xFF, 0x00, 0xFF))
