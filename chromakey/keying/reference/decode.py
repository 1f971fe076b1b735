"""1. Decode: a frame's planes → float32 RGB, with the frame's own matrix and range."""

from __future__ import annotations

import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame
from .common import F32, soft_step
from .windows import box_sum

# --- 1. decode ------------------------------------------------------------------
#
# A 4:2:0 stream carries one chroma sample per 2×2 pixels; only luma has full resolution.
# Over a few chroma samples a subject's edge against the screen is a mix of two colours, and
# in a mix of two colours every channel is one linear function of luma. So chroma is
# upsampled guided by luma (He, Sun and Tang's guided filter, as detail transfer): on the
# chroma grid, each window's slope of chroma against the luma the encoder averaged; at each
# pixel, the bilinear chroma plus that slope times luma's detail below the chroma grid.
# Where luma is flat the slope is 0 and the result is the bilinear chroma; across a strand
# or a hard edge the chroma edge comes back at luma's place and sharpness. Only as far as the
# window is such a mix, though: where three colours meet (skin, hair and the screen), or noise
# moves chroma, one slope against luma explains little of the window's chroma and would carry
# the wrong colour to every pixel; there the slope fades out to the bilinear chroma.
# Encoders site chroma two ways (YuvSpec.chroma_siting): H.264's (co-sited with even columns,
# [1, 2, 1] across) and centred (each 2×2 block averaged: JPEG, FFmpeg's swscale and libyuv's
# RGB → I420). The decode reads the frame's siting (H.264's for files, centred for WebRTC,
# unless the user states otherwise): its bilinear taps and the luma its slope is fitted
# against. Read with the wrong one, every edge's chroma moves half a pixel (up to 31% more
# SAD on the footage clips: benchmarks.siting). A one-pixel strand in an odd column lands
# whole in one centred sample, but the co-sited model's luma splits it between two, so that
# model explains the window poorly where its slope matters most: a window keeps its slope if
# either model explains its chroma, its own siting's on the looser ramp.

# Chroma samples either side of the window the slope is fitted over (3×3 samples: 6×6 px).
CHROMA_GUIDE_RADIUS = 1
# Luma variance (0–1 units) below which a window's luma counts as flat: a code value.
# Measured on the footage clips (6 frames each, with CHROMA_GUIDE_FIT): 2 code values left
# the thin strands' chroma too flat (their SAD 1–2.5% higher), 0.7 cost the other clips more
# than it gave the strands.
CHROMA_GUIDE_EPS = (1.0 / 255.0) ** 2
# The share of the window's chroma variance (U and V together) that the slopes explain, r²,
# over which they fade in (soft ramp): a mix of two colours is near 1. Measured with the
# quality set (24 frames a clip): SAD −0.7 to −2.4% on 13 of 19 clips, within ±0.3% on the
# rest (the sample +0.27%), edge PSNR up to +0.19 dB; (0.3, 0.9) gained more on the
# presenters (6 frames) but cost the pale muslin's and the sample's clips 0.3–0.4%.
CHROMA_GUIDE_FIT = (0.2, 0.8)
# The same ramp on the centred model's r², far higher: a window that the co-sited model fits
# poorly keeps its slope only where the centred model fits it nearly exactly, as it does a
# strand's. Measured on the footage clips (all H.264-sited, 6 frames each): the same ramp as
# the co-sited model's gave back a third of the fit's gain (noise fits one of two models
# more often than one) and cost the pale muslin's clip 0.9% SAD; (0.8, 0.98) costs nothing.
CHROMA_SITING_FIT = (0.8, 0.98)
# What r²'s variances are floored by (0–1 units): half a code value. Far above what float32
# rounds a window's variance by, so that the backends read r² alike where chroma holds only
# noise (a quarter of a code value let the shaders differ from the reference by 7 levels on
# a few pixels of a noisy still frame), and low enough that a faint strand or a pale
# screen's edge keeps its slope (a code value cost the pale muslin's and the sample's clips
# 0.4–0.5% SAD).
CHROMA_FIT_EPS = (0.5 / 255.0) ** 2
# Luma rows either side of a band that the chroma guide reads (decode_rows's margin):
# the bilinear step's chroma row, the window's CHROMA_GUIDE_RADIUS rows, each two luma rows.
CHROMA_GUIDE_ROWS = 2 * (CHROMA_GUIDE_RADIUS + 2)


