"""The preview's glfw window: an OpenGL 3.3 core context current on this thread, keys
collected for the loop, and the typed error where there is no display."""

from __future__ import annotations

import os
from typing import Any

from ..core.errors import BackendUnavailableError


def _no_display(why: str) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"no display for the preview window ({why}); run it under a virtual display with "
        "'xvfb-run -a chromakey preview …', or write a file with 'chromakey render'"
    )


def require_display() -> None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise _no_display("DISPLAY and WAYLAND_DISPLAY are not set")


class Window:
    """A glfw window with an OpenGL 3.3 core context current on this thread."""

    def __init__(self, width: int, height: int, title: str) -> None:
        require_display()
        import glfw

        self.glfw = glfw
        errors: list[str] = []
        glfw.set_error_callback(lambda code, msg: errors.append(_text(msg)))
        if not glfw.init():
            raise _no_display(f"glfw cannot start: {errors[-1] if errors else 'unknown error'}")
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.DOUBLEBUFFER, True)
        self.handle = glfw.create_window(width, height, title, None, None)
        if not self.handle:
            glfw.terminate()
            raise BackendUnavailableError(
                "cannot open an OpenGL 3.3 window "
                f"({errors[-1] if errors else 'unknown error'}); install Mesa (Debian/Ubuntu: "
                "apt-get install -y libgl1 libegl1) or write a file with 'chromakey render'"
            )
        glfw.make_context_current(self.handle)
        glfw.swap_interval(0)  # frames are paced by their timestamps, not by the display
        self.keys: list[tuple[int, int]] = []
        self.exposed = False  # resized or uncovered: draw again
        glfw.set_key_callback(self.handle, self._on_key)
        glfw.set_window_refresh_callback(self.handle, self._on_expose)
        glfw.set_framebuffer_size_callback(self.handle, lambda *a: self._on_expose())

    def _on_expose(self, *args: Any) -> None:
        self.exposed = True

    def _on_key(self, win: Any, key: int, scancode: int, action: int, mods: int) -> None:
        if action in (self.glfw.PRESS, self.glfw.REPEAT):
            self.keys.append((key, mods))

    def close(self) -> None:
        self.glfw.destroy_window(self.handle)
        self.glfw.terminate()


def _text(msg: Any) -> str:
    return msg.decode(errors="replace") if isinstance(msg, bytes) else str(msg)
