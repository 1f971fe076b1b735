"""The figure: its pose at a time, its hair fringe, and its layers painted with coverage
and motion blur into a box of the frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .geometry import (
    _cov,
    _ellipse_sdf,
    _flyaways,
    _lerp_into,
    _line_coverage,
    _motion_phases,
    _round_box_sdf,
    _smooth_min,
    _smoothstep,
    _unit,
)
from .scene import (
    _BADGE,
    _BOB_Y,
    _BROWS,
    _DESIGN_H,
    _EYES,
    _FACE,
    _FIG_HALF_WIDTH,
    _FIG_TOP,
    _HAIR,
    _HAIR_CUT,
    _HEAD,
    _HEAD_X,
    _MOUTH,
    _NECK,
    _SWAY_X,
    _TIE_KNOT,
    _TORSO,
    COLLAR_RGB,
    F32,
    FEATURE_RGB,
    FLYAWAY_BINS,
    FLYAWAY_LENGTH,
    HAIR_BAND,
    HAIR_RGB,
    HAIR_STRAND_PERIOD,
    LIME_RGB,
    MOUTH_RGB,
    SHADOW_SOFTNESS,
    SHIRT_RGB,
    SHUTTER,
    SKIN_RGB,
    TEAL_RGB,
    SampleSpec,
)

# --- the figure ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pose:
    fx: float  # figure centre line, pixels
    fy: float  # vertical offset, pixels
    hx: float  # head's extra x offset, pixels
    vx: float  # horizontal speed of the figure, pixels per second
    hair_sway: float  # radians, the flyaways' common sway


def _pose(spec: SampleSpec, t: float) -> _Pose:
    u = _unit(spec)
    ph = _motion_phases(spec.seed)
    ax, tx = _SWAY_X
    w = 2 * np.pi / tx
    fx = spec.width / 2.0 + u * ax * math.sin(w * t + ph[0])
    vx = u * ax * w * math.cos(w * t + ph[0])
    fy = u * _BOB_Y[0] * math.sin(2 * np.pi * t / _BOB_Y[1] + ph[1])
    hx = u * _HEAD_X[0] * math.sin(2 * np.pi * t / _HEAD_X[1] + ph[2])
    return _Pose(fx, fy, hx, vx, 0.25 * math.sin(2 * np.pi * t / 1.9 + ph[3]))


def _hair_fringe(x, y, hair_e, u: float, pose: _Pose, t: float, seed: int) -> np.ndarray:
    """Coverage of the hair's strand band and flyaways (H×W float32) on the grid x × y."""
    hcx, hcy, rx, ry = hair_e
    U = (x - F32(hcx)) * F32(1.0 / rx)
    V = (y - F32(hcy)) * F32(1.0 / ry)
    rho = np.sqrt(U * U + V * V)
    theta = np.arctan2(V, U)
    sin_t, cos_t = V / np.maximum(rho, F32(1e-6)), U / np.maximum(rho, F32(1e-6))
    # Pixels per radian (tangential) and per unit rho (radial) at this angle.
    tang = np.sqrt((F32(rx * u) * sin_t) ** 2 + (F32(ry * u) * cos_t) ** 2)
    radial = np.sqrt((F32(rx * u) * cos_t) ** 2 + (F32(ry * u) * sin_t) ** 2)
    # Hair grows on the top of the head only: fade out towards ear level.
    top = _smoothstep(hcy + 35.0, hcy - 5.0, y)
    out_r = rho - F32(1.0)

    # 1. The dense band: density falls off with radius; strands appear as it thins.
    dens = np.clip(F32(1.0) - out_r * F32(1.0 / HAIR_BAND), 0.0, 1.0) ** F32(1.8)
    dens *= _smoothstep(0.94, 0.98, rho)
    mean_r = 0.5 * (rx + ry) * u  # pixels
    k1 = max(12, round(2 * np.pi * mean_r / HAIR_STRAND_PERIOD))
    k2 = max(8, round(k1 * 0.61))
    wave = F32(2.2) * np.sin(F32(9.0) * rho + F32(1.3 * t))
    s = F32(0.62) * np.cos(F32(k1) * theta + wave) + F32(0.38) * np.cos(
        F32(k2) * theta - F32(0.7) * wave + F32(seed % 7)
    )
    pattern = np.clip(F32(0.5) + F32(0.75) * s, 0.0, 1.0) ** F32(1.5)
    separate = _smoothstep(1.0, 1.07, rho)
    band = dens * (F32(1.0) - separate * (F32(1.0) - pattern))

    # 2. Flyaways: each angular slot may hold one thin strand; a pixel looks at its slot
    # and both neighbours (a strand's drift stays within one slot).
    fl = _flyaways(seed)
    n = FLYAWAY_BINS
    step = F32(2 * np.pi / n)
    slot = np.floor((theta + F32(np.pi)) / step).astype(np.int32)
    miss = np.ones_like(rho)
    along = np.maximum(out_r, 0.0)
    sway = F32(pose.hair_sway - 0.004 * pose.vx / u)
    for k_off in (-1, 0, 1):
        k = (slot + k_off) % n
        op = fl.opacity[k]
        if not op.any():
            continue
        length = fl.length[k]
        frac = along / length
        centre = (
            fl.angle[k]
            + fl.drift[k] * frac * frac
            + F32(0.12) * step * (sway + F32(0.5) * np.sin(F32(2.3 * t) + fl.phase[k])) * frac
        )
        d = theta - centre
        d = (d + F32(np.pi)) % F32(2 * np.pi) - F32(np.pi)
        dist_px = d * rho * tang
        width = fl.width[k] * (F32(1.0) - F32(0.5) * np.minimum(frac, 1.0))
        cov = _line_coverage(dist_px, width)
        cov *= np.clip((length - out_r) * radial + F32(0.5), 0.0, 1.0)  # anti-aliased tip
        cov *= _smoothstep(0.90, 0.97, rho) * op
        miss *= F32(1.0) - cov
    return top * (F32(1.0) - (F32(1.0) - band) * miss)


