"""What a batch is made of: one ``Job`` per recording, from a JSON Lines manifest, a folder or a
glob, each checked before any work starts (checks.py)."""

from __future__ import annotations

import glob as _glob
import hashlib
import json
import os
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import InputNotFoundError, ParameterError
from ..core.jsontext import MAX_JSON_DEPTH, too_deep
from ..core.params import KeyerParams
from ..core.quote import quoted, shown
from ..io.names import NAME_MAX, check_path

if TYPE_CHECKING:
    from ..backgrounds.fit import Fit
    from ..backgrounds.play import PlayStyle

# The fields a manifest line may give; anything else is a typo worth stopping for.
FIELDS = ("input", "output", "background", "params", "fit", "play_style", "input_colour")
# What a job's input_colour object takes: InputColour.parse's words, as render's --input-* say them.
COLOUR_FIELDS = ("matrix", "range", "chroma_siting")
# What a folder holds that is worth keying (by extension, lower case).
VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".flv", ".nut", ".y4m", ".mxf"}
)
DEFAULT_NAME = "{stem}-keyed.mp4"
_TEMPLATE_KEYS = ("stem", "name", "ext", "index")
# Manifests are text of one object a line; a bigger one is not a manifest.
MAX_MANIFEST_BYTES = 64 * 1024 * 1024


class ManifestError(ParameterError):
    """One job of a batch is invalid: where (``source``, ``line``), which ``field``, and why."""

    def __init__(self, reason: str, *, source: str, line: int | None, field: str | None) -> None:
        self.reason = reason
        self.source = source
        self.line = line
        self.field = field
        where = shown(source) + (f":{line}" if line is not None else "")
        what = f" field {quoted(field)}:" if field else ""
        super().__init__(f"{where}:{what} {reason}")


@dataclass(frozen=True)
class Job:
    """One recording to key: everything a worker needs, as plain data (pickled to processes
    and Ray tasks). Paths are absolute, so any worker with the same view of the files agrees.

    ``background`` is anything ``render``'s ``background`` takes (a spec string or HeyGen's
    JSON object); ``params`` holds KeyerParams fields; ``input_colour`` what the input's YUV
    numbers mean, over its tags (COLOUR_FIELDS: InputColour.parse's words).
    """

    input: str
    output: str
    background: str | dict | None = None
    fit: Fit | None = None
    play_style: PlayStyle | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    input_colour: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<api>"  # where the job came from: a manifest, a folder, a glob
    line: int | None = None  # its line in a manifest

    @property
    def where(self) -> str:
        return self.source + (f":{self.line}" if self.line is not None else "")

    def fingerprint(self) -> str:
        """What the output depends on: the job's fields and the input file's size and time, so
        that a changed input or setting is redone on a re-run."""
        data = {k: v for k, v in asdict(self).items() if k in FIELDS}
        data["params"] = dict(sorted(dict(self.params).items()))
        if not self.input_colour:  # as before the field was: a re-run keeps what is done
            del data["input_colour"]
        try:
            st = os.stat(self.input)
            data["input_stat"] = [st.st_size, st.st_mtime_ns]
        except OSError:
            data["input_stat"] = None  # a URL, or a path this machine does not see
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def keyer_params(params: Mapping[str, Any]) -> KeyerParams:
    """A job's KeyerParams from the fields a line or option gave, as the CLI reads its own
    (a hue or saturation window given is kept as given)."""
    names = {f.name for f in fields(KeyerParams)}
    return KeyerParams.given({k: v for k, v in params.items() if k in names and v is not None})


@dataclass(frozen=True)
class Defaults:
    """What every job takes unless its manifest line says otherwise (the CLI's options)."""

    background: str | dict | None = None
    fit: Fit | None = None
    play_style: PlayStyle | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    input_colour: Mapping[str, Any] = field(default_factory=dict)
    outdir: str | None = None
    name: str = DEFAULT_NAME