def upsample_chroma(
    c: np.ndarray, fx: int, fy: int, width: int, height: int, centred: bool = False
) -> np.ndarray:
    """Bilinear chroma upsampling, centred vertically; horizontally co-sited (H.264's siting)
    or, with ``centred``, centred as vertically.

    These are the weights a GPU's linear filter gives when the chroma texture
    is sampled at (x/2 + 0.5, (y + 0.5)/2) in texel units ((x + 0.5)/2 across if centred)
    with edges clamped: row 2k = 0.75·c[k] + 0.25·c[k−1], row 2k+1 = 0.75·c[k] + 0.25·c[k+1],
    column 2j = c[j], column 2j+1 = 0.5·(c[j] + c[j+1]) (centred: as the rows), indices
    clamped to the plane.
    """
    c = c.astype(F32)
    if fy == 2:
        c = _centred_rows(c, height)
    if fx == 2 and centred:
        c = np.ascontiguousarray(_centred_rows(np.ascontiguousarray(c.T), width).T)
    elif fx == 2:
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


def _centred_rows(c: np.ndarray, height: int) -> np.ndarray:
    """``height`` rows from chroma rows that sit between two output rows each: row 2k =
    0.75·c[k] + 0.25·c[k−1], row 2k+1 = 0.75·c[k] + 0.25·c[k+1], indices clamped."""
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
    return up


def chroma_luma(y: np.ndarray, fx: int, fy: int, cw: int, ch: int) -> np.ndarray:
    """Luma on the chroma grid (cw × ch), filtered as an encoder filters chroma for H.264's
    siting: the mean of each row pair, then [1, 2, 1]/4 across columns 2j − 1, 2j, 2j + 1,
    edges clamped."""
    y = _row_pairs(y, fy, ch)
    w = y.shape[1]
    if fx == 2:
        cols = 2 * np.arange(cw)
        mid = y[:, np.minimum(cols, w - 1)]
        left = y[:, np.clip(cols - 1, 0, w - 1)]
        right = y[:, np.minimum(cols + 1, w - 1)]
        y = F32(0.25) * (left + right) + F32(0.5) * mid
    else:
        y = y[:, np.minimum(np.arange(cw), w - 1)]
    return np.ascontiguousarray(y, F32)


def centred_luma(y: np.ndarray, fx: int, fy: int, cw: int, ch: int) -> np.ndarray:
    """Luma on the chroma grid (cw × ch) as an encoder with centred siting filters chroma:
    the mean of each row pair, then of columns 2j and 2j + 1, edges clamped."""
    y = _row_pairs(y, fy, ch)
    w = y.shape[1]
    if fx == 2:
        cols = 2 * np.arange(cw)
        y = F32(0.5) * (y[:, np.minimum(cols, w - 1)] + y[:, np.minimum(cols + 1, w - 1)])
    else:
        y = y[:, np.minimum(np.arange(cw), w - 1)]
    return np.ascontiguousarray(y, F32)


def _row_pairs(y: np.ndarray, fy: int, ch: int) -> np.ndarray:
    """Luma's ch rows on the chroma grid: the mean of rows 2k and 2k + 1 with vertical
    subsampling (row k without), edges clamped. Both sitings average a row pair alike."""
    h = y.shape[0]
    if fy == 2:
        rows = np.minimum(2 * np.arange(ch), h - 1)
        result: np.ndarray = F32(0.5) * (y[rows] + y[np.minimum(rows + 1, h - 1)])
    else:
        result = y[np.minimum(np.arange(ch), h - 1)]
    return result


