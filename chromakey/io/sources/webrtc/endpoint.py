"""The HTTP side of a WebRTC endpoint that takes SDP offers: the WHIP ingest (publishers POST
to it) and the WHEP output (viewers POST to it) share it.

Policy, the same for both: it listens only where told; an optional bearer token is checked
as WHIP and WHEP say (``Authorization: Bearer TOKEN``, else 401 with ``WWW-Authenticate``);
an offer is at most ``MAX_SDP`` bytes (413), ``application/sdp`` (415), and arrives within
``BODY_TIMEOUT`` seconds (408, and the connection closed); malformed HTTP is aiohttp's 400.
Browsers on other origins may use it: OPTIONS answers the CORS preflight and ``Location``
is exposed to scripts. Every refusal is at most one log line, and what a peer sent is shown
escaped and cut short, never raw.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ....core.errors import StreamError
from .peer import LoopThread
from .sdpcheck import OfferError, check_offer
from .serverlog import OneLineLogger
from .shown import shown
from .urls import WhipLocation

__all__ = ["BODY_TIMEOUT", "MAX_HEADERS", "MAX_HEADER_BYTES", "MAX_SDP", "SdpEndpoint"]

MAX_SDP = 64 * 1024  # bytes of an offer
BODY_TIMEOUT = 5.0  # s for the whole offer to arrive once its headers have
MAX_HEADER_BYTES = 8190  # a request line or header (aiohttp's default, stated here)
MAX_HEADERS = 64  # a browser sends about 15
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Location, ETag, Link, Accept-Post",
}
_PREFLIGHT = {
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match",
    "Access-Control-Max-Age": "600",
    "Accept-Post": "application/sdp",
}

Answer = Callable[[Any, str, Any], Awaitable[Any]]  # (request, the offer's SDP, parsed) → reply


class SdpEndpoint:
    """An aiohttp server at ``where`` with the offer policy above. ``name`` leads its log
    lines ("whip", "whep"); ``refused`` counts the error statuses it gave, by status."""

    def __init__(
        self, name: str, where: WhipLocation, token: str | None, log: Callable[[str], Any]
    ) -> None:
        self.name = name
        self.where = where
        self.token = token
        self.log = log
        self.refused: dict[int, int] = {}
        self._runner: Any = None

    async def serve(
        self,
        *,
        receives: bool,
        busy: Callable[[Any], Any | None],
        answer: Answer,
        leave: Callable[[str], Awaitable[bool]],
    ) -> None:
        """Listen (on the running loop): POST to the endpoint's path takes an offer, DELETE on
        a session's path below it leaves. ``receives``: offers are a viewer's (WHEP), else a
        publisher's (WHIP). ``busy(request)`` is the refusal while no peer can be taken (409,
        503) or None; ``answer`` makes the peer and its reply for a checked offer; ``leave``
        ends a session by id (False: no such session)."""
        from aiohttp import web

        self._receives, self._busy, self._answer, self._leave = receives, busy, answer, leave
        app = web.Application(client_max_size=MAX_SDP)
        path = self.where.path
        app.router.add_route("*", path, self._on_endpoint)
        app.router.add_route("*", path.rstrip("/") + "/{session}", self._on_session)
        self._runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            logger=OneLineLogger(self.name, self.log),
            max_line_size=MAX_HEADER_BYTES,
            max_field_size=MAX_HEADER_BYTES,
            max_headers=MAX_HEADERS,
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, self.where.host, self.where.port).start()

    def start(
        self, loop: LoopThread, serving: Coroutine[Any, Any, Any], what: str, option: str
    ) -> None:
        """Run ``serving`` (which calls :meth:`serve`) on ``loop``; a port that cannot be had
        is one StreamError line (the loop stopped). Logs where it listens, ``what`` for, and a
        note when it is reachable from the network without a token (``option`` sets one)."""
        where = self.where
        try:
            loop.run(serving, timeout=10.0)
        except OSError as exc:
            loop.stop()
            raise StreamError(
                f"{where.url}: cannot listen there ({exc.strerror or exc}); choose another "
                "port or free this one"
            ) from None
        note = "" if self.token is None else " (bearer token required)"
        self.log(f"{self.name}: listening on {where.url} for {what}{note}")
        if not where.loopback and self.token is None:
            self.log(f"{self.name}: note: {where.host} is reachable from the network; set {option}")

    @property
    def bound(self) -> list[str]:
        """The URLs it listens on (one: the host it was given)."""
        return [] if self._runner is None else [site.name for site in self._runner.sites]

    async def cleanup(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def session_path(self, session_id: str) -> str:
        return f"{self.where.path.rstrip('/')}/{session_id}"

    def reply(self, request: Any, status: int, text: str = "", **headers: str) -> Any:
        """A response with the CORS headers; an error status is counted and logged in one
        line. ``headers`` take ``_`` for ``-`` (``Content_Type``)."""
        from aiohttp import web

        if status >= 400:
            self.refused[status] = self.refused.get(status, 0) + 1
            self.log(f"{self.name}: {status} to {request.remote} ({request.method}): {text}")
        hdrs = dict(_CORS) | {k.replace("_", "-"): v for k, v in headers.items()}
        return web.Response(status=status, text=text or None, headers=hdrs)

    def preflight(self, methods: str) -> Any:
        from aiohttp import web

        hdrs = _CORS | _PREFLIGHT | {"Access-Control-Allow-Methods": methods, "Allow": methods}
        return web.Response(status=204, headers=hdrs)

    def denied(self, request: Any) -> Any | None:
        """The 401 for a request without the bearer token (None: let it in)."""
        if self.token is None:
            return None
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        # aiohttp hands undecodable header bytes over as surrogates: compared as the bytes sent.
        sent = value.strip().encode("utf-8", "surrogateescape")
        if scheme.lower() == "bearer" and hmac.compare_digest(sent, self.token.encode()):
            return None
        why = "no bearer token" if not given else "a wrong bearer token"
        return self.reply(
            request,
            401,
            f"{why}; send Authorization: Bearer TOKEN",
            WWW_Authenticate=f'Bearer realm="chromakey {self.name}"',
        )

    async def _on_endpoint(self, request: Any) -> Any:
        if request.method == "OPTIONS":
            return self.preflight("OPTIONS, POST")
        if request.method != "POST":
            verb = "watch" if self._receives else "publish"
            return self.reply(request, 405, f"{verb} with POST", Allow="OPTIONS, POST")
        refused = self.refuse_offer(request)
        if refused is not None:
            return refused
        body = await self.read(request)
        if not isinstance(body, bytes):
            return body
        busy = self._busy(request)
        if busy is not None:
            return busy
        try:
            sdp = body.decode("utf-8")
            offer = check_offer(sdp, receives=self._receives)
        except UnicodeDecodeError:
            return self.reply(request, 400, "malformed offer: the SDP is not UTF-8 text")
        except OfferError as exc:
            what = "malformed offer" if exc.status == 400 else "offer refused"
            return self.reply(request, exc.status, f"{what}: {exc}")
        return await self._answer(request, sdp, offer)

    async def _on_session(self, request: Any) -> Any:
        methods = "OPTIONS, DELETE"
        if request.method == "OPTIONS":
            return self.preflight(methods)
        denied = self.denied(request)
        if denied is not None:
            return denied
        if request.method == "DELETE":
            if await self._leave(request.match_info["session"]):
                return self.reply(request, 200)
            return self.reply(request, 404, f"no such {self.name.upper()} session")
        # PATCH is trickle ICE or an ICE restart; aiortc answers with every candidate.
        return self.reply(request, 405, "trickle ICE is not supported", Allow=methods)

    def refuse_offer(self, request: Any) -> Any | None:
        """The response for an offer refused on its headers alone (token, type, size)."""
        denied = self.denied(request)
        if denied is not None:
            return denied
        if request.content_type != "application/sdp":
            return self.reply(request, 415, "the offer must be sent as application/sdp")
        if (request.content_length or 0) > MAX_SDP:
            return self.reply(request, 413, f"the offer is larger than {MAX_SDP} bytes")
        return None

    async def read(self, request: Any) -> Any:
        """The offer's bytes, or the response already made for a body that did not come."""
        from aiohttp import web
        from aiohttp.http_exceptions import HttpProcessingError

        try:
            return await asyncio.wait_for(request.read(), BODY_TIMEOUT)
        except web.HTTPRequestEntityTooLarge:
            return self.reply(request, 413, f"the offer is larger than {MAX_SDP} bytes")
        except TimeoutError:
            resp = self.reply(request, 408, f"the offer did not arrive within {BODY_TIMEOUT:g} s")
            resp.force_close()
            with contextlib.suppress(ConnectionError):
                await resp.prepare(request)
                await resp.write_eof()
            request.protocol.force_close()  # no lingering for the rest of a body that stalled
            return resp
        except HttpProcessingError as exc:
            said = " ".join(str(exc.message).split())
            return self.reply(request, 400, f"malformed request body: {shown(said)}")
        except ConnectionError:
            self.log(f"{self.name}: {request.remote} went away before its offer had arrived")
            return web.Response(status=400)
