"""A WHEP server for the tests: aiortc serves a clip to whoever POSTs an offer.

``python3 tests/webrtc_whep_server.py HOST PORT CLIP [TOKEN]`` serves ``POST /whep`` (201,
the answer, ``Location: /whep/ID``) and ``DELETE /whep/ID``. Each session plays CLIP once,
at real time (aiortc's MediaPlayer: PyAV decodes it, aiortc encodes VP8 and Opus), and the
server closes the connection when the clip is over. Standard output says what happened, one
line each: ``serving``, ``session ID``, ``frames N`` (every 30 video frames sent),
``ended ID``, ``deleted ID``, ``refused STATUS``.
"""

from __future__ import annotations

import asyncio
import secrets
import sys

from aiohttp import web
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


def say(text: str) -> None:
    print(text, flush=True)


class CountedVideo(MediaStreamTrack):
    """The player's video, counted as it is sent; it ends when the clip does."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, done: asyncio.Event) -> None:
        super().__init__()
        self.source = source
        self.done = done
        self.sent = 0

    async def recv(self):  # noqa: ANN201 - an av.VideoFrame
        try:
            frame = await self.source.recv()
        except Exception:
            self.done.set()
            raise
        self.sent += 1
        if self.sent % 30 == 0:
            say(f"frames {self.sent}")
        return frame


def main(host: str, port: int, clip: str, token: str | None) -> None:
    sessions: dict[str, RTCPeerConnection] = {}

    async def offer(request: web.Request) -> web.Response:
        if token is not None and request.headers.get("Authorization") != f"Bearer {token}":
            say("refused 401")
            return web.Response(status=401)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        sid = secrets.token_hex(6)
        sessions[sid] = pc
        done = asyncio.Event()
        player = MediaPlayer(clip)
        video = CountedVideo(player.video, done)
        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        for transceiver in pc.getTransceivers():
            track = video if transceiver.kind == "video" else player.audio
            if track is not None:
                transceiver.sender.replaceTrack(track)
                transceiver.direction = "sendonly"
        await pc.setLocalDescription(await pc.createAnswer())
        say(f"session {sid}")

        async def end_with_clip() -> None:
            await done.wait()
            await asyncio.sleep(0.5)
            say(f"ended {sid}")
            await pc.close()

        asyncio.ensure_future(end_with_clip())
        return web.Response(
            status=201,
            text=pc.localDescription.sdp,
            content_type="application/sdp",
            headers={"Location": f"/whep/{sid}"},
        )

    async def delete(request: web.Request) -> web.Response:
        sid = request.match_info["sid"]
        pc = sessions.pop(sid, None)
        if pc is None:
            return web.Response(status=404)
        say(f"deleted {sid}")
        await pc.close()
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/whep", offer)
    app.router.add_delete("/whep/{sid}", delete)

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        say("serving")
        await asyncio.Event().wait()

    asyncio.run(serve())


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
