"""What a publisher's SDP offer must be before a peer is made for it.

An offer is a stranger's text. Its shape is checked on the raw lines first, where that is
cheap and aiortc would do harm: every media section costs aiortc a transceiver and an ICE
transport before it can say no (a 64 KiB offer of 1,000 sections took 1.5 s and 270 MB
that stayed), and a candidate's port or address goes straight to a socket (port 99999
raised OverflowError inside aioice, after the 201). Then the parsed offer must carry a
video section that sends VP8 or H.264: an offer that only receives would hold the one
publisher slot with nothing to key.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ....core.errors import ParameterError
from .shown import shown

__all__ = ["ACCEPTED_VIDEO", "MAX_SECTIONS", "OfferError", "check_lines", "check_offer"]

ACCEPTED_VIDEO = ("VP8", "H264")  # what the keyer takes from a publisher (aiortc decodes both)
# A publisher sends video and audio (OBS, FFmpeg), a browser maybe a data channel too.
MAX_SECTIONS = 4
_SENDING = ("sendonly", "sendrecv")
_RECEIVING = ("recvonly", "sendrecv")
_CANDIDATE_TYPES = ("host", "srflx", "prflx", "relay")
_MDNS = re.compile(r"[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})*\.local")


class OfferError(ParameterError):
    """An SDP offer that cannot be answered; ``status`` is the HTTP status it gets."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _number(text: str, low: int, high: int) -> int | None:
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if low <= value <= high else None


def _address(text: str) -> bool:
    """An IP literal, or an mDNS name (browsers hide their addresses behind ``….local``)."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return len(text) <= 253 and _MDNS.fullmatch(text) is not None
    return True


def _check_candidate(value: str) -> None:
    """``foundation component transport priority address port typ type [raddr A rport P]``."""
    bits = value.split()
    ok = (
        len(bits) >= 8
        and _number(bits[1], 1, 256) is not None
        and bits[2].lower() in ("udp", "tcp")
        and _number(bits[3], 0, 2**32 - 1) is not None
        and _address(bits[4])
        and _number(bits[5], 1, 65535) is not None
        and bits[6] == "typ"
        and bits[7] in _CANDIDATE_TYPES
    )
    for key, check in (("raddr", _address), ("rport", lambda p: _number(p, 0, 65535) is not None)):
        if ok and key in bits[8:]:
            at = bits.index(key, 8)
            ok = at + 1 < len(bits) and check(bits[at + 1])
    if not ok:
        raise OfferError(
            f"the candidate {shown(value)} is not valid (a port is 1-65535, an address an IP "
            "or an mDNS .local name)"
        )


def check_lines(text: str, what: str = "the offer") -> None:
    """The section count, and every port and candidate, before aiortc parses anything (an
    offer here, a WHEP server's answer in the WHEP client)."""
    lines = text.splitlines()
    sections = sum(1 for line in lines if line.startswith("m="))
    if sections > MAX_SECTIONS:
        raise OfferError(
            f"{what} has {sections} media sections; at most {MAX_SECTIONS} are taken "
            "(a stream has one video and one audio section)"
        )
    for line in lines:
        if line.startswith("m="):
            bits = line[2:].split()
            if len(bits) < 2 or _number(bits[1].split("/")[0], 0, 65535) is None:
                raise OfferError(f"the media line {shown(line)} has no valid port (0-65535)")
        elif line.startswith("a=rtcp:"):
            port = line[len("a=rtcp:") :].split(" ", 1)[0]
            if _number(port, 0, 65535) is None:
                raise OfferError(f"the line {shown(line)} has no valid port (0-65535)")
        elif line.startswith("a=candidate:"):
            _check_candidate(line[len("a=candidate:") :])


def check_offer(text: str, *, receives: bool = False) -> Any:
    """The parsed offer (aiortc's SessionDescription), or OfferError saying what is wrong.

    Checked before a peer is made for it: at most :data:`MAX_SECTIONS` sections, valid
    ports and candidates; it must parse, carry a video section that sends (sendonly or
    sendrecv) — or, for a viewer (``receives``), one that receives (recvonly or sendrecv) —
    and offer VP8 or H.264 there.
    """
    from aiortc.sdp import SessionDescription

    if not text.strip().startswith("v=0"):
        raise OfferError("the body is not an SDP offer (it must start with 'v=0')")
    check_lines(text)
    try:
        parsed = SessionDescription.parse(text)
    except Exception as exc:  # noqa: BLE001 - aiortc's parser raises whatever it meets
        raise OfferError(
            f"the SDP offer does not parse ({type(exc).__name__}: {shown(exc)})"
        ) from None
    video = [m for m in parsed.media if m.kind == "video"]
    if not video:
        raise OfferError(
            "the offer has no video section; "
            + ("offer to receive video" if receives else "publish a video track")
        )
    names = {codec.mimeType.split("/")[-1].upper() for m in video for codec in m.rtp.codecs}
    if not names & set(ACCEPTED_VIDEO):
        raise OfferError(
            f"the offer's video codecs ({shown(', '.join(sorted(names))) or 'none'}) are not "
            f"accepted; {'receive' if receives else 'publish'} {' or '.join(ACCEPTED_VIDEO)}"
        )
    wanted = _RECEIVING if receives else _SENDING
    if not any((m.direction or "sendrecv") in wanted for m in video):
        directions = ", ".join(sorted({str(m.direction) for m in video}))
        raise OfferError(
            f"the offer receives no video (its video section is {shown(directions)}); a "
            "viewer offers a recvonly video transceiver"
            if receives
            else f"the offer sends no video (its video section is {shown(directions)}); "
            "publish a sendonly video track",
            status=422,
        )
    for m in parsed.media:
        if (
            m.ice is None
            or m.ice.usernameFragment is None
            or m.dtls is None
            or not m.dtls.fingerprints
        ):
            raise OfferError("the offer lacks ICE credentials or a DTLS fingerprint")
    return parsed
