"""The report's speed tables: medians over rounds, ratios to FFmpeg and to decode-only, and
our per-stage times."""

from __future__ import annotations

import statistics
from typing import Any

import numpy as np

from .run import Contender, Run

# --- tables -------------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt_ratio(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:.2f}×"


def speed_tables(result: dict[str, Any], inputs: list[tuple[str, str]]) -> str:
    contenders: list[Contender] = result["contenders"]
    runs: dict[tuple[str, str], list[Run]] = result["runs"]
    lines: list[str] = []
    for name, _path in inputs:
        w, h, rate, frames = result["probes"][name]
        n_rounds = len(runs.get((name, contenders[0].label), []))
        key = result.get("keys", {}).get(name)
        lines.append(
            f"\n### {name}: {w}×{h}, {float(rate):.3g} fps, {frames} frames, "
            f"median of {n_rounds} round(s)" + (f"; FFmpeg keys {key}" if key else "") + "\n"
        )
        lines.append(
            "| contender | fps (median) | min–max | ours ÷ FFmpeg | ÷ decode-only | peak RSS MiB |"
        )
        lines.append("|---|---:|---:|---:|---:|---:|")
        med = {c.label: _median([x.fps for x in runs.get((name, c.label), [])]) for c in contenders}
        decode = med.get(Contender("decode").label, float("nan"))
        for c in contenders:
            rs = runs.get((name, c.label), [])
            if not rs:
                continue
            fps = [x.fps for x in rs]
            vs_ff = float("nan")
            if c.name.startswith("ours"):
                vs_ff = med[c.label] / med.get(
                    Contender(f"ffmpeg {c.output}", "", c.output).label, float("nan")
                )
            vs_dec = med[c.label] / decode if c.name != "decode" else float("nan")
            lines.append(
                f"| {c.label} | {med[c.label]:.1f} | {min(fps):.1f}–{max(fps):.1f} | "
                f"{_fmt_ratio(vs_ff)} | {_fmt_ratio(vs_dec)} | {_median([x.maxrss_mib for x in rs]):.0f} |"
            )
        # Per-stage times of our contenders.
        ours = [c for c in contenders if c.name.startswith("ours") and not c.whole_process]
        if ours:
            lines.append(
                "\nPer-stage ms/frame (median over rounds). wait = decode queue wait; "
                "convert/upload = YUV→RGB (cpu) or plane upload (gpu); key = matte + despill "
                "(cpu: convert, key and composite fused in the compiled keyer) "
                "(gpu: all passes); composite; readback; encode = the sink's share of the render "
                "thread (mp4: handing the frame to the writer thread, which converts and "
                "encodes meanwhile, or waiting for it; nothing for raw); other = the rest of "
                "the loop.\n"
            )
            lines.append(
                "| contender | wait | calibrate | convert/upload | key | composite | readback | encode | other | total |"
            )
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            for c in ours:
                rs = runs.get((name, c.label), [])
                if not rs:
                    continue

                def per(key: str, rs: list[Run] = rs) -> float:
                    return _median([1000 * x.stages.get(key, 0.0) / max(x.frames, 1) for x in rs])

                if c.backend == "cpu":
                    # The compiled keyer fuses its stages: all of it is "key".
                    conv, key, comp, rb = float("nan"), per("keyer.key"), float("nan"), 0.0
                else:
                    conv, key, comp, rb = (
                        per("keyer.upload"),
                        per("keyer.passes"),
                        float("nan"),
                        per("keyer.readback"),
                    )
                total = _median([1000 * x.elapsed / max(x.frames, 1) for x in rs])
                wait, cal, sink = per("wait"), per("calibrate"), per("sink")
                inside = sum(0.0 if np.isnan(x) else x for x in (conv, key, comp, rb))
                other = total - wait - cal - sink - inside
                comp_s = "(in key)" if np.isnan(comp) else f"{comp:.1f}"
                conv_s = "(in key)" if np.isnan(conv) else f"{conv:.1f}"
                lines.append(
                    f"| {c.label} | {wait:.1f} | {cal:.1f} | {conv_s} | {key:.1f} | {comp_s} | "
                    f"{rb:.1f} | {sink:.1f} | {other:.1f} | {total:.1f} |"
                )
    return "\n".join(lines)