def output_name(template: str, input_path: str, index: int) -> str:
    """``--name`` filled in for one input: {stem}, {name}, {ext} and {index} (from 1); a
    template that does not parse, or gives no file name or one too long, is a ParameterError."""
    p = Path(input_path.split("?", 1)[0].rstrip("/"))
    values = {"stem": p.stem, "name": p.name, "ext": p.suffix.lstrip("."), "index": index}
    shown_template = f"--name {quoted(template)}"
    try:
        for _, key, spec, _ in string.Formatter().parse(template):
            if key is None:
                continue
            if key not in _TEMPLATE_KEYS:
                raise ParameterError(
                    f"{shown_template}: unknown field {{{shown(key)}}}; use {', '.join('{' + k + '}' for k in _TEMPLATE_KEYS)}"
                )
            if spec and key != "index":
                raise ParameterError(
                    f"{shown_template}: only {{index}} takes a format like {{index:03d}}"
                )
        name = template.format(**values)
    except (ValueError, IndexError, KeyError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(
            f"{shown_template}: {shown(str(exc))}; write it like '{DEFAULT_NAME}'"
        ) from exc
    if not name or "/" in name or name in (".", ".."):
        raise ParameterError(
            f"{shown_template} gives {quoted(name)}: a file name is needed, not a path"
        )
    if len(os.fsencode(name)) > NAME_MAX:
        raise ParameterError(
            f"{shown_template} gives a name {len(os.fsencode(name))} bytes long, longer than this "
            f"system allows ({NAME_MAX}); use a shorter template"
        )
    return name


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def _is_url(text: str) -> bool:
    return _URL.match(text) is not None


def absolute(path: str, base: Path) -> str:
    """``path`` made absolute against ``base``; URLs and ``-`` stay as they are."""
    if _is_url(path) or path == "-":
        return path
    p = Path(path).expanduser()
    full = str(p if p.is_absolute() else (base / p).resolve())
    return (
        full + "/" if path.endswith("/") and not full.endswith("/") else full
    )  # a folder stays one


def _resolve_background(spec: Any, base: Path) -> Any:
    """A manifest's relative background path is relative to the manifest, as in a background
    .json file; a colour, a name, JSON text or a URL stays as it is."""
    if isinstance(spec, dict):
        spec = dict(spec)
        for key in ("url", "path"):
            loc = spec.get(key)
            if isinstance(loc, str) and loc.strip() and not _is_url(loc):
                spec[key] = absolute(loc.strip(), base)
        return spec
    if isinstance(spec, str):
        text = spec.strip()
        if text and not text.startswith(("{", "#")) and not _is_url(text):
            candidate = Path(text).expanduser()
            try:
                if not candidate.is_absolute() and (base / candidate).exists():
                    return str((base / candidate).resolve())
            except (OSError, ValueError):
                return spec  # no file by that name: parse_background says what it is
    return spec


def _sane(path: str, name: str, bad: Any) -> str:
    """``path`` when the system can take it as a name (io.names), else the field's error;
    checked before anything resolves it, which for a 10 MB path takes minutes."""
    if _is_url(path):
        return path
    try:
        return check_path(path, what=f"the {name}")
    except ParameterError as exc:
        raise bad(str(exc), name) from exc


def from_mapping(
    entry: Any, defaults: Defaults, *, source: str, line: int | None, base: Path, index: int
) -> Job:
    """One manifest line (already parsed JSON) as a Job; only the shape is checked here."""

    def bad(reason: str, name: str | None = None) -> ManifestError:
        return ManifestError(reason, source=source, line=line, field=name)

    if not isinstance(entry, Mapping):
        raise bad(f'a job is a JSON object like {{"input": "a.mp4"}}, got {type(entry).__name__}')
    unknown = [k for k in entry if k not in FIELDS]
    if unknown:
        raise bad(f"unknown field; a job takes {', '.join(FIELDS)}", shown(unknown[0]))
    if "input" not in entry:
        raise bad("missing; every job needs the video to key", "input")
    src = entry["input"]
    if not isinstance(src, str) or not src.strip():
        raise bad(
            f"must be a non-empty string (a path or an http(s) URL), got {quoted(src)}", "input"
        )
    src = absolute(_sane(src.strip(), "input", bad), base)
    out = entry.get("output")
    outdir = Path(defaults.outdir) if defaults.outdir else base
    if out is None:
        out = str(outdir / output_name(defaults.name, src, index))
    elif not isinstance(out, str) or not out.strip():
        raise bad(f"must be a non-empty string (a path), got {quoted(out)}", "output")
    else:
        out = absolute(_sane(out.strip(), "output", bad), outdir)
    params = entry.get("params", {})
    if not isinstance(params, Mapping):
        raise bad(
            f'must be an object of keyer settings like {{"spill": 0.5}}, got {quoted(params)}',
            "params",
        )
    colour = entry.get("input_colour", {})
    if not isinstance(colour, Mapping):
        raise bad(
            f'must be an object like {{"chroma_siting": "center"}}, got {quoted(colour)}',
            "input_colour",
        )
    for key in ("fit", "play_style"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(f"must be a string, got {quoted(value)}", key)
    background = entry.get("background", defaults.background)
    return Job(
        input=src,
        output=out,
        background=_resolve_background(background, base) if "background" in entry else background,
        fit=entry.get("fit", defaults.fit),
        play_style=entry.get("play_style", defaults.play_style),
        params={**dict(defaults.params), **dict(params)},
        input_colour={**dict(defaults.input_colour), **dict(colour)},
        source=source,
        line=line,
    )


def read_manifest(path: str | os.PathLike[str], defaults: Defaults) -> list[Job | ManifestError]:
    """Each non-blank line of a JSON Lines manifest as a Job, or the error that line has."""
    p = Path(path)
    source = str(path)
    if p.stat().st_size > MAX_MANIFEST_BYTES:
        raise ManifestError(
            "too large for a manifest (one JSON object a line)",
            source=source,
            line=None,
            field=None,
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"not UTF-8 text ({exc.reason})", source=source, line=None, field=None
        ) from exc
    base = p.resolve().parent
    jobs: list[Job | ManifestError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("//"):
            continue
        deep = too_deep(raw)
        if deep is not None:
            jobs.append(
                ManifestError(
                    f"nests deeper than {MAX_JSON_DEPTH} levels at column {deep[0]}; a job's fields "
                    "are flat values and small objects",
                    source=source,
                    line=number,
                    field=deep[1] if deep[1] in FIELDS else None,
                )
            )
            continue
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError as exc:
            jobs.append(
                ManifestError(
                    f"malformed JSON: {exc.msg} at column {exc.colno}; one object a line, like "
                    '{"input": "a.mp4", "output": "a-keyed.mp4"}',
                    source=source,
                    line=number,
                    field=None,
                )
            )
            continue
        try:
            jobs.append(
                from_mapping(
                    entry, defaults, source=source, line=number, base=base, index=len(jobs) + 1
                )
            )
        except ManifestError as exc:
            jobs.append(exc)
    return jobs


def _video_files(paths: Iterable[Path]) -> list[Path]:
    """Video files by extension, without hidden files (our own .partial- files among them)."""
    return sorted(
        p
        for p in paths
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in VIDEO_EXTENSIONS
    )


def from_inputs(inputs: list[Path], defaults: Defaults, source: str) -> list[Job]:
    """One job per input, named by the template in OUTDIR (default: the current folder).

    An input that is another input's output (a re-run over the folder it wrote into) is no
    input: keying the keyed would only double the work.
    """
    outdir = Path(defaults.outdir or ".").resolve()
    named = [
        (p.resolve(), outdir / output_name(defaults.name, str(p), i))
        for i, p in enumerate(inputs, 1)
    ]
    outputs = {out for _, out in named}
    jobs = []
    for src, out in named:
        if src in outputs:
            continue
        jobs.append(
            Job(
                input=str(src),
                output=str(out),
                background=defaults.background,
                fit=defaults.fit,
                play_style=defaults.play_style,
                params=dict(defaults.params),
                input_colour=dict(defaults.input_colour),
                source=source,
            )
        )
    return jobs


def load(spec: str, defaults: Defaults) -> list[Job | ManifestError]:
    """JOBS as the CLI takes it: a manifest (.jsonl/.json/.ndjson), a folder, or a glob."""
    p = Path(spec).expanduser()
    if p.is_dir():
        found = _video_files(p.iterdir())
        if not found:
            raise ParameterError(
                f"{spec}: no video files in this folder ({', '.join(sorted(VIDEO_EXTENSIONS))})"
            )
        return list(from_inputs(found, defaults, spec))
    if p.is_file():
        if p.suffix.lower() in (".jsonl", ".ndjson", ".json", ".txt"):
            return read_manifest(p, defaults)
        if p.suffix.lower() in VIDEO_EXTENSIONS:
            return list(from_inputs([p], defaults, spec))
        raise ParameterError(
            f"{spec}: give a JSON Lines manifest (.jsonl), a folder of videos or a glob like 'in/*.mp4'"
        )
    if _glob.has_magic(spec):
        found = _video_files(Path(m) for m in _glob.glob(os.path.expanduser(spec), recursive=True))
        if not found:
            raise ParameterError(f"{spec}: the pattern matches no video file")
        return list(from_inputs(found, defaults, spec))
    raise InputNotFoundError(f"{spec}: no such manifest, folder or pattern; check the path")
