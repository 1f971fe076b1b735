"""The shader loader: files found, includes resolved, errors named by original file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from chromakey.core.params import KeyerParams
from chromakey.keying.gpu import GpuKeyer, shader_defines
from chromakey.keying.gpu.glsl import (
    LINE_STRIDE,
    ShaderError,
    ShaderLibrary,
    default_root,
    glsl_literal,
    translate_log,
)

VERT = "fullscreen.vert.glsl"

GOOD_FRAG = """#version 330 core
// a pass for the tests
#include "lib.glsl"
out vec4 color;
void main() {
    color = vec4(helper(1.0));
}
"""

LIB = """// helpers
float helper(float x) {
    return x * 2.0;
}
"""


@pytest.fixture
def shader_dir(tmp_path: Path) -> Path:
    shutil.copy(Path(str(default_root())) / VERT, tmp_path / VERT)
    (tmp_path / "lib.glsl").write_text(LIB)
    (tmp_path / "good.frag.glsl").write_text(GOOD_FRAG)
    return tmp_path


def test_shaders_are_found_and_every_pass_builds(gl_ctx):
    root = default_root()
    assert root.joinpath("common.glsl").is_file()
    with GpuKeyer(KeyerParams(), ctx=gl_ctx) as keyer:
        assert keyer.backend == "gpu"


def test_includes_are_expanded_once_with_line_markers(shader_dir):
    lib = ShaderLibrary(shader_dir)
    src = lib.source("good.frag.glsl")
    assert src.files == (str(shader_dir / "good.frag.glsl"), str(shader_dir / "lib.glsl"))
    assert src.text.startswith("#version 330 core\n#line 2 0\n")
    assert f"#line {LINE_STRIDE + 1} 1" in src.text
    assert "#line 4 0" in src.text  # back in good.frag.glsl after the #include on line 3
    assert src.text.count("float helper") == 1
    assert src.locate(LINE_STRIDE + 3) == (str(shader_dir / "lib.glsl"), 3)


def test_good_program_links(gl_ctx, shader_dir):
    prog = ShaderLibrary(shader_dir).program(gl_ctx, VERT, "good.frag.glsl")
    prog.release()


def test_semantic_error_in_an_include_names_that_file_and_line(gl_ctx, shader_dir):
    (shader_dir / "lib.glsl").write_text(
        LIB.replace("return x * 2.0;", "return x * undefined_thing;")
    )
    with pytest.raises(ShaderError) as info:
        ShaderLibrary(shader_dir).program(gl_ctx, VERT, "good.frag.glsl")
    message = str(info.value)
    assert f"{shader_dir / 'lib.glsl'}:3" in message, message
    assert "undefined_thing" in message
    loc = info.value.locations[0]
    assert (Path(loc.file).name, loc.line) == ("lib.glsl", 3)


def test_syntax_error_in_the_main_file_names_it_and_the_line(gl_ctx, shader_dir):
    broken = GOOD_FRAG.replace("color = vec4(helper(1.0));", "color = vec4(helper(1.0))")
    (shader_dir / "broken.frag.glsl").write_text(broken)
    with pytest.raises(ShaderError) as info:
        ShaderLibrary(shader_dir).program(gl_ctx, VERT, "broken.frag.glsl")
    message = str(info.value)
    # The missing ';' is reported where the parser notices it: line 6 or the '}' on line 7.
    assert any(f"{shader_dir / 'broken.frag.glsl'}:{n}" in message for n in (6, 7)), message
    assert isinstance(info.value, RuntimeError)


def test_missing_include_names_the_including_line(shader_dir):
    (shader_dir / "bad.frag.glsl").write_text(GOOD_FRAG.replace("lib.glsl", "nope.glsl"))
    with pytest.raises(ShaderError, match=r"bad\.frag\.glsl:3: .*'nope\.glsl' not found"):
        ShaderLibrary(shader_dir).source("bad.frag.glsl")


def test_version_inside_an_include_is_refused(shader_dir):
    (shader_dir / "lib.glsl").write_text("#version 330 core\n" + LIB)
    with pytest.raises(ShaderError, match=r"lib\.glsl:1: #version"):
        ShaderLibrary(shader_dir).source("good.frag.glsl")


def test_other_drivers_log_formats_are_translated(shader_dir):
    src = ShaderLibrary(shader_dir).source("good.frag.glsl", first_index=1)
    lib_line = 2 * LINE_STRIDE + 3  # file index 1 (first_index) + 1 (lib.glsl), line 3
    nvidia = f'0({lib_line}) : error C1008: undefined variable "y"'
    amd = f"ERROR: 0:{lib_line}: 'y' : undeclared identifier"
    text, locs = translate_log(f"{nvidia}\n{amd}\nsomething else", [src])
    assert [(Path(x.file).name, x.line) for x in locs] == [("lib.glsl", 3), ("lib.glsl", 3)]
    assert "something else" in text


# --- constants: each lives once, in Python, and reaches the GLSL as a generated #define -------


def test_defines_go_in_after_version_and_keep_line_numbers(shader_dir):
    lib = ShaderLibrary(shader_dir, defines={"SCALE": 2.0})
    src = lib.source("good.frag.glsl", defines={"TAPS": 21, "EPS": 1e-6})
    head = src.text.splitlines()[:5]
    assert head == [
        "#version 330 core",
        "#define EPS 1e-06",
        "#define SCALE 2.0",
        "#define TAPS 21",
        "#line 2 0",
    ]
    # Only the top-level file gets them (an include sees them already).
    assert src.text.count("#define") == 3


def test_an_error_after_injected_defines_still_names_file_and_line(gl_ctx, shader_dir):
    (shader_dir / "lib.glsl").write_text(LIB.replace("return x * 2.0;", "return x * TAPS_MISSING;"))
    lib = ShaderLibrary(shader_dir, defines={"A": 1, "B": 0.5, "C": 3})
    with pytest.raises(ShaderError) as info:
        lib.program(gl_ctx, VERT, "good.frag.glsl", defines={"D": 4})
    loc = info.value.locations[0]
    assert (Path(loc.file).name, loc.line) == ("lib.glsl", 3), str(info.value)


def test_a_shader_that_redefines_a_python_constant_fails_to_build(gl_ctx, shader_dir):
    (shader_dir / "dup.frag.glsl").write_text(
        GOOD_FRAG.replace('#include "lib.glsl"', '#include "lib.glsl"\n#define TAPS 7')
    )
    with pytest.raises(ShaderError, match=r"dup\.frag\.glsl"):
        ShaderLibrary(shader_dir, defines={"TAPS": 21}).program(gl_ctx, VERT, "dup.frag.glsl")


@pytest.mark.parametrize(
    ("value", "text"),
    [(3, "3"), (2.0, "2.0"), (1e-6, "1e-06"), (1 / 512, "0.001953125"), (True, "1")],
)
def test_glsl_literals(value, text):
    assert glsl_literal(value) == text


def test_glsl_literal_refuses_what_glsl_cannot_spell():
    with pytest.raises(ShaderError):
        glsl_literal(float("inf"))


_NUMBER = re.compile(r"(?<![\w.])(\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![\w.])")


def _literals(text: str) -> list[str]:
    """The numeric literals of GLSL code, comments and #version lines left out."""
    code = re.sub(r"//[^\n]*", "", text)
    code = re.sub(r"^\s*#\s*version[^\n]*", "", code, flags=re.M)
    return [m.group(0) for m in _NUMBER.finditer(code)]


def test_no_shader_spells_out_a_shared_constant():
    """Every value shader_defines() generates is absent from the GLSL as a literal, and no
    shader #defines one of those names itself."""
    defines = shader_defines()
    # Small whole numbers (0, 1, 2 …, int or float) are arithmetic everywhere; the other
    # constants are the ones that were copied by hand, and 512 is ALPHA_VISIBLE's denominator.
    numbers = [float(v) for v in defines.values() if isinstance(v, (int, float))]
    shared = {v for v in numbers if not (v.is_integer() and 0 <= v <= 4)}
    shared |= {512.0}
    root = Path(str(default_root()))
    for path in sorted(root.glob("*.glsl")):
        text = path.read_text()
        for literal in _literals(text):
            assert float(literal) not in shared, (
                f"{path.name}: literal {literal} is a shared constant"
            )
        for name in defines:
            assert not re.search(rf"#\s*define\s+{name}\b", text), f"{path.name} defines {name}"
