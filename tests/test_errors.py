"""The error hierarchy's structured fields: what a caller can act on without parsing text."""

from __future__ import annotations

import errno

import pytest

from chromakey import InputError, InputNotFoundError, OutputError
from chromakey.io.media import output_error
from chromakey.io.sinks import VideoFileSink
from chromakey.io.sources import VideoSource


def test_a_corrupt_input_carries_its_path_and_ffmpegs_words(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 4000)
    with pytest.raises(InputError) as info:
        VideoSource(bad)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.path == str(bad) and err.detail and err.detail in str(err)
    assert "\n" not in str(err)


def test_a_missing_input_is_a_file_not_found_error_with_its_path(tmp_path):
    with pytest.raises(InputNotFoundError) as info:
        VideoSource(tmp_path / "none.mp4")
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.path == str(tmp_path / "none.mp4")


def test_a_missing_output_folder_is_an_os_error_with_its_path(tmp_path):
    out = tmp_path / "nope" / "out.mp4"
    with pytest.raises(OutputError) as info:
        VideoFileSink(out, 64, 48)
    assert isinstance(info.value, OSError) and info.value.path == str(out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EDQUOT, "the disk is full"),
        (errno.EROFS, "cannot write in"),
        (errno.EACCES, "cannot write in"),
        (errno.EFBIG, "size"),
        (errno.EPIPE, "closed the pipe"),
    ],
)
def test_the_translator_keeps_the_os_errno(tmp_path, code, words):
    """The mapping the real file-system tests (test_output_faults) reach end to end."""
    err = output_error(OSError(code, "as the OS says"), "out.mp4", path=tmp_path / "out.mp4")
    assert isinstance(err, OutputError) and err.errno == code
    assert words in str(err) and err.detail == "as the OS says"
    assert "as the OS says" in str(err) or code == errno.EPIPE  # a pipe says it plainly
