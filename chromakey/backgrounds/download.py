"""Background images and videos from http(s) URLs: fetched by urllib into a temporary file
(never by FFmpeg's own protocols), with a timeout per read, a deadline for the whole
download and a size cap, following redirects to http(s) only.

The deadline holds wherever the download waits — connecting, the headers, the body, a
redirect — however slowly the server trickles: when it passes, a timer shuts the
connection's socket, and the read that waited returns at once."""

from __future__ import annotations

import contextlib
import functools
import http.client
import os
import re
import socket
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

from ..core import signals
from ..core.errors import ChromakeyError, InputError, ParameterError
from ..core.quote import quoted
from ..io.locations import DOWNLOAD_SCHEMES, check_url

# Seconds to connect, and to wait for each read, when downloading a background.
DOWNLOAD_TIMEOUT = 15.0
# Seconds a download may take in all, so a server trickling bytes cannot stall a render;
# the environment variable sets another (a slow link, a test).
DOWNLOAD_DEADLINE = 60.0
DEADLINE_ENV = "CHROMAKEY_DOWNLOAD_DEADLINE"
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024


def download_deadline() -> float:
    """The total deadline: CHROMAKEY_DOWNLOAD_DEADLINE if set (seconds > 0), else the default."""
    text = os.environ.get(DEADLINE_ENV, "").strip()
    if not text:
        return DOWNLOAD_DEADLINE
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ParameterError(f"{DEADLINE_ENV}={quoted(text, 40)}: give a number of seconds above 0")
    return value


class _Deadline:
    """Shuts every socket of one download once ``seconds`` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.passed = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._socks:
                sock.close()
            self._socks.clear()

    def watch(self, sock: socket.socket) -> None:
        # A socket of our own on the same connection (a TLS socket cannot be shut from
        # outside its own reads); shutting it down ends the connection for both.
        own = socket.socket(fileno=os.dup(sock.fileno()))
        with self._lock:
            self._socks.append(own)
            passed = self.passed
        if passed:
            self._shut(own)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            socks = list(self._socks)
        for sock in socks:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _Watched:
    """A connection whose socket the deadline shuts when time runs out (mixed in before
    http.client's HTTPConnection or HTTPSConnection)."""

    sock: socket.socket

    def __init__(self, *args: Any, deadline: _Deadline, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline = deadline

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]  # http.client's, after this mixin
        self._deadline.watch(self.sock)


class _WatchedHTTP(_Watched, http.client.HTTPConnection):
    pass


class _WatchedHTTPS(_Watched, http.client.HTTPSConnection):
    pass


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(_WatchedHTTP, deadline=self._deadline), req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self._deadline = deadline

    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(
            functools.partial(_WatchedHTTPS, deadline=self._deadline),
            req,
            context=getattr(self, "_context", None),  # HTTPSHandler's own (private in typeshed)
        )


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (urllib alone would follow one to ftp:)."""

    def http_error_302(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
    ) -> Any:
        target = headers.get("location") or headers.get("uri") or ""
        scheme = urllib.parse.urlsplit(urllib.parse.urljoin(req.full_url, target)).scheme
        if scheme.lower() not in DOWNLOAD_SCHEMES:
            fp.close()
            raise InputError(
                f"{req.full_url}: the server redirects to a {scheme}: URL; "
                "only http:// and https:// are followed"
            )
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def _suffix(url: str) -> str:
    ext = os.path.splitext(urllib.parse.urlsplit(url).path)[1]
    return ext.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", ext) else ""


def download(
    url: str,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
    deadline: float | None = None,
) -> Path:
    """Fetch an http(s) URL into a temporary file (the caller removes it); InputError on
    failure. ``deadline``: seconds for all of it [:func:`download_deadline`]."""
    check_url(url, DOWNLOAD_SCHEMES, what="a background")
    limit = download_deadline() if deadline is None else deadline
    request = urllib.request.Request(url, headers={"User-Agent": "chromakey"})
    fd, name = tempfile.mkstemp(prefix="chromakey-bg-", suffix=_suffix(url))
    path = Path(name)
    signals.track(path)
    watch = _Deadline(limit)
    opener = urllib.request.build_opener(
        _HttpOnlyRedirects, _HTTPHandler(watch), _HTTPSHandler(watch)
    )
    try:
        with watch, os.fdopen(fd, "wb") as out:
            total = _fetch(opener, request, url, out, max_bytes, timeout)
        if watch.passed:
            raise _too_slow(url, limit)
        if total == 0:
            raise InputError(f"{url}: the server sent an empty file; check the URL")
        signals.untrack(path)
        return path
    except ChromakeyError:
        _discard(path)
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        _discard(path)
        if watch.passed:
            raise _too_slow(url, limit) from None
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            raise InputError(
                f"{url}: no answer within {timeout:g} s; the server is unreachable or stalled"
            ) from exc
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"{url}: cannot download the background ({reason})") from exc
    except BaseException:
        _discard(path)
        raise


def _fetch(opener: Any, request: Any, url: str, out: Any, max_bytes: int, timeout: float) -> int:
    """The body into ``out``; its length."""
    try:
        response = opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if 300 <= exc.code < 400:  # urllib gave up following: a loop, or too many hops
            raise InputError(
                f"{url}: the server redirects in a loop (or more than "
                f"{_HttpOnlyRedirects.max_redirections} times); check the URL"
            ) from exc
        raise InputError(
            f"{url}: the server answered HTTP {exc.code} {exc.reason}; check the URL"
        ) from exc
    with response:
        length = response.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > max_bytes:
            raise InputError(
                f"{url}: {int(length)} bytes is more than the {max_bytes}-byte limit "
                "for a background; use a smaller file"
            )
        total = 0
        while True:
            chunk = response.read1(1 << 20)
            if not chunk:
                return total
            total += len(chunk)
            if total > max_bytes:
                raise InputError(
                    f"{url}: the download passed the {max_bytes}-byte limit for a "
                    "background; use a smaller file"
                )
            out.write(chunk)


def _too_slow(url: str, limit: float) -> InputError:
    return InputError(
        f"{url}: the download took more than {limit:g} s in all; the server is too slow "
        f"(set {DEADLINE_ENV} to allow more)"
    )


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)
    signals.untrack(path)
