"""GLSL sources: found in the installed wheel or the checkout, includes resolved, errors mapped.

The shaders live in the top-level ``shaders/`` directory of a checkout and ship in the wheel
as the package ``chromakey.shaders`` (see pyproject.toml). This module is the loader; it is
not called ``chromakey/shaders.py`` because in an installed wheel that module would be
shadowed by the package ``chromakey/shaders/``.

``#include "name.glsl"`` pulls in a file from the same directory (each file once per
shader, so shared includes may be included from several places). Every file's lines are
announced with a ``#line`` directive whose line number carries the file's index
(``index * LINE_STRIDE + line``): Mesa reports the source-string number of ``#line`` only for
syntax errors, never for semantic ones, while the line number always comes through. A
compile or link failure becomes a :class:`ShaderError` that names the original file and line.

Constants that Python owns (chromakey.keying.gpu.shader_defines: MIN_RAMP, EDGE_RADIUS …) reach the
GLSL as ``#define`` lines injected right after ``#version``, before the first ``#line`` marker,
so a value lives once (in Python) and every reported line number stays the file's own. A
shader that ``#define``s one of them itself fails to compile (a macro redefinition).
"""

from __future__ import annotations

import importlib.resources
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from ...core.errors import ChromakeyError
from ..param_table import SETTINGS_FILE, settings_glsl

SHADER_PACKAGE = "chromakey.shaders"
LINE_STRIDE = 100_000  # line numbers of file k are k·LINE_STRIDE + its own line numbers

