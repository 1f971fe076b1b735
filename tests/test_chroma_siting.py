"""Chroma siting (YuvSpec.chroma_siting, ``--input-chroma-siting``): 4:2:0 chroma sits either
co-sited with even luma columns (H.264's default, chromakey.sample's encoder) or centred
between two (FFmpeg's swscale, libyuv). Read with the siting its encoder used, a real
foreground keys closer to its true matte; read with the other, its edges move half a pixel.
The kernels' and the shaders' parity on centred frames is in test_cpu_strips, test_kernels,
test_gpu_parity and test_gpu_chroma."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from benchmarks.footage import TRUTH_VERSION, FootageSpec, render_truth, swscale_yuv420p
from chromakey.core.color import CHROMA_SITINGS, YuvSpec, parse_color
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu
from chromakey.keying.calibration import default_screen
from chromakey.keying.kernels import CpuKeyer
from chromakey.sample import rgb_to_yuv420p

ROOT = Path(__file__).resolve().parent.parent
F32 = np.float32


def test_centred_upsampling_weights_across_as_down():
    c = np.array([[10.0, 20.0, 60.0]], F32)
    left = cpu.upsample_chroma(c, 2, 1, 6, 1)
    centred = cpu.upsample_chroma(c, 2, 1, 6, 1, centred=True)
    np.testing.assert_array_equal(left[0], [10, 15, 20, 40, 60, 60])
    np.testing.assert_array_equal(centred[0], [10, 12.5, 17.5, 30, 50, 60])
    # Centred across is the vertical rule on the transposed plane.
    col = cpu.upsample_chroma(np.ascontiguousarray(c.T), 1, 2, 1, 6)
    np.testing.assert_array_equal(col[:, 0], centred[0])
    # An odd width: the last column's neighbour is itself.
    np.testing.assert_array_equal(cpu.upsample_chroma(c, 2, 1, 5, 1, True)[0], centred[0, :5])


def _swscale(rgb8: np.ndarray) -> np.ndarray:
    """yuv420p as FFmpeg converts 8-bit RGB (swscale through PyAV), BT.709 limited range."""
    return swscale_yuv420p(rgb8.astype(F32) / F32(255.0))


def test_swscale_sites_chroma_centred():
    """A one-pixel strand on an odd column lands whole in one chroma sample, as on an even
    column: each sample averages columns 2j and 2j + 1 (H.264's siting would split it)."""
    heights = []
    for x in (9, 10):
        rgb = np.zeros((8, 16, 3), np.uint8)
        rgb[:] = (0, 128, 0)
        rgb[:, x] = (255, 0, 255)
        u = _swscale(rgb)[8:10].reshape(4, 8)[1].astype(int)
        assert np.count_nonzero(u != u[0]) == 1, u
        heights.append(int(u.max() - u.min()))
    assert abs(heights[0] - heights[1]) <= 1, heights


@pytest.mark.parametrize("foreground", ["girl-1", "strands"])
def test_a_real_foreground_keys_best_read_with_its_encoders_siting(foreground):
    """A real cutout (and the sub-pixel strands) on flat #008000, converted to 4:2:0 by our
    co-sited encoder and by swscale: each keys closer to the true matte read with its own
    siting. Measured at 640×360: the wrong siting costs 22–62% more SAD."""
    truth = render_truth(FootageSpec(foreground, "avatar", False, 640, 360, 1), 0)
    rgb8 = np.clip(np.round(truth.observed * 255), 0, 255).astype(np.uint8)
    p = KeyerParams()
    screen = ScreenMap.constant(default_screen(p))
    for encoder, yuv in (("left", rgb_to_yuv420p(truth.observed)), ("center", _swscale(rgb8))):
        sad = {}
        for siting in CHROMA_SITINGS:
            frame = Frame.from_yuv420p(yuv, YuvSpec("bt709", False, siting))
            alpha = CpuKeyer(p).render(frame, screen, CLEAR)[..., 3] / 255.0
            sad[siting] = float(np.abs(alpha - truth.alpha).sum())
        wrong = "left" if encoder == "center" else "center"
        assert sad[encoder] < 0.9 * sad[wrong], (encoder, sad)


def test_the_reference_reads_the_siting_from_the_frame():
    """decode_rgb follows frame.spec: the same planes decode differently by their siting, and
    each as guided_chroma with its own siting decodes them."""
    truth = render_truth(FootageSpec("strands", "avatar", False, 96, 64, 1), 0)
    yuv = rgb_to_yuv420p(truth.observed)
    rgb = {s: cpu.decode_rgb(Frame.from_yuv420p(yuv, YuvSpec(chroma_siting=s)))
           for s in CHROMA_SITINGS}  # fmt: skip
    assert np.abs(rgb["left"] - rgb["center"]).max() > 0.05


def _encode_mp4(path: Path, frames: list[np.ndarray], rate: int = 30) -> None:
    """Lossless H.264 from RGB frames, converted to yuv420p by swscale as FFmpeg does."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        s.options = {"qp": "0", "preset": "ultrafast"}
        s.codec_context.colorspace, s.codec_context.color_range = 1, 1
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(_swscale(rgb), format="yuv420p")
            f.colorspace, f.color_range = 1, 1
            f.pts, f.time_base = i, Fraction(1, rate)
            for pkt in s.encode(f):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)


def test_render_input_chroma_siting(tmp_path):
    """``--input-chroma-siting center`` on a file whose chroma swscale made: the composite
    comes closer to the truth's; a siting we do not know is a one-line error, exit 2."""
    truth = render_truth(FootageSpec("girl-1", "avatar", False, 320, 180, 1), 0)
    rgb8 = np.clip(np.round(truth.observed * 255), 0, 255).astype(np.uint8)
    _encode_mp4(tmp_path / "in.mp4", [rgb8, rgb8])
    blue = np.array([0x1E, 0x90, 0xFF], F32) / 255
    a = truth.alpha[..., None]
    want = (a * truth.foreground + (1 - a) * blue) * 255

    def render(*extra: str) -> subprocess.CompletedProcess:
        out = tmp_path / (extra[-1] if extra else "default")
        out.mkdir(exist_ok=True)
        args = [sys.executable, "-m", "chromakey", "render", str(tmp_path / "in.mp4"), "-o",
                str(out / "%03d.png"), "-b", "#1e90ff", "--backend", "cpu", *extra]  # fmt: skip
        return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)

    errors = {}
    for extra in ((), ("--input-chroma-siting", "center")):
        done = render(*extra)
        assert done.returncode == 0, done.stderr
        folder = tmp_path / (extra[-1] if extra else "default")
        with av.open(str(folder / "001.png")) as c:
            got = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(F32)
        errors[extra[-1] if extra else "default"] = float(np.abs(got - want).mean())
    assert errors["center"] < 0.95 * errors["default"], errors
    bad = render("--input-chroma-siting", "centre")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr


