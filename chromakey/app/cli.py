"""The command line: ``chromakey sample | render | preview | bench | demo``. Errors are one
line and an exit status; a traceback only with ``--debug``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any

from .. import __version__
from ..backgrounds import FITS, PLAY_STYLES
from ..core import signals
from ..core.errors import ChromakeyError, ParameterError
from ..core.memory import keep_freed_memory, settle_collector
from ..core.quote import one_line
from ..core.sizes import parse_size
from ..io.sinks.formats import RAW_FORMATS
from ..io.stdio import describe, is_stdio
from . import preview
from .live_options import add_output_arguments, input_options, output_options
from .options import (
    BACKEND_CHOICES,
    EXIT_INTERNAL,
    Parser,
    add_colour_options,
    add_keyer_options,
    input_colour,
    keyer_params,
)


class Progress:
    """A one-line bar on a terminal; silent otherwise."""

    def __init__(self, label: str, stream: Any = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        settle_collector()  # a frame is out: start-up is over
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.last < 0.1 and done != total:
            return
        self.last = now
        fps = done / max(now - self.start, 1e-9)
        if total:
            filled = int(30 * min(done / total, 1.0))
            bar = "#" * filled + "." * (30 - filled)
            text = f"\r{self.label} [{bar}] {done}/{total} frames {fps:5.1f} fps"
        else:
            text = f"\r{self.label} {done} frames {fps:5.1f} fps"
        self.stream.write(text)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _cmd_sample(args: argparse.Namespace) -> int:
    from ..sample import SampleSpec, write_sample

    w, h = parse_size(args.size, option="--size")
    spec = SampleSpec(width=w, height=h, fps=args.fps, seconds=args.seconds, seed=args.seed)
    bar = Progress("sample")
    try:
        path = write_sample(args.output, spec, progress=bar)
    finally:
        bar.finish()
    print(f"wrote {path}: {w}×{h}, {spec.frame_count} frames at {args.fps:g} fps, with audio")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from ..pipeline import render

    params = keyer_params(args)
    if args.keep_partial:
        signals.install(grace=signals.FINISH_GRACE)
    bar = Progress("render")
    try:
        stats = render(
            args.input,
            args.output,
            background=args.background,
            fit=args.fit,
            play_style=args.play_style,
            params=params,
            backend=args.backend,
            progress=bar,
            keep_partial=args.keep_partial,
            output_format=args.output_format,
            source_options=input_options(args),
            input_colour=input_colour(args),
            pack_alpha=args.pack_alpha,
            output_options=output_options(args),
        )
    finally:
        bar.finish()
    name = describe(args.output, output=True)
    if stats.interrupted:
        print(f"chromakey: interrupted; kept {stats.frames} frames in {name}", file=sys.stderr)
        return signals.exit_status()
    # Standard output carries the video: the report goes to stderr then.
    print(f"wrote {name}: {stats.summary()}", file=sys.stderr if is_stdio(args.output) else None)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ..pipeline import render
    from ..sample import SampleSpec, write_sample

    os.makedirs(args.output_dir, exist_ok=True)
    sample = os.path.join(args.output_dir, "sample.mp4")
    keyed = os.path.join(args.output_dir, "keyed.mp4")
    spec = SampleSpec(width=1280, height=720, fps=30, seconds=args.seconds)
    bar = Progress("sample")
    try:
        write_sample(sample, spec, progress=bar)
    finally:
        bar.finish()
    print(f"wrote {sample}: the built-in green-screen avatar, {spec.frame_count} frames")
    bar = Progress("render")
    try:
        stats = render(
            sample, keyed, background=args.background, backend=args.backend, progress=bar
        )
    finally:
        bar.finish()
    print(f"wrote {keyed} over {args.background}: {stats.summary()}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from ..bench import main as bench_main

    return bench_main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="chromakey", description="Real-time chroma keying for green-screen avatar streams."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"chromakey {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("sample", help="write the built-in synthetic green-screen avatar clip")
    p.add_argument("-o", "--output", required=True, help="output file (.mp4, .mkv, .mov)")
    p.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT [1280x720]")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second [30]")
    p.add_argument("--seconds", type=float, default=5.0, help="duration [5]")
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise and motion [0]")
    p.set_defaults(run=_cmd_sample)

    p = sub.add_parser("render", help="key a video and write the composite")
    p.add_argument(
        "input",
        help="foreground video: a file, a stream URL, - for standard input, or WebRTC: "
        "whip://HOST:PORT/PATH (serve), whep(s)://… (pull), livekit+wss://HOST (--token)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output: .mp4/.mov/.mkv/.webm, raw .nut (RGB) or .y4m (yuv420p), a pattern like "
        "out/%%05d.png, or - for standard output (with --format); transparent into .webm is "
        "VP9 alpha, into .mov ProRes 4444, into .nut RGBA, into .y4m yuva444p; "
        "rtmp://HOST/APP/KEY pushes to a streaming server (FLV, paced; transparent: packed)",
    )
    p.add_argument(
        "--format",
        dest="output_format",
        choices=tuple(RAW_FORMATS),
        help="raw output format; needed for -o - and for a name without an extension",
    )
    p.add_argument(
        "--background",
        "-b",
        help="#RRGGBB, a CSS colour name, 'transparent', an image or video (path or "
        "http(s) URL), or HeyGen's JSON (inline or a .json file) "
        "[transparent for PNG, #ffffff for video]",
    )
    p.add_argument(
        "--fit",
        choices=FITS,
        help="how an image or video background fills the frame [cover]",
    )
    p.add_argument(
        "--play-style",
        choices=PLAY_STYLES,
        help="how a video background's timing meets the foreground's [loop]",
    )
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto", help="[auto]")
    p.add_argument(
        "--keep-partial",
        action="store_true",
        help="on Ctrl-C/SIGTERM, finish the frames rendered so far into a playable file "
        "(default: leave no output)",
    )
    p.add_argument(
        "--pack-alpha",
        action="store_true",
        help="with a transparent background into an opaque video (.mp4): twice the width, "
        "colour left, alpha right as grey (white opaque), for players that unpack it "
        "(examples/web/)",
    )
    from ..io.sources import webrtc

    webrtc.add_arguments(p)
    p.add_argument(
        "--stall-timeout",
        type=float,
        metavar="S",
        help="WebRTC: seconds without media after which the publisher counts as gone and "
        "the file is finished [5]",
    )
    add_output_arguments(p)
    add_colour_options(p)
    add_keyer_options(p)
    p.set_defaults(run=_cmd_render)

    from ..batch import command as batch_command

    p = sub.add_parser(
        "batch", help="key many recordings: a manifest, a folder or a glob, on a local pool or Ray"
    )
    batch_command.add_arguments(p)
    add_colour_options(p)
    add_keyer_options(p)
    p.set_defaults(run=batch_command.main)

    p = sub.add_parser(
        "preview", help="play the keyed stream in a window in real time; tune it with the keyboard"
    )
    preview.add_arguments(p)
    p.set_defaults(run=preview.main)

    p = sub.add_parser(
        "bench",
        help="measure speed against PyAV decode-only and FFmpeg (see 'chromakey bench --help')",
        add_help=False,
    )
    p.add_argument("bench_args", nargs=argparse.REMAINDER, help="options of chromakey.bench")
    p.set_defaults(run=_cmd_bench)

    p = sub.add_parser(
        "demo", help="write the built-in sample and key it: the whole job, no input needed"
    )
    p.add_argument(
        "-o", "--output-dir", default="chromakey-demo", help="folder for sample.mp4 and keyed.mp4"
    )
    p.add_argument("--background", "-b", default="#1e90ff", help="[#1e90ff]")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto", help="[auto]")
    p.add_argument("--seconds", type=float, default=5.0, help="duration of the sample [5]")
    p.set_defaults(run=_cmd_demo)
    return parser


class _NoteFormatter(logging.Formatter):
    """``chromakey: note: …`` — or the record's own ``lead`` word instead of ``note`` ("warning";
    "" for a line that names its own subject, as a server's "whip: …" does)."""

    def format(self, record: logging.LogRecord) -> str:
        lead = getattr(record, "lead", "note")
        text = record.getMessage()
        return f"chromakey: {lead}: {text}" if lead else f"chromakey: {text}"


