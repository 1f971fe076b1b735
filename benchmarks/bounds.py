"""What a keyer that knew each pixel's true foreground colour could reach: a bound on the
partial pixels' alpha, per clip, beside ours.

For each clip of benchmarks.quality, on its first frames: our reference keyer at default
settings, then "oracle": at every pixel the truth makes partial (0 < α* < 1), α read from
where the pixel lies on the line from the screen's colour S (our calibrated screen map) to
the true foreground F*, a = (C − S)·(F* − S)/|F* − S|², our α elsewhere: a keyer that knew
F* and where the edge is. Three inputs C: the decoded H.264 4:2:0 frame, the same with
F* + k·S (the spill the subject reflects, which no keyer can tell from screen seen through
it, added to F*), and the camera's frame before compression. Last, "oracle, F from the
solid subject": the decoded frame read against the mean decoded colour of the truth's solid
pixels within COLOUR_RADIUS (the window of our colour model) in place of F*, ours where there
is none: a keyer that knew where the edge and the solid subject are, but not a partial
pixel's own colour; what reading F off the subject beside an edge can reach. And "oracle, F
from the nearest-fitting solid sample": the same, with F the one solid pixel within
COLOUR_RADIUS (a disc) whose line from S passes nearest the decoded pixel, not their mean,
as a keyer that picked the right colour among two beside the edge (hair and skin, a fold's
lit and shadowed side) would read it.

Beside them, not a bound: "ours, F* in the colour model", our whole keyer (the still hold
too) whose colour model reads each pixel against the truth's F* in place of the solid
subject's mean beside it, with its own colour. Between ours and the oracle it splits our gap:
what the estimate of F costs (ours → it), and what the rest of the keyer costs even with the
right F (it → the oracle: the pixels the matte reads solid or clear, which the colour model
leaves, and the share of the way it moves).

Every method is scored by benchmarks.metrics, as benchmarks.quality scores us:

- SAD: Σ|α − α*| / 1000 per frame; worst bias: the truth decile's mean signed α − α*
  farthest from 0 (partial pixels only);
- edge PSNR dB: the composite over TEST_COLOR in the edge band (the truth's partial pixels
  dilated by BAND_RADIUS), against α*·F* + (1 − α*)·TEST_COLOR, from the clip's squared
  error summed over the channels, per band pixel × 3. Every method composites OUR straight
  foreground colour (the keyer's premultiplied colour ÷ its α, clipped 0–1, 0 where our α
  ≤ ALPHA_VISIBLE = 1/512: our transparent output, reference.composite) with its own α:
  only the alpha is swapped, so where the oracle's α is up and ours ~0 its colour is black;
- dtSSD×100: per consecutive frame pair sqrt(mean(((α_t − α_{t−1}) − (α*_t − α*_{t−1}))²)),
  the mean over the pairs, ×100 (--frames 8 gives 7 pairs);
- issue 23's lost patch px, tint levels and lag px (benchmarks.metrics, as quality.py). The
  oracle's α differs from ours only on the truth's partial pixels, so its lost patch (inside
  the sure subject) is ours by construction. Its tint is of its own colour: the input C
  unmixed with its α, F = S + (C − S)/α on the partial pixels (ours elsewhere): the screen
  tint that is left in the pixel once α is right.

Last, issue 23's tint with the truth's α (a table of its own, TINT_MIXES): the colour a keyer
that knew each partial pixel's α could give it, read off the pixel (C unmixed with α*,
F = S + (C − S)/α*, as is and despilled: its key excess above 0 taken off) or off the subject
beside (the same line S + u·(C − S) taken to the key excess of the truth's solid pixels'
mean within COLOUR_RADIUS, reference.excess_matched, its u bounded as the keyer's is, at α*),
and every fixed mix (1 − t)·own + t·beside of the two, t in steps of 1/TINT_MIXES. A clip none
of them brings within ±TINT_BAND levels is beyond what α and either colour reading can give.

Issue 12's targets for edge PSNR (≥ the issue's before + 3 dB) and flicker (≤ 0.6 × before)
are set against the figures in benchmarks/RESULTS.md ("Issue 12, third step"); compare there.
A target the oracle misses is beyond any keyer that reads a pixel against S and a foreground
colour, one pixel and one frame at a time: the oracle's α is that reading with the true
colour. It bounds no keyer that also smooths over space or time (ours does, and beats it on
some clips' flicker), and its edge PSNR is with our colour and ours off the partial pixels.

    python -m benchmarks.bounds --workdir /tmp/ckf --frames 8
"""

