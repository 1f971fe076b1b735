"""``chromakey preview``: the keyed stream in a glfw window, in real time, tunable by keyboard.

The window's OpenGL context is the keyer's (``create_context("current")``); a
:class:`chromakey.live.LiveCompositor` picks the frame due by its timestamp, keys it into
a texture and the window draws that texture as a fullscreen triangle (texture row 0 is the
top of the picture, so v is flipped), letterboxed to keep the picture's aspect.

Keys: B next background · [ / ] hue_min −/+ · ; / ' hue_max −/+ · S / X sat_min +/− ·
F / V feather (edge softness) +/− · C / D choke +/− · P / O spill +/− · M matte view ·
SPACE pause · Q / ESC quit. Each change prints the equivalent ``chromakey render`` options.

A status line (fps, dropped frames, decode→texture and render ms, network state) goes to
the window title and, at most once a second, to stderr. ``--max-frames`` and
``--screenshot`` make it scriptable: the screenshot is the last shown frame, read back from
the window's framebuffer, written as a PNG when the preview ends.

Without a display (no DISPLAY/WAYLAND_DISPLAY, or glfw cannot start) it raises
BackendUnavailableError, suggesting ``xvfb-run -a chromakey preview …`` or ``chromakey render``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..core import signals
from ..core.errors import ChromakeyError, InputError, OutputError, ParameterError
from ..core.sizes import parse_size
from ..io.sinks.png import write_png
from ..io.sources.network import ReconnectingSource
from .options import (
    BACKEND_CHOICES,
    Parser,
    add_colour_options,
    add_keyer_options,
    input_colour,
    keyer_params,
)
from .tuning import KEYS, render_options, shell_quote, step_param
from .window import Window, require_display

__all__ = ["add_arguments", "main"]

DEFAULT_BACKGROUNDS = ("#1e90ff", "#ffffff", "#202020", "#ff00ff", "transparent")
MAX_DEFAULT_SIZE = (1280, 720)  # the window fits the picture in this unless --size says
STATUS_EVERY = 1.0  # seconds between console status lines


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``preview`` subcommand's arguments (the keyer options are the CLI's, from options)."""
    parser.add_argument(
        "input",
        help="foreground video: a file, a stream URL (HLS, RTMP, …), or WebRTC: "
        "whip://HOST:PORT/PATH (serve; waits for publishers), whep(s)://…, livekit+wss://HOST",
    )
    parser.add_argument(
        "--background",
        "-b",
        action="append",
        metavar="SPEC",
        help="a background (#RRGGBB, CSS name, 'transparent', image/video, JSON); repeat it to "
        f"cycle with B [{', '.join(DEFAULT_BACKGROUNDS)}]",
    )
    parser.add_argument("--size", metavar="WxH", help="window size [the picture's, up to 1280x720]")
    parser.add_argument(
        "--max-frames", type=int, metavar="N", help="quit after showing N frames (scripts, tests)"
    )
    parser.add_argument(
        "--screenshot", metavar="PATH", help="on quitting, write the last shown frame as a PNG"
    )
    parser.add_argument(
        "--queue-size", type=int, default=4, metavar="N", help="decoded frames buffered [4]"
    )
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="auto",
        help="keyer: the GLSL passes (gpu), or the CPU keyer and one texture upload a frame "
        "(cpu); auto takes cpu on a software rasteriser (llvmpipe) [auto]",
    )
    parser.add_argument(
        "--stall-timeout",
        type=float,
        default=5.0,
        metavar="S",
        help="network streams: seconds without data before re-opening [5]",
    )
    from ..io.sources.webrtc import add_arguments as add_webrtc_arguments

    add_webrtc_arguments(parser)
    add_colour_options(parser)
    add_keyer_options(parser)


def _window_size(arg: str | None, width: int, height: int) -> tuple[int, int]:
    if arg:
        return parse_size(arg, option="--size")
    scale = min(1.0, MAX_DEFAULT_SIZE[0] / width, MAX_DEFAULT_SIZE[1] / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _letterbox(fw: int, fh: int, w: int, h: int) -> tuple[int, int, int, int]:
    scale = min(fw / w, fh / h)
    vw, vh = max(1, round(w * scale)), max(1, round(h * scale))
    return (fw - vw) // 2, (fh - vh) // 2, vw, vh


class Preview:
    """The preview's state and loop; :func:`main` runs it."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.params = keyer_params(args)
        self.input_colour = input_colour(args)
        self.backgrounds = list(args.background or DEFAULT_BACKGROUNDS)
        if args.max_frames is not None and args.max_frames < 1:
            raise ParameterError(f"--max-frames {args.max_frames}: give a number of frames ≥ 1")
        if args.queue_size < 1:
            raise ParameterError(f"--queue-size {args.queue_size}: give a number ≥ 1")
        from ..backgrounds import parse_background

        self.transparent = []  # refuse a bad spec before opening anything
        for spec in self.backgrounds:
            bg = parse_background(spec)
            self.transparent.append(bg.transparent)
            bg.close()
        if args.screenshot and not Path(args.screenshot).resolve().parent.is_dir():
            raise OutputError(f"{args.screenshot}: the folder does not exist; create it first")
        self.bg_index = 0
        self.matte = False
        self.last_status = 0.0
        self.out = sys.stderr

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    @property
    def background(self) -> str:
        return self.backgrounds[self.bg_index]

    @property
    def view_mode(self) -> int:
        """What the window draws: 0 the composite, 1 the matte as grey, 2 over a checkerboard."""
        if self.matte:
            return 1
        return 2 if self.transparent[self.bg_index] else 0

    def run(self) -> int:
        from ..io.locations import check_location
        from ..io.sources import open_source
        from ..keying.gpu import create_context
        from ..live import LiveCompositor

        args = self.args
        from ..io.sources.webrtc import is_webrtc, options_from, parse_location

        if is_webrtc(args.input):
            parse_location(args.input)  # a bad location is that, with or without a display
        else:
            check_location(args.input)  # a missing file is that, with or without a display
        webrtc = options_from(args)
        require_display()  # before a network source spends seconds connecting
        net = {"stall_timeout": args.stall_timeout, **webrtc} if "://" in args.input else {}
        source = open_source(args.input, queue_size=args.queue_size, **net)
        try:
            info = source.info
            width, height = _window_size(args.size, info.width, info.height)
            window = Window(width, height, f"chromakey preview — {Path(args.input).name}")
        except BaseException:
            source.close()
            raise
        try:
            ctx = create_context("current")
            live = LiveCompositor(
                ctx,
                self.params,
                self.background,
                backend=args.backend,
                on_keyed=window.glfw.post_empty_event,  # wakes the loop: a frame is keyed
                input_colour=self.input_colour,
            )
            live.attach(source, own=True)
            self.say(f"backend: {self._backend_note(live, ctx)}")
            try:
                return self._loop(window, ctx, live)
            finally:
                live.close()
        finally:
            source.close()
            window.close()

    @staticmethod
    def _backend_note(live: Any, ctx: Any) -> str:
        renderer = ctx.info.get("GL_RENDERER", "unknown")
        if live.backend == "gpu":
            return f"gpu (GLSL passes on {renderer})"
        how = "on a keying thread" if live.threaded else "in the render loop"
        return f"cpu (the CPU keyer {how}, one texture upload a frame; OpenGL: {renderer})"

    def _loop(self, window: Window, ctx: Any, live: Any) -> int:
        import glfw
        import moderngl

        from ..keying.gpu.glsl import ShaderLibrary

        prog = ShaderLibrary().program(ctx, "present.vert.glsl", "present.frag.glsl")
        prog["picture"].value = 0
        vao = ctx.vertex_array(prog, [])
        sampler = ctx.sampler(
            filter=(moderngl.LINEAR, moderngl.LINEAR), repeat_x=False, repeat_y=False
        )

        def draw(tex: Any) -> tuple[int, int, int, int]:
            fw, fh = glfw.get_framebuffer_size(window.handle)
            ctx.screen.use()
            ctx.viewport = (0, 0, fw, fh)
            ctx.clear(0.08, 0.08, 0.08)
            vp = _letterbox(fw, fh, tex.width, tex.height)
            ctx.viewport = vp
            prog["mode"].value = self.view_mode
            tex.use(0)
            sampler.use(0)
            vao.render(moderngl.TRIANGLES, vertices=3)
            sampler.clear(0)  # the keyer's integer textures must not meet a LINEAR sampler
            return vp

        self.say(
            "keys: B background · [ ] hue-min · ; ' hue-max · S X sat-min · F V feather · "
            "C D choke · P O spill · M matte · SPACE pause · Q quit"
        )
        self._print_settings()
        start = time.perf_counter()
        redraw = False
        try:
            while not glfw.window_should_close(window.handle):
                if self.handle_keys(window, live):
                    redraw = True
                tex = live.update()
                if tex is not None and (live.changed or redraw):
                    draw(tex)
                    glfw.swap_buffers(window.handle)
                    redraw = False
                self._status(window, live, start)
                if self.args.max_frames and live.stats.shown >= self.args.max_frames:
                    break
                if live.ended:
                    break
                due = live.next_due()
                # On the keying thread, on_keyed wakes the wait when the frame is ready.
                idle = 0.05 if live.keying else 0.005
                wait = idle if due is None else min(max(due, 0.0), 0.02)
                if wait > 0:
                    glfw.wait_events_timeout(wait)
                else:
                    glfw.poll_events()
                if window.exposed:
                    window.exposed = False
                    redraw = True
            self._finish(live, start)
            if self.args.screenshot:
                if live.texture is None:
                    raise InputError("no frame was shown, so there is no screenshot to write")
                vp = draw(live.texture)  # the last shown frame, drawn again into the back buffer
                data = ctx.screen.read(viewport=vp, components=3, alignment=1)
                rgb = np.frombuffer(data, np.uint8).reshape(vp[3], vp[2], 3)[::-1]
                write_png(self.args.screenshot, rgb)
                self.say(f"wrote {self.args.screenshot}: {vp[2]}×{vp[3]}")
        finally:
            sampler.release()
            vao.release()
            prog.release()
        return 0

    def handle_keys(self, window: Window, live: Any) -> bool:
        """Apply the keys pressed since the last call; True when the picture must be redrawn."""
        import glfw

        changed = False
        keys, window.keys = window.keys, []
        for key, _mods in keys:
            if key in (glfw.KEY_Q, glfw.KEY_ESCAPE):
                glfw.set_window_should_close(window.handle, True)
            elif key == glfw.KEY_SPACE:
                if live.paused:
                    live.resume()
                else:
                    live.pause()
                self.say("paused" if live.paused else "playing")
            elif key == glfw.KEY_B:
                self.bg_index = (self.bg_index + 1) % len(self.backgrounds)
                if not self.matte:
                    live.set_background(self.background)
                self._print_settings()
                changed = True
            elif key == glfw.KEY_M:
                self.matte = not self.matte
                live.set_background("transparent" if self.matte else self.background)
                self.say("matte view" if self.matte else "composite view")
                changed = True
            else:
                for name, (field_name, delta) in KEYS.items():
                    if key == getattr(glfw, f"KEY_{name}"):
                        new = step_param(self.params, field_name, delta)
                        if new == self.params:
                            self.say(f"{field_name} stays at {getattr(new, field_name):g} (limit)")
                        else:
                            self.params = new
                            live.set_params(new)
                            self._print_settings()
                            changed = True
        return changed

    def _print_settings(self) -> None:
        self.say(
            f"chromakey render {shell_quote(self.args.input)} -o keyed.mp4 "
            f"{render_options(self.params, self.background)}"
        )

    def status_line(self, live: Any) -> str:
        st = live.stats
        lat = st.median("latency_ms")
        ren = st.median("render_ms")
        text = (
            f"{st.fps():.1f} fps | shown {st.shown} | dropped {st.dropped_late} late + "
            f"{st.dropped_by_source} source | decode→texture "
            f"{'–' if lat is None else f'{lat:.0f}'} ms | render "
            f"{'–' if ren is None else f'{ren:.0f}'} ms"
        )
        if isinstance(live.source, ReconnectingSource):
            net = live.source.status()
            text += f" | net {net.state}"
            if net.last_gap is not None:
                text += f" (last gap {net.last_gap:.1f} s, {net.reconnects} reconnects)"
        if live.paused:
            text += " | paused"
        return text

    def _status(self, window: Window, live: Any, start: float) -> None:
        now = time.perf_counter()
        if now - self.last_status < STATUS_EVERY:
            return
        self.last_status = now
        line = self.status_line(live)
        window.glfw.set_window_title(window.handle, f"chromakey preview — {line}")
        self.say(f"[{now - start:6.1f} s] {line}")

    def _finish(self, live: Any, start: float) -> None:
        st = live.stats
        lat50, lat95 = st.median("latency_ms"), st.percentile("latency_ms", 95)
        cur = live.current
        where = (
            f"last frame index {cur.index} at {cur.time:.3f} s" if cur is not None else "no frame"
        )
        self.say(
            f"preview: {st.shown} shown, {st.dropped_late} dropped late, {st.dropped_by_source} "
            f"dropped by the source, {st.resyncs} resyncs in {time.perf_counter() - start:.1f} s; "
            f"decode→texture median {_ms(lat50)} p95 {_ms(lat95)} (of which queued: median "
            f"{_ms(st.median('wait_ms'))}); render median "
            f"{_ms(st.median('render_ms'))}; {where}"
        )


def _ms(v: float | None) -> str:
    return "–" if v is None else f"{v:.1f} ms"


def main(args: argparse.Namespace) -> int:
    """Run ``chromakey preview`` with parsed arguments (see :func:`add_arguments`)."""
    return Preview(args).run()


def _standalone(argv: Sequence[str] | None = None) -> int:
    """``python -m chromakey.app.preview …``, with the CLI's errors and exit statuses."""
    parser = Parser(prog="chromakey preview", description=__doc__.split("\n")[0])
    add_arguments(parser)
    argv = list(sys.argv[1:] if argv is None else argv)
    signals.install()
    try:
        return main(parser.parse_args(argv))
    except ChromakeyError as exc:
        print(f"chromakey: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt as exc:
        return signals.exit_status(exc)


if __name__ == "__main__":
    sys.exit(_standalone())
