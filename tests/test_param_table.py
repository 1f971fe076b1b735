"""The one parameter table (keying.param_table): it fills every settings slot of the kernels'
vectors once, generates the shaders' declarations, and an upload of an undeclared name
raises instead of being skipped."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from chromakey.core.params import KeyerParams
from chromakey.keying import param_table as table
from chromakey.keying.gpu.glsl import ShaderError, ShaderLibrary, default_root
from chromakey.keying.gpu.uploads import _set


def test_the_table_fills_every_float_slot_once_and_every_settings_int_slot_once():
    floats: Counter[int] = Counter()
    ints: Counter[int] = Counter()
    p = KeyerParams()
    for row in table.TABLE:
        if row.slot is not None:
            assert row.kernel is not None, row.name
            floats.update(range(row.slot, row.slot + len(row.kernel(p))))
        if row.islot is not None:
            ints[row.islot] += 1
    assert floats == Counter(range(table.N_PARAMS))
    assert ints == Counter(table.SETTINGS_INTS)


def test_names_are_unique_and_every_uniform_is_read_by_a_shader():
    names = [row.name for row in table.TABLE]
    assert len(names) == len(set(names))
    root = default_root()
    text = "\n".join(
        n.read_text(encoding="utf-8") for n in root.iterdir() if n.name.endswith(".glsl")
    )
    for row in table.TABLE:
        if row.glsl is not None:
            assert re.search(rf"\b{row.name}\b", text), f"no shader reads {row.name}"
            assert not re.search(rf"uniform\s+\w+\s+{row.name}\b", text), (
                f"{row.name} is declared by hand as well as by the table"
            )


def test_the_generated_declarations_are_the_tables_uniforms():
    declared = dict(
        (m.group(2), m.group(1))
        for m in re.finditer(r"^uniform (\w+) (\w+);", table.settings_glsl(), re.M)
    )
    assert declared == {row.name: row.glsl for row in table.TABLE if row.glsl is not None}
    assert set(table.uniforms(KeyerParams())) == set(declared)
    assert set(declared) <= ShaderLibrary().declared_uniforms()


def test_a_changed_setting_changes_its_uniform_and_its_kernel_slots():
    base, changed = KeyerParams(), KeyerParams(sat_min=0.3, spill_radius=3)
    u0, u1 = table.uniforms(base), table.uniforms(changed)
    assert u0["sat_min"] != u1["sat_min"] and u0["hue_center"] == u1["hue_center"]
    f0, i0, _ = table.kernel_vectors(base)
    f1, i1, _ = table.kernel_vectors(changed)
    assert f0[table.P_SAT_E0] != f1[table.P_SAT_E0] and i0[table.I_SPILL_R] != i1[table.I_SPILL_R]
    assert f0.dtype == np.float32 and i0.dtype == np.int64


def test_an_upload_of_a_name_no_shader_declares_raises(gl_ctx):
    lib = ShaderLibrary()
    prog = lib.program(gl_ctx, "fullscreen.vert.glsl", "present.frag.glsl")
    try:
        _set(prog, "hue_center", 120.0)  # declared (settings.glsl), dropped by this pass: fine
        _set(prog, "mode", 1)  # declared and read: set
        assert prog["mode"].value == 1
        with pytest.raises(ShaderError, match="hue_centre"):
            _set(prog, "hue_centre", 120.0)  # a typo: no shader declares it
    finally:
        prog.release()


def test_a_generated_include_is_named_in_compile_errors(gl_ctx, tmp_path):
    (tmp_path / "bad.frag.glsl").write_text(
        '#version 330 core\n#include "settings.glsl"\nout vec4 c;\nvoid main() { c = vec4(nope); }\n'
    )
    (tmp_path / "fullscreen.vert.glsl").write_text(
        (default_root() / "fullscreen.vert.glsl").read_text(encoding="utf-8")
    )
    with pytest.raises(ShaderError, match=r"bad\.frag\.glsl:4"):
        ShaderLibrary(tmp_path).program(gl_ctx, "fullscreen.vert.glsl", "bad.frag.glsl")
    src = ShaderLibrary(tmp_path).source("bad.frag.glsl")
    assert "settings.glsl (generated)" in src.files
