"""The hostile-value catalogue: names, specs and manifests built to break us (too long, too
deep, escape sequences, devices, a redirect loop, an SVG) each get their documented exit
status and one escaped line, quickly, with nothing of the user's changed. The next case is
one line in the table of its surface (render inputs, backgrounds, manifests); a file a case
needs is one entry in FILES."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading

import pytest

from media import write_clip
from refusals import assert_refused, fill, run_cli, snapshot

DEEP = "[" * 100_000
ESCAPES = "\x1b[31mred\x1b]0;pwned\x07\nsecond line"

# Files the cases use, by name: text, or a line of a manifest (a dict, dumped as JSON).
FILES = {
    "bg.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" '
    'height="8" fill="red"/></svg>',
    "deep.json": '{"type": "color", "value": ' + DEEP,
    "deep-background.jsonl": '{"input": "in.mp4", "output": "x.mp4", "background": ' + DEEP,
    "deep-params.jsonl": '{"input": "in.mp4", "output": "x.mp4", "params": {"spill": ' + DEEP,
    "deep-line.jsonl": DEEP,
    "deep-bg-file.jsonl": {"input": "in.mp4", "output": "x.mp4", "background": "deep.json"},
    "huge-colour.jsonl": {
        "input": "in.mp4",
        "output": "x.mp4",
        "background": "#" + "f" * 10_000_000,
    },
    "escaped-colour.jsonl": {"input": "in.mp4", "output": "x.mp4", "background": ESCAPES},
    "huge-path.jsonl": {"input": "a/" * 5_000_000 + "x.mp4", "output": "x.mp4"},
    "long-name.jsonl": {"input": "x" * 300 + ".mp4", "output": "x.mp4"},
    "long-output.jsonl": {"input": "in.mp4", "output": "x" * 300 + ".mp4"},
    "no-output.jsonl": {"input": "in.mp4"},
    "huge-param.jsonl": {"input": "in.mp4", "output": "x.mp4", "params": {"spill": "\x1b" * 10**6}},
    "huge-key.jsonl": {"input": "in.mp4", "output": "x.mp4", "params": {"\x1b" * 10**6: 1}},
    "huge-fit.jsonl": {"input": "in.mp4", "output": "x.mp4", "fit": "\x1b" * 10**6},
}

# Each table: (arguments, exit status, words of the refusal). $loop is a URL that redirects
# to itself, $dir the user's folder.
RENDER_INPUTS = [
    (["render", "x" * 300 + ".mp4", "-o", "o.mp4"], 2, "longer than this system allows (255)"),
    (["render", "a/" * 3000 + "x.mp4", "-o", "o.mp4"], 2, "longer than this system allows (4095)"),
    (["render", "in.mp4", "-o", "x" * 300 + ".mp4"], 2, "longer than this system allows (255)"),
    (["render", "fifo", "-o", "o.mp4"], 4, "a device or a pipe, not a regular file"),
    (["render", "/dev/zero", "-o", "o.mp4"], 4, "stream it into standard input with -"),
    (["render", "/dev/urandom", "-o", "o.mp4"], 4, "a device or a pipe"),
    (
        ["render", ESCAPES + ".mp4", "-o", "o.mp4"],
        3,
        r"\x1b[31mred\x1b]0;pwned\x07\nsecond line.mp4: no such",
    ),
    (
        ["render", "in.mp4", "-o", ESCAPES + ".avi"],
        2,
        r"\x1b[31mred\x1b]0;pwned\x07\nsecond line.avi: unknown",
    ),
]

BACKGROUNDS = [
    (
        ["render", "in.mp4", "-o", "o.mp4", "-b", '{"type": "video", "url": ' + DEEP],
        2,
        "nests deeper",
    ),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "deep.json"], 2, "deep.json nests deeper than 32"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "bg.svg"], 4, "cannot decode this picture (an SVG"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", '{"type": "image", "url": "bg.svg"}'], 4, "an SVG"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "/dev/zero"], 4, "a device or a pipe"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "x" * 300], 2, "invalid colour 'xxx"),
    (
        ["render", "in.mp4", "-o", "o.mp4", "-b", "x" * 300 + ".png"],
        2,
        "the background has a name 304",
    ),
    (
        ["render", "in.mp4", "-o", "o.mp4", "-b", "x" * 300 + ".json"],
        2,
        "the background has a name 305",
    ),
    (["render", "in.mp4", "-o", "o.mp4", "-b", ESCAPES], 2, r"invalid colour '\x1b[31mred"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "#" + "f" * 100_000], 2, "(100001 characters)"),
    (["render", "in.mp4", "-o", "o.mp4", "-b", "$loop"], 4, "redirects in a loop"),
]

MANIFESTS = [
    (
        ["batch", "huge-param.jsonl"],
        2,
        r"field 'params': spill must be a number in [0, 1], got '\x1b",
    ),
    (["batch", "huge-key.jsonl"], 2, r"field 'params.\x1b\x1b"),
    (["batch", "huge-fit.jsonl"], 2, "(1000000 characters)' is not known"),
    (
        ["batch", "deep-background.jsonl"],
        2,
        "deep-background.jsonl:1: field 'background': nests deeper",
    ),
    (["batch", "deep-params.jsonl"], 2, "deep-params.jsonl:1: field 'params': nests deeper"),
    (["batch", "deep-line.jsonl"], 2, "deep-line.jsonl:1: nests deeper than 32 levels"),
    (["batch", "deep-bg-file.jsonl"], 2, "field 'background': $dir/deep.json nests deeper"),
    (["batch", "huge-colour.jsonl"], 2, "(10000001 characters)"),
    (["batch", "escaped-colour.jsonl"], 2, r"invalid colour '\x1b[31mred"),
    (["batch", "huge-path.jsonl"], 2, "field 'input': a/a/a/"),
    (["batch", "long-name.jsonl"], 2, "field 'input': xxx"),
    (["batch", "long-output.jsonl"], 2, "field 'output': xxx"),
    (["batch", "no-output.jsonl", "--name", "{"], 2, "--name '{': Single '{'"),
    (
        ["batch", "no-output.jsonl", "--name", "{stem}" + "x" * 300],
        2,
        "gives a name 302 bytes long",
    ),
    (["batch", "in.mp4", "-o", "out", "--name", "{stem"], 2, "--name '{stem'"),
]


class _Loop(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(302)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def loop_url():
    """A real HTTP server on loopback whose every answer redirects to itself."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Loop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bg.mp4"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "c.mp4", frames=4, width=64, height=36)


