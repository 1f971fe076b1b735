"""A publisher page of known colour patches, for measuring what colour a browser sends.

:func:`patches_html` writes a page (served by tests/webrtc_page.py, which prints its
``/report`` lines) that publishes to a WHIP endpoint, every candidate gathered first, with the
video codec it is told to prefer, either

- ``canvas``: :data:`PATCHES` drawn on #008000 (:func:`patch_boxes` says where), 30 fps, the
  canvas captured; the truth is the colours drawn;
- ``camera``: Chromium's fake camera (``--use-fake-device-for-media-stream``); the truth is
  what the browser itself shows: it draws the camera's frames onto a canvas and reports the
  RGB of :func:`grid_points` (``readback X,Y,R,G,B;…``, one line) once it has sent
  ``READBACK_AFTER`` frames.

It reports ``post STATUS``, ``codec MIME`` and ``sent N`` (frames encoded).
"""

from __future__ import annotations

import json

# Colours drawn on the canvas: a magenta, skin tones light to dark, greys and white.
PATCHES = (
    "#dc28c8",
    "#f1c27d",
    "#d9a066",
    "#c68642",
    "#8d5524",
    "#808080",
    "#c0c0c0",
    "#ffffff",
)
SCREEN = "#008000"
READBACK_AFTER = 60
GRID = (8, 5)  # columns, rows of camera sample points

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>patches</title></head>
<body><canvas id="c"></canvas><video id="v" muted playsinline></video><canvas id="r"></canvas>
<script>
const CFG = __CONFIG__;
const report = (m) => fetch('/report?' + encodeURIComponent(m)).catch(() => {});
async function source() {
  if (CFG.mode === 'camera') {
    return await navigator.mediaDevices.getUserMedia(
      {video: {width: CFG.width, height: CFG.height, frameRate: 30}, audio: false});
  }
  const c = document.getElementById('c');
  c.width = CFG.width; c.height = CFG.height;
  const g = c.getContext('2d');
  function draw() {
    g.fillStyle = CFG.screen; g.fillRect(0, 0, CFG.width, CFG.height);
    for (const [colour, x, y, w, h] of CFG.boxes) { g.fillStyle = colour; g.fillRect(x, y, w, h); }
  }
  draw();
  setInterval(draw, 1000 / 30);
  return c.captureStream(30);
}
async function readback(stream) {
  const v = document.getElementById('v');
  v.srcObject = stream;
  await v.play();
  await new Promise((shown) => v.requestVideoFrameCallback(shown));
  const r = document.getElementById('r');
  r.width = CFG.width; r.height = CFG.height;
  const g = r.getContext('2d', {willReadFrequently: true});
  g.drawImage(v, 0, 0, CFG.width, CFG.height);
  const px = g.getImageData(0, 0, CFG.width, CFG.height).data;
  const found = CFG.points.map(([x, y]) => {
    const i = 4 * (y * CFG.width + x);
    return [x, y, px[i], px[i + 1], px[i + 2]].join(',');
  });
  report('readback ' + found.join(';'));  // one report: the server prints lines as they come
}
async function main() {
  const stream = await source();
  const pc = new RTCPeerConnection({iceServers: []});
  const tr = pc.addTransceiver(stream.getVideoTracks()[0], {direction: 'sendonly'});
  const caps = RTCRtpSender.getCapabilities('video').codecs;
  const want = caps.filter((c) => c.mimeType.toLowerCase() === 'video/' + CFG.codec.toLowerCase());
  tr.setCodecPreferences([...want, ...caps.filter((c) => !want.includes(c))]);
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
  });
  const resp = await fetch(CFG.whip, {method: 'POST', headers: {'Content-Type': 'application/sdp'},
                                     body: pc.localDescription.sdp});
  report('post ' + resp.status);
  if (resp.status !== 201) return;
  await pc.setRemoteDescription({type: 'answer', sdp: await resp.text()});
  let read = false;
  setInterval(async () => {
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === 'outbound-rtp' && s.kind === 'video') {
        const codec = stats.get(s.codecId);
        report('sent ' + s.framesEncoded + ' codec=' + (codec ? codec.mimeType : '?'));
        if (CFG.mode === 'camera' && !read && s.framesEncoded >= CFG.readback_after) {
          read = true;
          readback(stream).catch((e) => report('error ' + e));
        }
      }
    });
  }, 250);
}
main().catch((e) => report('error ' + e));
</script></body></html>
"""


def patch_boxes(width: int, height: int) -> list[tuple[str, int, int, int, int]]:
    """(colour, x, y, w, h) of each patch: a 4×2 grid with screen between and around."""
    cols, rows = 4, 2
    cw, ch = width // cols, height // rows
    mx, my = cw // 5, ch // 5
    boxes = []
    for i, colour in enumerate(PATCHES):
        c, r = i % cols, i // cols
        boxes.append((colour, c * cw + mx, r * ch + my, cw - 2 * mx, ch - 2 * my))
    return boxes


def grid_points(width: int, height: int) -> list[tuple[int, int]]:
    """Where the camera's picture is sampled (even coordinates: on a chroma sample's site)."""
    cols, rows = GRID
    return [
        (((2 * c + 1) * width // (2 * cols)) & ~1, ((2 * r + 1) * height // (2 * rows)) & ~1)
        for r in range(rows)
        for c in range(cols)
    ]


def patches_html(
    whip: str, *, mode: str = "canvas", codec: str = "VP8", width: int = 640, height: int = 360
) -> str:
    config = {
        "whip": whip,
        "mode": mode,
        "codec": codec,
        "width": width,
        "height": height,
        "screen": SCREEN,
        "boxes": patch_boxes(width, height),
        "points": grid_points(width, height),
        "readback_after": READBACK_AFTER,
    }
    return _PAGE.replace("__CONFIG__", json.dumps(config))
