"""benchmarks.quality's tables: per metric (ours against FFmpeg), per clip, and issue 23's
measures per clip with FFmpeg's and the lost patch's floor beside ours."""

from __future__ import annotations

from collections.abc import Callable

from benchmarks.metrics import worst_bias

MAIN = (
    "SAD", "MSE×1e3", "Grad", "bg visible %", "eaten %", "screen left %", "subject lost %",
    "PSNR dB", "edge PSNR dB", "dtSSD×100",
)  # fmt: skip
LOWER_BETTER = {
    "SAD", "MSE×1e3", "Grad", "bg visible %", "eaten %", "screen left %", "subject lost %",
    "dtSSD×100",
}  # fmt: skip


def _cmp(ours: float, peer: float, metric: str) -> str:
    if "PSNR" in metric:
        return f"{ours - peer:+.2f} dB"
    if peer == 0:
        return "—" if ours == 0 else "∞"
    return f"{ours / peer:.2f}×"


def table(results: dict[str, dict[str, float]], metrics: tuple[str, ...], peer: str | None) -> str:
    methods = list(results)
    ours = [m for m in methods if m.startswith("ours")]
    head = "| metric | " + " | ".join(methods)
    sep = "|---|" + "---:|" * len(methods)
    if peer:
        head += " | " + " | ".join(f"{m.split()[-1]} vs FFmpeg" for m in ours)
        sep += "---:|" * len(ours)
    lines = [head + " |", sep]
    for k in metrics:
        row = f"| {k} | " + " | ".join(f"{results[m][k]:.3f}" for m in methods)
        if peer:
            row += " | " + " | ".join(_cmp(results[m][k], results[peer][k], k) for m in ours)
        lines.append(row + " |")
    return "\n".join(lines)


def _sad_beside(o: dict, f: dict | None) -> tuple[str, str]:
    """FFmpeg's SAD and ours over it, as table cells ("—" without FFmpeg)."""
    fs = f"{f['SAD']:.3f}" if f else "—"
    ratio = f"{o['SAD'] / f['SAD']:.2f}×" if f and f["SAD"] > 0 else "—"
    return fs, ratio


def _clip_rows(
    rows: list, backends: list[str], head: str, cells: Callable[[dict, dict | None, dict], str]
) -> str:
    """A table with one line per clip and backend: the clip, the backend, our SAD, FFmpeg's
    best SAD and their ratio, then ``cells(ours, FFmpeg's, the clip's floors)`` (each cell led
    by "| ")."""
    columns = head.count("|") - 1
    lines = [head, "|---|---|" + "---:|" * (columns - 2)]
    for clip, keyed in rows:
        f = keyed.get("FFmpeg (tuned)")
        for b in backends:
            o = keyed.get(f"ours {b}")
            if o is None:
                continue
            fs, ratio = _sad_beside(o, f)
            row = f"| {clip.name} | {b} | {o['SAD']:.3f} | {fs} | {ratio} "
            lines.append(row + f"{cells(o, f, keyed.get('floor', {}))} |")
    return "\n".join(lines)


def per_clip_table(rows: list, backends: list[str]) -> str:
    """One line per clip and backend: the issue-12 targets' metrics, FFmpeg's SAD beside."""
    head = (
        "| clip | backend | SAD | FFmpeg SAD | ratio | bg visible % | eaten % | screen left % "
        "| subject lost % | edge PSNR dB | dtSSD×100 | worst decile bias |"
    )

    def cells(o: dict, f: dict | None, floor: dict) -> str:
        return (
            f"| {o['bg visible %']:.3f} | {o['eaten %']:.3f} | {o['screen left %']:.3f} "
            f"| {o['subject lost %']:.3f} | {o['edge PSNR dB']:.2f} | {o['dtSSD×100']:.2f} "
            f"| {worst_bias(o):+.3f}"
        )

    return _clip_rows(rows, backends, head, cells)


def issue23_table(rows: list, backends: list[str]) -> str:
    """One line per clip and backend: SAD against FFmpeg's best, and issue 23's measures with
    FFmpeg's beside ours."""

    def pair(o: dict, f: dict | None, k: str, fmt: str) -> str:
        return f"{o[k]:{fmt}} · {f[k]:{fmt}}" if f else f"{o[k]:{fmt}} · —"

    head = (
        "| clip | backend | SAD | FFmpeg SAD | ratio | lost patch px (· screen-coloured) "
        "| tint levels | dtSSD×100 | lag px |"
    )

    def cells(o: dict, f: dict | None, floor: dict) -> str:
        coloured = floor.get("screen-coloured px")
        lost = pair(o, f, "lost patch px", ".0f")
        return (
            f"| {lost}{f' · {coloured:.0f}' if coloured is not None else ''} "
            f"| {pair(o, f, 'tint levels', '+.2f')} "
            f"| {pair(o, f, 'dtSSD×100', '.2f')} | {pair(o, f, 'lag px', '+.2f')}"
        )

    return _clip_rows(rows, backends, head, cells)
