"""Matting metrics against ground truth, per frame and accumulated over a clip.

SAD, MSE, gradient error, background left visible and subject eaten (over all truth-0/1
pixels, and "surely" more than BAND_RADIUS px from a partial pixel), composite PSNR over the
whole frame and the edge band, dtSSD (flicker), the signed alpha bias per truth decile, and
the spill floor; and issue 23's: the largest lost patch inside the sure subject, the screen
tint of partial pixels' colour, and the matte's lag behind a moving edge (see
largest_lost_patch, screen_tint and edge_shift). benchmarks/quality.py and benchmarks/bounds.py
drive them; see quality.py's docstring for the definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from benchmarks.filters import dilate, erode, grad_mag, largest_component
from chromakey import sample

F32 = np.float32
TEST_COLOR = (1.0, 0.0, 1.0)
# Truth deciles for the signed bias of partial pixels: [0, 0.1), … [0.9, 1), 0 and 1 excluded.
DECILES = 10
# Acc.result's names of the deciles' bias.
BIAS = tuple(f"bias {k / DECILES:.1f}–{(k + 1) / DECILES:.1f}" for k in range(DECILES))
BAND_RADIUS = 3

# --- issue 23's measures ------------------------------------------------------------------------

# The sure subject: truth α = 1, eroded by LOST_ERODE px so that no edge pixel counts. A pixel
# of it is lost where our α < LOST_ALPHA (the new background shows through by more than 10%).
LOST_ERODE = 3
LOST_ALPHA = 0.9
# Partial pixels for the tint: truth α in (TINT_LOW, TINT_HIGH), shown by the keyer at α ≥
# TINT_MIN_ALPHA (a colour shown at α under 2% tints nothing a user sees).
TINT_LOW, TINT_HIGH = 0.05, 0.95
TINT_MIN_ALPHA = 0.02


def largest_lost_patch(a: np.ndarray, g: np.ndarray) -> int:
    """Issue 23's hole: pixels in the largest 4-connected patch of the sure subject (truth α = 1,
    eroded by LOST_ERODE) that ``a`` keys below LOST_ALPHA."""
    sure = erode(g >= 1 - 1e-4, LOST_ERODE)
    return largest_component(sure & (a < LOST_ALPHA))


def screen_coloured_patch(g: np.ndarray, fg: np.ndarray, screen_rgb: np.ndarray, p) -> int:
    """The lost patch's floor for a keyer that decides by colour: the largest patch of the sure
    subject (as largest_lost_patch) whose *true* colour our reference keys below LOST_ALPHA
    against the screen's nominal colour (its membership, with the window measured on that
    colour, times its share of the colour: the raw matte, before any neighbourhood). There the
    subject is screen-coloured, and no chroma key keeps it without keying screen too."""
    from chromakey.core.color import rgb_to_hsl
    from chromakey.keying import reference as cpu
    from chromakey.keying.screen_window import window_of_color

    q = window_of_color(np.asarray(screen_rgb, np.float32), p).apply(p)
    sure = erode(g >= 1 - 1e-4, LOST_ERODE)
    if not sure.any():
        return 0
    rgb = np.asarray(fg, np.float32)
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    member = cpu.screen_membership(cpu.hue_membership(hue, q), sat, light, chroma, q)
    key = cpu.key_channel(q)
    screen = np.asarray(screen_rgb, np.float32)
    share = cpu.screen_share(cpu.key_excess(rgb, key), cpu.screen_excess(screen, key))
    return largest_component(sure & (cpu.raw_alpha(share, member) < LOST_ALPHA))


def tint_terms(
    a: np.ndarray, rgb: np.ndarray, g: np.ndarray, fg: np.ndarray, channel: int = 1
) -> tuple[float, int]:
    """The sum over the partial pixels (see TINT_LOW …) of the straight colour's screen excess
    (channel 1, green: G − max(R, B)) minus the truth's, in 8-bit levels, and their count."""
    from chromakey.keying.reference import key_excess

    m = (g > TINT_LOW) & (g < TINT_HIGH) & (a >= TINT_MIN_ALPHA)
    excess = key_excess(rgb[m], channel) - key_excess(fg[m], channel)
    return 255 * float(excess.sum()), int(m.sum())


