"""The output catalogue: an output (or batch's results file) that is something of the user's
(an input, a background in any form, the manifest, the results file, a folder), however it
is spelled (a relative path, a symbolic or hard link), is refused with exit status 2 and one
line, before anything is written. The next case is one line in CASES."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from media import write_clip
from refusals import assert_refused, fill, run_cli, snapshot

# (arguments with $names of the files the fixture makes, the words of the refusal)
CASES = [
    (["render", "in.mp4", "-b", "bg.mp4", "-o", "bg.mp4"], "the output is the background"),
    (["render", "in.mp4", "-b", "bg.mp4", "-o", "./bg.mp4"], "the output is the background"),
    (["render", "in.mp4", "-b", "$dir/bg.mp4", "-o", "bg.mp4"], "the output is the background"),
    (["render", "in.mp4", "-b", "bg.mp4", "-o", "hard.mp4"], "the output is the background"),
    (["render", "in.mp4", "-b", "bg.mp4", "-o", "link.mp4"], "the output is the background"),
    (
        ["render", "in.mp4", "-b", '{"type": "video", "url": "bg.mp4"}', "-o", "bg.mp4"],
        "is the background",
    ),
    (
        ["render", "in.mp4", "-b", '{"type": "image", "url": "00001.png"}', "-o", "%05d.png"],
        "is the background",
    ),
    (["render", "in.mp4", "-b", "00001.png", "-o", "$dir/%05d.png"], "is the background"),
    (["render", "in.mp4", "-b", "bg.json", "-o", "bg.mp4"], "the output is the background"),
    (
        ["render", "in.mp4", "-b", "bg.json", "--format", "nut", "-o", "bg.json"],
        "the output is the background",
    ),
    (["render", "in.mp4", "-o", "in-link.mp4"], "the output is the input"),
    (["render", "in.mp4", "-o", "folder/"], "the output is a folder"),
    (["render", "in.mp4", "--format", "nut", "-o", "folder"], "the output is a folder"),
    (
        ["batch", "lessons", "-o", "out", "--results", "lessons/lesson.mp4"],
        "--results is the input",
    ),
    (
        ["batch", "lessons", "-o", "out", "-b", "bg.mp4", "--results", "bg.mp4"],
        "--results is the background",
    ),
    (
        ["batch", "lessons", "-o", "out", "--results", "out/lesson-keyed.mp4"],
        "the output is the results file",
    ),
    (["batch", "jobs.jsonl", "--results", "jobs.jsonl"], "--results is the manifest"),
    (["batch", "jobs.jsonl", "--results", "folder"], "--results is a folder"),
    (["batch", "to-bg.jsonl"], "field 'output': $dir/bg.mp4: the output is the background of"),
    (["batch", "to-default-bg.jsonl", "-b", "bg.mp4"], "the output is the background of"),
    (["batch", "to-bg-json.jsonl"], "the output is the background of"),
    (["batch", "to-input.jsonl"], "the output is the input of"),
    (["batch", "to-manifest.jsonl"], "the output is the manifest"),
    (
        ["batch", "to-folder.jsonl"],
        "the output is a folder; give the job a file name (-o names the folder",
    ),
    (
        ["batch", "to-slash.jsonl"],
        "field 'output': $dir/new/: the output is a folder; give the job",
    ),
    (["batch", "lessons", "-o", "out", "--name", "../lessons/lesson.mp4"], "a file name is needed"),
]


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "c.mp4", frames=4, width=64, height=36)


def user_folder(root, clip):
    """What a user has: videos, a background in every form, links, manifests."""
    for name in ("in.mp4", "bg.mp4", "lessons/lesson.mp4", "out/lesson-keyed.mp4"):
        (root / name).parent.mkdir(exist_ok=True)
        shutil.copy(clip, root / name)
    shutil.copy(clip, root / "00001.png")  # a background image named like a PNG frame
    os.link(root / "bg.mp4", root / "hard.mp4")
    os.symlink("bg.mp4", root / "link.mp4")
    os.symlink("in.mp4", root / "in-link.mp4")
    (root / "folder").mkdir()
    (root / "bg.json").write_text(json.dumps({"type": "video", "url": "bg.mp4"}))
    lines = {
        "jobs.jsonl": {"input": "in.mp4", "output": "x.mp4"},
        "to-bg.jsonl": {"input": "in.mp4", "output": "bg.mp4", "background": "bg.mp4"},
        "to-default-bg.jsonl": {"input": "in.mp4", "output": "hard.mp4"},
        "to-bg-json.jsonl": {"input": "in.mp4", "output": "bg.mp4", "background": "bg.json"},
        "to-input.jsonl": {"input": "in.mp4", "output": "in-link.mp4"},
        "to-manifest.jsonl": {"input": "in.mp4", "output": "to-manifest.jsonl"},
        "to-folder.jsonl": {"input": "in.mp4", "output": "folder"},
        "to-slash.jsonl": {"input": "in.mp4", "output": "new/"},
    }
    for name, line in lines.items():
        (root / name).write_text(json.dumps(line) + "\n")


@pytest.mark.parametrize(("args", "words"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_an_output_is_never_something_of_the_users(args, words, tmp_path, clip):
    user_folder(tmp_path, clip)
    before = snapshot(tmp_path)
    values = {"dir": str(tmp_path)}
    result = run_cli([*fill(args, values), "--backend", "cpu"], cwd=tmp_path)
    assert_refused(result, 2, fill([words], values)[0])
    assert snapshot(tmp_path) == before
