"""The GPU's luma-guided chroma upsampling (the chroma guide pass + decode.glsl) against the
reference, on the case it exists for: thin dark strands and hard edges over the screen in a
4:2:0 (and 4:2:2) frame, where plain bilinear chroma bleeds the screen's green into the
subject. The GPU must match the reference, and must not match plain bilinear chroma: that
proves the pass runs and reaches every decode."""

from __future__ import annotations

import numpy as np
import pytest
from test_gpu_parity import assert_parity, synthetic_rgb, to_frame

from chromakey.core.color import CHROMA_SITINGS, YuvSpec
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import default_screen
from chromakey.keying.gpu import pass_graph

from parity import BULK_FRACTION, TOL_MAX, parity

F32 = np.float32
HAIR = (34, 27, 22)
SKIN = (222, 172, 140)
BLONDE = (232, 204, 150)


def strands_rgb(width: int = 96, height: int = 64) -> np.ndarray:
    """Dark and blonde strands one pixel wide (on even and odd columns, and diagonal) and a
    hard skin edge between chroma samples, over a #008000 screen with a little noise."""
    rng = np.random.default_rng(3)
    img = np.empty((height, width, 3), np.float64)
    img[...] = (0, 128, 0)
    img += rng.normal(0.0, 1.5, img.shape)
    for x in (9, 20, 33):
        img[4 : height - 4, x] = HAIR
    img[4 : height - 4, 26] = BLONDE
    for t in range(height - 8):  # a diagonal strand, slope 1/2
        img[4 + t, 40 + t // 2] = HAIR
    img[9 : height - 9, 71:] = SKIN  # odd first column and row: inside a chroma sample
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def keyed(rgb: np.ndarray, frame: Frame, p: KeyerParams, screen: ScreenMap, bg) -> np.ndarray:
    fg, alpha = cpu.key_frame(rgb, screen, p, cpu.luma_weights(frame), cpu.HoldState())
    return cpu.to_uint8(cpu.composite(fg, alpha, bg))


def decoded(frame: Frame, guided: bool) -> np.ndarray:
    """cpu.decode_rgb's arithmetic, with the chroma guided by luma or, ``guided`` False, plain
    bilinear (the guide's slope forced to 0)."""
    y, u, v = frame.planes
    fx, fy = frame.chroma_factors
    h, w = y.shape
    m, off = frame.yuv.to_rgb()
    m = m.astype(F32)
    s = F32(1.0 / 255.0)
    yy = y.astype(F32) * s
    uu, vv = u.astype(F32) * s, v.astype(F32) * s
    centred = frame.spec.centred
    if guided:
        uu, vv = cpu.guided_chroma(yy, uu, vv, fx, fy, centred)
    else:
        uu, vv = (cpu.upsample_chroma(c, fx, fy, w, h, centred) for c in (uu, vv))
    yy = yy * m[0, 0] - F32(m[0, 0] * off[0])
    uu, vv = uu - F32(off[1]), vv - F32(off[2])
    rgb = np.stack([yy + vv * m[0, 2], (yy + uu * m[1, 1]) + vv * m[1, 2], yy + uu * m[2, 1]], -1)
    return np.clip(rgb, 0.0, 1.0).astype(F32)


@pytest.mark.parametrize("siting", CHROMA_SITINGS)
@pytest.mark.parametrize("layout", ["yuv420", "yuv422"])
@pytest.mark.parametrize("bg_kind", ["color", "none"])
def test_guided_chroma_on_strands_matches_reference_and_is_not_bilinear(
    gpu, layout, bg_kind, siting
):
    """to_frame averages each 2×2 block (chroma centred): read as such, and as H.264's."""
    rgb = strands_rgb()
    frame = to_frame(rgb, layout, YuvSpec(chroma_siting=siting), padded=True)
    p = KeyerParams()
    screen = ScreenMap.constant(default_screen(p))
    bg = Solid((0.95, 0.1, 0.85)) if bg_kind == "color" else CLEAR
    gpu.set_params(p)
    actual = gpu.render(frame, screen, bg)
    assert [ps.program for ps in gpu.graph][0] == "chroma_guide"
    expected = cpu.ReferenceKeyer(p).render(frame, screen, bg)
    # The helper is the reference's decode: guided, it keys to the reference's very output.
    np.testing.assert_array_equal(keyed(decoded(frame, True), frame, p, screen, bg), expected)

    # (a) The GPU matches the reference.
    assert_parity(expected, actual, f"strands_{layout}_{bg_kind}_{siting}")

    # (b) … and is far from what plain bilinear chroma gives, on the strands and the edge.
    bilinear = keyed(decoded(frame, False), frame, p, screen, bg)
    b_worst, b_within, _ = parity(bilinear, actual)
    assert b_worst > 4 * TOL_MAX and b_within < BULK_FRACTION - 0.01

    # (c) … and nearer to keying the full-resolution colours, where chroma was lost.
    full = keyed(rgb.astype(F32) / F32(255.0), Frame.from_rgb(rgb), p, screen, bg)

    def error(out: np.ndarray) -> float:
        return float(np.abs(out.astype(np.int16) - full.astype(np.int16)).mean())

    assert error(actual) < 0.7 * error(bilinear), (error(actual), error(bilinear))


def test_a_flat_frame_decodes_as_bilinear(gpu):
    """Where luma carries no detail below the chroma grid the slope changes nothing."""
    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[...] = (0, 128, 0)
    rgb[:, 24:] = (0, 140, 10)  # a chroma step, luma nearly flat within each chroma sample
    frame = to_frame(rgb, "yuv420", YuvSpec())
    p = KeyerParams()
    screen = ScreenMap.constant(default_screen(p))
    bg = Solid((1.0, 1.0, 1.0))
    gpu.set_params(p)
    actual = gpu.render(frame, screen, bg)
    bilinear = keyed(decoded(frame, False), frame, p, screen, bg)
    assert_parity(bilinear, actual, "flat_bilinear")


def test_the_guide_follows_the_frames_subsampling(gpu):
    """One keyer, one picture size, the chroma subsampling changing frame to frame: the chroma
    guide target is remade at each chroma grid, and a 4:4:4 or RGB frame draws no guide pass."""
    w, h = 33, 17
    rgb = synthetic_rgb(w, h, seed=9)
    p = KeyerParams(feather=1.0)
    gpu.set_params(p)
    screen = ScreenMap.constant(default_screen(p))
    ref = cpu.ReferenceKeyer(p)  # frame after frame, as the GPU keyer: the still hold too
    for layout in ("yuv420", "yuv422", "yuv444", "yuv420", "rgb", "yuv422"):
        frame = to_frame(rgb, layout, YuvSpec(), padded=layout == "yuv422")
        actual = gpu.render(frame, screen, CLEAR)
        assert gpu.graph == pass_graph(p, frame.chroma_factors)
        assert ("chroma_guide" in [ps.program for ps in gpu.graph]) == (
            layout in ("yuv420", "yuv422")
        )
        assert_parity(ref.render(frame, screen, CLEAR), actual, f"switch_{layout}")