from __future__ import annotations

import argparse
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.footage import all_specs  # noqa: E402
from benchmarks.footage import make_clips as make_footage  # noqa: E402
from benchmarks.metrics import (  # noqa: E402
    TINT_HIGH,
    TINT_LOW,
    TINT_MIN_ALPHA,
    Acc,
    accumulate,
    truth_ctx,
    worst_bias,
)
from benchmarks.quality import clip_params  # noqa: E402
from benchmarks.truth import make_clips  # noqa: E402
from chromakey.bench import parse_size  # noqa: E402
from chromakey.core.layers import CLEAR  # noqa: E402
from chromakey.core.screenmap import keyed_params  # noqa: E402
from chromakey.io.sources import VideoSource  # noqa: E402
from chromakey.keying import reference as cpu  # noqa: E402
from chromakey.keying.calibration import ScreenCalibrator  # noqa: E402

F32 = np.float32
# |F* − S|² under which the line is too short to read α on: there the oracle keeps ours.
MIN_SPREAD = 0.02
# The fixed mixes of the pixel's own colour and the subject beside's that the tint with the
# truth's α tries: t = 0, 1/TINT_MIXES, …, 1; and issue 23's band, ±levels.
TINT_MIXES = 10
TINT_BAND = 2.0
OWN_COLOURS = ("own", "own despilled")
MIX_STEPS = np.linspace(0.0, 1.0, TINT_MIXES + 1)
TINT_TITLE = "tint levels with the truth's α (fixed mixes t of own and subject beside):"
GIVEN = "ours, F* in the colour model"
METHODS = (
    "ours",
    GIVEN,
    "oracle",
    "oracle, spill in F*",
    "oracle, before H.264",
    "oracle, F from the solid subject",
    "oracle, F from the nearest-fitting solid sample",
)


