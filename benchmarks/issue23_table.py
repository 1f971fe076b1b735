"""Issue 23's per-clip table: benchmarks.quality's and benchmarks.bounds's printed tables
joined on the clip, so that ours, FFmpeg's best of grid and the oracle stand side by side with
the issue's targets in the header (RESULTS.md, "Issue 23: baseline").

    python -m benchmarks.quality --set sample,footage --sizes 720p --seeds 0 --backends cpu > q.md
    python -m benchmarks.bounds --frames 8 > b.md
    python -m benchmarks.issue23_table q.md b.md

The SAD ratio to the oracle is bounds.py's own (ours and the oracle on the same frames); so
is the ratio of our keyer given the truth's F* in its colour model (bounds.GIVEN), which
says how much of a clip's gap to the oracle is the estimate of F.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.bounds import GIVEN, METHODS  # noqa: E402

QUALITY_TITLE = "### Issue 23's measures per clip"
BOUNDS_SAD_TITLE = "SAD · worst decile bias:"
BOUNDS_I23_TITLE = "lost patch px · tint levels · lag px:"
HEAD = (
    "| clip | SAD ours | FFmpeg best | ÷ FFmpeg (≤ 0.6× on #008000) | ours (bounds) "
    "| oracle (bounds) | ÷ oracle (≤ 1.25× on footage) | given F*: ÷ oracle "
    "| lost patch px: ours · FFmpeg · screen-coloured subject (≤ 64) "
    "| tint levels: ours · FFmpeg · oracle (\\|ours\\| ≤ 2) "
    "| dtSSD×100: ours · FFmpeg (still: ≤ 0.3× today) | lag px: ours · FFmpeg (≤ 0.5) |"
)


def section_rows(text: str, title: str) -> dict[str, list[str]]:
    """The cells after the clip of each line of the markdown table under ``title``."""
    if title not in text:
        raise ValueError(f"no table titled {title!r}: give the output of the right benchmark")
    rows: dict[str, list[str]] = {}
    started = False
    for line in text.split(title, 1)[1].splitlines():
        if not line.startswith("|"):
            if started:
                break
            continue
        started = True
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "clip" or cells[0].startswith("---"):
            continue
        rows[cells[0]] = cells[1:]
    return rows


def _num(cell: str) -> float:
    return float(cell.replace("−", "-"))


def join(quality: str, bounds: str) -> str:
    """One line per clip of quality.py's issue 23 table, bounds.py's figures beside."""
    q = section_rows(quality, QUALITY_TITLE)
    sad = section_rows(bounds, BOUNDS_SAD_TITLE)
    i23 = section_rows(bounds, BOUNDS_I23_TITLE)
    at = {m: METHODS.index(m) for m in ("ours", GIVEN, "oracle")}
    lines = [HEAD, "|---|" + "---:|" * 11]
    for clip, (_backend, ours, ffmpeg, ratio, lost, tint, dt, lag) in q.items():
        if clip in sad:
            o, given, oracle = (_num(sad[clip][i].split(" · ")[0]) for i in at.values())
            bo, bor = f"{o:.3f}", f"{oracle:.3f}"
            by, bg = (f"{x / oracle:.2f}×" if oracle > 0 else "—" for x in (o, given))
            otint = i23[clip][at["oracle"]].split(" · ")[1]
        else:
            bo = bor = by = bg = otint = "—"
        cells = [clip, ours, ffmpeg, ratio, bo, bor, by, bg, lost, f"{tint} · {otint}", dt, lag]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines).replace("+nan", "—").replace("| -", "| −").replace(" · -", " · −")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("quality", help="benchmarks.quality's output (markdown)")
    ap.add_argument("bounds", help="benchmarks.bounds's output (markdown)")
    a = ap.parse_args(argv)
    try:
        print(join(Path(a.quality).read_text(), Path(a.bounds).read_text()))
    except (OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
