"""The numpy reference keyer: the oracle the shaders are tested against.

Each function here has a GLSL twin of the same name in ``shaders/`` and reads
the same way. All values are float32 in 0–1; images are H×W(×C) arrays.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .color import LUMA_COEFFICIENTS, YuvSpec, rgb_to_hsl
from .core.frames import Frame
from .params import KeyerParams
from .screenmap import ScreenMap, keyed_params

F32 = np.float32

# Narrowest soft ramp; anything narrower is a hard step (shared with common.glsl).
MIN_RAMP = 1e-6

# Composite: the floor of the alpha a straight colour is divided by, and the alpha below
# which a transparent output pixel carries no colour.
ALPHA_FLOOR = 1e-6
ALPHA_VISIBLE = 1.0 / 512.0

# Radius in pixels of the neighbourhood that decides whether a pixel is on an edge.
EDGE_RADIUS = 2


def soft_step(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    """GLSL smoothstep, and a hard step (x > e0) when the ramp has no width.

    Below MIN_RAMP a ramp's slope would overflow float32; it is a step then.
    """
    if e1 - e0 < MIN_RAMP:
        return (x > e0).astype(F32)
    # t·t·(3 − 2t) with t = clip((x − e0)/(e1 − e0)): the same operations, in place.
    t = np.subtract(x, F32(e0))
    if not isinstance(t, np.ndarray):  # a scalar
        t = np.clip(t * F32(1.0 / (e1 - e0)), 0.0, 1.0)
        return t * t * (F32(3.0) - F32(2.0) * t)
    t *= F32(1.0 / (e1 - e0))
    np.clip(t, 0.0, 1.0, out=t)
    u = np.multiply(F32(2.0), t)
    np.subtract(F32(3.0), u, out=u)
    t *= t
    t *= u
    return t


# --- 1. decode ------------------------------------------------------------------


def upsample_chroma(c: np.ndarray, fx: int, fy: int, width: int, height: int) -> np.ndarray:
    """Bilinear chroma upsampling, H.264 siting: co-sited horizontally, centred vertically.

    These are the weights a GPU's linear filter gives when the chroma texture
    is sampled at (x/2 + 0.5, (y + 0.5)/2) in texel units with edges clamped:
    row 2k = 0.75·c[k] + 0.25·c[k−1], row 2k+1 = 0.75·c[k] + 0.25·c[k+1], column 2j = c[j],
    column 2j+1 = 0.5·(c[j] + c[j+1]), indices clamped to the plane.
    """
    c = c.astype(F32)
    if fy == 2:
        ne, no = (height + 1) // 2, height // 2  # even and odd output rows
        if c.shape[0] < ne:  # too few chroma rows (one row broadcasts): repeat the last
            c = c[np.minimum(np.arange(ne), c.shape[0] - 1)]
        ch = c.shape[0]
        up = np.empty((height, c.shape[1]), F32)
        near = F32(0.75) * c[:ne]
        far = F32(0.25) * c[: min(ne + 1, ch)]
        even, odd = up[0::2], up[1::2]
        np.add(near[:1], far[:1], out=even[:1])  # row 0: its previous row is itself
        np.add(near[1:ne], far[: ne - 1], out=even[1:])
        m = min(no, ch - 1)  # odd rows whose next chroma row exists
        np.add(near[:m], far[1 : m + 1], out=odd[:m])
        np.add(near[m:no], far[ch - 1 : ch], out=odd[m:])  # the last row: next is itself
        c = up
    if fx == 2:
        we, wo = (width + 1) // 2, width // 2  # even and odd output columns
        if c.shape[1] < we:
            c = c[:, np.minimum(np.arange(we), c.shape[1] - 1)]
        cw = c.shape[1]
        up = np.empty((c.shape[0], width), F32)
        up[:, 0::2] = c[:, :we]
        odd = up[:, 1::2]
        m = min(wo, cw - 1)
        np.add(c[:, :m], c[:, 1 : m + 1], out=odd[:, :m])
        np.add(c[:, m:wo], c[:, cw - 1 : cw], out=odd[:, m:])
        np.multiply(odd, F32(0.5), out=odd)
        c = up
    return c


def decode_rgb(frame: Frame) -> np.ndarray:
    """Frame → H×W×3 float32 RGB, with the frame's own matrix and range."""
    if frame.layout == "rgb":
        return _rgb_to_float(frame.planes[0])
    fx, fy = frame.chroma_factors
    return _decode_yuv(*frame.planes, fx, fy, frame.yuv)