def user_folder(root, clip):
    shutil.copy(clip, root / "in.mp4")
    os.mkfifo(root / "fifo")
    for name, content in FILES.items():
        text = json.dumps(content) if isinstance(content, dict) else content
        (root / name).write_text(text + "\n")


def refused(args, status, words, folder, clip, loop_url):
    """Run a case in a fresh user folder: refused as the table says, the folder unchanged."""
    user_folder(folder, clip)
    before = snapshot(folder)
    values = {"dir": str(folder), "loop": loop_url}
    result = run_cli([*fill(args, values), "--backend", "cpu"], cwd=folder, timeout=60)
    line = assert_refused(result, status, fill([words], values)[0])
    assert not any(ord(c) < 0x20 for c in line), line[:500]  # escaped: no control character
    assert snapshot(folder) == before


def ids(table):
    return [" ".join(a)[:60] for a, _, _ in table]


@pytest.mark.parametrize(("args", "status", "words"), RENDER_INPUTS, ids=ids(RENDER_INPUTS))
def test_a_hostile_input_or_output_name(args, status, words, tmp_path, clip, loop_url):
    refused(args, status, words, tmp_path, clip, loop_url)


@pytest.mark.parametrize(("args", "status", "words"), BACKGROUNDS, ids=ids(BACKGROUNDS))
def test_a_hostile_background(args, status, words, tmp_path, clip, loop_url):
    refused(args, status, words, tmp_path, clip, loop_url)


@pytest.mark.parametrize(("args", "status", "words"), MANIFESTS, ids=ids(MANIFESTS))
def test_a_hostile_manifest_or_batch_option(args, status, words, tmp_path, clip, loop_url):
    refused(args, status, words, tmp_path, clip, loop_url)


def test_a_folder_with_names_that_are_not_utf8_is_keyed_and_recorded(tmp_path, clip):
    src = tmp_path / "in"
    src.mkdir()
    names = [b"l\xffsson.mp4", b"new\nline\x1b[31m.mp4"]
    for name in names:
        shutil.copy(clip, os.path.join(os.fsencode(src), name))
    out = tmp_path / "out"
    result = run_cli(["batch", str(src), "-o", str(out), "--backend", "cpu"], timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    assert b"\x1b" not in result.stdout + result.stderr
    keyed = sorted(n for n in os.listdir(os.fsencode(out)) if n.endswith(b"-keyed.mp4"))
    assert keyed == sorted(n[:-4] + b"-keyed.mp4" for n in names)
    lines = (out / "results.jsonl").read_bytes().decode("utf-8").splitlines()
    records = [json.loads(x) for x in lines]
    assert sorted(os.fsencode(r["input"]) for r in records) == sorted(
        os.path.join(os.fsencode(src), n) for n in names
    )
    assert {r["status"] for r in records} == {"done"}
    again = run_cli(["batch", str(src), "-o", str(out), "--backend", "cpu"], timeout=300)
    assert again.returncode == 0 and b"2 skipped" in again.stdout, again.stdout
