"""What the keyers composite over, as types (core.layers), and the keyer protocols the
compositors use: every keyer takes the same Layer and refuses anything else in one line."""

from __future__ import annotations

import numpy as np
import pytest

from chromakey.backgrounds import parse_background
from chromakey.compositor import Compositor
from chromakey.core.errors import ParameterError
from chromakey.core.frames import Frame
from chromakey.core.layers import CLEAR, Picture, Solid, out_channels
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying.gpu import GpuKeyer
from chromakey.keying.kernels import CpuKeyer
from chromakey.keying.reference import ReferenceKeyer
from chromakey.keying.select import Keyer, TextureKeyer

SCREEN = ScreenMap.constant((0.0, 0.5, 0.0))


def _frame(w: int = 8, h: int = 6) -> Frame:
    rgb = np.full((h, w, 3), (0, 128, 0), np.uint8)
    rgb[2:4, 2:5] = (200, 150, 120)
    return Frame.from_rgb(rgb)


def test_layers_check_what_they_hold():
    assert Solid((1, 0, 0.5)).rgb.dtype == np.float32
    with pytest.raises(ParameterError, match="3 numbers"):
        Solid((1.0, 0.0))
    with pytest.raises(ParameterError, match="uint8"):
        Picture(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ParameterError, match="channels"):
        Picture(np.zeros((4, 4, 2), np.uint8))
    assert Picture(np.zeros((4, 5, 4), np.uint8)).size == (5, 4)
    assert [out_channels(x) for x in (CLEAR, Solid((0, 0, 0)))] == [4, 3]
    assert out_channels(Picture(np.zeros((1, 1, 3), np.uint8))) == 3
    assert out_channels(Picture(np.zeros((1, 1, 4), np.uint8))) == 4


@pytest.fixture(params=["reference", "cpu", "gpu"])
def keyer(request, gl_ctx):
    if request.param == "reference":
        yield ReferenceKeyer(KeyerParams())
        return
    k = CpuKeyer(KeyerParams()) if request.param == "cpu" else GpuKeyer(KeyerParams(), gl_ctx)
    yield k
    k.close()


def test_every_keyer_refuses_an_array_or_none_and_a_picture_of_another_size(keyer):
    frame = _frame()
    for old in (None, np.array([1.0, 0.0, 1.0], np.float32), np.zeros((6, 8, 3), np.uint8)):
        with pytest.raises(ParameterError, match="must be a chromakey.core.layers Layer"):
            keyer.render(frame, SCREEN, old)
    with pytest.raises(ParameterError, match="not the frame's size 8×6"):
        keyer.render(frame, SCREEN, Picture(np.zeros((6, 9, 3), np.uint8)))


def test_every_keyer_gives_the_channels_the_layer_calls_for(keyer):
    frame = _frame()
    layers = [CLEAR, Solid((1, 0, 1)), Picture(np.full((6, 8, 3), 9, np.uint8)),
              Picture(np.full((6, 8, 4), 9, np.uint8))]  # fmt: skip
    for layer in layers:
        assert keyer.render(frame, SCREEN, layer).shape == (6, 8, out_channels(layer))


def test_the_texture_keyer_is_told_apart_by_what_it_can_do(gl_ctx):
    cpu, gpu = CpuKeyer(KeyerParams()), GpuKeyer(KeyerParams(), gl_ctx)
    try:
        assert isinstance(gpu, TextureKeyer) and not isinstance(cpu, TextureKeyer)
        mine: Keyer = cpu  # both are Keyers (mypy checks these assignments)
        mine = gpu
        assert mine.backend == "gpu"
        on_gpu = Compositor(gpu, parse_background("#ff00ff"), KeyerParams())
        on_cpu = Compositor(cpu, parse_background("#ff00ff"), KeyerParams())
        assert on_gpu.texture_keyer is gpu and on_cpu.texture_keyer is None
        tex = on_gpu.step_texture(_frame(), 0.0)
        px = np.frombuffer(tex.read(), np.uint8).reshape(6, 8, 4)
        assert tuple(px[0, 0]) == (255, 0, 255, 255)
        with pytest.raises(TypeError, match="renders no texture"):
            on_cpu.step_texture(_frame(), 0.0)
        gpu.warm(64, 32)  # targets of that size, before a live clock starts
        cpu.warm(64, 32)
    finally:
        cpu.close()
        gpu.close()


def test_the_reference_composite_refuses_what_is_not_a_layer():
    from chromakey.keying import reference as cpu

    fg, alpha = np.zeros((2, 2, 3), np.float32), np.zeros((2, 2), np.float32)
    assert cpu.composite(fg, alpha, CLEAR).shape == (2, 2, 4)
    with pytest.raises(ParameterError, match="give a chromakey.core.layers Layer"):
        cpu.composite(fg, alpha, None)  # type: ignore[arg-type]
