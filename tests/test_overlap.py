"""Writing overlaps keying: the writer thread (io.sinks.threaded) keeps order, hands its
errors to the render thread as they are and leaves nothing behind on abort; raw NUT packets
made from the image itself are the rawvideo encoder's bytes; and the keyer hands out a new
image every frame, so none is overwritten while the writer still holds it."""

from __future__ import annotations

import threading
from fractions import Fraction

import av
import numpy as np
import pytest

from chromakey.core.errors import OutputError
from chromakey.core.frames import Frame, YuvImage
from chromakey.core.layers import CLEAR, Solid
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.io.sinks import Sink, VideoFileSink
from chromakey.io.sinks.threaded import ThreadedSink
from chromakey.keying.kernels import CpuKeyer

W, H = 53, 37


def _images(n: int, channels: int) -> list[np.ndarray]:
    rng = np.random.default_rng(channels)
    return [rng.integers(0, 256, (H, W, channels), np.uint8) for _ in range(n)]


def _strided(image: np.ndarray) -> np.ndarray:
    """The same pixels in a view that is not C-contiguous (the encoder's path)."""
    wide = np.zeros((image.shape[0], image.shape[1] + 1, image.shape[2]), np.uint8)
    wide[:, : image.shape[1]] = image
    return wide[:, : image.shape[1]]


@pytest.mark.parametrize("alpha", [False, True])
def test_nut_packets_from_the_image_are_the_rawvideo_encoders_bytes(tmp_path, alpha):
    images = _images(4, 4 if alpha else 3)
    files = []
    for name, view in (("direct", lambda a: a), ("encoder", _strided)):
        path = tmp_path / f"{name}.nut"
        sink = VideoFileSink(path, W, H, alpha=alpha, rate=Fraction(30), time_base=Fraction(1, 30))
        for i, image in enumerate(images):
            sink.write(view(image), i / 30)
        sink.close()
        files.append(path.read_bytes())
    assert files[0] == files[1]
    with av.open(str(tmp_path / "direct.nut")) as c:
        got = [f.to_ndarray() for f in c.decode(video=0)]
    assert len(got) == len(images) and all((g == i).all() for g, i in zip(got, images, strict=True))


class _Recording(Sink):
    """A sink of our own interface that records what reached it, failing at frame ``fail_at``."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.seen: list[tuple[str, object]] = []
        self.fail_at = fail_at
        self.closed = self.aborted = False
        self.thread: str | None = None

    def write(self, image, time):
        self.thread = threading.current_thread().name
        if self.fail_at is not None and len(self.seen) == self.fail_at:
            raise OutputError("out: the disk is full (No space left on device)", errno=28)
        self.seen.append(("frame", time))

    def write_audio(self, packet):
        self.seen.append(("audio", packet))

    def close(self):
        self.closed = True

    def abort(self):
        self.aborted = True


def test_writer_keeps_order_and_writes_on_its_own_thread():
    inner = _Recording()
    sink = ThreadedSink(inner)
    image = np.zeros((2, 2, 3), np.uint8)
    for i in range(20):
        sink.write(image, float(i))
        sink.write_audio(i)
    sink.close()
    assert inner.closed and not inner.aborted
    assert inner.seen == [x for i in range(20) for x in (("frame", float(i)), ("audio", i))]
    assert inner.thread != threading.current_thread().name


def test_a_writer_error_is_raised_as_it_is_on_the_render_thread():
    inner = _Recording(fail_at=3)
    sink = ThreadedSink(inner)
    image = np.zeros((2, 2, 3), np.uint8)
    with pytest.raises(OutputError) as caught:
        for i in range(1000):  # the error arrives within a frame or two of the failing one
            sink.write(image, float(i))
        sink.close()
    assert caught.value.exit_status == 5 and "disk is full" in str(caught.value)
    assert len(inner.seen) == 3
    sink.abort()
    assert inner.aborted and not inner.closed


def test_abort_drops_what_waits_and_leaves_no_file(tmp_path):
    out = tmp_path / "out.nut"
    sink = ThreadedSink(VideoFileSink(out, W, H, rate=Fraction(30), time_base=Fraction(1, 30)))
    for i, image in enumerate(_images(5, 3)):
        sink.write(image, i / 30)
    sink.abort()
    assert list(tmp_path.iterdir()) == []


def _frame(seed: int) -> Frame:
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (H + 1, W + 1, 3), np.uint8)
    rgb[:, : W // 2] = (0, 160, 0)  # part screen, part not
    return Frame.from_rgb(rgb)


@pytest.mark.parametrize(
    "background, pixel_format",
    [(Solid((1.0, 0.0, 1.0)), None), (CLEAR, None), (Solid((1.0, 0.0, 1.0)), "yuv420p")],
)
def test_the_keyer_hands_out_a_new_image_every_frame(background, pixel_format):
    """The writer holds frame N while frame N+1 is keyed: the two must not share memory."""
    keyer = CpuKeyer(KeyerParams())
    screen = ScreenMap.constant((0.0, 160 / 255, 0.0))
    try:
        images = [
            keyer.render(_frame(i), screen, background, pixel_format=pixel_format) for i in range(3)
        ]
    finally:
        keyer.close()

    def arrays(image):
        if isinstance(image, YuvImage):
            return [p for p in (image.y, image.u, image.v, image.a) if p is not None]
        return [image]

    for a, b in zip(images, images[1:], strict=False):
        for pa in arrays(a):
            for pb in arrays(b):
                assert not np.shares_memory(pa, pb)
