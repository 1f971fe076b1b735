"""The command line: ``chromakey sample | render | demo``. Errors are one line and an exit status."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

from .errors import ChromakeyError, ParameterError
from .memory import keep_freed_memory
from .params import INTEGER_FIELDS, SCREEN_FAMILIES, KeyerParams
from .sinks import RAW_FORMATS
from .stdio import describe, is_stdio

EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ParameterError(f"{message} (see 'chromakey {self.prog.split()[-1]} --help')")


def _add_keyer_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("keyer", "how the screen is found and removed (defaults in brackets)")
    for f in dataclasses.fields(KeyerParams):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "screen_color":
            g.add_argument(
                flag,
                metavar="#RRGGBB",
                help="screen colour to key (its hue and saturation set the window); "
                "default: measured from the frames",
            )
            continue
        if f.name == "screen":
            g.add_argument(
                flag,
                choices=sorted(SCREEN_FAMILIES),
                help=f"{KeyerParams.help(f.name)}; the window is then measured within it [green]",
            )
            continue
        if f.name in ("auto_hue", "auto_sat"):
            continue  # set by giving the window's own options (keyer_params)
        kind = int if f.name in INTEGER_FIELDS else float
        g.add_argument(
            flag, type=kind, metavar="N", help=f"{KeyerParams.help(f.name)} [{f.default}]"
        )


def keyer_params(args: argparse.Namespace) -> KeyerParams:
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(KeyerParams)
        if getattr(args, f.name, None) is not None
    }
    # A window the user gives is kept as given: calibration no longer moves it.
    if "hue_min" in given or "hue_max" in given:
        given["auto_hue"] = False
    if "sat_min" in given or "sat_max" in given:
        given["auto_sat"] = False
    return KeyerParams(**given)


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise ParameterError(f"--size {text!r}: use WIDTHxHEIGHT, like 1280x720") from exc
    return w, h


class Progress:
    """A one-line bar on a terminal; silent otherwise."""

    def __init__(self, label: str, stream: Any = sys.stderr) -> None:
        self.label = label
        self.stream = stream
        self.enabled = stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int | None) -> None:
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
    from .sample import SampleSpec, write_sample

    w, h = _parse_size(args.size)
    spec = SampleSpec(width=w, height=h, fps=args.fps, seconds=args.seconds, seed=args.seed)
    bar = Progress("sample")
    try:
        path = write_sample(args.output, spec, progress=bar)
    finally:
        bar.finish()
    print(f"wrote {path}: {w}×{h}, {spec.frame_count} frames at {args.fps:g} fps, with audio")
    return 0


def _cmd_render(args: argparse.Namespace) -> int:
    from .pipeline import render

    params = keyer_params(args)
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
        )
    finally:
        bar.finish()
    name = describe(args.output, output=True)
    if stats.interrupted:
        print(f"chromakey: interrupted; kept {stats.frames} frames in {name}", file=sys.stderr)
        return EXIT_INTERRUPTED
    # Standard output carries the video: the report goes to stderr then.
    print(f"wrote {name}: {stats.summary()}", file=sys.stderr if is_stdio(args.output) else None)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline import render
    from .sample import SampleSpec, write_sample

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
    from .bench import main as bench_main

    return bench_main(args.bench_args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chromakey", description="Real-time chroma keying for green-screen avatar streams."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("sample", help="write the built-in synthetic green-screen avatar clip")
    p.add_argument("-o", "--output", required=True, help="output file (.mp4, .mkv, .mov)")
    p.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT [1280x720]")
    p.add_argument("--fps", type=float, default=30.0, help="frames per second [30]")
    p.add_argument("--seconds", type=float, default=5.0, help="duration [5]")
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise and motion [0]")
    p.set_defaults(run=_cmd_sample)

    p = sub.add_parser("render", help="key a video and write the composite")
    p.add_argument("input", help="foreground video: a file, a stream URL, or - for standard input")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output: .mp4/.mov/.mkv/.webm, raw .nut (RGB) or .y4m (yuv420p), a pattern like "
        "out/%%05d.png, or - for standard output (with --format); transparent into .webm is "
        "VP9 alpha, into .mov ProRes 4444, into .nut RGBA, into .y4m yuva444p",
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
        choices=("cover", "contain", "stretch"),
        help="how an image or video background fills the frame [cover]",
    )
    p.add_argument(
        "--play-style",
        choices=("loop", "freeze", "fit_to_scene", "full_video"),
        help="how a video background's timing meets the foreground's [loop]",
    )
    p.add_argument("--backend", choices=("auto", "cpu", "gpu"), default="auto", help="[auto]")
    p.add_argument(
        "--keep-partial",
        action="store_true",
        help="on Ctrl-C/SIGTERM, finish the frames rendered so far into a playable file "
        "(default: leave no output)",
    )
    _add_keyer_options(p)
    p.set_defaults(run=_cmd_render)

    from .batch import command as batch_command

    p = sub.add_parser(
        "batch", help="key many recordings: a manifest, a folder or a glob, on a local pool or Ray"
    )
    batch_command.add_arguments(p)
    _add_keyer_options(p)
    p.set_defaults(run=batch_command.main)

    from . import window

    p = sub.add_parser(
        "preview", help="play the keyed stream in a window in real time; tune it with the keyboard"
    )
    window.add_arguments(p)
    p.set_defaults(run=window.main)

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
    p.add_argument("--backend", choices=("auto", "cpu", "gpu"), default="auto", help="[auto]")
    p.add_argument("--seconds", type=float, default=5.0, help="duration of the sample [5]")
    p.set_defaults(run=_cmd_demo)
    return parser


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    keep_freed_memory()
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:
        pass  # not the main thread (embedded use)
    try:
        rest = [a for a in argv if a != "--debug"]
        if rest[:1] == ["bench"]:  # its options are chromakey.bench's own
            from .bench import main as bench_main

            return bench_main(rest[1:])
        args = build_parser().parse_args(argv)
        return int(args.run(args))
    except ChromakeyError as exc:
        if debug:
            traceback.print_exc()
        print(f"chromakey: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print("chromakey: interrupted; no partial output was left", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback with --debug
        if debug:
            traceback.print_exc()
        print(
            f"chromakey: internal error: {type(exc).__name__}: {exc} (run with --debug and report it)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
