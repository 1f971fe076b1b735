"""The footage benchmark's subjects: the freely licensed cut-outs with alpha (benchmarks/media,
each with its licence), their rims' room unmixed, resized and placed, the pale look of issue
23's white shirt in shadow, and synthetic hair strands with exact coverage."""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from benchmarks.foreground import estimate

F32 = np.float32
MEDIA = Path(__file__).resolve().parent / "media"

# rembg's model never gives exactly 0 or 1: its interior sits at 245–254 and its background
# at 0–2 of 255. Those are the model's noise, not coverage; they are snapped to 0 and 1.
SNAP_LOW, SNAP_HIGH = 3 / 255, 245 / 255
# rembg's cut-out composites the photograph over transparent black (PIL's Image.composite
# blends every band), so the files' colour is premultiplied though PNG's is straight: every
# pixel's RGB is at most its α, and a partial pixel read as straight is the photograph's
# colour darkened by its own α, a dark fringe no camera sees. read_cutout unmixes it.
# The α under which a pixel has no colour to unmix (straight).
ALPHA_TINY = 1e-6


# --- the foreground ---------------------------------------------------------------------------


def read_rgba(path: Path) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return frame.to_ndarray(format="rgba").astype(F32) * F32(1 / 255)


def _resize_axis(a: np.ndarray, n: int, axis: int) -> np.ndarray:
    """Linear resampling of ``a`` to ``n`` samples along ``axis`` (pixel centres aligned);
    area-averaged first when shrinking, so strands are not aliased away."""
    m = a.shape[axis]
    if n < m:  # box prefilter of the shrink factor
        k = m / n
        r = max(int(round(k)) - 1, 0)
        if r:
            c = np.cumsum(
                np.pad(a, [(r, r) if i == axis else (0, 0) for i in range(a.ndim)], mode="edge"),
                axis=axis,
                dtype=np.float64,
            )
            c = np.insert(c, 0, 0.0, axis=axis)
            hi = np.take(c, np.arange(2 * r + 1, 2 * r + 1 + m), axis=axis)
            lo = np.take(c, np.arange(0, m), axis=axis)
            a = ((hi - lo) / (2 * r + 1)).astype(F32)
    x = (np.arange(n) + 0.5) * (m / n) - 0.5
    x0 = np.clip(np.floor(x).astype(int), 0, m - 1)
    x1 = np.clip(x0 + 1, 0, m - 1)
    f = np.clip(x - x0, 0.0, 1.0).astype(F32)
    shape = [1] * a.ndim
    shape[axis] = n
    f = f.reshape(shape)
    return np.take(a, x0, axis=axis) * (1 - f) + np.take(a, x1, axis=axis) * f


# The pale look: the cutout's clothing (pixels of HSL saturation under PALE_SAT and lightness
# over PALE_MIN_LIGHT — not dark hair — below PALE_TOP of the subject's height) turned a white of lightness PALE_LIGHT, keeping its
# texture (PALE_TEXTURE × its lightness' departure from the clothing's median), then a soft
# shadow across it towards SHADOW_RGB: issue 23's shadowed side of a white shirt, a grey-white
# of saturation ≈ 0.05 with a faint green cast. The shadow is full on the clothing's left
# (the side turned from the light) and fades as a smoothstep across its width, from
# SHADOW_SPAN[0] to SHADOW_SPAN[1] of it.
PALE_SAT = 0.22
PALE_TOP = 0.42
PALE_MIN_LIGHT = 0.12
PALE_LIGHT = 0.86
PALE_TEXTURE = 0.6
SHADOW_RGB = (142 / 255, 146 / 255, 131 / 255)
SHADOW_SPAN = (0.3, 0.7)


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def pale_look(rgba: np.ndarray) -> np.ndarray:
    """Straight RGBA with the clothing made a shadowed white (see PALE_SAT …); the alpha kept."""
    from chromakey.core.color import rgb_to_hsl

    rgb, a = rgba[..., :3], rgba[..., 3]
    _, sat, light, _ = rgb_to_hsl(rgb)
    ys, xs = np.nonzero(a > 0.5)
    top = ys.min() + PALE_TOP * (ys.max() - ys.min())
    row = np.arange(a.shape[0], dtype=F32)[:, None]
    # Soft membership: fades over 0.08 of saturation, 0.1 of lightness and 8 rows: no seam.
    cloth = np.clip((PALE_SAT - sat) / 0.08, 0, 1) * np.clip((row - top) / 8, 0, 1)
    cloth = (cloth * np.clip((light - PALE_MIN_LIGHT) / 0.1, 0, 1)).astype(F32)
    cloth *= a > 0
    body = cloth > 0.5
    med = float(np.median(light[body]))
    white = np.clip(PALE_LIGHT + PALE_TEXTURE * (light - med), 0.0, 1.0)[..., None]
    cx = np.nonzero(body)[1]
    x0, x1 = np.percentile(cx, 2), np.percentile(cx, 98)
    col = np.arange(a.shape[1], dtype=F32)[None, :]
    shade = 1 - _smoothstep(x0 + SHADOW_SPAN[0] * (x1 - x0), x0 + SHADOW_SPAN[1] * (x1 - x0), col)
    shadowed = white / PALE_LIGHT * np.asarray(SHADOW_RGB, F32)
    pale = white * (1 - shade[..., None]) + shadowed * shade[..., None]
    out = rgba.copy()
    out[..., :3] = rgb * (1 - cloth[..., None]) + np.clip(pale, 0, 1) * cloth[..., None]
    return out


