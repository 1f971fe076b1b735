"""1. Decode: a frame's planes → float32 RGB, with the frame's own matrix and range."""

from __future__ import annotations

import numpy as np

from ...core.color import YuvSpec
from ...core.frames import Frame
from .common import F32
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
# or a hard edge the chroma edge comes back at luma's place and sharpness.

# Chroma samples either side of the window the slope is fitted over (3×3 samples: 6×6 px).
CHROMA_GUIDE_RADIUS = 1
# Luma variance (0–1 units) below which a window's luma counts as flat: two code values,
# what compression noise moves it by.
CHROMA_GUIDE_EPS = (2.0 / 255.0) ** 2
# Luma rows either side of a band that the chroma guide reads (decode_rows's margin):
# the bilinear step's chroma row, the window's CHROMA_GUIDE_RADIUS rows, each two luma rows.
CHROMA_GUIDE_ROWS = 2 * (CHROMA_GUIDE_RADIUS + 2)


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


def chroma_luma(y: np.ndarray, fx: int, fy: int, cw: int, ch: int) -> np.ndarray:
    """Luma on the chroma grid (cw × ch), filtered as an encoder filters chroma for H.264's
    siting: the mean of each row pair, then [1, 2, 1]/4 across columns 2j − 1, 2j, 2j + 1,
    edges clamped."""
    h, w = y.shape
    if fy == 2:
        rows = np.minimum(2 * np.arange(ch), h - 1)
        y = F32(0.5) * (y[rows] + y[np.minimum(rows + 1, h - 1)])
    else:
        y = y[np.minimum(np.arange(ch), h - 1)]
    if fx == 2:
        cols = 2 * np.arange(cw)
        mid = y[:, np.minimum(cols, w - 1)]
        left = y[:, np.clip(cols - 1, 0, w - 1)]
        right = y[:, np.minimum(cols + 1, w - 1)]
        y = F32(0.25) * (left + right) + F32(0.5) * mid
    else:
        y = y[:, np.minimum(np.arange(cw), w - 1)]
    return np.ascontiguousarray(y, F32)


def chroma_slopes(yc: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Per chroma sample, the slope of chroma ``c`` against luma ``yc`` over its window:
    cov / (var + CHROMA_GUIDE_EPS), edges clamped."""
    r = CHROMA_GUIDE_RADIUS
    n = F32(1.0 / (2 * r + 1) ** 2)

    def mean(a: np.ndarray) -> np.ndarray:
        return box_sum(box_sum(a, r, 1), r, 0) * n

    m_y, m_c = mean(yc), mean(c)
    var = np.maximum(mean(yc * yc) - m_y * m_y, 0.0)
    result: np.ndarray = (mean(yc * c) - m_y * m_c) / (var + F32(CHROMA_GUIDE_EPS))
    return result


def guided_chroma(
    y: np.ndarray, u: np.ndarray, v: np.ndarray, fx: int, fy: int
) -> tuple[np.ndarray, np.ndarray]:
    """Full-resolution chroma from subsampled planes, guided by luma (all float 0–1 code
    values, before the matrix): bilinear chroma + slope × (luma − bilinear chroma-grid luma).
    """
    h, w = y.shape
    if fx == 1 and fy == 1:
        return u, v
    ch, cw = u.shape
    yc = chroma_luma(y, fx, fy, cw, ch)
    detail = y - upsample_chroma(yc, fx, fy, w, h)
    out = []
    for c in (u, v):
        slope = upsample_chroma(chroma_slopes(yc, c), fx, fy, w, h)
        out.append(upsample_chroma(c, fx, fy, w, h) + slope * detail)
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
    uu, vv = guided_chroma(yy, u.astype(F32) * s, v.astype(F32) * s, fx, fy)
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
