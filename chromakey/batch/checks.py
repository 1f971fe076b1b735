"""Every job checked before any work starts, by the same parsers ``render`` uses: the input's
location, the output's type, the background spec, the keyer settings, and outputs that would
overwrite another job's output or anything a job reads (io.safety's one rule: an input, a
background file, the manifest, the results file, a folder)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..backgrounds import check_fit, check_play_style, parse_background
from ..backgrounds.spec import background_files
from ..core.color import InputColour
from ..core.errors import ChromakeyError
from ..core.jsontext import nested_deeper
from ..core.params import KeyerParams
from ..core.quote import quoted, shown
from ..io.locations import check_location
from ..io.safety import Guard, Protected, check_output
from ..io.sinks.formats import video_format
from ..io.sinks.opening import output_kind
from .jobs import COLOUR_FIELDS, Job, ManifestError, _is_url, keyer_params

_PARAM_FIELDS = frozenset(f.name for f in dataclasses.fields(KeyerParams))


def _remote(spec: Any) -> bool:
    """A background that lives behind a URL is fetched by the worker that renders the job."""
    if isinstance(spec, dict):
        loc = spec.get("url", spec.get("path"))
        return isinstance(loc, str) and _is_url(loc.strip())
    return isinstance(spec, str) and _is_url(spec.strip())


class _Backgrounds:
    """Opens each distinct local background once (a course of 300 lessons over one brand image
    opens it once) and says whether it is transparent."""

    def __init__(self) -> None:
        self._seen: dict[str, bool | ChromakeyError] = {}

    def transparent(self, job: Job) -> bool:
        spec = job.background
        if spec is None or _remote(spec):
            return False
        key = repr(
            (spec if isinstance(spec, str) else sorted(spec.items()), job.fit, job.play_style)
        )
        if key not in self._seen:
            try:
                bg = parse_background(spec, fit=job.fit, play_style=job.play_style)
            except ChromakeyError as exc:
                self._seen[key] = exc
            else:
                self._seen[key] = bool(bg.transparent)
                bg.close()
        got = self._seen[key]
        if isinstance(got, ChromakeyError):
            raise got
        return got


def _output_key(output: str) -> Path:
    """What two outputs would share: the file, or a PNG sequence's folder."""
    p = Path(output)
    return (p.parent if "%" in p.name else p).resolve()


# What a batch says about an output that names a folder: -o is where a folder goes.
FOLDER_ADVICE = "give the job a file name (-o names the folder every output goes in)"


def read_files(
    jobs: Sequence[Job | ManifestError], results: str | os.PathLike[str] | None = None
) -> list[Protected]:
    """Everything the batch reads or keeps, which no output may be: each job's input and
    background files, the manifest, and the results file."""
    files: list[Protected] = []
    manifests: set[str] = set()
    for job in jobs:
        if not isinstance(job, Job):
            continue
        if not _is_url(job.input):
            files.append(Protected(f"the input of {shown(job.where)}", job.input))
        files.extend(
            Protected(f"the background of {shown(job.where)}", f)
            for f in background_files(job.background)
        )
        if job.line is not None and job.source not in manifests and os.path.isfile(job.source):
            manifests.add(job.source)
            files.append(Protected("the manifest", job.source))
    if results is not None:
        files.append(Protected("the results file", os.fspath(results)))
    return files


def check_job(job: Job, backgrounds: _Backgrounds, guard: Guard | None = None) -> None:
    """Raise ManifestError for the first thing wrong with ``job`` (its line and field)."""

    def bad(exc: Exception | str, name: str) -> ManifestError:
        return ManifestError(str(exc), source=job.source, line=job.line, field=name)

    if job.input == "-":
        raise bad("standard input cannot feed a batch; give a file path or URL", "input")
    try:
        check_location(job.input)
    except ChromakeyError as exc:
        raise bad(exc, "input") from exc
    if job.output == "-" or _is_url(job.output):
        raise bad(f"{shown(job.output)}: a batch writes files; give a path", "output")
    try:
        (guard or Guard()).check(job.output, folder_advice=FOLDER_ADVICE)
    except ChromakeyError as exc:
        raise bad(exc, "output") from exc
    for name in ("background", "params", "input_colour"):
        if nested_deeper(getattr(job, name)):
            raise bad("nests too deeply; a job's fields are flat values and small objects", name)
    unknown = [k for k in job.params if k not in _PARAM_FIELDS]
    if unknown:
        raise bad(
            f"unknown keyer setting; use {', '.join(sorted(_PARAM_FIELDS))}", f"params.{unknown[0]}"
        )
    try:
        keyer_params(job.params)
    except ChromakeyError as exc:
        raise bad(exc, "params") from exc
    for k, v in job.input_colour.items():
        if k not in COLOUR_FIELDS:
            raise bad(f"unknown part; use {', '.join(COLOUR_FIELDS)}", f"input_colour.{k}")
        if v is not None and not isinstance(v, str):
            raise bad(f"must be a string, got {quoted(v)}", f"input_colour.{k}")
    try:
        InputColour.parse(**job.input_colour)
    except ChromakeyError as exc:
        raise bad(exc, "input_colour") from exc
    for name, check in (("fit", check_fit), ("play_style", check_play_style)):
        value = getattr(job, name)
        if value is not None:
            try:
                check(value)
            except ChromakeyError as exc:
                raise bad(exc, name) from exc
    try:
        transparent = backgrounds.transparent(job)
    except ChromakeyError as exc:
        raise bad(exc, "background") from exc
    if job.background is None and "%" in Path(job.output).name:
        transparent = True  # render's default for PNG output
    try:
        if output_kind(job.output) == "video":
            video_format(Path(job.output), transparent)
    except ChromakeyError as exc:
        raise bad(exc, "output") from exc


def check_jobs(
    jobs: Sequence[Job | ManifestError], results: str | os.PathLike[str] | None = None
) -> list[Job | ManifestError]:
    """Each job as it is, or its error, in manifest order; a collision is the later job's error.
    ``results``, the results file, is protected like the inputs."""
    backgrounds = _Backgrounds()
    checked: list[Job | ManifestError] = []
    outputs: dict[Path, Job] = {}
    guard = Guard(read_files(jobs, results))
    for job in jobs:
        if isinstance(job, ManifestError):
            checked.append(job)
            continue
        try:
            check_job(job, backgrounds, guard)
            key = _output_key(job.output)
            if key in outputs:
                raise ManifestError(
                    f"{shown(job.output)}: also the output of {shown(outputs[key].where)}; give each job its own output",
                    source=job.source,
                    line=job.line,
                    field="output",
                )
        except ManifestError as exc:
            checked.append(exc)
            continue
        outputs[key] = job
        checked.append(job)
    return checked


def check_results(results: str | os.PathLike[str], jobs: Sequence[Job | ManifestError]) -> None:
    """ParameterError when the results file (appended to as jobs end) is anything a job reads
    or writes: an input, a background file, an output, the manifest; or a folder."""
    outputs = [
        Protected(f"the output of {shown(j.where)}", j.output) for j in jobs if isinstance(j, Job)
    ]
    check_output(
        results,
        [p for p in read_files(jobs) if p.role != "the results file"] + outputs,
        what="--results",
        advice="give --results a file of its own",
        folder_advice="give --results a file name",
    )


def split(checked: Sequence[Job | ManifestError]) -> tuple[list[Job], list[ManifestError]]:
    return [j for j in checked if isinstance(j, Job)], [
        e for e in checked if isinstance(e, ManifestError)
    ]