def chroma_slopes(
    yc: np.ndarray, yq: np.ndarray, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per chroma sample, the slopes of ``u`` and ``v`` against luma ``yc`` (the stream's own
    siting's: chroma_luma, or centred_luma for centred chroma) over its window,
    cov / (var + CHROMA_GUIDE_EPS), each times the fit share: how well the window's chroma is
    explained by ``yc`` or by ``yq`` (the other siting's luma). Edges clamped."""
    r = CHROMA_GUIDE_RADIUS
    n = F32(1.0 / (2 * r + 1) ** 2)

    def mean(a: np.ndarray) -> np.ndarray:
        return box_sum(box_sum(a, r, 1), r, 0) * n

    m_u, m_v = mean(u), mean(v)
    var_c = np.maximum(mean(u * u + v * v) - (m_u * m_u + m_v * m_v), 0.0)

    def moments(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m_y = mean(y)
        var = np.maximum(mean(y * y) - m_y * m_y, 0.0)
        return var, mean(y * u) - m_y * m_u, mean(y * v) - m_y * m_v

    var, cov_u, cov_v = moments(yc)
    var_q, cq_u, cq_v = moments(yq)
    fit = fit_share(fit_r2(var, var_c, cov_u, cov_v), fit_r2(var_q, var_c, cq_u, cq_v))
    inv = F32(1.0) / (var + F32(CHROMA_GUIDE_EPS))
    return cov_u * inv * fit, cov_v * inv * fit


def fit_r2(var: np.ndarray, var_c: np.ndarray, cov_u: np.ndarray, cov_v: np.ndarray) -> np.ndarray:
    """r² = (cov_u² + cov_v²) / ((var + e) · (var_c + e)), e CHROMA_FIT_EPS: the share of the
    window's chroma variance that its slopes against luma explain."""
    eps = F32(CHROMA_FIT_EPS)
    result: np.ndarray = (cov_u * cov_u + cov_v * cov_v) / ((var + eps) * (var_c + eps))
    return result


def fit_share(r2: np.ndarray, r2_other: np.ndarray) -> np.ndarray:
    """How much of a window's slopes the decode takes: CHROMA_GUIDE_FIT's ramp on the
    stream's own siting's r², or CHROMA_SITING_FIT's on the other siting's, whichever is more."""
    own = soft_step(*CHROMA_GUIDE_FIT, r2)
    result: np.ndarray = np.maximum(own, soft_step(*CHROMA_SITING_FIT, r2_other))
    return result


def guided_chroma(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, fx: int, fy: int, centred: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution chroma from subsampled planes, guided by luma (all float 0–1 code
    values, before the matrix): bilinear chroma + slope × (luma − bilinear chroma-grid luma),
    chroma sited as H.264's or, with ``centred``, centred across (YuvSpec.chroma_siting).
    """
    h, w = y.shape
    if fx == 1 and fy == 1:
        return u, v
    ch, cw = u.shape
    yc = chroma_luma(y, fx, fy, cw, ch)
    yq = centred_luma(y, fx, fy, cw, ch)
    if centred:
        yc, yq = yq, yc
    detail = y - upsample_chroma(yc, fx, fy, w, h, centred)
    out = []
    for c, s in zip((u, v), chroma_slopes(yc, yq, u, v), strict=True):
        slope = upsample_chroma(s, fx, fy, w, h, centred)
        out.append(upsample_chroma(c, fx, fy, w, h, centred) + slope * detail)
    return out[0], out[1]


def decode_rgb(frame: Frame) -> np.ndarray:
    """Frame → H×W×3 float32 RGB, with the frame's own matrix and range."""
    if frame.layout == "rgb":
        return _rgb_to_float(frame.planes[0])
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    return _decode_yuv(y, u, v, fx, fy, frame.spec)


def decode_rows(frame: Frame, y0: int, y1: int) -> np.ndarray:
    """Rows [y0, y1) of :func:`decode_rgb` (bit for bit), decoding only those rows (+2 of margin)."""
    if frame.layout == "rgb":
        return _rgb_to_float(frame.planes[0][y0:y1])
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    if fx == 1 and fy == 1:
        return _decode_yuv(y[y0:y1], u[y0:y1], v[y0:y1], fx, fy, frame.spec)
    # Vertical chroma interpolation and the chroma guide's window read chroma rows either
    # side; the rows next to the cut would see a clamped edge instead, so decode
    # CHROMA_GUIDE_ROWS more rows each side (from an even row, so output rows keep their
    # chroma phase) and drop them.
    a = max(0, y0 - CHROMA_GUIDE_ROWS) & ~1
    b = min(frame.height, y1 + CHROMA_GUIDE_ROWS)
    ca, cb = (a // 2, (b + 1) // 2) if fy == 2 else (a, b)
    rows = _decode_yuv(y[a:b], u[ca:cb], v[ca:cb], fx, fy, frame.spec)
    return rows[y0 - a : y1 - a]


def pixel_samples(frame: Frame, y0: int = 0, y1: int | None = None) -> np.ndarray:
    """Rows [y0, y1) of each pixel's own input bytes, H×W×3 uint8: its R, G, B, or its Y and
    the U and V of the chroma sample it lies in (not blended). The still hold compares them
    between frames: integers, the same in every backend, where decoded colours differ by a
    rounding."""
    y1 = frame.height if y1 is None else y1
    w = frame.width
    if frame.layout == "rgb":
        return np.ascontiguousarray(frame.planes[0][y0:y1, :w, :3])
    fx, fy = frame.chroma_factors
    y, u, v = frame.planes
    rows, cols = np.arange(y0, y1) // fy, np.arange(w) // fx
    out = np.empty((y1 - y0, w, 3), np.uint8)
    out[..., 0] = y[y0:y1, :w]
    out[..., 1] = u[rows][:, cols]
    out[..., 2] = v[rows][:, cols]
    return out


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
    np.multiply(yy, s, out=yy)
    uu, vv = guided_chroma(yy, u.astype(F32) * s, v.astype(F32) * s, fx, fy, spec.centred)
    np.multiply(yy, m[0, 0], out=yy)
    np.subtract(yy, F32(m[0, 0] * off[0]), out=yy)
    uu = np.subtract(uu, F32(off[1]))
    vv = np.subtract(vv, F32(off[2]))
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