def screen_tint(
    a: np.ndarray, rgb: np.ndarray, g: np.ndarray, fg: np.ndarray, channel: int = 1
) -> float:
    """Issue 23's screen tint, in 8-bit levels (NaN without partial pixels): the mean of the
    screen excess of the straight colour ``rgb`` minus the truth ``fg``'s; > 0 is more screen."""
    total, n = tint_terms(a, rgb, g, fg, channel)
    return total / n if n else float("nan")


def shift_x(a: np.ndarray, d: float) -> np.ndarray:
    """``a`` moved by ``d`` px along x (out[x] = a(x − d)), linearly interpolated, edges replicated."""
    w = a.shape[1]
    x = np.arange(w) - d
    x0 = np.clip(np.floor(x).astype(int), 0, w - 1)
    x1 = np.clip(x0 + 1, 0, w - 1)
    f = np.clip(x - np.floor(x), 0, 1).astype(a.dtype)
    f = np.where(x < 0, 0, np.where(x > w - 1, 1, f)).astype(a.dtype)
    return a[:, x0] * (1 - f) + a[:, x1] * f


EDGE_SHIFT_STEPS = 8
EDGE_MARGIN = 16  # px around the subject's box: more than EDGE_SHIFT_STEPS steps can reach


def edge_shift(a: np.ndarray, g: np.ndarray) -> float:
    """The shift d (px, along +x) that best explains ``a`` as the truth ``g`` moved, a(x) ≈
    g(x − d), by Gauss–Newton on the squared error (EDGE_SHIFT_STEPS steps of at most 1 px).

    Only edges carry weight (the truth's gradient), and an error that is the same on a
    subject's leading and trailing edge (a bias in α, a halo) cancels: what remains is the
    matte's displacement, e.g. a temporal filter's lag. NaN when g has no edge along x.
    """
    cols = np.flatnonzero((g > 0).any(axis=0))
    rows = np.flatnonzero((g > 0).any(axis=1))
    if cols.size == 0:
        return float("nan")
    # Only the subject's box (and a margin wider than any step) carries gradient: the rest is
    # left out, which changes nothing but the time.
    x0, x1 = max(cols[0] - EDGE_MARGIN, 0), cols[-1] + EDGE_MARGIN + 1
    box = (slice(rows[0], rows[-1] + 1), slice(x0, x1))
    a, g = a[box].astype(np.float64), g[box].astype(np.float64)
    d = 0.0
    for _ in range(EDGE_SHIFT_STEPS):
        m = shift_x(g, d)
        j = -np.gradient(m, axis=1)  # ∂m/∂d = −∂m/∂x
        jj = float((j * j).sum())
        if jj <= 1e-9:
            return float("nan")
        step = float(((a - m) * j).sum()) / jj
        d += float(np.clip(step, -1.0, 1.0))
        if abs(step) < 1e-4:
            break
    return d


def matte_lag(a: np.ndarray, g: np.ndarray, motion_x: float | None) -> float:
    """Issue 23's lag (px): how far ``a`` trails the truth along the motion (> 0: behind)."""
    if motion_x is None:
        return float("nan")
    return -float(np.sign(motion_x)) * edge_shift(a, g)


# --- metrics ----------------------------------------------------------------------------------

# Acc.result's names of issue 23's measures.
ISSUE23 = ("lost patch px", "tint levels", "lag px")
REGIONS = ("edge band", "interior", "background", "shadow", "hair", "lime tie", "teal badge")


@dataclass
class Acc:
    sad: list = field(default_factory=list)
    mse: list = field(default_factory=list)
    grad: list = field(default_factory=list)
    dt: list = field(default_factory=list)
    bg_hit: int = 0
    bg_n: int = 0
    eat_hit: int = 0
    eat_n: int = 0
    sure_bg_hit: int = 0
    sure_bg_n: int = 0
    sure_eat_hit: int = 0
    sure_eat_n: int = 0
    se_all: float = 0.0
    n_all: int = 0
    se_band: float = 0.0
    n_band: int = 0
    region: dict = field(default_factory=lambda: {r: 0.0 for r in REGIONS})
    frames: int = 0
    prev: np.ndarray | None = None
    bias_sum: np.ndarray = field(default_factory=lambda: np.zeros(DECILES))
    bias_n: np.ndarray = field(default_factory=lambda: np.zeros(DECILES))
    lost_max: int = 0
    tint_sum: float = 0.0
    tint_n: int = 0
    lag: list = field(default_factory=list)

    def result(self) -> dict[str, float]:
        def psnr(se: float, n: int) -> float:
            mse = se / max(n, 1)
            return 10 * np.log10(1.0 / mse) if mse > 0 else float("inf")

        n = max(self.frames, 1)
        return {
            "SAD": float(np.mean(self.sad)),
            "MSE×1e3": 1000 * float(np.mean(self.mse)),
            "Grad": float(np.mean(self.grad)),
            "bg visible %": 100 * self.bg_hit / max(self.bg_n, 1),
            "eaten %": 100 * self.eat_hit / max(self.eat_n, 1),
            "screen left %": 100 * self.sure_bg_hit / max(self.sure_bg_n, 1),
            "subject lost %": 100 * self.sure_eat_hit / max(self.sure_eat_n, 1),
            "PSNR dB": psnr(self.se_all, self.n_all),
            "edge PSNR dB": psnr(self.se_band, self.n_band),
            "dtSSD×100": 100 * float(np.mean(self.dt)) if self.dt else float("nan"),
            # Issue 23: the largest over the frames; the mean over every partial pixel; the mean.
            "lost patch px": float(self.lost_max),
            "tint levels": self.tint_sum / self.tint_n if self.tint_n else float("nan"),
            "lag px": float(np.mean(self.lag)) if self.lag else float("nan"),
            **{f"SAD {r}": v / n for r, v in self.region.items()},
            **{
                name: float(self.bias_sum[k] / self.bias_n[k]) if self.bias_n[k] else float("nan")
                for k, name in enumerate(BIAS)
            },
        }


def worst_bias(result: dict[str, float]) -> float:
    """The decile bias farthest from 0 in an Acc.result (NaN when no decile has pixels)."""
    return max((result[k] for k in BIAS if np.isfinite(result[k])), key=abs, default=float("nan"))


@dataclass
class TruthCtx:
    """What every method's frame is compared with, computed once per frame."""

    g: np.ndarray
    grad: np.ndarray
    comp: np.ndarray
    band: np.ndarray
    zero: np.ndarray
    one: np.ndarray
    prev_g: np.ndarray | None
    regions: dict
    fg: np.ndarray
    motion_x: float | None = None  # the subject's motion along x (+1 right), None: unknown/still
    screen_channel: int = 1  # the screen's own channel, for the tint: 1 green, 2 blue


def truth_ctx(
    tf: sample.TruthFrame,
    prev_g: np.ndarray | None,
    lit: np.ndarray | None,
    motion_x: float | None = None,
    screen_channel: int = 1,
) -> TruthCtx:
    g = tf.alpha
    c = np.asarray(TEST_COLOR, F32)
    comp = g[..., None] * tf.foreground + (1 - g[..., None]) * c
    zero, one = g <= 1e-4, g >= 1 - 1e-4
    band = dilate(~zero & ~one, BAND_RADIUS)
    fg = tf.foreground

    def near(rgb: tuple, tol: float) -> np.ndarray:
        return (np.abs(fg - np.asarray(rgb, F32)).max(axis=-1) < tol) & ~zero

    shadow = zero & ~band
    if lit is not None:
        shadow &= tf.observed[..., 1] < 0.88 * lit[..., 1]
    else:
        shadow &= False
    regions = {
        "edge band": band,
        "interior": one & ~band,
        "background": zero & ~band,
        "shadow": shadow,
        "hair": near(sample.HAIR_RGB, 0.02),
        "lime tie": near(sample.LIME_RGB, 0.06),
        "teal badge": near(sample.TEAL_RGB, 0.06),
    }
    return TruthCtx(
        g, grad_mag(g), comp, band, zero, one, prev_g, regions, fg, motion_x, screen_channel
    )