_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*(?://.*)?$')
_VERSION = re.compile(r"^\s*#\s*version\b")
_UNIFORM = re.compile(r"^\s*uniform\s+\w+\s+(\w+)", re.M)
DECLARED = "declared_uniforms"  # the key of a program's ``extra`` that holds them

# Driver log formats: Mesa "0:12(5): error: …", NVIDIA "0(12) : error C1008: …",
# AMD / Apple / Intel on Windows "ERROR: 0:12: …".
_LOG_PATTERNS = (
    re.compile(r"^(?P<src>\d+):(?P<line>\d+)\((?P<col>\d+)\):\s*(?P<msg>.*)$"),
    re.compile(r"^(?P<src>\d+)\((?P<line>\d+)\)\s*:\s*(?P<msg>.*)$"),
    re.compile(r"^(?P<kind>ERROR|WARNING):\s*(?P<src>\d+):(?P<line>\d+):\s*(?P<msg>.*)$"),
)


class ShaderError(ChromakeyError, RuntimeError):
    """A shader is missing, or failed to compile or link; the message names file and line."""

    def __init__(self, message: str, locations: Sequence[SourceLocation] = ()) -> None:
        super().__init__(message)
        self.locations = list(locations)


@dataclass(frozen=True)
class SourceLocation:
    """Where a driver message points, in the original files."""

    file: str
    line: int
    column: int | None
    message: str

    def __str__(self) -> str:
        col = f":{self.column}" if self.column is not None else ""
        return f"{self.file}:{self.line}{col}: {self.message}"


@dataclass(frozen=True)
class ShaderSource:
    """One shader stage ready for the driver, and the files it was made of (by index)."""

    name: str
    text: str
    files: tuple[str, ...]
    first_index: int = 0

    def locate(self, line: int) -> tuple[str, int] | None:
        """A line number the driver reported → (original file, line), if it is one of ours."""
        index, own = divmod(line, LINE_STRIDE)
        k = index - self.first_index
        if 0 <= k < len(self.files):
            return self.files[k], own
        return None


def default_root() -> Traversable:
    """The shader directory: the installed package's, else the checkout's ``shaders/``."""
    try:
        root = importlib.resources.files(SHADER_PACKAGE)
        if root.joinpath("common.glsl").is_file():
            return root
    except (ModuleNotFoundError, TypeError, FileNotFoundError):
        pass
    checkout = Path(__file__).resolve().parents[3] / "shaders"
    if checkout.joinpath("common.glsl").is_file():
        return checkout
    raise ShaderError(
        f"the GLSL shaders were not found: neither the package {SHADER_PACKAGE} nor {checkout} "
        "holds common.glsl; reinstall chromakey (the wheel ships them) or run from a full checkout"
    )


Defines = Mapping[str, int | float]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def glsl_literal(value: int | float) -> str:
    """A Python number as a GLSL literal: ints stay integers, floats keep a point or exponent.

    repr gives the shortest text that reads back as the same double; the driver rounds it to
    float32 as numpy's F32(value) does.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if not all(ch in "0123456789.e+-" for ch in text):
        raise ShaderError(f"{value!r} is not a finite number and cannot be a GLSL constant")
    return text if any(ch in text for ch in ".e") else text + ".0"


def define_lines(defines: Defines) -> list[str]:
    """``#define NAME value`` for each constant, in a stable order."""
    lines = []
    for name in sorted(defines):
        if not _NAME.match(name):
            raise ShaderError(f"{name!r} is not a valid GLSL macro name")
        lines.append(f"#define {name} {glsl_literal(defines[name])}")
    return lines


class ShaderLibrary:
    """Reads shader files from one directory and builds moderngl programs from them.

    ``defines``: constants injected into every program this library builds (more can be
    given per :meth:`program`). ``generated``: includes made in Python rather than read from
    a file, by name; by default the settings' declarations (``settings.glsl``, from
    ``keying.param_table``).
    """

    def __init__(
        self,
        root: str | Path | Traversable | None = None,
        defines: Defines | None = None,
        generated: Mapping[str, str] | None = None,
    ) -> None:
        self.defines: dict[str, int | float] = dict(defines or {})
        if root is None:
            self.root: Traversable = default_root()
        elif isinstance(root, str):
            self.root = Path(root)
        else:
            self.root = root
        self.generated = dict({SETTINGS_FILE: settings_glsl()} if generated is None else generated)
        self._declared: frozenset[str] | None = None

    def declared_uniforms(self) -> frozenset[str]:
        """The names of every uniform any shader of the library declares: an upload of any
        other name is a mistake (a uniform a compiler dropped is still declared here)."""
        if self._declared is None:
            texts = list(self.generated.values())
            texts += [
                node.read_text(encoding="utf-8")
                for node in self.root.iterdir()
                if node.name.endswith(".glsl") and node.is_file()
            ]
            self._declared = frozenset(m.group(1) for t in texts for m in _UNIFORM.finditer(t))
        return self._declared

    def _display(self, name: str) -> str:
        if name in self.generated:
            return f"{name} (generated)"
        return str(self.root.joinpath(name))

    def _read(self, name: str, where: str | None) -> str:
        if name in self.generated:
            return self.generated[name]
        node = self.root.joinpath(name)
        if not node.is_file():
            origin = f"{where}: " if where else ""
            raise ShaderError(f"{origin}shader file {name!r} not found in {self.root}")
        return node.read_text(encoding="utf-8")

    def source(
        self, name: str, first_index: int = 0, defines: Defines | None = None
    ) -> ShaderSource:
        """The text of ``name`` with its includes expanded and ``#line`` markers added.

        ``defines`` go in after ``#version`` (added to the library's own).
        """
        injected = define_lines({**self.defines, **(defines or {})})
        files: list[str] = []
        seen: set[str] = set()
        out: list[str] = []

        def mark(index: int, line: int) -> str:
            return f"#line {(first_index + index) * LINE_STRIDE + line} {first_index + index}"

        def expand(fname: str, where: str | None, top: bool) -> None:
            seen.add(fname)
            text = self._read(fname, where)
            index = len(files)
            files.append(self._display(fname))
            lines = text.splitlines()
            start = 0
            if top:
                # #version must come first: copy everything up to it, then start numbering.
                for i, line in enumerate(lines):
                    if _VERSION.match(line):
                        out.extend(lines[: i + 1])
                        start = i + 1
                        break
                out.extend(injected)  # before the first #line: numbering stays the file's
            out.append(mark(index, start + 1))
            for i in range(start, len(lines)):
                line = lines[i]
                here = f"{files[index]}:{i + 1}"
                if _VERSION.match(line):
                    raise ShaderError(f"{here}: #version belongs only in the top-level shader")
                m = _INCLUDE.match(line)
                if m is None:
                    out.append(line)
                    continue
                included = m.group(1)
                if included not in seen:
                    expand(included, here, False)
                out.append(mark(index, i + 2))  # back in this file, at the line after

        expand(name, None, True)
        return ShaderSource(name, "\n".join(out) + "\n", tuple(files), first_index)

    def program(self, ctx: Any, vertex: str, fragment: str, defines: Defines | None = None) -> Any:
        """A linked moderngl program; a failure raises ShaderError naming file and line."""
        import moderngl

        vs = self.source(vertex, 0, defines)
        fs = self.source(fragment, len(vs.files), defines)
        try:
            prog = ctx.program(vertex_shader=vs.text, fragment_shader=fs.text)
        except moderngl.Error as exc:
            message, locations = translate_log(str(exc), (vs, fs))
            raise ShaderError(
                f"shader program {vertex} + {fragment} failed to build:\n{message}", locations
            ) from exc
        prog.extra = {DECLARED: self.declared_uniforms()}  # what uploads.set_uniform checks
        return prog


def translate_log(log: str, sources: Sequence[ShaderSource]) -> tuple[str, list[SourceLocation]]:
    """Rewrite a driver's compile/link log so that each message names the original file."""
    lines: list[str] = []
    found: list[SourceLocation] = []
    for raw in log.splitlines():
        text = raw.strip()
        if not text or set(text) <= {"="} or text in ("vertex_shader", "fragment_shader"):
            continue
        if text.startswith(("GLSL Compiler failed", "GLSL Linker failed")):
            continue
        loc = None
        for pattern in _LOG_PATTERNS:
            m = pattern.match(text)
            if m is None:
                continue
            line = int(m.group("line"))
            for src in sources:
                hit = src.locate(line)
                if hit is not None:
                    col = m.groupdict().get("col")
                    msg = m.group("msg")
                    if m.groupdict().get("kind"):
                        msg = f"{m.group('kind').lower()}: {msg}"
                    loc = SourceLocation(hit[0], hit[1], int(col) if col else None, msg)
                    break
            break
        if loc is not None:
            found.append(loc)
            lines.append(str(loc))
        else:
            lines.append(text)
    return "\n".join(lines), found
