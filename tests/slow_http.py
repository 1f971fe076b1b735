"""A real HTTP server on 127.0.0.1 that sends part of a body and then trickles the rest, one
byte at a time: the stalled or slow peer that downloads and network inputs must survive."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SlowServer:
    """Serves ``body`` at any path: ``head`` bytes at once, then one byte every ``every`` s
    (for ever, while ``endless``: the body repeats) until the client goes or the server stops."""

    def __init__(self, body: bytes, *, head: int, every: float, endless: bool = False) -> None:
        self.body, self.head, self.every, self.endless = body, head, every, endless
        self.stopped = threading.Event()
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if not outer.endless:
                    self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                try:
                    self.wfile.write(outer.body[: outer.head])
                    self.wfile.flush()
                    k = outer.head
                    while not outer.stopped.wait(outer.every):
                        if k >= len(outer.body) and not outer.endless:
                            return
                        self.wfile.write(outer.body[k % len(outer.body) : k % len(outer.body) + 1])
                        self.wfile.flush()
                        k += 1
                except OSError:
                    return  # the client went away

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> SlowServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()
