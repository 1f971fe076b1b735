"""The chroma guide's fit share: a window's slopes of chroma against luma count only as far
as they explain its chroma by either siting's luma (cpu.fit_share). numpy computes what each
window should give."""

from __future__ import annotations

import numpy as np

from chromakey.keying import reference as cpu

F32 = np.float32
RNG = np.random.default_rng(7)


def slopes(yc: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """cpu.chroma_slopes with the centred model's luma the co-sited one (one model)."""
    return cpu.chroma_slopes(yc, yc, u, v)


def window_grid(n: int = 12) -> np.ndarray:
    """Chroma-grid luma with detail everywhere: a ramp plus texture, 0–1."""
    y = np.linspace(0.2, 0.8, n, dtype=F32)[None, :] + np.zeros((n, 1), F32)
    return (y + F32(0.1) * RNG.random((n, n), dtype=F32)).astype(F32)


def test_a_mix_of_two_colours_keeps_the_whole_slope():
    """Chroma that is one linear function of luma (an edge between two colours) is fitted
    whole: r² ≈ 1, and the slope is cov / (var + eps), as without the fit share."""
    yc = window_grid()
    u = (F32(0.4) + F32(0.3) * yc).astype(F32)
    v = (F32(0.7) - F32(0.5) * yc).astype(F32)
    su, sv = slopes(yc, u, v)
    inner = (slice(1, -1), slice(1, -1))
    var = float(np.var(yc[:3, :3]))
    plain = 0.3 * var / (var + cpu.CHROMA_GUIDE_EPS)
    assert abs(float(su[1, 1]) - plain) < 1e-3
    assert np.all(su[inner] > 0.25) and np.all(sv[inner] < -0.4)


def test_chroma_that_luma_does_not_explain_gets_no_slope():
    """Where chroma varies independently of luma (three colours meeting, noise), r² is low
    and the slope fades to 0: the decode takes the bilinear chroma there."""
    yc = window_grid()
    u = (F32(0.5) + F32(0.05) * RNG.standard_normal(yc.shape)).astype(F32)
    v = (F32(0.5) + F32(0.05) * RNG.standard_normal(yc.shape)).astype(F32)
    n = cpu.CHROMA_GUIDE_RADIUS * 2 + 1
    var = np.var(yc[:n, :n])
    cov = np.mean((yc[:n, :n] - yc[:n, :n].mean()) * (u[:n, :n] - u[:n, :n].mean()))
    var_c = np.var(u[:n, :n]) + np.var(v[:n, :n])
    covv = np.mean((yc[:n, :n] - yc[:n, :n].mean()) * (v[:n, :n] - v[:n, :n].mean()))
    r2 = (cov**2 + covv**2) / ((var + cpu.CHROMA_FIT_EPS) * (var_c + cpu.CHROMA_FIT_EPS))
    su, sv = slopes(yc, u, v)
    lo, hi = cpu.CHROMA_GUIDE_FIT
    t = np.clip((r2 - lo) / (hi - lo), 0, 1)
    fit = t * t * (3 - 2 * t)
    assert abs(float(su[1, 1]) - cov / (var + cpu.CHROMA_GUIDE_EPS) * fit) < 1e-4
    none = cpu.fit_r2(
        np.full(4, 1e-3, F32), np.full(4, 1e-3, F32), np.zeros(4, F32), np.zeros(4, F32)
    )
    assert np.all(cpu.fit_share(none, none) == 0.0)


def test_flat_chroma_or_flat_luma_has_nothing_to_fit():
    """A window flat in luma or in chroma reads r² near 0 (the variances are floored by
    CHROMA_FIT_EPS), not the 0/0 of rounding."""
    tiny, some = np.array([1e-9], F32), np.array([1e-2], F32)
    zero = np.array([0.0], F32)
    assert cpu.fit_r2(tiny, some, tiny, zero)[0] < 1e-3
    assert cpu.fit_r2(some, tiny, tiny, zero)[0] < 1e-3


def test_either_siting_model_keeps_the_slope():
    """fit_share takes the co-sited model's ramp or the centred model's, whichever gives
    more; the centred model's ramp (CHROMA_SITING_FIT) starts higher."""
    r2 = np.linspace(0, 1, 101, dtype=F32)
    lo, hi = cpu.CHROMA_SITING_FIT
    assert lo >= cpu.CHROMA_GUIDE_FIT[1]
    zero = np.zeros_like(r2)
    co, centred = cpu.fit_share(r2, zero), cpu.fit_share(zero, r2)
    np.testing.assert_array_equal(cpu.fit_share(r2, r2), np.maximum(co, centred))
    assert np.all(centred <= co) and centred[r2 <= lo].max() == 0 and centred[-1] == 1


def test_a_strand_that_an_encoder_averaged_over_2x2_keeps_its_slope():
    """An encoder with centred siting puts a one-pixel strand in an odd column whole into one
    chroma sample; the co-sited model's luma splits it between two, and fits it poorly. The
    centred model fits it exactly, so its window keeps the whole slope."""
    h, w = 24, 48
    y = np.full((h, w), 0.3, F32)
    y[:, 13] = 0.6  # the strand, in an odd column
    u = np.full((h // 2, w // 2), 0.4, F32)
    v = np.full((h // 2, w // 2), 0.35, F32)
    # Chroma as a 2×2 mean of a picture where chroma is a linear function of luma.
    uf, vf = F32(0.4) + F32(0.5) * (y - F32(0.3)), F32(0.35) - F32(0.4) * (y - F32(0.3))
    u = (0.25 * (uf[0::2, 0::2] + uf[1::2, 0::2] + uf[0::2, 1::2] + uf[1::2, 1::2])).astype(F32)
    v = (0.25 * (vf[0::2, 0::2] + vf[1::2, 0::2] + vf[0::2, 1::2] + vf[1::2, 1::2])).astype(F32)
    yc = cpu.chroma_luma(y, 2, 2, w // 2, h // 2)
    yq = cpu.centred_luma(y, 2, 2, w // 2, h // 2)
    np.testing.assert_allclose(yq[:, 6], 0.45, atol=1e-6)  # the strand whole in sample 6
    co_only = cpu.chroma_slopes(yc, yc, u, v)[0][6, 6]
    both = cpu.chroma_slopes(yc, yq, u, v)[0][6, 6]
    m_y = yc[5:8, 5:8].mean()
    plain = ((yc[5:8, 5:8] - m_y) * (u[5:8, 5:8] - u[5:8, 5:8].mean())).mean() / (
        yc[5:8, 5:8].var() + cpu.CHROMA_GUIDE_EPS
    )
    assert co_only < 0.5 * plain  # the co-sited model alone takes most of it away
    assert abs(both - plain) < 1e-4 * abs(plain)


def test_guided_chroma_is_bilinear_where_the_window_fits_nothing():
    """On a 4:2:0 picture whose chroma is noise against textured luma, guided_chroma gives
    the bilinear chroma (upsample_chroma) wherever the fit share is 0."""
    h, w = 24, 32
    y = (F32(0.3) + F32(0.4) * RNG.random((h, w), dtype=F32)).astype(F32)
    u = (F32(0.5) + F32(0.1) * RNG.standard_normal((h // 2, w // 2))).astype(F32)
    v = (F32(0.5) + F32(0.1) * RNG.standard_normal((h // 2, w // 2))).astype(F32)
    gu, gv = cpu.guided_chroma(y, u, v, 2, 2)
    su, sv = cpu.chroma_slopes(
        cpu.chroma_luma(y, 2, 2, w // 2, h // 2), cpu.centred_luma(y, 2, 2, w // 2, h // 2), u, v
    )
    bu = cpu.upsample_chroma(u, 2, 2, w, h)
    # Pixels whose four nearest chroma samples all have no slope.
    zero = cpu.upsample_chroma((np.abs(su) + np.abs(sv) == 0).astype(F32), 2, 2, w, h) == 1.0
    assert zero.sum() > 0.3 * zero.size
    np.testing.assert_array_equal(gu[zero], bu[zero])
    assert not np.array_equal(gv, cpu.upsample_chroma(v, 2, 2, w, h))