def along(to_pixel: np.ndarray, line: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(α, |F − S|²): where C lies on the line from S to F (``to_pixel`` C − S, ``line``
    F − S), (C − S)·(F − S)/|F − S|² clipped to 0–1."""
    spread = (line * line).sum(-1)
    a = np.clip((to_pixel * line).sum(-1) / np.maximum(spread, 1e-6), 0, 1)
    return a, spread


def project(c: np.ndarray, s: np.ndarray, f: np.ndarray, ours: np.ndarray, edge: np.ndarray):
    a, spread = along(c - s, f - s)
    return np.where(edge & (spread > MIN_SPREAD), a, ours)


def solid_mean(c: np.ndarray, solid: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """(The mean of ``c`` over the ``solid`` pixels within ``r`` px, a square; whether there
    is any): the colour a keyer that read F off the subject beside an edge would find."""

    def box(a: np.ndarray) -> np.ndarray:
        p = np.pad(a, [(r + 1, r)] + [(r + 1, r)] + [(0, 0)] * (a.ndim - 2)).cumsum(0).cumsum(1)
        k = 2 * r + 1
        out: np.ndarray = p[k:, k:] - p[:-k, k:] - p[k:, :-k] + p[:-k, :-k]
        return out

    w = solid.astype(np.float64)
    n = box(w)
    mean = box(c.astype(np.float64) * w[..., None]) / np.maximum(n, 1.0)[..., None]
    return mean.astype(F32), n > 0.5


def nearest_sample(
    c: np.ndarray, s: np.ndarray, solid: np.ndarray, edge: np.ndarray, r: int
) -> tuple[np.ndarray, np.ndarray]:
    """(F, found): at each ``edge`` pixel, the colour of the ``solid`` pixel within ``r`` px
    (a disc, positions clamped to the frame) whose line from S passes nearest the pixel's
    colour ``c``, among those at least MIN_SPREAD from S; ``c`` elsewhere."""
    h, w = solid.shape
    ys, xs = np.nonzero(edge)
    to_pixel = c[ys, xs] - s[ys, xs]
    best = np.full(len(ys), np.inf, F32)
    pick = c[ys, xs].copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy * dy + dx * dx > r * r or (dy, dx) == (0, 0):
                continue
            qy, qx = np.clip(ys + dy, 0, h - 1), np.clip(xs + dx, 0, w - 1)
            line = c[qy, qx] - s[ys, xs]
            a, spread = along(to_pixel, line)
            off = to_pixel - a[:, None] * line
            far = (off * off).sum(-1)
            take = solid[qy, qx] & (spread > MIN_SPREAD) & (far < best)
            best = np.where(take, far, best)
            pick = np.where(take[:, None], c[qy, qx], pick)
    f = c.copy()
    f[ys, xs] = pick
    found = np.zeros(solid.shape, bool)
    found[ys, xs] = np.isfinite(best)
    return f, found


def straight(c: np.ndarray, s: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The straight colour C holds under α over S: F = S + (C − S)/α, α at least
    TINT_MIN_ALPHA."""
    f: np.ndarray = np.clip(s + (c - s) / np.maximum(a, TINT_MIN_ALPHA)[..., None], 0, 1)
    return f


def unmix(c: np.ndarray, s: np.ndarray, a: np.ndarray, ours: np.ndarray, edge: np.ndarray):
    """:func:`straight` on ``edge`` where α is shown (≥ TINT_MIN_ALPHA); ``ours`` elsewhere."""
    return np.where((edge & (a >= TINT_MIN_ALPHA))[..., None], straight(c, s, a), ours)


def mix_key(colour: str, t: float) -> str:
    """The name of the mix t of ``colour`` toward the subject beside, in bound_clip's result."""
    return f"{colour} t={t:g}"


def true_alpha_tints(
    c: np.ndarray, s: np.ndarray, g: np.ndarray, near: np.ndarray, has_near: np.ndarray,
    f: np.ndarray, key: int, spill: float,
) -> dict[str, np.ndarray]:  # fmt: skip
    """Per colour of OWN_COLOURS, the tint sums (levels) of the mixes t = 0 … 1 toward the
    subject beside, over this frame's partial pixels (the truth's α in (TINT_LOW, TINT_HIGH)),
    and "n", their count; F from the subject only where it has solid pixels beside and a
    colour on its line with their excess, the pixel's own colour elsewhere."""
    m = (g > TINT_LOW) & (g < TINT_HIGH)
    c, s, g, near, f = c[m], s[m], g[m], near[m], f[m]
    own = straight(c, s, g)
    spilled = own.copy()
    spilled[:, key] -= np.maximum(cpu.key_excess(own, key), 0.0)
    beside, found = cpu.excess_matched(c, s, cpu.excess_target(near, key, spill), key, g)
    use = (has_near[m] & found)[:, None]
    truth = cpu.key_excess(f, key)
    out = {"n": np.array([m.sum()], np.float64)}
    for name, colour in zip(OWN_COLOURS, (own, spilled), strict=True):
        far = np.where(use, beside, colour)
        out[name] = np.array(
            [
                255 * float((cpu.key_excess((1 - t) * colour + t * far, key) - truth).sum())
                for t in MIX_STEPS
            ]
        )
    return out


class HeldKeyer:
    """The reference keying frame after frame as ReferenceKeyer does, the hold's state kept."""

    held: tuple[np.ndarray, np.ndarray] | None = None
    held_for = None

    def key(self, fr, rgb, sm, p, known=None) -> tuple[np.ndarray, np.ndarray]:
        """(premultiplied fg, α clipped to 0–1); ``known``: F* for reference.colour_model."""
        hold = cpu.hold_state(fr, p, self.held if self.held_for == p else None)
        fg, a = cpu.key_frame(rgb, sm, p, cpu.luma_weights(fr), hold, known)
        self.held, self.held_for = hold.next, p
        return fg, np.clip(a, 0, 1)


def calibrated_frames(clip, frames: int):
    """(frame, rgb, screen map calibrated per frame, keyed params) of the first ``frames``."""
    params = clip_params(clip)
    calib = ScreenCalibrator(params)
    with VideoSource(clip.path, audio=False) as src:
        for fr in islice((fr for kind, fr in src if kind == "video"), frames):
            sm = calib.update(fr)
            yield fr, cpu.decode_rgb(fr), sm, keyed_params(params, sm)


def keyed_frames(clip, frames: int):
    """(rgb, screen map, keyed params, fg, α) of the first ``frames`` frames (HeldKeyer)."""
    keyer = HeldKeyer()
    for fr, rgb, sm, p in calibrated_frames(clip, frames):
        yield (rgb, sm, p, *keyer.key(fr, rgb, sm, p))


def bound_clip(clip, frames: int) -> dict[str, dict[str, float]]:
    """Per method of METHODS, metrics.Acc.result over the clip's first ``frames`` frames;
    and "tint with the truth's α": per colour of OWN_COLOURS, "<colour> t=<t>" the mean tint
    (levels) of each fixed mix (true_alpha_tints)."""
    accs = {k: Acc() for k in METHODS}
    mixes: dict[str, np.ndarray] = {}
    key = getattr(clip, "screen_channel", 1)
    prev_g = None
    ours, given = HeldKeyer(), HeldKeyer()
    for i, (fr, rgb, sm, p) in enumerate(calibrated_frames(clip, frames)):
        tf = clip.truth(i)
        fg, a = ours.key(fr, rgb, sm, p)
        fg_given, a_given = given.key(fr, rgb, sm, p, tf.foreground)
        ours_rgb = cpu.composite(fg, a, CLEAR)[..., :3]  # our straight colour, as output
        t = truth_ctx(
            tf,
            prev_g,
            None,
            getattr(clip, "motion_x", None),
            key,
        )
        g, f = tf.alpha, tf.foreground
        s = cpu.screen_colors(sm, rgb.shape[0], rgb.shape[1])
        edge = ~t.zero & ~t.one
        spilled = f + tf.spill[..., None] * s
        near, has_near = solid_mean(rgb, t.one, cpu.COLOUR_RADIUS)
        sample, has_sample = nearest_sample(rgb, s, t.one, edge, cpu.COLOUR_RADIUS)
        inputs = {
            "oracle": rgb,
            "oracle, spill in F*": rgb,
            "oracle, before H.264": tf.observed,
            "oracle, F from the solid subject": rgb,
            "oracle, F from the nearest-fitting solid sample": rgb,
        }
        alphas = {
            "ours": a,
            GIVEN: a_given,
            "oracle": project(rgb, s, f, a, edge),
            "oracle, spill in F*": project(rgb, s, spilled, a, edge),
            "oracle, before H.264": project(tf.observed, s, f, a, edge),
            "oracle, F from the solid subject": project(rgb, s, near, a, edge & has_near),
            "oracle, F from the nearest-fitting solid sample": project(
                rgb, s, sample, a, edge & has_sample
            ),
        }
        for m, am in alphas.items():
            if m == GIVEN:  # a keyer of its own: its colour too
                accumulate(accs[m], t, am, cpu.composite(fg_given, am, CLEAR)[..., :3])
                continue
            tint_rgb = unmix(inputs[m], s, am, ours_rgb, edge) if m in inputs else None
            accumulate(accs[m], t, am, ours_rgb, tint_rgb)
        for k, v in true_alpha_tints(rgb, s, g, near, has_near, f, key, p.spill).items():
            mixes[k] = mixes[k] + v if k in mixes else v
        prev_g = g
    out = {m: acc.result() for m, acc in accs.items()}
    n = max(float(mixes["n"][0]), 1.0) if mixes else 1.0
    out["tint with the truth's α"] = {
        mix_key(name, t): float(v / n)
        for name in OWN_COLOURS
        for t, v in zip(MIX_STEPS, mixes.get(name, ()), strict=False)
    }
    return out


def _num(x: float, fmt: str) -> str:
    return f"{x:{fmt}}".replace("-", "−")


def tables(rows: list[tuple[str, dict[str, dict[str, float]]]]) -> str:
    """Four markdown tables, one line per clip: SAD · worst bias, edge PSNR · dtSSD×100,
    issue 23's lost patch px · tint levels · lag px, and the tint with the truth's α."""
    out = []
    for title, cell in (
        ("SAD · worst decile bias", lambda r: f"{r['SAD']:.3f} · {_num(worst_bias(r), '+.3f')}"),
        ("edge PSNR dB · dtSSD×100", lambda r: f"{r['edge PSNR dB']:.2f} · {r['dtSSD×100']:.2f}"),
        (
            "lost patch px · tint levels · lag px",
            lambda r: (
                f"{r['lost patch px']:.0f} · {_num(r['tint levels'], '+.2f')} · "
                f"{_num(r['lag px'], '+.2f')}"
            ),
        ),
    ):
        out.append(f"{title}:\n")
        out.append("| clip | " + " | ".join(METHODS) + " |")
        out.append("|---|" + "---:|" * len(METHODS))
        out += [
            f"| {name} | " + " | ".join(cell(res[m]) for m in METHODS) + " |" for name, res in rows
        ]
        out.append("")
    out.append(TINT_TITLE + "\n")
    out.append(
        f"| clip | own · own despilled · subject beside | mixes own → beside within ±{TINT_BAND:g} "
        f"| mixes despilled → beside within ±{TINT_BAND:g} |"
    )
    out.append("|---|---:|---:|---:|")
    for name, res in rows:
        mix = res.get("tint with the truth's α", {})
        if not mix:
            continue
        ends = " · ".join(_num(mix[mix_key(c, 0.0)], "+.2f") for c in OWN_COLOURS)
        cells = [f"{ends} · {_num(mix[mix_key(OWN_COLOURS[0], 1.0)], '+.2f')}"]
        cells += [_within(mix, c) for c in OWN_COLOURS]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("")
    return "\n".join(out)


def _within(mix: dict[str, float], colour: str) -> str:
    """The mixes t of ``colour`` toward the subject beside whose tint is within ±TINT_BAND, as
    the least and the greatest of them; else "none" and the nearest."""
    tints = {float(t): mix[mix_key(colour, t)] for t in MIX_STEPS}
    ok = [t for t, v in tints.items() if abs(v) <= TINT_BAND]
    if ok:
        return f"t {min(ok):g}–{max(ok):g}" if len(ok) > 1 else f"t {ok[0]:g}"
    t, v = min(tints.items(), key=lambda kv: abs(kv[1]))
    return f"none (nearest {_num(v, '+.2f')} at t {t:g})"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/ckf")
    ap.add_argument("--frames", type=int, default=8, help="first frames a clip [8]")
    ap.add_argument("--clips", help="only clips whose name contains one of these (a,b)")
    args = ap.parse_args(argv)
    if args.frames < 1:
        ap.error(f"--frames must be at least 1, got {args.frames}")
    out = Path(args.workdir)
    clips = make_clips(out, [parse_size("720p")], [0], 3, single_slice=False)
    clips += make_footage(out, all_specs(24))
    if args.clips:
        clips = [c for c in clips if any(k in c.name for k in args.clips.split(","))]
    rows = []
    for clip in clips:
        t0 = time.perf_counter()
        rows.append((clip.name, bound_clip(clip, args.frames)))
        print(f"{clip.name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    print(f"First {args.frames} frames a clip.\n")
    print(tables(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