def _blur_x(a: np.ndarray, length: float) -> np.ndarray:
    """Horizontal motion blur over ``length`` pixels: the mean of three sub-frame positions.

    Each position is a linearly interpolated shift; their weights are gathered on
    integer offsets and applied as slices of an edge-padded copy.
    """
    taps: dict[int, float] = {}
    for s in (-0.5 * length, 0.0, 0.5 * length):
        i = math.floor(s)
        f = s - i
        taps[i] = taps.get(i, 0.0) + (1.0 - f) / 3.0
        taps[i + 1] = taps.get(i + 1, 0.0) + f / 3.0
    taps = {k: v for k, v in taps.items() if v > 1e-6}
    pad = max(abs(k) for k in taps)
    w = a.shape[1]
    padded = np.pad(a, ((0, 0), (pad, pad)) + ((0, 0),) * (a.ndim - 2), mode="edge")
    out = np.zeros_like(a)
    tmp = np.empty_like(a)
    for k, weight in taps.items():
        # out[x] += weight · a[x − k]
        np.multiply(padded[:, pad - k : pad - k + w], F32(weight), out=tmp)
        out += tmp
    return out


class _Grid:
    """Pixel-centre coordinates of a box in design units, and sub-boxes of it."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y  # 1×W and H×1

    def box(self, xlo: float, xhi: float, ylo: float, yhi: float):
        """(rows, cols) slices of the pixels whose centres fall in the rectangle."""
        c0, c1 = np.searchsorted(self.x[0], [xlo, xhi])
        r0, r1 = np.searchsorted(self.y[:, 0], [ylo, yhi])
        return slice(int(r0), int(r1)), slice(int(c0), int(c1))

    def sub(self, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return self.x[:, cols], self.y[rows]


def _paint_ellipse(col, grid: _Grid, fu, color, cx, cy, rx, ry) -> None:
    rows, cols = grid.box(cx - rx - 2, cx + rx + 2, cy - ry - 2, cy + ry + 2)
    x, y = grid.sub(rows, cols)
    if x.size and y.size:
        _lerp_into(col[rows, cols], color, _cov(_ellipse_sdf(x, y, cx, cy, rx, ry) * fu))


def _render_figure(spec: SampleSpec, t: float, x0: int, x1: int, y0: int, y1: int):
    """(alpha, premultiplied colour, silhouette SDF, where alpha > 0) on [y0:y1, x0:x1].

    Each part is evaluated only on the sub-box where it can matter.
    """
    u = _unit(spec)
    pose = _pose(spec, t)
    x = ((np.arange(x0, x1, dtype=F32) + F32(0.5)) - F32(pose.fx))[None, :] * F32(1.0 / u)
    y = ((np.arange(y0, y1, dtype=F32) + F32(0.5)) - F32(pose.fy))[:, None] * F32(1.0 / u)
    y = y + F32(_DESIGN_H - spec.height / u)  # the figure stands on the frame's bottom edge
    # From here on x, y are design units; SDFs are converted to pixels by ·u.
    grid = _Grid(x, y)
    hx = pose.hx / u
    fu = F32(u)

    # The silhouette: the torso everywhere, head, neck and hair cap around the head.
    torso = _round_box_sdf(x, y, *_TORSO)
    sil = torso * fu  # pixels
    col = np.empty(sil.shape + (3,), F32)
    col[:] = np.asarray(SHIRT_RGB, F32)

    hair_e = (_HAIR[0] + hx, *_HAIR[1:])
    margin = SHADOW_SOFTNESS + 8.0  # the shadow reads the SDF this far out
    rows, cols = grid.box(
        hair_e[0] - hair_e[2] - margin,
        hair_e[0] + hair_e[2] + margin,
        hair_e[1] - hair_e[3] - margin,
        _NECK[1] + _NECK[3] + margin,
    )
    hx_, hy_ = grid.sub(rows, cols)
    if hx_.size and hy_.size:
        t_h = torso[rows, cols]
        head = _ellipse_sdf(hx_, hy_, _HEAD[0] + hx, *_HEAD[1:])
        neck = _round_box_sdf(hx_, hy_, *_NECK)
        hair_cap = np.maximum(
            np.maximum(_ellipse_sdf(hx_, hy_, *hair_e), hy_ - F32(_HAIR_CUT)),
            -_ellipse_sdf(hx_, hy_, _FACE[0] + hx, *_FACE[1:]),
        )
        head_neck = _smooth_min(head, neck, 10.0)
        body = _smooth_min(head_neck, t_h, 25.0)
        sil[rows, cols] = np.minimum(body, hair_cap) * fu
        # Skin above the collar line; the shirt fills the fillet at the shoulders.
        skin = np.maximum(head_neck, hy_ - F32(416.0))
        _lerp_into(col[rows, cols], SKIN_RGB, _cov(skin * fu))
    else:
        hair_cap = None

    # Collar V, tie, badge (on the shirt), then the face's features and the hair cap.
    slope = 0.42
    r, c = grid.box(-0.42 * 115 - 2, 0.42 * 115 + 2, 400.0, 517.0)
    vx, vy = grid.sub(r, c)
    if vx.size and vy.size:
        v_sdf = (np.abs(vx) - F32(slope) * (F32(515.0) - vy)) * F32(1.0 / math.hypot(1, slope))
        v_cov = np.minimum(_cov(v_sdf * fu), _cov(torso[r, c] * fu))
        # The neck shows above the collar line.
        v_cov *= F32(1.0) - _cov(np.maximum(_round_box_sdf(vx, vy, *_NECK), vy - 416.0) * fu)
        _lerp_into(col[r, c], COLLAR_RGB, v_cov)
    _paint_ellipse(col, grid, fu, LIME_RGB, *_TIE_KNOT)
    blade_half = 9.0 + 0.16 * (_DESIGN_H + 40.0 - 440.0)
    r, c = grid.box(-blade_half - 2, blade_half + 2, 434.0, 1e9)
    bx_, by_ = grid.sub(r, c)
    if bx_.size and by_.size:
        blade = np.maximum(
            np.abs(bx_) - (F32(9.0) + F32(0.16) * (by_ - F32(440.0))), F32(436.0) - by_
        )
        _lerp_into(col[r, c], LIME_RGB, _cov(blade * fu))
    bx, by, br = _BADGE
    _paint_ellipse(col, grid, fu, TEAL_RGB, bx, by, br, br)
    for ex, ey, erx, ery in _EYES + _BROWS:
        _paint_ellipse(col, grid, fu, FEATURE_RGB, ex + hx, ey, erx, ery)
    mx, my, mrx, mry = _MOUTH
    _paint_ellipse(col, grid, fu, MOUTH_RGB, mx + hx, my, mrx, mry)
    if hair_cap is not None:
        _lerp_into(col[rows, cols], HAIR_RGB, _cov(hair_cap * fu))

    alpha = _cov(sil)
    col *= alpha[..., None]  # premultiplied from here on

    # The hair's fringe over whatever is there, only around the hair.
    hcx, hcy, hrx, hry = hair_e
    reach = 1.0 + FLYAWAY_LENGTH[1] + 0.05
    r, c = grid.box(hcx - hrx * reach, hcx + hrx * reach, hcy - hry * reach, hcy + 40.0)
    fx_, fy_ = grid.sub(r, c)
    if fx_.size and fy_.size:
        fringe = _hair_fringe(fx_, fy_, hair_e, u, pose, t, spec.seed)
        prem = col[r, c]
        prem += fringe[..., None] * (np.asarray(HAIR_RGB, F32) - prem)
        sub_a = alpha[r, c]
        sub_a += fringe * (F32(1.0) - sub_a)

    # Where the figure is: the blur and the composite need nothing outside this.
    rows_any = np.flatnonzero(alpha.any(axis=1))
    cols_any = np.flatnonzero(alpha.any(axis=0))
    if rows_any.size == 0:
        return alpha, col, sil, (slice(0, 0), slice(0, 0))
    # Motion blur: the figure moves sideways while the shutter is open.
    blur = pose.vx * SHUTTER / spec.fps
    pad = math.ceil(abs(blur)) + 1
    tight = (
        slice(int(rows_any[0]), int(rows_any[-1]) + 1),
        slice(max(int(cols_any[0]) - pad, 0), min(int(cols_any[-1]) + 1 + pad, alpha.shape[1])),
    )
    if abs(blur) > 0.05:
        alpha[tight] = _blur_x(alpha[tight], blur)
        col[tight] = _blur_x(col[tight], blur)
    return alpha, col, sil, tight


def _figure_box(spec: SampleSpec, t: float) -> tuple[int, int, int, int]:
    u = _unit(spec)
    pose = _pose(spec, t)
    half = (_FIG_HALF_WIDTH + abs(_HEAD_X[0])) * u + 4
    top = pose.fy + (_FIG_TOP - _DESIGN_H) * u + spec.height - 4
    x0 = max(0, math.floor(pose.fx - half))
    x1 = min(spec.width, math.ceil(pose.fx + half))
    y0 = max(0, math.floor(top))
    return x0, x1, y0, spec.height