def decode_rows(frame: Frame, y0: int, y1: int) -> np.ndarray:
    """Rows [y0, y1) of :func:`decode_rgb` (bit for bit), decoding only those rows (+2 of margin)."""
    if frame.layout == "rgb":
        return _rgb_to_float(frame.planes[0][y0:y1])
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    if fy == 1:
        return _decode_yuv(y[y0:y1], u[y0:y1], v[y0:y1], fx, fy, frame.yuv)
    # Vertical chroma interpolation reads the chroma rows either side; the rows next to the
    # cut would see a clamped edge instead, so decode 2 more rows each side (from an even
    # row, so output rows keep their chroma phase) and drop them.
    a = max(0, y0 - 2) & ~1
    b = min(frame.height, y1 + 2)
    rows = _decode_yuv(y[a:b], u[a // 2 : (b + 1) // 2], v[a // 2 : (b + 1) // 2], fx, fy, frame.yuv)
    return rows[y0 - a : y1 - a]


def _rgb_to_float(plane: np.ndarray) -> np.ndarray:
    out = plane.astype(F32)
    np.multiply(out, F32(1.0 / 255.0), out=out)
    return out


def _decode_yuv(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, fx: int, fy: int, spec: YuvSpec
) -> np.ndarray:
    """Planes (chroma subsampled by fx, fy) → H×W×3 float32 RGB, clipped to 0–1."""
    h, w = y.shape
    m, off = spec.to_rgb()
    m = m.astype(F32)
    s = F32(1.0 / 255.0)
    yy = y.astype(F32)
    np.multiply(yy, s * m[0, 0], out=yy)
    np.subtract(yy, F32(m[0, 0] * off[0]), out=yy)
    uu = upsample_chroma(u, fx, fy, w, h)
    np.multiply(uu, s, out=uu)
    np.subtract(uu, F32(off[1]), out=uu)
    vv = upsample_chroma(v, fx, fy, w, h)
    np.multiply(vv, s, out=vv)
    np.subtract(vv, F32(off[2]), out=vv)
    rgb = np.empty((h, w, 3), F32)
    t = np.empty((h, w), F32)
    # r = yy + m02·vv; g = (yy + m11·uu) + m12·vv; b = yy + m21·uu — each clipped to 0–1.
    np.multiply(vv, m[0, 2], out=t)
    np.add(yy, t, out=t)
    np.clip(t, 0.0, 1.0, out=rgb[..., 0])
    np.multiply(uu, m[1, 1], out=t)
    np.add(yy, t, out=t)
    np.multiply(vv, m[1, 2], out=vv)
    np.add(t, vv, out=t)
    np.clip(t, 0.0, 1.0, out=rgb[..., 1])
    np.multiply(uu, m[2, 1], out=uu)
    np.add(yy, uu, out=uu)
    np.clip(uu, 0.0, 1.0, out=rgb[..., 2])
    return rgb


# --- 2. screen membership -------------------------------------------------------


def hue_membership(hue: np.ndarray, p: KeyerParams) -> np.ndarray:
    """1 inside the hue window, ramping to 0 over hue_softness degrees outside it."""
    d = np.abs(hue - F32(p.hue_center))
    d = np.minimum(d, F32(360.0) - d)
    outside = np.maximum(d - F32(p.hue_width / 2.0), 0.0)
    return F32(1.0) - soft_step(0.0, p.hue_softness, outside)


def screen_membership(
    hue_m: np.ndarray, sat: np.ndarray, light: np.ndarray, chroma: np.ndarray, p: KeyerParams
) -> np.ndarray:
    """How much a pixel's colour is the screen's kind of colour, 0–1, guarded at the extremes."""
    m = hue_m * soft_step(p.sat_min - p.sat_softness, p.sat_min, sat)
    m *= soft_step(0.5 * p.dark_guard, p.dark_guard, chroma)
    m *= F32(1.0) - soft_step(p.bright_guard, 1.0, light)
    m *= F32(1.0) - soft_step(p.sat_max, p.sat_max + p.sat_softness, sat)  # 1 when sat_max is 1
    return m


# --- 3. fractional alpha --------------------------------------------------------


def key_channel(p: KeyerParams) -> int:
    """The RGB channel that dominates the screen: the primary nearest the hue window's centre."""
    return int(round(p.hue_center / 120.0)) % 3


def key_excess(rgb: np.ndarray, key: int) -> np.ndarray:
    """How far the key channel stands above the larger of the other two."""
    a, b = [c for c in range(3) if c != key]
    other = np.maximum(rgb[..., a], rgb[..., b])
    return np.subtract(rgb[..., key], other, out=other if other.ndim else None)


# Smallest key excess a screen colour is credited with (a grey "screen" would divide by 0).
MIN_SCREEN_EXCESS = 0.05


def screen_excess(screen: np.ndarray, key: int) -> np.ndarray:
    """The screen's own key excess (per pixel for a per-pixel screen), floored at MIN_SCREEN_EXCESS."""
    return np.maximum(key_excess(screen, key), F32(MIN_SCREEN_EXCESS))


def raw_alpha(
    excess: np.ndarray, membership: np.ndarray, screen_excess: np.ndarray | float
) -> np.ndarray:
    """1 − (the share of the screen's colour the pixel holds), gated by membership."""
    share = np.clip(excess * (F32(1.0) / np.asarray(screen_excess, F32)), 0.0, 1.0)
    return F32(1.0) - membership * share


# --- 4. the screen colour at each pixel --------------------------------------------------


def map_axis(n: int, cell: int, cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps along one axis of a screen map: (index0, index1, fraction) per pixel.

    Block k's centre is at (k + 0.5)·cell, pixel x's at x + 0.5, so x sits at
    u = (x + 0.5)/cell − 0.5 = (2x + 1 − cell) / (2·cell) blocks. Integer arithmetic gives the
    block k0 = floor(u) and the fraction f = (2x + 1 − cell − 2·cell·k0) / (2·cell) exactly as
    the shader does; indices are clamped to the grid (edges hold their block's colour).
    """
    num = 2 * np.arange(n, dtype=np.int64) + 1 - cell
    den = 2 * cell
    k0 = num // den
    frac = (num - k0 * den).astype(F32) / F32(den)
    i0 = np.clip(k0, 0, cells - 1)
    i1 = np.clip(k0 + 1, 0, cells - 1)
    return i0, i1, frac


def screen_at(
    screen: ScreenMap, height: int, width: int, y0: int = 0, y1: int | None = None
) -> np.ndarray:
    """The map upsampled bilinearly to H×W×3: rows of blocks along x first, then along y.

    Each step is a + f·(b − a), which gives a exactly where a = b (a constant map stays exact).
    With ``y0``/``y1``, only rows [y0, y1) of the H×W×3 result (the same values).
    """
    c = screen.colors
    rows, cols = screen.shape
    j0, j1, fx = map_axis(width, screen.cell, cols)
    i0, i1, fy = map_axis(height, screen.cell, rows)
    i0, i1, fy = i0[y0:y1], i1[y0:y1], fy[y0:y1]
    if len(i0):  # only the block rows these rows read
        lo = int(i0.min())
        c, i0, i1 = c[lo : int(i1.max()) + 1], i0 - lo, i1 - lo
    a = c[:, j0]
    across = a + fx[None, :, None] * (c[:, j1] - a)  # rows × W × 3
    # top + fy·(bottom − top) per row, for each run of rows between the same two block rows:
    # the difference once per run, no gathered H×W×3 copies.
    out = np.empty((len(i0), width, 3), across.dtype)
    if not len(i0):
        return out
    starts = np.flatnonzero((np.diff(i0) != 0) | (np.diff(i1) != 0)) + 1
    for r0, r1 in zip([0, *starts.tolist()], [*starts.tolist(), len(i0)], strict=True):
        top = across[i0[r0]]
        rows = out[r0:r1]
        np.multiply(fy[r0:r1, None, None], across[i1[r0]] - top, out=rows)
        np.add(top, rows, out=rows)
    return out


# --- 5. the luma guide -----------------------------------------------------------------
#
# In a 4:2:0 stream only luma has full resolution; the matte comes from chroma, so its edges
# are two pixels wide and a hair strand thinner than that barely registers. A guided filter
# (He, Sun and Tang 2010) fits the matte locally as a·luma + b and so borrows luma's edges.
# Where a window has no luma structure (a subject as bright as the screen) the fit would only
# blur, so the result is blended back to the raw matte by how much structure there is.


def luma_weights(frame: Frame) -> np.ndarray:
    """(Kr, Kg, Kb) of the frame's own matrix: their luma cancels chroma, keeping Y's detail."""
    matrix = frame.yuv.matrix if frame.layout == "yuv" and frame.yuv is not None else "bt709"
    kr, kb = LUMA_COEFFICIENTS[matrix]
    return np.array([kr, 1.0 - kr - kb, kb], F32)


BT709_LUMA = np.array([0.2126, 0.7152, 0.0722], F32)


def luma(rgb: np.ndarray, weights: np.ndarray) -> np.ndarray:
    w = np.asarray(weights, F32)
    return rgb[..., 0] * w[0] + rgb[..., 1] * w[1] + rgb[..., 2] * w[2]


def box_sum(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    """Sum of 2·radius + 1 values along ``axis``, edges clamped, added in the shaders' order."""
    n = a.shape[axis]
    padded = _pad_edge(a, radius, axis)
    out = _shifted(padded, axis, 0, n).copy()
    for k in range(1, 2 * radius + 1):
        out += _shifted(padded, axis, k, n)
    return out


# The matte variance below which a window's matte counts as flat in the guide's fit test.
GUIDE_MATTE_EPS = 1e-4
# The squared correlation of luma and matte over which the guide's fit comes to be trusted:
# a strand smeared by 4:2:0 chroma still correlates at 0.5 or so; a window of hair, skin and
# screen, where no line fits, at under 0.1.
GUIDE_FIT_RAMP = (0.1, 0.45)


def guide_coefficients(sums: np.ndarray, radius: int, p: KeyerParams) -> np.ndarray:
    """Window sums of (luma, matte, luma·matte, luma², matte²) → (a, b, w) of matte ≈ a·luma + b.

    The slope is cov / var, unshrunk, so a window of two colours is fitted exactly and a solid
    subject next to the screen stays 1; guide_eps only floors the variance it divides by.
    w, 0 to 1, is how far the fit is trusted: how much luma structure the window has,
    var / (var + guide_eps), times a ramp (GUIDE_FIT_RAMP) on how much of the matte's variance
    luma explains, the squared correlation ρ² = cov² / (var·var_matte). Where dark hair,
    bright skin and the screen share a window no line in luma fits the matte; the fit would
    put a ring of wrong alpha around the subject, so there the raw matte stays.
    """
    m = sums * F32(1.0 / (2 * radius + 1) ** 2)
    mean_i, mean_p = m[..., 0], m[..., 1]
    var = np.maximum(m[..., 3] - mean_i * mean_i, 0.0)
    var_p = np.maximum(m[..., 4] - mean_p * mean_p, 0.0)
    cov = m[..., 2] - mean_i * mean_p
    eps = F32(p.guide_eps)
    out = np.empty(sums.shape[:-1] + (3,), F32)
    var_f = np.maximum(var, eps)
    out[..., 0] = cov / var_f
    out[..., 1] = mean_p - out[..., 0] * mean_i
    rho2 = np.minimum(cov * cov / (var_f * np.maximum(var_p, F32(GUIDE_MATTE_EPS))), F32(1.0))
    out[..., 2] = var / (var + eps) * soft_step(*GUIDE_FIT_RAMP, rho2)
    return out


def guided_matte(raw: np.ndarray, guide: np.ndarray, p: KeyerParams) -> np.ndarray:
    """The raw matte given the guide's (luma's) edges, where the luma has any."""
    r = p.guide_radius
    if r == 0:
        return raw
    stack = np.stack([guide, raw, guide * raw, guide * guide, raw * raw], axis=-1)
    coef = guide_coefficients(box_sum(box_sum(stack, r, 1), r, 0), r, p)
    m = box_sum(box_sum(coef, r, 1), r, 0) * F32(1.0 / (2 * r + 1) ** 2)
    fitted = m[..., 0] * guide + m[..., 1]
    return np.clip(m[..., 2] * fitted + (F32(1.0) - m[..., 2]) * raw, 0.0, 1.0)


# --- 6. refinement ----------------------------------------------------------------


def _shifted(padded: np.ndarray, axis: int, start: int, size: int) -> np.ndarray:
    """A view of ``size`` rows (axis 0) or columns (axis 1) of ``padded`` from ``start``."""
    return padded[start : start + size] if axis == 0 else padded[:, start : start + size]


def _pad_edge(a: np.ndarray, radius: int, axis: int) -> np.ndarray:
    pad = [(0, 0)] * a.ndim
    pad[axis] = (radius, radius)
    return np.pad(a, pad, mode="edge")


def _window_reduce(a: np.ndarray, radius: int, op: np.ufunc) -> np.ndarray:
    """Square min/max filter with edges clamped, as two 1-D passes (exact for a square).

    Each pass pads by ``radius`` edge copies and reduces the window of 2·radius + 1 by
    doubling: windows of 2, 4, 8 … from pairs of the previous ones, then the last two
    (overlapping) windows of the largest power of two cover the whole window — about
    log2(2·radius + 1) + 1 operations per pixel instead of 2·radius. min and max are exact
    and order-free, so this gives the same values as comparing every tap.
    """
    if radius <= 0:
        return a
    for axis in (1, 0):
        a = _window_reduce_1d(a, radius, op, axis)
    return a


class _Scratch(threading.local):
    """Per-thread reusable work buffers: a fresh temporary of a few MB costs more in page
    faults than the arithmetic done in it. Only for arrays that never leave a function."""

    def __init__(self) -> None:
        self.buffers: list[np.ndarray] = []

    def get(self, slot: int, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        while len(self.buffers) <= slot:
            self.buffers.append(np.empty(0, np.uint8))
        size = int(np.prod(shape)) * np.dtype(dtype).itemsize
        if self.buffers[slot].size < size:
            self.buffers[slot] = np.empty(size, np.uint8)
        return self.buffers[slot][:size].view(dtype).reshape(shape)


_scratch = _Scratch()


def _window_reduce_1d(a: np.ndarray, radius: int, op: np.ufunc, axis: int) -> np.ndarray:
    n = a.shape[axis]
    size = 2 * radius + 1
    shape = list(a.shape)
    shape[axis] = n + 2 * radius
    # The edge-padded input, written into a reused buffer (np.pad would allocate).
    cur = _scratch.get(0, tuple(shape), a.dtype)
    _shifted(cur, axis, radius, n)[...] = a
    _shifted(cur, axis, 0, radius)[...] = _shifted(a, axis, 0, 1)
    _shifted(cur, axis, radius + n, radius)[...] = _shifted(a, axis, n - 1, 1)
    length = cur.shape[axis]
    spare = _scratch.get(1, tuple(shape), a.dtype)
    span = 1  # cur[i] holds the reduction of padded[i : i + span] for i <= length − span
    while 2 * span <= size:
        valid = length - 2 * span + 1  # entries of the doubled window that exist
        op(
            _shifted(cur, axis, 0, valid),
            _shifted(cur, axis, span, valid),
            out=_shifted(spare, axis, 0, valid),
        )
        cur, spare = spare, cur
        span *= 2
    # size is odd and at least 3, so span < size: two overlapping windows of span cover it.
    out = np.empty(a.shape, a.dtype)
    op(_shifted(cur, axis, 0, n), _shifted(cur, axis, size - span, n), out=out)
    return out


# Rows of context beyond what key_frame's neighbourhood operations reach, for safety.
HALO_MARGIN = 2


def halo_rows(p: KeyerParams) -> int:
    """Rows of context a band of rows needs on each side for :func:`key_frame` on the band to
    give exactly the rows it gives on the whole frame (ReferenceKeyer's strips).

    The neighbourhood operations run one after the other, so their reaches add up: the
    luma guide (two box filters of guide_radius), the edge test (EDGE_RADIUS), the choke
    (|choke|), the feather (ceil(feather) taps) and the spill gate's max filter (spill_radius). Every operation of that kind added to key_frame
    must be counted here; tests/test_cpu_strips.py checks the sum against the whole frame.
    """
    feather = math.ceil(p.feather) if p.feather > 0 else 0
    guide = 2 * p.guide_radius
    return guide + EDGE_RADIUS + abs(p.choke) + feather + p.spill_radius + HALO_MARGIN


def gaussian_weights(radius: float) -> np.ndarray:
    """Feather taps: a Gaussian of sigma radius/2 over ±ceil(radius), normalised."""
    n = int(np.ceil(radius))
    sigma = max(radius / 2.0, 1e-3)
    x = np.arange(-n, n + 1, dtype=np.float64)
    w = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return (w / w.sum()).astype(F32)


def _blur(a: np.ndarray, weights: np.ndarray) -> np.ndarray:
    n = len(weights) // 2
    if n == 0:
        return a
    for axis in (1, 0):
        size = a.shape[axis]
        padded = _pad_edge(a, n, axis)
        out = np.zeros_like(a)
        for k, w in enumerate(weights):
            out += w * _shifted(padded, axis, k, size)
        a = np.clip(out, 0.0, 1.0, out=out)  # weights sum to 1 only within rounding
    return a


def edge_weight(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """1 where the matte varies within EDGE_RADIUS (hair, outlines), 0 on flat regions."""
    spread = _window_reduce(alpha, EDGE_RADIUS, np.maximum) - _window_reduce(
        alpha, EDGE_RADIUS, np.minimum
    )
    return soft_step(0.5 * p.edge_tolerance, p.edge_tolerance, spread)


def clip_matte(alpha: np.ndarray, edge: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Clip black/white away from edges only, so shadows go and hair stays fractional."""
    clipped = np.clip((alpha - F32(p.clip_black)) * F32(1.0 / (p.clip_white - p.clip_black)), 0, 1)
    return clipped + edge * (alpha - clipped)


def choke_matte(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    """Erode (choke > 0) or dilate (choke < 0) by a square of radius |choke|."""
    if p.choke > 0:
        return _window_reduce(alpha, p.choke, np.minimum)
    if p.choke < 0:
        return _window_reduce(alpha, -p.choke, np.maximum)
    return alpha


def feather_matte(alpha: np.ndarray, p: KeyerParams) -> np.ndarray:
    return _blur(alpha, gaussian_weights(p.feather)) if p.feather > 0 else alpha


def refine_matte(raw: np.ndarray, p: KeyerParams) -> np.ndarray:
    alpha = clip_matte(raw, edge_weight(raw, p), p)
    return feather_matte(choke_matte(alpha, p), p)


# --- 7. unmix and despill -------------------------------------------------------------


def spill_gate(
    hue_m: np.ndarray, sat: np.ndarray, alpha: np.ndarray, p: KeyerParams
) -> np.ndarray:
    """Where spill may be removed: screen hues, weak colours, and anything near the screen.

    The screen's light reaches the subject's edges, whatever their colour; a
    strongly saturated off-window colour away from the edges (a lime tie, a
    teal badge) is the object's own and keeps its green.
    """
    near_screen = _window_reduce(F32(1.0) - alpha, p.spill_radius, np.maximum)
    weak = F32(1.0) - soft_step(p.sat_min, p.sat_min + p.sat_softness, sat)
    return np.maximum(np.maximum(hue_m, weak), near_screen)


def unmix_despill(
    rgb: np.ndarray,
    alpha: np.ndarray,
    gate: np.ndarray,
    screen: np.ndarray,
    key: int,
    p: KeyerParams,
) -> np.ndarray:
    """Premultiplied foreground: the screen's share removed, then its spill.

    ``screen`` is one (3,) colour or H×W×3, one per pixel (:func:`screen_at`). A pixel that
    is a·F + (1−a)·S gives back a·F exactly, so a partial pixel keeps its own colour instead
    of a green fringe.
    """
    a3 = alpha[..., None]
    fg = rgb - (F32(1.0) - a3) * screen.astype(F32)
    fg = np.clip(fg, 0.0, None)
    np.minimum(fg, a3, out=fg)
    spill = np.maximum(key_excess(fg, key), 0.0)
    fg[..., key] -= F32(p.spill) * gate * spill
    return fg


# --- 8. composite -------------------------------------------------------------------


def composite(fg: np.ndarray, alpha: np.ndarray, background: np.ndarray | None) -> np.ndarray:
    """Straight-alpha 'over': fg is premultiplied, background is RGB (or RGBA) or None.

    The background is a (3,) colour or an H×W×3/4 image, float 0–1 or uint8.

    With no background the result is straight RGBA for transparent outputs.
    """
    a3 = alpha[..., None]
    if background is None:
        out = np.empty(alpha.shape + (4,), F32)
        np.divide(fg, np.maximum(a3, F32(ALPHA_FLOOR)), out=out[..., :3])
        out[..., :3] *= a3 > F32(ALPHA_VISIBLE)
        np.clip(out[..., :3], 0.0, 1.0, out=out[..., :3])
        out[..., 3] = alpha
        return out
    bg = background.astype(F32) * F32(1.0 / 255.0) if background.dtype == np.uint8 else background
    if bg.shape[-1] == 4:
        # A background with its own alpha: the subject over it, then the pair stays RGBA.
        out = np.empty(alpha.shape + (4,), F32)
        ba = bg[..., 3:4]
        out_a = a3 + (F32(1.0) - a3) * ba
        prem = fg + (F32(1.0) - a3) * bg[..., :3] * ba
        np.divide(prem, np.maximum(out_a, F32(ALPHA_FLOOR)), out=out[..., :3])
        out[..., 3:4] = out_a
        return np.clip(out, 0.0, 1.0)
    out = np.subtract(F32(1.0), a3)
    out = np.multiply(out, bg, out=out if out.shape == np.broadcast_shapes(out.shape, bg.shape) else None)
    np.add(fg, out, out=out)
    return np.clip(out, 0.0, 1.0, out=out)


def to_uint8(img: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """0–1 float → uint8 rounded to nearest, as a GPU's unorm8 framebuffer stores it.

    ``out``: a uint8 array to write into (the float image is then used as scratch).
    """
    if out is None:
        return (img * F32(255.0) + F32(0.5)).astype(np.uint8)
    scaled = np.multiply(img, F32(255.0), out=img if img.dtype == F32 else None)
    np.add(scaled, F32(0.5), out=scaled)
    np.copyto(out, scaled, casting="unsafe")
    return out


# --- the whole reference ---------------------------------------------------------------


def screen_colors(screen: ScreenMap | np.ndarray, height: int, width: int) -> np.ndarray:
    """The screen colour per pixel (H×W×3), or one (3,) colour when it is the same everywhere.

    An H×W×3 array is taken as the colours per pixel already (a band from :func:`screen_rows`).
    """
    if isinstance(screen, ScreenMap):
        if screen.is_constant:
            return screen.colors[0, 0]
        return screen_at(screen, height, width)
    screen = np.asarray(screen, F32)
    return screen if screen.ndim == 3 else screen.reshape(3)


def screen_rows(
    screen: ScreenMap | np.ndarray, height: int, width: int, y0: int, y1: int
) -> np.ndarray:
    """Rows [y0, y1) of :func:`screen_colors` for an H×W frame, or its one (3,) colour."""
    if isinstance(screen, ScreenMap) and not screen.is_constant:
        return screen_at(screen, height, width, y0, y1)
    return screen_colors(screen, height, width)


def key_frame(
    rgb: np.ndarray,
    screen: ScreenMap | np.ndarray,
    p: KeyerParams,
    luma_w: np.ndarray = BT709_LUMA,
) -> tuple[np.ndarray, np.ndarray]:
    """RGB → (premultiplied foreground, alpha) for a screen map or one (3,) screen colour.

    ``luma_w``: the frame's :func:`luma_weights` (the guide of :func:`guided_matte`).
    """
    hue, sat, light, chroma = rgb_to_hsl(rgb)
    hue_m = hue_membership(hue, p)
    member = screen_membership(hue_m, sat, light, chroma, p)
    key = key_channel(p)
    screen = screen_colors(screen, rgb.shape[0], rgb.shape[1])
    raw = raw_alpha(key_excess(rgb, key), member, screen_excess(screen, key))
    alpha = refine_matte(guided_matte(raw, luma(rgb, luma_w), p), p)
    fg = unmix_despill(rgb, alpha, spill_gate(hue_m, sat, alpha, p), screen, key, p)
    return fg, alpha


def cpu_workers() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Pixels per strip: small enough that a strip's float32 temporaries stay in the CPU caches.
STRIP_PIXELS = 384 * 1024


class ReferenceKeyer:
    """The reference pipeline on numpy: frame in, composited uint8 image out (the oracle the
    compiled CPU keyer, :class:`chromakey.kernels.CpuKeyer`, and the shaders are held to).

    ``strips`` (default: on when more than one CPU is usable) keys the frame in horizontal
    strips, each with :func:`halo_rows` rows of context either side, on ``workers`` threads
    (numpy releases the GIL): the same uint8 output as the whole frame at once, faster, as a
    strip's temporaries stay in cache and both cores work. ``strip_rows`` fixes the rows per
    strip (default: about STRIP_PIXELS pixels a strip).
    """

    backend = "reference"

    def __init__(
        self,
        params: KeyerParams,
        *,
        strips: bool | None = None,
        workers: int | None = None,
        strip_rows: int | None = None,
    ) -> None:
        self.params = params
        cpus = cpu_workers()
        self.strips = cpus > 1 if strips is None else bool(strips)
        self.workers = max(1, min(cpus, 4) if workers is None else int(workers))
        self.strip_rows = strip_rows
        self._pool: ThreadPoolExecutor | None = None

    def set_params(self, params: KeyerParams) -> None:
        self.params = params

    def render(
        self, frame: Frame, screen: ScreenMap | np.ndarray, background: np.ndarray | None
    ) -> np.ndarray:
        """uint8 H×W×3 over ``background`` ((3,) colour or H×W×3/4 image), or H×W×4 if None.

        ``screen``: a :class:`ScreenMap` (from the calibrator) or one (3,) screen colour.
        """
        p = keyed_params(self.params, screen)
        bands = self._bands(frame.width, frame.height) if self.strips else []
        if len(bands) <= 1:
            fg, alpha = key_frame(decode_rgb(frame), screen, p, luma_weights(frame))
            return to_uint8(composite(fg, alpha, background))
        bg = None if background is None else np.asarray(background)
        channels = 4 if bg is None or bg.shape[-1] == 4 else 3
        out = np.empty((frame.height, frame.width, channels), np.uint8)
        halo = halo_rows(p)

        def band(rows: tuple[int, int]) -> None:
            self._render_band(frame, screen, bg, p, halo, rows[0], rows[1], out)

        if self.workers == 1:
            for rows in bands:
                band(rows)
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="cpu-keyer")
            for _ in self._pool.map(band, bands):  # re-raises a strip's exception here
                pass
        return out

    def _bands(self, width: int, height: int) -> list[tuple[int, int]]:
        """[y0, y1) of each strip: equal heights, at least one strip per worker if there are rows."""
        rows = self.strip_rows or max(16, STRIP_PIXELS // max(width, 1))
        n = max(-(-height // max(rows, 1)), 1)
        if self.strip_rows is None and self.workers > 1 and height >= 16 * self.workers:
            n = -(-n // self.workers) * self.workers  # a multiple of the workers: even load
        rows = -(-height // n)
        return [(y, min(y + rows, height)) for y in range(0, height, rows)]

    @staticmethod
    def _render_band(
        frame: Frame,
        screen: ScreenMap | np.ndarray,
        background: np.ndarray | None,
        p: KeyerParams,
        halo: int,
        y0: int,
        y1: int,
        out: np.ndarray,
    ) -> None:
        """Rows [y0, y1) of the frame into ``out``: keyed with ``halo`` rows of context."""
        h, w = frame.height, frame.width
        h0, h1 = max(0, y0 - halo), min(h, y1 + halo)
        rgb = decode_rows(frame, h0, h1)
        fg, alpha = key_frame(rgb, screen_rows(screen, h, w, h0, h1), p, luma_weights(frame))
        a, b = y0 - h0, y1 - h0
        bg = background[y0:y1] if background is not None and background.ndim == 3 else background
        to_uint8(composite(fg[a:b], alpha[a:b], bg), out=out[y0:y1])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
