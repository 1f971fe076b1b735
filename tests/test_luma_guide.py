"""The luma guides on synthetic frames whose true alpha is known: the chroma guide at decode
(4:2:0 chroma brought back at luma's place) and the matte's guided filter."""

import numpy as np
from test_keyer import HAIR, SCREEN, SKIN

from chromakey.core.color import YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import ScreenMap


def yuv420_frame(rgb: np.ndarray) -> Frame:
    """Float RGB → an 8-bit BT.709 4:2:0 frame, chroma averaged over 2×2 as an encoder does."""
    spec = YuvSpec()
    m, off = spec.from_rgb()
    yuv = rgb.astype(np.float64) @ m.T + off
    planes = [yuv[..., 0]]
    for c in (yuv[..., 1], yuv[..., 2]):
        planes.append(0.25 * (c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]))
    return Frame.from_yuv(
        *(np.clip(np.round(p * 255), 0, 255).astype(np.uint8) for p in planes), spec
    )


def bilinear_rgb(frame: Frame) -> np.ndarray:
    """The frame decoded with plain bilinear chroma (no chroma guide), as numpy computes it."""
    m, off = frame.yuv.to_rgb()
    y, u, v = (p.astype(np.float32) / 255 for p in frame.planes)
    h, w = y.shape
    yuv = np.stack([y, cpu.upsample_chroma(u, 2, 2, w, h), cpu.upsample_chroma(v, 2, 2, w, h)], -1)
    return np.clip((yuv - off) @ m.T, 0, 1).astype(np.float32)


def test_luma_guides_sharpen_strands_that_4_2_0_chroma_smears():
    """One-pixel strands on odd columns share their chroma with the screen; only luma keeps them:
    the chroma guide (decode) brings them back, the matte guide adds to it."""
    h, w = 48, 96
    rgb = np.tile(SCREEN, (h, w, 1))
    truth = np.zeros((h, w), np.float32)
    for x in range(11, 88, 8):
        rgb[8:40, x] = 0.5 * HAIR + 0.5 * SCREEN
        truth[8:40, x] = 0.5
    frame = yuv420_frame(rgb)

    def alpha(rgb: np.ndarray, p: KeyerParams) -> np.ndarray:
        return cpu.key_pixels(rgb, SCREEN, p, cpu.luma_weights(frame))[1]

    unguided = KeyerParams(guide_radius=0)
    plain = alpha(bilinear_rgb(frame), unguided)
    chroma_only = alpha(cpu.decode_rgb(frame), unguided)
    guided = alpha(cpu.decode_rgb(frame), KeyerParams())
    rows = slice(12, 36)

    def err(a: np.ndarray) -> float:
        return float(np.abs(a - truth)[rows].sum())

    assert err(chroma_only) < 0.8 * err(plain)
    assert err(guided) < 0.8 * err(plain)
    # The strand stands out from the pixel beside it, which shares its chroma sample (this
    # test's encoder averages chroma over 2×2, not as the guide models H.264's siting, so the
    # chroma guide alone gets only part of the way).
    assert (chroma_only[rows, 11:88:8] > 2.5 * chroma_only[rows, 10:88:8]).all()
    assert (guided[rows, 11:88:8] > 3 * guided[rows, 10:88:8]).all()
    assert (plain[rows, 11:88:8] < 2 * plain[rows, 10:88:8]).all()


def to_8bit(rgb: np.ndarray) -> np.ndarray:
    return np.round(rgb * 255).astype(np.uint8)


def test_luma_guide_keeps_a_solid_subject_solid_to_its_edge():
    """The guide's fit is unshrunk: a two-colour window is fitted exactly, so no edge goes grey."""
    rgb = np.tile(SCREEN, (8, 8, 1))
    rgb[2:6, 2:6] = SKIN
    _, alpha = cpu.key_pixels(rgb, SCREEN, KeyerParams())
    np.testing.assert_allclose(alpha[2:6, 2:6], 1.0, atol=1e-5)  # float32 rounding only
    np.testing.assert_allclose(alpha[0], 0.0, atol=1e-5)
    out = cpu.ReferenceKeyer(KeyerParams()).render(
        Frame.from_rgb(to_8bit(rgb)), ScreenMap.constant(SCREEN), CLEAR
    )
    assert (out[2:6, 2:6, 3] == 255).all() and (out[0, :, 3] == 0).all()


def test_luma_guide_leaves_a_subject_as_bright_as_the_screen_alone():
    """No luma structure in the window: the raw matte passes through unchanged."""
    screen = np.array([0.1, 0.6, 0.1], np.float32)
    grey = np.full(3, float(cpu.luma(screen, cpu.BT709_LUMA)), np.float32)
    rgb = np.tile(screen, (24, 24, 1))
    rgb[:, 12:] = grey
    share = cpu.screen_share(cpu.key_excess(rgb, 1), cpu.screen_excess(screen, 1))
    raw = cpu.raw_alpha(share, np.ones((24, 24), np.float32))
    guided = cpu.guided_matte(raw, cpu.luma(rgb, cpu.BT709_LUMA), KeyerParams())
    np.testing.assert_allclose(guided, raw, atol=1e-4)
