"""--input-matrix / --input-range: the user's word on a source's YUV numbers, honoured by the
reference, the CPU kernels and the GPU keyer, through the Python API and the command line."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.backgrounds import parse_background
from chromakey.compositor import Compositor
from chromakey.core.color import InputColour, YuvSpec
from chromakey.core.errors import ParameterError
from chromakey.core.frames import Frame
from chromakey.core.params import KeyerParams
from chromakey.keying import reference as cpu
from chromakey.keying.gpu import GpuKeyer
from chromakey.keying.kernels import CpuKeyer

ROOT = Path(__file__).resolve().parent.parent
SCREEN = (0, 128, 0)
PATCHES = [(220, 40, 200), (217, 160, 102), (141, 85, 36), (128, 128, 128), (255, 255, 255)]
W, H = 320, 128
BLUE = (0x1E, 0x90, 0xFF)


def _picture() -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Patches on the screen colour, and each patch's centre."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[:] = SCREEN
    centres = []
    step = W // len(PATCHES)
    for i, colour in enumerate(PATCHES):
        rgb[32:96, i * step + 12 : (i + 1) * step - 12] = colour
        centres.append((i * step + step // 2, 64))
    return rgb, centres


def _encode(rgb: np.ndarray, spec: YuvSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """4:2:0 planes of ``rgb`` under ``spec`` (flat patches: the chroma average is exact)."""
    m, off = spec.from_rgb()
    yuv = (rgb.astype(np.float64) / 255.0) @ m.T + off
    planes = np.clip(np.round(yuv * 255.0), 0, 255).astype(np.uint8)
    y = np.ascontiguousarray(planes[..., 0])
    sub = planes.reshape(H // 2, 2, W // 2, 2, 3).mean(axis=(1, 3)).round().astype(np.uint8)
    return y, np.ascontiguousarray(sub[..., 1]), np.ascontiguousarray(sub[..., 2])


def _mistagged() -> tuple[Frame, list[tuple[int, int]]]:
    """BT.601 full-range numbers tagged BT.709 limited, as a wrongly tagged source sends."""
    rgb, centres = _picture()
    y, u, v = _encode(rgb, YuvSpec("bt601", True))
    return Frame.from_yuv(y, u, v, YuvSpec("bt709", False)), centres


def _worst(out: np.ndarray, centres: list[tuple[int, int]]) -> float:
    return max(
        float(np.abs(out[cy, cx, :3].astype(float) - np.asarray(c, float)).max())
        for (cx, cy), c in zip(centres, PATCHES, strict=True)
    )


def test_parse_and_apply():
    assert not InputColour.parse()
    assert InputColour.parse("bt601", "full") == InputColour("bt601", True)
    spec = YuvSpec("bt709", False)
    assert InputColour.parse("bt2020").apply(spec) == YuvSpec("bt2020", False)
    assert InputColour.parse(range="full").apply(spec) == YuvSpec("bt709", True)
    assert InputColour.parse("bt601", "full").apply(None) is None  # RGB frames stay RGB
    with pytest.raises(ParameterError, match="bt601, bt709, bt2020"):
        InputColour.parse("srgb")
    with pytest.raises(ParameterError, match="limited or full"):
        InputColour.parse(range="pc")
    centred = InputColour.parse(chroma_siting="center")
    assert centred and centred.apply(spec) == YuvSpec("bt709", False, "center")
    assert InputColour.parse("bt601").apply(YuvSpec(chroma_siting="center")).centred  # kept
    with pytest.raises(ParameterError, match="left or center"):
        InputColour.parse(chroma_siting="centre")


def test_untagged_webrtc_default_fills_only_what_the_tag_leaves_unsaid():
    from chromakey.core.color import WEBRTC_UNTAGGED

    assert YuvSpec.for_frame(2, 0, 640, 360, WEBRTC_UNTAGGED) == WEBRTC_UNTAGGED
    # No tag states a siting: a tagged WebRTC frame keeps the publishers' (centred).
    tagged = YuvSpec.for_frame(5, 1, 640, 360, WEBRTC_UNTAGGED)
    assert tagged == YuvSpec("bt601", False, "center")
    assert YuvSpec.for_frame(2, 1, 640, 360, WEBRTC_UNTAGGED).full_range is False
    assert YuvSpec.for_frame(2, 0, 640, 360) == YuvSpec("bt601", False)  # files: as before


def test_reference_decodes_the_overridden_frame():
    frame, centres = _mistagged()
    wrong = cpu.decode_rgb(frame) * 255
    assert _worst(wrong, centres) > 10  # the tag is wrong: the colours are off
    frame.yuv = InputColour("bt601", True).apply(frame.yuv)
    assert _worst(cpu.decode_rgb(frame) * 255, centres) <= 1.5  # 8-bit rounding


@pytest.mark.parametrize("backend", ["cpu", "gpu"])
def test_keyers_honour_input_colour_through_the_compositor(backend, gl_ctx):
    params = KeyerParams()
    results = {}
    for override in (InputColour(), InputColour("bt601", True)):
        keyer = CpuKeyer(params) if backend == "cpu" else GpuKeyer(params, ctx=gl_ctx)
        comp = Compositor(keyer, parse_background("#1e90ff"), params, override)
        frame, centres = _mistagged()
        out = comp.step(frame, 0.0, pixel_format="rgb24")
        results[bool(override)] = _worst(out, centres)
        assert tuple(out[4, 4]) == BLUE  # the screen keyed away either way
        keyer.close()
    assert results[False] > 10
    assert results[True] <= 3.0, results


def _mistagged_mp4(path: Path) -> list[tuple[int, int]]:
    """A lossless H.264 file of BT.601 full-range numbers whose stream says BT.709 limited."""
    frame, centres = _mistagged()
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.options = {"qp": "0", "preset": "ultrafast"}
        s.codec_context.colorspace, s.codec_context.color_range = 1, 1  # bt709, limited
        for i in range(3):
            f = av.VideoFrame(W, H, "yuv420p")
            for plane, data in zip(f.planes, frame.planes, strict=True):
                view = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
                view[: data.shape[0], : data.shape[1]] = data
            f.colorspace, f.color_range = 1, 1
            f.pts, f.time_base = i, Fraction(1, 30)
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return centres


def _render(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "chromakey",
            "render",
            str(tmp_path / "in.mp4"),
            "-o",
            str(tmp_path / "out" / "%03d.png"),
            "-b",
            "#1e90ff",
            "--backend",
            "cpu",
            *extra,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_render_input_colour_options(tmp_path):
    centres = _mistagged_mp4(tmp_path / "in.mp4")
    (tmp_path / "out").mkdir()
    done = _render(tmp_path, "--input-matrix", "bt601", "--input-range", "full")
    assert done.returncode == 0, done.stderr
    with av.open(str(tmp_path / "out" / "002.png")) as c:
        out = next(c.decode(video=0)).to_ndarray(format="rgb24")
    assert _worst(out, centres) <= 3.0
    bad = _render(tmp_path, "--input-range", "pc")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
