"""The ``render`` options of the live ends: a WebRTC input's (tokens, ICE servers, the stall
timeout) and a live output's (``whep://``, ``livekit+wss://``), each refused in one line where
given to an end that does not take it."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..core.errors import ParameterError

# Each live output's flags: flag → (the sink's keyword, its environment variable or None).
_WHEP = {
    "--whep-token": ("token", "CHROMAKEY_WHEP_TOKEN"),
    "--whep-viewers": ("max_viewers", None),
    "--whep-wait": ("wait_first", None),
}
_ROOM = {"--output-token": ("token", "CHROMAKEY_OUTPUT_TOKEN")}


def add_output_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(
        "live outputs",
        "-o whep://HOST:PORT/PATH serves viewers over WHEP; -o livekit+wss://HOST publishes "
        "into a LiveKit room (--token T)",
    )
    g.add_argument(
        "--output-token",
        default=os.environ.get("CHROMAKEY_OUTPUT_TOKEN"),
        metavar="T",
        help="a LiveKit output's access token when --token is the WebRTC input's "
        "[$CHROMAKEY_OUTPUT_TOKEN]",
    )
    g.add_argument(
        "--whep-token",
        default=os.environ.get("CHROMAKEY_WHEP_TOKEN"),
        metavar="T",
        help="the bearer token viewers must send (401 without it) [$CHROMAKEY_WHEP_TOKEN; none]",
    )
    g.add_argument(
        "--whep-viewers", type=int, metavar="N", help="viewers at once; more get 503 [4]"
    )
    g.add_argument(
        "--whep-wait",
        type=float,
        metavar="S",
        help="seconds the stream waits for its first viewer before it starts; 0 starts at "
        "once [60]",
    )


def input_options(args: argparse.Namespace) -> dict[str, Any]:
    """A WebRTC input's options (:func:`chromakey.io.sources.webrtc.options_from`)."""
    from ..io.sources.webrtc import is_webrtc, options_from
    from ..io.sources.webrtc.urls import is_room

    if is_room(args.output) and not is_webrtc(args.input):
        args = argparse.Namespace(**{**vars(args), "token": None})  # --token is the room's
    opts = options_from(args)
    if args.stall_timeout is not None:
        if not is_webrtc(args.input):
            raise ParameterError(f"--stall-timeout: applies to WebRTC inputs, not {args.input}")
        opts["stall_timeout"] = args.stall_timeout
    return opts


def output_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """A live output's options (whep://, livekit+wss://); an error for ones given to another
    output (a value that only comes from its environment variable is not one given)."""
    from ..io.sources.webrtc.urls import is_room, is_webrtc, is_webrtc_output

    taken = _WHEP if is_webrtc_output(args.output) else _ROOM if is_room(args.output) else {}
    given = {}
    for flag, (key, env) in (_WHEP | _ROOM).items():
        value = getattr(args, flag[2:].replace("-", "_"))
        if value is None:
            continue
        if flag in taken:
            given[key] = value
        elif env is None or value != os.environ.get(env):
            raise ParameterError(f"{flag}: applies to a live output, not {args.output}")
    if taken is _ROOM:
        # --token is the input's when the input is a WebRTC source; else the room's.
        given.setdefault("token", None if is_webrtc(args.input) else args.token)
        if not given["token"]:
            raise ParameterError(
                f"{args.output}: a LiveKit output needs an access token that may publish: "
                "--token T (--output-token T when the input is a WebRTC source too)"
            )
    return given if taken else None
