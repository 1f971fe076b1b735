"""A peer's text as it may be shown: escaped and cut short.

Whatever a peer sends (a codec name, a header, an HTTP line, the text of an exception that
quotes them) reaches the terminal only through :func:`shown`: control characters, escape
sequences and undecodable bytes become visible escapes, so nothing a peer writes can move
the cursor, recolour or clear the terminal, or forge a log line; and a 128 KB line is cut
to :data:`SHOWN_CHARS` characters.
"""

from __future__ import annotations

__all__ = ["SHOWN_CHARS", "shown"]

SHOWN_CHARS = 120


def _escape(ch: str) -> str:
    return ch if ch.isprintable() and ch != "\\" else repr(ch)[1:-1]


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``value`` on one line: non-printable characters escaped, at most ``limit`` kept."""
    text = str(value)
    cut = text[:limit]
    out = "".join(_escape(ch) for ch in cut)
    return out + f"… ({len(text)} characters)" if len(text) > limit else out
