"""Background images and videos from http(s) URLs: fetched by urllib into a temporary file
(never by FFmpeg's own protocols), with a timeout per read, a deadline for the whole
download and a size cap, following redirects to http(s) only."""

from __future__ import annotations

import http.client
import os
import re
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..core.errors import ChromakeyError, InputError
from ..io.locations import DOWNLOAD_SCHEMES, check_url

# Seconds to connect, and to wait for each read, when downloading a background.
DOWNLOAD_TIMEOUT = 15.0
# A download may take this long in all, so a server trickling bytes cannot stall a render.
DOWNLOAD_DEADLINE = 600.0
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) only (urllib alone would follow one to ftp:)."""

    def http_error_302(self, req, fp, code, msg, headers):
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


_OPENER = urllib.request.build_opener(_HttpOnlyRedirects)


def _suffix(url: str) -> str:
    ext = os.path.splitext(urllib.parse.urlsplit(url).path)[1]
    return ext.lower() if re.fullmatch(r"\.[A-Za-z0-9]{1,5}", ext) else ""


def download(
    url: str,
    *,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
    deadline: float = DOWNLOAD_DEADLINE,
) -> Path:
    """Fetch an http(s) URL into a temporary file (the caller removes it); InputError on failure."""
    check_url(url, DOWNLOAD_SCHEMES, what="a background")
    request = urllib.request.Request(url, headers={"User-Agent": "chromakey"})
    fd, name = tempfile.mkstemp(prefix="chromakey-bg-", suffix=_suffix(url))
    path = Path(name)
    start = time.monotonic()
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = _OPENER.open(request, timeout=timeout)
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
                    # read1: at most one recv, so the deadline is checked however slow the server.
                    chunk = response.read1(1 << 20)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > max_bytes:
                        raise InputError(
                            f"{url}: the download passed the {max_bytes}-byte limit for a "
                            "background; use a smaller file"
                        )
                    if time.monotonic() - start > deadline:
                        raise InputError(
                            f"{url}: the download took more than {deadline:g} s; "
                            "the server is too slow"
                        )
                    out.write(chunk)
        if total == 0:
            raise InputError(f"{url}: the server sent an empty file; check the URL")
        return path
    except ChromakeyError:
        path.unlink(missing_ok=True)
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, TimeoutError) or "timed out" in str(exc):
            raise InputError(
                f"{url}: no answer within {timeout:g} s; the server is unreachable or stalled"
            ) from exc
        reason = getattr(exc, "reason", None) or exc
        raise InputError(f"{url}: cannot download the background ({reason})") from exc
    except BaseException:
        path.unlink(missing_ok=True)
        raise
