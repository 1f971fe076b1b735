"""Matting metrics against ground truth, per frame and accumulated over a clip.

SAD, MSE, gradient error, background left visible and subject eaten (over all truth-0/1
pixels, and "surely" more than BAND_RADIUS px from a partial pixel), composite PSNR over the
whole frame and the edge band, dtSSD (flicker), the signed alpha bias per truth decile, and
the spill floor. benchmarks/quality.py drives them; see its docstring for the definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from chromakey import sample

F32 = np.float32
TEST_COLOR = (1.0, 0.0, 1.0)
# Truth deciles for the signed bias of partial pixels: [0, 0.1), … [0.9, 1), 0 and 1 excluded.
DECILES = 10
# Acc.result's names of the deciles' bias.
BIAS = tuple(f"bias {k / DECILES:.1f}–{(k + 1) / DECILES:.1f}" for k in range(DECILES))
BAND_RADIUS = 3

# --- numpy filters ---------------------------------------------------------------------------


def _gauss_kernels(sigma: float = 1.4, eps: float = 1e-2) -> tuple[np.ndarray, np.ndarray]:
    """1-D Gaussian and its derivative, sized and L2-normalised as gaussgradient.m does."""
    half = int(np.ceil(sigma * np.sqrt(-2.0 * np.log(np.sqrt(2 * np.pi) * sigma * eps))))
    x = np.arange(-half, half + 1, dtype=np.float64)
    g = np.exp(-(x * x) / (2 * sigma * sigma)) / (np.sqrt(2 * np.pi) * sigma)
    d = -x * g / (sigma * sigma)
    return (g / np.sqrt((g * g).sum())).astype(F32), (d / np.sqrt((d * d).sum())).astype(F32)


_G, _DG = _gauss_kernels()


def _conv1d(a: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray:
    """Correlation with a 1-D kernel along ``axis``, edges replicated."""
    n = len(k) // 2
    pad = [(0, 0), (0, 0)]
    pad[axis] = (n, n)
    p = np.pad(a, pad, mode="edge")
    size = a.shape[axis]
    out = np.zeros_like(a)
    for i, w in enumerate(k):
        out += w * (p[i : i + size] if axis == 0 else p[:, i : i + size])
    return out


def grad_mag(a: np.ndarray) -> np.ndarray:
    gx = _conv1d(_conv1d(a, _DG, 1), _G, 0)
    gy = _conv1d(_conv1d(a, _G, 1), _DG, 0)
    return np.sqrt(gx * gx + gy * gy)


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for axis in (0, 1):
        src = out.copy()
        for s in range(1, r + 1):
            if axis == 0:
                out[s:] |= src[:-s]
                out[:-s] |= src[s:]
            else:
                out[:, s:] |= src[:, :-s]
                out[:, :-s] |= src[:, s:]
    return out



# --- metrics ----------------------------------------------------------------------------------

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


def truth_ctx(tf: sample.TruthFrame, prev_g: np.ndarray | None, lit: np.ndarray | None) -> TruthCtx:
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
    return TruthCtx(g, grad_mag(g), comp, band, zero, one, prev_g, regions)


def accumulate(acc: Acc, t: TruthCtx, a: np.ndarray, rgb: np.ndarray) -> None:
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