def straight(prem: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Premultiplied colour ``prem`` (H×W×3) ÷ ``alpha`` (H×W), clipped to 0–1; 0 where α
    is 0."""
    a = alpha[..., None]
    out = np.clip(prem / np.maximum(a, F32(ALPHA_TINY)), 0.0, 1.0) * (a > ALPHA_TINY)
    return out.astype(F32)


def read_cutout(name: str) -> np.ndarray:
    """The cut-out ``name`` as straight RGBA (the file's colour is premultiplied)."""
    rgba = read_rgba(MEDIA / f"rembg-{name}.png")
    rgba[..., :3] = straight(rgba[..., :3], rgba[..., 3])
    return rgba


def snap(alpha: np.ndarray) -> np.ndarray:
    """rembg's α with its noise snapped to 0 and 1 (SNAP_LOW, SNAP_HIGH)."""
    return np.where(alpha < SNAP_LOW, 0.0, np.where(alpha > SNAP_HIGH, 1.0, alpha)).astype(F32)


@lru_cache(maxsize=4)
def subject(name: str) -> np.ndarray:
    """The cut-out as a green-screen shoot would show it: straight RGBA, α snapped, each
    partial pixel the subject's own colour with the photograph's room unmixed from it
    (benchmarks.foreground); read-only."""
    rgba = read_cutout(name)
    a = snap(rgba[..., 3])
    f, _ = estimate(rgba[..., :3], a)
    partial = ((a > 0) & (a < 1))[..., None]
    rgba[..., :3] = np.where(partial, f, rgba[..., :3] * (a[..., None] > 0))
    rgba[..., 3] = a
    rgba.flags.writeable = False
    return rgba


@lru_cache(maxsize=6)
def cutout(name: str, width: int, height: int, look: str = "") -> np.ndarray:
    """The subject as premultiplied RGBA, scaled to 92% of the frame's height (read-only)."""
    rgba = subject(name)
    if look == "pale":
        rgba = pale_look(rgba)
    a = rgba[..., 3]
    prem = np.concatenate([rgba[..., :3] * a[..., None], a[..., None]], axis=-1)
    h, w = a.shape
    scale = min(0.92 * height / h, 0.9 * width / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    out = _resize_axis(_resize_axis(prem, nh, 0), nw, 1)
    out = np.clip(out, 0.0, 1.0)
    out[..., :3] = np.minimum(out[..., :3], out[..., 3:4])
    out.flags.writeable = False
    return out


def _place(layer: np.ndarray, width: int, height: int, x: float, y: float) -> np.ndarray:
    """``layer`` (premultiplied) with its top-left at (x, y) in a W×H frame, bilinearly."""
    ix, iy = math.floor(x), math.floor(y)
    fx, fy = F32(x - ix), F32(y - iy)
    h, w = layer.shape[:2]
    big = np.zeros((h + 1, w + 1, 4), F32)
    big[1:, 1:] = layer
    # Sampling at fractional offsets: each output pixel mixes the 2×2 source pixels around it.
    shifted = (
        (1 - fx) * (1 - fy) * big[1:, 1:]
        + fx * (1 - fy) * big[1:, :-1]
        + (1 - fx) * fy * big[:-1, 1:]
        + fx * fy * big[:-1, :-1]
    )
    out = np.zeros((height, width, 4), F32)
    x0, y0 = max(ix, 0), max(iy, 0)
    x1, y1 = min(ix + w, width), min(iy + h, height)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = shifted[y0 - iy : y1 - iy, x0 - ix : x1 - ix]
    return out


# --- synthetic strands and holes -----------------------------------------------------------------

STRAND_WIDTHS = (0.3, 1.6)  # pixels
STRAND_SS = 4  # supersampling per axis for the strands' coverage


@lru_cache(maxsize=2)
def strands(width: int, height: int, seed: int) -> np.ndarray:
    """A dark head-and-shoulders with strands at random angles and widths, and enclosed
    screen holes of 4–14 px radius in a solid band: premultiplied RGBA, read-only."""
    rng = np.random.default_rng([seed, 7])
    ss = STRAND_SS
    ys = ((np.arange(height * ss) + 0.5) / ss)[:, None].astype(F32)
    xs = ((np.arange(width * ss) + 0.5) / ss)[None, :].astype(F32)
    cx, cy, r = 0.5 * width, 0.42 * height, 0.2 * height
    inside = ((xs - cx) ** 2 + (ys - cy) ** 2) < r * r
    # A solid band below the head with holes in it (between an arm and the body).
    band = (ys > 0.68 * height) & (ys < 0.9 * height) & (np.abs(xs - cx) < 0.3 * width)
    for _ in range(6):
        hx = rng.uniform(cx - 0.25 * width, cx + 0.25 * width)
        hy = rng.uniform(0.72 * height, 0.86 * height)
        hr = rng.uniform(4.0, 14.0)
        band &= ((xs - hx) ** 2 + (ys - hy) ** 2) >= hr * hr
    cover = (inside | band).astype(F32)
    color = np.zeros(cover.shape + (3,), F32)
    color[:] = (0.05, 0.04, 0.035)  # near-black hair
    color[band] = (0.80, 0.62, 0.50)  # skin-toned arm
    for k in range(90):
        ang = rng.uniform(-math.pi, 0.0) if k < 70 else rng.uniform(0.0, math.pi * 0.15)
        w = rng.uniform(*STRAND_WIDTHS)
        length = rng.uniform(0.25, 0.7) * r
        x0, y0 = cx + r * 0.96 * math.cos(ang), cy + r * 0.96 * math.sin(ang)
        dx, dy = math.cos(ang + rng.uniform(-0.3, 0.3)), math.sin(ang + rng.uniform(-0.3, 0.3))
        # distance of each sample to the segment (x0, y0) + t·(dx, dy), t in [0, length]
        lo_x, hi_x = (
            int(max(0, (min(x0, x0 + dx * length) - 2) * ss)),
            int(min(width * ss, (max(x0, x0 + dx * length) + 2) * ss)),
        )
        lo_y, hi_y = (
            int(max(0, (min(y0, y0 + dy * length) - 2) * ss)),
            int(min(height * ss, (max(y0, y0 + dy * length) + 2) * ss)),
        )
        if hi_x <= lo_x or hi_y <= lo_y:
            continue
        px, py = xs[:, lo_x:hi_x] - x0, ys[lo_y:hi_y] - y0
        t = np.clip(px * dx + py * dy, 0.0, length)
        d = np.hypot(px - t * dx, py - t * dy)
        hit = d < 0.5 * w
        sub = cover[lo_y:hi_y, lo_x:hi_x]
        col = color[lo_y:hi_y, lo_x:hi_x]
        tone = (0.05, 0.04, 0.035) if k % 3 else (0.55, 0.42, 0.25)  # dark and blond strands
        col[hit & (sub < 1)] = tone
        sub[hit] = 1.0
    # Box-average the supersamples: coverage and premultiplied colour.
    prem = np.concatenate([color * cover[..., None], cover[..., None]], axis=-1)
    out = prem.reshape(height, ss, width, ss, 4).mean(axis=(1, 3)).astype(F32)
    out.flags.writeable = False
    return out
