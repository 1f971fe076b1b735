"""A publisher page for the WebRTC tests, and the static server that serves it.

``python3 tests/webrtc_page.py HOST PORT DIR`` serves DIR on http://HOST:PORT/ (another
origin than the WHIP endpoint's) and prints each message the page reports as one line
``report MESSAGE`` on standard output: how the test follows the browser. A report can be
lost on its way (a fetch that fails is a fetch that failed: a CI run once waited 90 s for
a ``post`` report that never came), so the page numbers its reports, POSTs them in order
to ``/report`` in batches and retries until the server acknowledges them; the server
prints each number once, in order (:class:`_Ledger`). :class:`PageState` folds the lines
into what the test waits on, with a deadline.

:func:`publisher_html` writes a page that draws a green-screen "avatar" on a canvas, 30 fps,
and publishes the canvas (and a 440 Hz tone with ``audio``) to a WHIP endpoint, with
every candidate gathered first (no trickle). It reports the POST's status and exposed
Location, the connection state and the frames encoded so far. With ``leave_after`` it ends
its session by DELETE after that many frames, as a polite publisher does, and with
``rounds`` publishes again a second later, that many times in all (the last round
publishes until the browser goes away). A 24-bit frame
counter is drawn in the top row as black and white blocks (``BARCODE_*``), so that the
benchmark can tell which frame it got and when it was captured.
"""

from __future__ import annotations

import http.server
import json
import sys
import threading
import urllib.parse
from pathlib import Path

