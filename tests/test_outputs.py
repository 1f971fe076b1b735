"""Transparent video outputs decoded back, and live changes in the middle of a render."""

import os
import subprocess
import sys

import av
import numpy as np
import pytest

from chromakey.backgrounds import parse_background
from chromakey.io.sinks import CallbackSink
from chromakey.io.sources import VideoSource
from chromakey.kernels import CpuKeyer
from chromakey.params import KeyerParams
from chromakey.pipeline import Pipeline

from media import read_png, write_clip


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def soft_figure(i, w, h):
    """A skin block with a soft left edge (a ramp of partial alpha) over the screen."""
    yy, xx = np.mgrid[0:h, 0:w]
    a = np.clip((xx - w * 0.3 - i) / 12.0, 0, 1) * ((yy > h * 0.2) & (yy < h * 0.8))
    screen = np.array([0, 128, 0], np.float32)
    skin = np.array([205, 160, 130], np.float32)
    return (a[..., None] * skin + (1 - a[..., None]) * screen).round().astype(np.uint8)


@pytest.fixture(scope="module")
def clip_and_pngs(tmp_path_factory):
    d = tmp_path_factory.mktemp("alpha")
    clip = write_clip(d / "in.mp4", width=160, height=96, frames=6, make=soft_figure, audio=True)
    r = run_cli(
        "render", clip, "-o", d / "png" / "%05d.png", "-b", "transparent", "--backend", "cpu"
    )
    assert r.returncode == 0, r.stderr
    pngs = [read_png(p) for p in sorted((d / "png").iterdir())]
    return clip, pngs


def decode_alpha(path, vp9):
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        if vp9:
            codec = av.CodecContext.create("libvpx-vp9", "r")
            frames = [f for p in c.demux(stream) if p.size for f in codec.decode(p)]
            frames += list(codec.decode(None))
        else:
            frames = list(c.decode(stream))
        return [f.to_ndarray(format="rgba") for f in frames]


@pytest.mark.parametrize(
    ("ext", "codec", "tolerance"), [(".webm", "vp9", 24), (".mov", "prores", 3)]
)
def test_transparent_video_alpha_matches_png_sequence(
    ext, codec, tolerance, clip_and_pngs, tmp_path
):
    clip, pngs = clip_and_pngs
    out = tmp_path / f"out{ext}"
    r = run_cli("render", clip, "-o", out, "-b", "transparent", "--backend", "cpu")
    assert r.returncode == 0, r.stderr
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == codec
        assert c.streams.audio, "the source's audio was dropped"
    frames = decode_alpha(out, vp9=(codec == "vp9"))
    assert len(frames) == len(pngs) == 6
    for got, want in zip(frames, pngs, strict=True):
        diff = np.abs(got[..., 3].astype(int) - want[..., 3].astype(int))
        assert diff.mean() < tolerance / 8 and np.percentile(diff, 99) <= tolerance
        # Both fully transparent and fully opaque regions and a ramp between them exist.
        assert (want[..., 3] == 0).any() and (want[..., 3] == 255).any()
        assert ((want[..., 3] > 20) & (want[..., 3] < 235)).any()


def test_native_vp9_decoder_drops_alpha_so_we_document_libvpx(clip_and_pngs, tmp_path):
    clip, _ = clip_and_pngs
    out = tmp_path / "out.webm"
    assert (
        run_cli("render", clip, "-o", out, "-b", "transparent", "--backend", "cpu").returncode == 0
    )
    with av.open(str(out)) as c:
        f = next(c.decode(video=0))
        assert f.format.name == "yuv420p"  # FFmpeg's own vp9 decoder: no alpha
    assert decode_alpha(out, vp9=True)[0].shape[-1] == 4


def test_live_background_and_parameter_swap_mid_render(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", frames=12)
    params = KeyerParams()
    source = VideoSource(clip)
    seen = []
    pipeline = None

    def on_frame(img, t):
        seen.append(img[2, 2].copy())
        if len(seen) == 5:
            pipeline.set_background("#0000ff")
            pipeline.set_params(params.replace(choke=3))

    pipeline = Pipeline(
        source, CpuKeyer(params), parse_background("#ff0000"), [CallbackSink(on_frame)], params
    )
    stats = pipeline.run()
    assert stats.frames == 12 and len(seen) == 12
    for i, px in enumerate(seen):
        want = [255, 0, 0] if i < 5 else [0, 0, 255]
        np.testing.assert_allclose(px, want, atol=3, err_msg=f"frame {i}")
    assert pipeline.params.choke == 3


def test_a_crashing_sink_leaves_no_file_behind(tmp_path):
    from chromakey.io.sinks import VideoFileSink

    clip = write_clip(tmp_path / "in.mp4", frames=12)
    out = tmp_path / "out.mp4"
    out.write_bytes(b"the previous render")
    params = KeyerParams()
    source = VideoSource(clip)
    info = source.info
    video = VideoFileSink(out, info.width, info.height, rate=info.rate, time_base=info.time_base)

    def explode(img, t):
        if t > 0.2:
            raise RuntimeError("the host's callback failed")

    pipeline = Pipeline(
        source, CpuKeyer(params), parse_background("#000"), [video, CallbackSink(explode)], params
    )
    with pytest.raises(RuntimeError, match="callback failed"):
        pipeline.run()
    assert out.read_bytes() == b"the previous render"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "out.mp4"]


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_a_finished_output_has_the_umask_mode_not_a_temp_files(tmp_path, umask):
    """Written under a temporary name, moved into place: readable as any new file would be."""
    from chromakey.pipeline import render

    clip = write_clip(tmp_path / "in.mp4", frames=3)
    out = tmp_path / "out.mp4"
    old = os.umask(umask)
    try:
        render(clip, out, background="#000", backend="cpu")
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []
