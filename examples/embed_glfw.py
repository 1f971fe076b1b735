"""A host application that embeds chromakey: its own window, context and scene, plus an avatar.

The host owns the glfw window and the moderngl context and draws its own scene (a turning
colour grid); chromakey's LiveCompositor keys the avatar into a texture of that same
context, and the host draws it as a quad, blended (straight alpha) over the scene.

    python examples/embed_glfw.py                 # a window; the built-in sample avatar
    python examples/embed_glfw.py avatar.mp4      # your own green-screen clip or stream URL
    python examples/embed_glfw.py --headless --frames 20 --output shot.png

``--headless`` uses a standalone EGL context and an offscreen framebuffer instead of a
window, writes the last frame to a PNG and checks its pixels: where the avatar is keyed
out the host's scene shows through unchanged, where the subject is its pixels show.
Exit status 0 when the checks pass.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import moderngl
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if (ROOT / "chromakey" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # run from a checkout: use its chromakey

from chromakey.io.sources import open_source  # noqa: E402
from chromakey.live import LiveCompositor  # noqa: E402

SCENE_VERT = """
#version 330 core
out vec2 uv;
void main() {
    vec2 p = vec2((gl_VertexID << 1) & 2, gl_VertexID & 2);
    uv = p;
    gl_Position = vec4(2.0 * p - 1.0, 0.0, 1.0);
}
"""
# The host's own scene: a turning grid in purples and oranges (no green).
SCENE_FRAG = """
#version 330 core
in vec2 uv;
out vec4 color;
uniform float angle;
uniform vec2 size;
void main() {
    vec2 p = (gl_FragCoord.xy - 0.5 * size) / size.y;
    float c = cos(angle), s = sin(angle);
    p = mat2(c, -s, s, c) * p;
    vec2 cell = floor(p * 6.0);
    float check = mod(cell.x + cell.y, 2.0);
    vec3 a = vec3(0.45, 0.20, 0.60), b = vec3(0.95, 0.55, 0.20);
    color = vec4(mix(a, b, check) * (0.75 + 0.25 * uv.y), 1.0);
}
"""
# The avatar, 1:1 in pixels: texelFetch, row 0 of chromakey's texture is the picture's top.
AVATAR_FRAG = """
#version 330 core
out vec4 color;
uniform sampler2D avatar;
uniform ivec2 origin;  // the quad's lower-left corner in window pixels
void main() {
    ivec2 size = textureSize(avatar, 0);
    ivec2 p = ivec2(gl_FragCoord.xy) - origin;
    color = texelFetch(avatar, ivec2(p.x, size.y - 1 - p.y), 0);
}
"""


class Host:
    """Everything the host draws, in its own context."""

    def __init__(self, ctx: moderngl.Context, size: tuple[int, int]) -> None:
        self.ctx = ctx
        self.size = size
        self.scene = ctx.program(vertex_shader=SCENE_VERT, fragment_shader=SCENE_FRAG)
        self.quad = ctx.program(vertex_shader=SCENE_VERT, fragment_shader=AVATAR_FRAG)
        self.scene_vao = ctx.vertex_array(self.scene, [])
        self.quad_vao = ctx.vertex_array(self.quad, [])

    def avatar_rect(self, tex: moderngl.Texture) -> tuple[int, int, int, int]:
        """Bottom-right of the window, 1:1, as (x, y, w, h) with y from the bottom."""
        w, h = self.size
        return max(0, w - tex.width - 16), 16, tex.width, tex.height

    def draw(self, target: moderngl.Framebuffer, t: float, tex: moderngl.Texture | None) -> None:
        w, h = self.size
        target.use()
        self.ctx.viewport = (0, 0, w, h)
        self.ctx.disable(moderngl.BLEND)
        self.scene["angle"].value = 0.3 * t
        self.scene["size"].value = (float(w), float(h))
        self.scene_vao.render(moderngl.TRIANGLES, vertices=3)
        if tex is None:
            return
        x, y, aw, ah = self.avatar_rect(tex)
        self.ctx.viewport = (x, y, aw, ah)
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA  # straight alpha
        tex.use(0)
        self.quad["avatar"].value = 0
        self.quad["origin"].value = (x, y)
        self.quad_vao.render(moderngl.TRIANGLES, vertices=3)
        self.ctx.disable(moderngl.BLEND)
        self.ctx.viewport = (0, 0, w, h)


def sample_clip(folder: str) -> str:
    from chromakey.sample import SampleSpec, write_sample

    path = Path(folder) / "avatar.mp4"
    write_sample(path, SampleSpec(width=320, height=180, fps=30, seconds=2), audio=False)
    return str(path)


def run_window(args: argparse.Namespace, clip: str) -> int:
    import glfw

    if not glfw.init():
        print(
            "no display: try --headless, or xvfb-run -a python examples/embed_glfw.py",
            file=sys.stderr,
        )
        return 6
    for hint, value in (
        (glfw.CONTEXT_VERSION_MAJOR, 3),
        (glfw.CONTEXT_VERSION_MINOR, 3),
        (glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE),
        (glfw.OPENGL_FORWARD_COMPAT, True),
    ):
        glfw.window_hint(hint, value)
    win = glfw.create_window(*args.size, "host app with a chromakey avatar", None, None)
    glfw.make_context_current(win)
    ctx = moderngl.create_context()  # the host's context; chromakey uses it as it is
    host = Host(ctx, args.size)
    live = LiveCompositor(ctx, background="transparent")
    live.attach(open_source(clip), own=True)
    start = time.perf_counter()
    try:
        while not glfw.window_should_close(win) and not live.ended:
            tex = live.update()  # never blocks; the last frame again if nothing is due
            host.size = glfw.get_framebuffer_size(win)
            host.draw(ctx.screen, time.perf_counter() - start, tex)
            glfw.swap_buffers(win)
            glfw.poll_events()
            time.sleep(0.005)
        print(live.stats.summary())
    finally:
        live.close()
        glfw.terminate()
    return 0


def run_headless(args: argparse.Namespace, clip: str) -> int:
    from chromakey.gpu import create_context
    from chromakey.io.sinks import write_png

    ctx = create_context("standalone")  # EGL; llvmpipe without a GPU
    w, h = args.size
    target = ctx.simple_framebuffer((w, h), components=4)
    host = Host(ctx, (w, h))
    live = LiveCompositor(ctx, background="transparent")
    live.attach(open_source(clip), own=True)
    t = 0.0
    try:
        deadline = time.perf_counter() + 30.0
        while live.stats.shown < args.frames and not live.ended:
            if time.perf_counter() > deadline:
                print("FAIL: no frames within 30 s", file=sys.stderr)
                return 1
            tex = live.update()
            if not live.changed:
                time.sleep(0.002)
                continue
            t = live.current.time
            host.draw(target, t, tex)
        tex = live.texture
        assert tex is not None and live.current is not None
        host.draw(target, t, tex)
        shot = _read(target, w, h)
        write_png(args.output, shot)
        host.draw(target, t, None)
        scene = _read(target, w, h)
        alpha = np.frombuffer(tex.read(), np.uint8).reshape(tex.height, tex.width, 4)
        x, y, aw, ah = host.avatar_rect(tex)
        top = h - (y + ah)  # the quad's top row in image rows
        region = (slice(top, top + ah), slice(x, x + aw))
        ok = _check(shot[region], scene[region], alpha)
        outside = np.ones((h, w), bool)
        outside[region] = False
        same_outside = bool((shot[outside] == scene[outside]).all())
        print(f"avatar {aw}x{ah} at x={x} y={top} (from the top); frame {live.current.index}")
        print(f"check scene-outside-avatar: {'ok' if same_outside else 'FAIL'}")
        print(f"wrote {args.output}; {live.stats.summary()}")
        return 0 if ok and same_outside else 1
    finally:
        live.close()
        target.release()
        ctx.release()


def _read(target: moderngl.Framebuffer, w: int, h: int) -> np.ndarray:
    data = target.read(components=3, alignment=1)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()  # bottom-up → top-down


def _check(shot: np.ndarray, scene: np.ndarray, avatar: np.ndarray) -> bool:
    """Keyed-out pixels show the scene; solid subject pixels show the avatar."""
    a = avatar[..., 3]
    clear, solid = a == 0, a == 255
    diff = np.abs(shot.astype(int) - scene.astype(int)).max(axis=2)
    own = np.abs(shot.astype(int) - avatar[..., :3].astype(int)).max(axis=2)
    scene_ok = clear.mean() > 0.3 and int(diff[clear].max()) <= 1
    avatar_ok = solid.mean() > 0.05 and int(own[solid].max()) <= 1
    changed = (diff[solid] > 8).mean() > 0.9  # the subject really covers the scene
    print(
        f"check host-scene-where-keyed-out: {'ok' if scene_ok else 'FAIL'} ({int(clear.sum())} px)"
    )
    print(
        f"check avatar-where-subject: {'ok' if avatar_ok and changed else 'FAIL'} ({int(solid.sum())} px)"
    )
    return scene_ok and avatar_ok and changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("video", nargs="?", help="green-screen clip or URL [the built-in sample]")
    parser.add_argument("--headless", action="store_true", help="EGL, offscreen, PNG, checks")
    parser.add_argument("--frames", type=int, default=10, help="headless: frames to show [10]")
    parser.add_argument("--output", default="embed.png", help="headless: the PNG [embed.png]")
    parser.add_argument("--size", default="640x360", help="WIDTHxHEIGHT [640x360]")
    args = parser.parse_args(argv)
    args.size = tuple(int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        clip = args.video or sample_clip(tmp)
        return run_headless(args, clip) if args.headless else run_window(args, clip)


if __name__ == "__main__":
    sys.exit(main())