def accumulate(
    acc: Acc, t: TruthCtx, a: np.ndarray, rgb: np.ndarray, tint_rgb: np.ndarray | None = None
) -> None:
    """Adds a frame's α and straight colour; ``tint_rgb``, if given, is the colour whose screen
    tint is scored instead of ``rgb`` (the oracle's own colour in benchmarks.bounds)."""
    d = a - t.g
    ad = np.abs(d)
    acc.sad.append(float(ad.sum()) / 1000)
    acc.mse.append(float((d * d).mean()))
    gd = grad_mag(a) - t.grad
    acc.grad.append(float((gd * gd).sum()) / 1000)
    acc.bg_hit += int((a[t.zero] > 0.1).sum())
    acc.bg_n += int(t.zero.sum())
    acc.eat_hit += int((a[t.one] < 0.9).sum())
    acc.eat_n += int(t.one.sum())
    # Surely screen / surely subject: truth 0 / 1 and more than BAND_RADIUS px from a partial pixel.
    sure_bg, sure_fg = t.regions["background"], t.regions["interior"]
    acc.sure_bg_hit += int((a[sure_bg] > 0.1).sum())
    acc.sure_bg_n += int(sure_bg.sum())
    acc.sure_eat_hit += int((a[sure_fg] < 0.9).sum())
    acc.sure_eat_n += int(sure_fg.sum())
    c = np.asarray(TEST_COLOR, F32)
    comp = rgb * a[..., None] + (1 - a[..., None]) * c
    se = ((comp - t.comp) ** 2).sum(axis=-1)
    acc.se_all += float(se.sum())
    acc.n_all += se.size * 3
    acc.se_band += float(se[t.band].sum())
    acc.n_band += int(t.band.sum()) * 3
    if acc.prev is not None and t.prev_g is not None:
        e = (a - acc.prev) - (t.g - t.prev_g)
        acc.dt.append(float(np.sqrt((e * e).mean())))
    acc.prev = a
    partial = ~t.zero & ~t.one
    if partial.any():
        bins = np.minimum((t.g[partial] * DECILES).astype(np.int64), DECILES - 1)
        acc.bias_sum += np.bincount(bins, d[partial], DECILES)
        acc.bias_n += np.bincount(bins, minlength=DECILES)
    for r, m in t.regions.items():
        acc.region[r] += float(ad[m].sum()) / 1000
    acc.lost_max = max(acc.lost_max, largest_lost_patch(a, t.g))
    total, n = tint_terms(a, rgb if tint_rgb is None else tint_rgb, t.g, t.fg, t.screen_channel)
    acc.tint_sum += total
    acc.tint_n += n
    if t.motion_x is not None:
        acc.lag.append(matte_lag(a, t.g, t.motion_x))
    acc.frames += 1


def lit_screen(spec: sample.SampleSpec) -> np.ndarray | None:
    """The unshadowed screen light (sample's private helper), to find the cast shadow."""
    fn = getattr(sample, "lit_screen", None)
    try:
        return None if fn is None else np.asarray(fn(spec.width, spec.height, spec.seed))
    except Exception:  # noqa: BLE001 - the shadow row is optional
        return None


# Partial pixels above this are left out of the floor: a keyer may clip them to 1.
FLOOR_MAX_ALPHA = 0.99


def spill_floor_sad(tf: sample.TruthFrame) -> float:
    """SAD of a keyer that measures each pixel's share of screen light exactly.

    Spill is screen light reflected by the subject: a partial pixel α·(F + k·S) + (1 − α)·S
    holds the screen's light in the share (1 − α) + α·k, exactly as a pixel of coverage
    α·(1 − k) with no spill would. Even with no noise, no compression and full-resolution
    chroma, such a keyer reads α·(1 − k): an error α·k on every partial pixel. Near-black hair
    is the extreme case (F ≈ 0: nothing but the light's share tells coverage).
    """
    a = tf.alpha
    partial = (a > 1e-4) & (a < FLOOR_MAX_ALPHA)
    return float((a * tf.spill)[partial].sum()) / 1000