BARCODE_BITS = 24
BARCODE_CELL = 16  # px per bit, and the row's height

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>publisher</title></head>
<body><canvas id="c"></canvas>
<script>
const CFG = __CONFIG__;
// Reports are numbered and kept until the server acknowledges them: none is lost.
const outbox = [];
let nextSeq = 0, pumping = false;
function report(m) { outbox.push([nextSeq++, String(m)]); pump(); }
async function pump() {
  if (pumping) return;
  pumping = true;
  while (outbox.length) {
    try {
      const body = JSON.stringify(outbox.slice(0, 200));
      const r = await fetch('/report', {method: 'POST', body});
      if (!r.ok) throw new Error('status ' + r.status);
      const ack = (await r.json()).ack;
      while (outbox.length && outbox[0][0] <= ack) outbox.shift();
    } catch (e) {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  pumping = false;
}
window.captures = [];
async function main() {
  const c = document.getElementById('c');
  c.width = CFG.width; c.height = CFG.height;
  const g = c.getContext('2d');
  const W = CFG.width, H = CFG.height;
  let n = 0;
  function draw() {
    g.fillStyle = '#008000'; g.fillRect(0, 0, W, H);
    g.fillStyle = '#3050a0'; g.fillRect(W * 0.3, H * 0.62, W * 0.4, H * 0.38);
    g.fillStyle = '#d9a066'; g.beginPath();
    g.arc(W / 2 + W * 0.02 * Math.sin(n / 15), H * 0.42, H * 0.2, 0, 2 * Math.PI); g.fill();
    for (let b = 0; b < CFG.bits; b++) {
      g.fillStyle = ((n >> b) & 1) ? '#ffffff' : '#000000';
      g.fillRect(b * CFG.cell, 0, CFG.cell, CFG.cell);
    }
    if (CFG.stamps) report('drew ' + n + ' ' + (performance.timeOrigin + performance.now()));
    n++;
  }
  draw();
  setInterval(draw, 1000 / 30);
  const stream = c.captureStream(30);
  if (CFG.audio) {
    const ac = new AudioContext();
    const osc = ac.createOscillator();
    osc.frequency.value = 440;
    const dst = ac.createMediaStreamDestination();
    osc.connect(dst); osc.start(); await ac.resume();
    stream.addTrack(dst.stream.getAudioTracks()[0]);
  }
  for (let round = 0; round < CFG.rounds; round++) {
    if (round) await new Promise((r) => setTimeout(r, 1000));
    await publish(stream, round);
  }
}
async function publish(stream, round) {
  const pc = new RTCPeerConnection({iceServers: []});
  for (const t of stream.getTracks()) {
    const tr = pc.addTransceiver(t, {direction: 'sendonly'});
    if (t.kind === 'video') {
      const p = tr.sender.getParameters();
      p.degradationPreference = 'maintain-resolution';
      await tr.sender.setParameters(p).catch(() => {});
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((done) => {
    if (pc.iceGatheringState === 'complete') return done();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && done();
  });
  const headers = {'Content-Type': 'application/sdp'};
  if (CFG.token) headers['Authorization'] = 'Bearer ' + CFG.token;
  const resp = await fetch(CFG.whip, {method: 'POST', headers, body: pc.localDescription.sdp});
  const location = resp.headers.get('Location');
  report('post ' + resp.status + ' location=' + location + ' round=' + round);
  if (resp.status !== 201) return;
  pc.onconnectionstatechange = () => report('state ' + pc.connectionState);
  await pc.setRemoteDescription({type: 'answer', sdp: await resp.text()});
  const session = new URL(location, CFG.whip).href;
  await new Promise((finished) => {
    let left = false;
    const timer = setInterval(async () => {
      if (left) return;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type !== 'outbound-rtp' || s.kind !== 'video' || left) return;
        report('sent ' + s.framesEncoded + ' ' + s.frameWidth + 'x' + s.frameHeight + ' round=' + round);
        if (CFG.leave_after && round < CFG.rounds - 1 && s.framesEncoded >= CFG.leave_after) {
          left = true;
          clearInterval(timer);
          fetch(session, {method: 'DELETE', headers}).then((r) => {
            report('deleted ' + r.status + ' round=' + round);
            pc.close();
            finished();
          });
        }
      });
    }, 250);
  });
}
main().catch((e) => report('error ' + e));
</script></body></html>
"""


def publisher_html(
    whip: str,
    *,
    width: int = 640,
    height: int = 360,
    audio: bool = False,
    token: str | None = None,
    leave_after: int | None = None,
    rounds: int = 1,
    stamps: bool = False,
) -> str:
    config = {
        "whip": whip,
        "width": width,
        "height": height,
        "audio": audio,
        "token": token,
        "leave_after": leave_after,
        "rounds": rounds,
        "bits": BARCODE_BITS,
        "cell": BARCODE_CELL,
        "stamps": stamps,
    }
    return _PAGE.replace("__CONFIG__", json.dumps(config))


def read_barcode(y_plane) -> int:  # noqa: ANN001 - a uint8 H×W numpy array
    """The frame counter drawn in the top row (luma above mid-grey is a 1)."""
    value = 0
    for b in range(BARCODE_BITS):
        cell = y_plane[
            2 : BARCODE_CELL - 2, b * BARCODE_CELL + 2 : b * BARCODE_CELL + BARCODE_CELL - 2
        ]
        if cell.size and float(cell.mean()) > 128:
            value |= 1 << b
    return value


class PageState:
    """What the page has reported so far, from the server's ``report …`` lines."""

    def __init__(self, lines: list[str]) -> None:
        self.posts: dict[int, tuple[int, str]] = {}  # round → (status, location)
        self.sent: dict[int, int] = {}  # round → frames encoded
        self.deleted: dict[int, int] = {}  # round → DELETE's status
        self.states: list[str] = []
        self.errors: list[str] = []
        for line in lines:
            words = line.split()
            if len(words) < 2 or words[0] != "report":
                continue
            kind, rest = words[1], words[2:]
            rnd = int(rest[-1].split("=")[1]) if rest and rest[-1].startswith("round=") else 0
            if kind == "post":
                self.posts[rnd] = (int(rest[0]), rest[1].removeprefix("location="))
            elif kind == "sent":
                self.sent[rnd] = max(self.sent.get(rnd, 0), int(rest[0]))
            elif kind == "deleted":
                self.deleted[rnd] = int(rest[0])
            elif kind == "state":
                self.states.append(rest[0])
            elif kind == "error":
                self.errors.append(" ".join(rest))
        if self.errors:
            raise AssertionError(f"the page failed: {self.errors[0]}")


class _Ledger:
    """The reports printed so far: each number once, in order, whatever the page resends.

    With ``lose`` N, every Nth report request is lost on purpose, alternately before it is
    taken (the request lost) and after (the acknowledgement lost): the tests run with
    this, so that a page that did not retry, or a server that printed twice, fails them.
    """

    def __init__(self, lose: int = 0) -> None:
        self.printed = -1
        self.lock = threading.Lock()
        self.lose = lose
        self.requests = 0

    def loses(self) -> str:
        """What the next request loses: "request", "ack" or nothing ("")."""
        with self.lock:
            self.requests += 1
            if not self.lose or self.requests % self.lose:
                return ""
            return "request" if (self.requests // self.lose) % 2 else "ack"

    def take(self, batch: list) -> int:
        with self.lock:
            for seq, message in batch:
                if seq == self.printed + 1:
                    print("report", message, flush=True)
                    self.printed = seq
            return self.printed


_LEDGER = _Ledger()
LOSE_EVERY = 4  # the tests' report requests lost on purpose (see _Ledger)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/report":  # other pages' unnumbered reports (examples/web)
            print("report", urllib.parse.unquote(url.query), flush=True)
            self.send_response(204)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            return
        super().do_GET()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if urllib.parse.urlsplit(self.path).path != "/report":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        lost = _LEDGER.loses()
        if lost == "request":
            self.close_connection = True  # no answer: the page's fetch fails
            return
        ack = _LEDGER.take(json.loads(body))
        if lost == "ack":
            self.close_connection = True
            return
        data = json.dumps({"ack": ack}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main(argv: list[str]) -> None:
    """HOST PORT DIR [LOSE]: LOSE (default 0) as :class:`_Ledger` takes it."""
    host, port, folder = argv[0], int(argv[1]), Path(argv[2])
    _LEDGER.lose = int(argv[3]) if len(argv) > 3 else 0

    def handler(*args: object, **kwargs: object) -> _Handler:
        return _Handler(*args, directory=str(folder), **kwargs)  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer((host, port), handler)
    print("serving", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
