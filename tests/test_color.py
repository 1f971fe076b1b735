"""YUV→RGB and HSL against known colours."""

import av
import numpy as np
import pytest

from chromakey.core.color import YuvSpec, format_color, parse_color, rgb_to_hsl
from chromakey.core.errors import ParameterError
from chromakey.core.frames import Frame
from chromakey.keying import reference as cpu

# (matrix, full range, Y, U, V) → RGB 0–255, from the standards' equations.
KNOWN = [
    ("bt709", False, 16, 128, 128, (0, 0, 0)),
    ("bt709", False, 235, 128, 128, (255, 255, 255)),
    ("bt709", False, 63, 102, 240, (255, 0, 0)),  # BT.709 limited red
    ("bt709", False, 173, 42, 26, (0, 255, 0)),  # BT.709 limited green
    ("bt709", False, 32, 240, 118, (0, 0, 255)),  # BT.709 limited blue
    ("bt601", False, 81, 90, 240, (255, 0, 0)),
    ("bt601", False, 145, 54, 34, (0, 255, 0)),
    ("bt601", False, 41, 240, 110, (0, 0, 255)),
    ("bt601", True, 76, 85, 255, (255, 0, 0)),
    ("bt709", True, 54, 99, 255, (255, 0, 0)),
    ("bt709", True, 0, 128, 128, (0, 0, 0)),
    ("bt709", True, 255, 128, 128, (255, 255, 255)),
]


@pytest.mark.parametrize(("matrix", "full", "y", "u", "v", "rgb"), KNOWN)
def test_yuv_to_rgb_known_colours(matrix, full, y, u, v, rgb):
    planes = [np.full((4, 4), c, np.uint8) for c in (y, u, v)]
    frame = Frame.from_yuv(*planes, YuvSpec(matrix, full))
    out = cpu.decode_rgb(frame)[0, 0] * 255
    np.testing.assert_allclose(out, rgb, atol=2.5)


def test_limited_bt709_equation_from_design():
    # DESIGN.md: R = 1.164384(Y−16/255) + 1.792741V …
    m, off = YuvSpec("bt709", False).to_rgb()
    np.testing.assert_allclose(m[0], [1.164384, 0, 1.792741], atol=1e-5)
    np.testing.assert_allclose(m[1], [1.164384, -0.213249, -0.532909], atol=1e-5)
    np.testing.assert_allclose(m[2], [1.164384, 2.112402, 0], atol=1e-5)
    np.testing.assert_allclose(off, [16 / 255, 128 / 255, 128 / 255])


@pytest.mark.parametrize(
    "spec", [YuvSpec("bt601", False), YuvSpec("bt709", True), YuvSpec("bt2020", False)]
)
def test_from_rgb_inverts_to_rgb(spec):
    rng = np.random.default_rng(1)
    rgb = rng.random((100, 3))
    m, off = spec.from_rgb()
    yuv = rgb @ m.T + off
    mi, off2 = spec.to_rgb()
    np.testing.assert_allclose((yuv - off2) @ mi.T, rgb, atol=1e-9)


def test_untagged_matrix_follows_size_and_tags_win():
    assert YuvSpec.for_frame(2, 0, 1920, 1080) == YuvSpec("bt709", False)
    assert YuvSpec.for_frame(2, 0, 640, 480) == YuvSpec("bt601", False)
    assert YuvSpec.for_frame(1, 2, 640, 480) == YuvSpec("bt709", True)
    assert YuvSpec.for_frame(6, 1, 1920, 1080) == YuvSpec("bt601", False)


def test_chroma_upsampling_is_bilinear_not_nearest():
    # A chroma step: bilinear gives intermediate values at the step, nearest would not.
    u = np.array([[0, 0, 200, 200]] * 2, np.float32)
    up = cpu.upsample_chroma(u, 2, 2, 8, 4)
    assert up.shape == (4, 8)
    np.testing.assert_allclose(up[0], [0, 0, 0, 100, 200, 200, 200, 200])
    v = np.array([[0], [200]], np.float32)
    upv = cpu.upsample_chroma(v, 1, 2, 1, 4)
    np.testing.assert_allclose(upv[:, 0], [0, 50, 150, 200])


def test_a_stacked_yuv420p_buffer_splits_as_pyav_reads_it():
    """Frame.from_yuv420p: the planes PyAV's own frame of the same buffer holds."""
    stacked = np.random.default_rng(3).integers(0, 256, (12 * 3 // 2, 16), np.uint8)
    frame = Frame.from_yuv420p(stacked, YuvSpec())
    pyav = av.VideoFrame.from_ndarray(stacked, format="yuv420p")
    for mine, plane in zip(frame.planes, pyav.planes, strict=True):
        theirs = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        np.testing.assert_array_equal(mine, theirs[:, : plane.width])
    assert (frame.width, frame.height) == (16, 12)


def test_hsl_of_primaries_and_grey():
    rgb = np.array(
        [[1, 0, 0], [0, 0.5, 0], [0, 0, 1], [0.5, 0.5, 0.5], [0.6, 0.9, 0.1]], np.float32
    )
    h, s, light, c = rgb_to_hsl(rgb)
    np.testing.assert_allclose(h, [0, 120, 240, 0, 82.5], atol=1e-4)
    np.testing.assert_allclose(s[:4], [1, 1, 1, 0], atol=1e-6)
    np.testing.assert_allclose(light[:2], [0.5, 0.25])
    np.testing.assert_allclose(c[3], 0)


@pytest.mark.parametrize(
    ("text", "rgb"),
    [
        ("#008000", (0, 128, 0)),
        ("#0F0", (0, 255, 0)),
        ("white", (255, 255, 255)),
        ("DodgerBlue", (30, 144, 255)),
    ],
)
def test_parse_color(text, rgb):
    assert tuple(round(c * 255) for c in parse_color(text)) == rgb
    assert format_color(parse_color(text)) == "#{:02x}{:02x}{:02x}".format(*rgb)


@pytest.mark.parametrize("bad", ["#12", "#GGGGGG", "greenish", "", "008000x", "#1234567"])
def test_parse_color_rejects(bad):
    with pytest.raises(ParameterError, match="invalid colour"):
        parse_color(bad)