def test_the_siting_benchmark_runs_both_encoders_both_ways(tmp_path, capsys):
    from benchmarks import siting

    assert siting.main(["--workdir", str(tmp_path), "--frames", "2", "--size", "320x180",
                        "--footage", "girl-1 on avatar"]) == 0  # fmt: skip
    rows = [r for r in capsys.readouterr().out.splitlines() if r.startswith("| girl-1")]
    assert [r.split("|")[2].strip() for r in rows] == list(CHROMA_SITINGS)
    names = sorted(p.name for p in tmp_path.glob("*.mp4"))
    assert names == [
        f"footage_v{TRUTH_VERSION}_girl-1_avatar_clean_320x180_2f.mp4",
        f"footage_v{TRUTH_VERSION}_girl-1_avatar_clean_chroma-center_320x180_2f.mp4",
    ]


def test_the_publishers_siting_measure_tells_the_two_apart():
    """benchmarks/webrtc_colour.py's chroma_shift on the canvas page's patches: 0 px for our
    encoder's chroma, −0.5 px for swscale's (the page's picture, 640×360, no codec)."""
    from benchmarks.webrtc_colour import SIZE, chroma_shift

    from webrtc_patches import SCREEN, patch_boxes

    w, h = SIZE
    rgb = np.empty((h, w, 3), F32)
    rgb[:] = parse_color(SCREEN)
    boxes = patch_boxes(w, h)
    for colour, x, y, bw, bh in boxes:
        rgb[y : y + bh, x : x + bw] = parse_color(colour)

    def shift(yuv: np.ndarray) -> float:
        y, u, v = (p.astype(np.float64) for p in Frame.from_yuv420p(yuv, YuvSpec()).planes)
        return chroma_shift({"y": y, "u": u, "v": v}, boxes)

    assert abs(shift(rgb_to_yuv420p(rgb))) < 0.02
    assert abs(shift(swscale_yuv420p(rgb)) + 0.5) < 0.02
