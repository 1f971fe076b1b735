"""``chromakey batch``: its options and what it prints."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from ..core import signals
from ..core.errors import ChromakeyError
from ..core.params import KeyerParams
from ..core.quote import one_line, shown
from .jobs import DEFAULT_NAME, Defaults, load

EXIT_JOBS_FAILED = 1
RESULTS_NAME = "results.jsonl"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "jobs",
        metavar="JOBS",
        help="a JSON Lines manifest (one job a line: input, output, background, params, fit, "
        "play_style, input_colour), a folder of videos, or a glob like 'in/*.mp4' (quote it)",
    )
    p.add_argument(
        "-o",
        "--output-dir",
        help="folder for the outputs (created if needed) [a manifest's folder; else the current folder]",
    )
    p.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help="output file name for a folder or glob, and for manifest jobs without one: "
        "{stem}, {name}, {ext}, {index} [%(default)s]",
    )
    p.add_argument(
        "--background",
        "-b",
        help="every job's background unless its line gives one (as render's -b)",
    )
    p.add_argument("--fit", choices=("cover", "contain", "stretch"), help="[cover]")
    p.add_argument(
        "--play-style", choices=("loop", "freeze", "fit_to_scene", "full_video"), help="[loop]"
    )
    p.add_argument("--backend", choices=("auto", "cpu", "gpu"), default="auto", help="[auto]")
    p.add_argument(
        "--workers", type=int, metavar="N", help="local pool size [cores ÷ keyer threads per job]"
    )
    p.add_argument(
        "--ray",
        nargs="?",
        const="auto",
        metavar="ADDRESS",
        help="run on Ray: 'auto' (or no value) joins or starts a Ray instance on this machine; "
        "host:6379 or ray://host:10001 joins a cluster (pip install 'chromakey[ray]')",
    )
    p.add_argument(
        "--cpus-per-job",
        type=float,
        default=1,
        metavar="N",
        help="Ray: CPUs each task declares [1]",
    )
    p.add_argument(
        "--gpus-per-job",
        type=float,
        metavar="N",
        help="Ray: GPUs each task declares [1 with --backend gpu]",
    )
    p.add_argument(
        "--results", metavar="FILE", help=f"JSON Lines record of every job [OUTDIR/{RESULTS_NAME}]"
    )
    p.add_argument(
        "--force", action="store_true", help="redo jobs the results file records as done"
    )
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="run the valid jobs when some are invalid (reported)",
    )


def _given_params(args: argparse.Namespace) -> dict[str, Any]:
    return {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(KeyerParams)
        if getattr(args, f.name, None) is not None
    }


def _given_colour(args: argparse.Namespace) -> dict[str, str]:
    """The --input-* options given, as a job's input_colour object (InputColour.parse's words)."""
    given = (
        ("matrix", args.input_matrix),
        ("range", args.input_range),
        ("chroma_siting", args.input_chroma_siting),
    )
    return {k: v for k, v in given if v is not None}


def _executor(args: argparse.Namespace) -> Any:
    if args.ray is not None:
        if args.workers is not None:
            raise _usage(
                "--workers sizes the local pool; with --ray, Ray places the tasks (--cpus-per-job)"
            )
        from .ray_executor import RayExecutor, import_ray

        import_ray()  # the one-line install hint, before any job is looked at
        return RayExecutor(args.ray, cpus_per_job=args.cpus_per_job, gpus_per_job=args.gpus_per_job)
    from .local import LocalExecutor

    return LocalExecutor(workers=args.workers)


def _usage(message: str) -> ChromakeyError:
    from ..core.errors import ParameterError

    return ParameterError(message)


def main(args: argparse.Namespace) -> int:
    from .checks import check_jobs, split
    from .driver import InvalidJobsError, run
    from .local import CANCEL_WAIT
    from .progress import BatchProgress, summary_table, totals

    # The running jobs get their own clean-up time after a signal (each worker's GRACE),
    # and the driver waits for them.
    signals.install(grace=CANCEL_WAIT + signals.GRACE)
    executor = _executor(args)
    outdir = args.output_dir
    if (
        outdir is None
        and Path(args.jobs).is_file()
        and Path(args.jobs).suffix.lower() in (".jsonl", ".ndjson", ".json", ".txt")
    ):
        outdir = str(Path(args.jobs).resolve().parent)
    defaults = Defaults(
        background=args.background,
        fit=args.fit,
        play_style=args.play_style,
        params=_given_params(args),
        input_colour=_given_colour(args),
        outdir=outdir,
        name=args.name,
    )
    given = load(args.jobs, defaults)
    valid, errors = split(check_jobs(given))
    if errors and not args.skip_invalid:
        # One line a job: the last one is the error's own, saying that nothing ran.
        for err in errors[:-1]:
            print(f"chromakey: error: {one_line(str(err))}", file=sys.stderr)
        raise InvalidJobsError([errors[-1], *errors[:-1]])
    for err in errors:
        print(f"chromakey: skipped invalid job: {one_line(str(err))}", file=sys.stderr)
    if not valid and not errors:
        print("chromakey: the batch holds no jobs", file=sys.stderr)
        return 0
    results_path = Path(args.results) if args.results else Path(outdir or ".") / RESULTS_NAME
    Path(outdir or ".").mkdir(parents=True, exist_ok=True)
    bar = BatchProgress(len(given))
    start = time.perf_counter()
    try:
        results = run(
            given,
            executor,
            results=results_path,
            force=args.force,
            skip_invalid=args.skip_invalid,
            backend=args.backend,
            events=bar,
        )
    except KeyboardInterrupt as exc:
        signals.discard_tracked()
        bar.close()
        print(
            f"chromakey: interrupted; no partial output was left; finished jobs are in {shown(results_path)}: "
            "run the same command again to do the rest",
            file=sys.stderr,
        )
        return signals.exit_status(exc)
    bar.close()
    seconds = time.perf_counter() - start
    if bar.enabled:
        print(summary_table(results), file=sys.stderr)
    for r in results:
        if r.status == "failed":
            print(f"chromakey: job {shown(r.input)} failed: {one_line(r.error)}", file=sys.stderr)
    print(f"batch: {totals(results, seconds)}; results in {shown(results_path)}")
    return EXIT_JOBS_FAILED if any(r.status == "failed" for r in results) else 0