def print_library_notes() -> None:
    """The library logs what it tells a user (``logging``, logger ``chromakey``); the command
    line prints it, one ``chromakey: …`` line each, on stderr."""
    log = logging.getLogger("chromakey")
    if not any(getattr(h, "_chromakey_cli", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_NoteFormatter())
        handler._chromakey_cli = True  # type: ignore[attr-defined]
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    keep_freed_memory()
    signals.install()
    print_library_notes()
    try:
        rest = [a for a in argv if a != "--debug"]
        if rest[:1] == ["bench"]:  # its options are chromakey.bench's own
            from ..bench import main as bench_main

            return bench_main(rest[1:])
        args, unknown = build_parser().parse_known_args(argv)
        if unknown:
            raise ParameterError(
                f"unrecognized arguments: {' '.join(unknown)} "
                f"(see 'chromakey {args.command} --help')"
            )
        if args.run not in (_cmd_sample, _cmd_render, _cmd_demo):  # those: at the first frame
            settle_collector()
        return int(args.run(args))
    except ChromakeyError as exc:
        if debug:
            traceback.print_exc()
        print(f"chromakey: error: {one_line(str(exc))}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt as exc:
        signals.discard_tracked()
        print("chromakey: interrupted; no partial output was left", file=sys.stderr)
        return signals.exit_status(exc)
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback with --debug
        if debug:
            traceback.print_exc()
        print(
            f"chromakey: internal error: {type(exc).__name__}: {one_line(str(exc))} "
            "(run with --debug and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    finally:
        if "livekit.rtc" in sys.modules:  # a LiveKit room was opened: see release_sdk
            from ..io.sources.webrtc.livekit import release_sdk

            release_sdk()


def run() -> int:
    """The command's entry (the console script and ``python -m chromakey``): :func:`main`, and
    after a LiveKit room the process ends without interpreter teardown (streams flushed, then
    ``os._exit``). livekit 1.2's native runtime can still abort a finalizing Python after
    release_sdk ("panic in a function that cannot unwind", SIGABRT instead of our exit status):
    4 of 160 refused joins did. In-process callers of :func:`main` keep their interpreter."""
    code = main()
    if "livekit.rtc" in sys.modules:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(run())
