"""The rules under the catalogues, called directly: what an output may overwrite, how a value
is quoted, how deep JSON may nest, how a name that is not UTF-8 is recorded."""

from __future__ import annotations

import json
import os

import pytest

from chromakey.batch.results import record_line
from chromakey.core.errors import ParameterError
from chromakey.core.jsontext import MAX_JSON_DEPTH, nested_deeper, too_deep
from chromakey.core.quote import MAX_MESSAGE, one_line, shown
from chromakey.io.safety import Protected, check_output, same_file
from chromakey.pipeline import render

from media import write_clip


def test_shown_escapes_and_cuts_with_the_length():
    assert shown("plain name.mp4") == "plain name.mp4"
    assert shown("a\nb\x1b[31m\x07") == r"a\nb\x1b[31m\x07"
    assert shown(os.fsdecode(b"l\xffx")) == r"l\xffx"
    long = shown("x" * 10_000_000)
    assert len(long) < 300 and long.endswith("(10000000 characters)")
    assert shown([[[[[[1]]]]]]) == "[[[[...]]]]"
    assert len(one_line("y" * 10**6)) < MAX_MESSAGE + 100


def test_json_depth_is_found_without_recursion():
    assert too_deep('{"a": [[1]], "b": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}') is None
    column, key = too_deep('{"input": "a.mp4", "params": ' + "[" * 100_000)
    assert key == "params" and column == len('{"input": "a.mp4", "params": ') + MAX_JSON_DEPTH
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    assert nested_deeper({"a": deep}) and not nested_deeper({"a": [[1]]})


def test_an_output_is_never_a_file_given_to_read(tmp_path):
    bg = tmp_path / "bg.png"
    bg.write_bytes(b"picture")
    os.link(bg, tmp_path / "hard.png")
    (tmp_path / "link.png").symlink_to("bg.png")
    protected = [Protected("the background", str(bg))]
    for output in ("hard.png", "link.png", "./bg.png"):
        with pytest.raises(ParameterError, match="is the background"):
            check_output(tmp_path / output, protected)
    os.link(bg, tmp_path / "frames-00007.png")  # a frame the pattern would write, linked to bg
    with pytest.raises(ParameterError, match="is the background"):
        check_output(str(tmp_path / "frames-%05d.png"), protected)
    check_output(tmp_path / "keyed.mp4", protected)  # anything else is fine
    assert not same_file("-", "-")
    with pytest.raises(ParameterError, match="is a folder"):
        check_output(str(tmp_path) + "/", protected)


def test_render_refuses_a_background_given_as_an_object(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", frames=2, width=32, height=32)
    bg = write_clip(tmp_path / "bg.mp4", frames=2, width=32, height=32)
    before = bg.read_bytes(), bg.stat().st_mtime_ns
    spec = {"type": "video", "url": str(bg)}
    with pytest.raises(ParameterError, match="the output is the background"):
        render(clip, bg, background=spec, backend="cpu")
    assert (bg.read_bytes(), bg.stat().st_mtime_ns) == before
    assert clip.exists()


def test_a_record_with_a_name_that_is_not_utf8_reads_back_as_that_name():
    name = os.fsdecode(b"/in/l\xffsson.mp4")
    line = record_line({"input": name, "output": "é.mp4"})
    line.encode("utf-8")  # the file stays UTF-8 text
    assert json.loads(line) == {"input": name, "output": "é.mp4"}
    assert "é" in record_line({"output": "é.mp4"})  # readable when it can be
