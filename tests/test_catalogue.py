"""The bad-input catalogue: every odd but legitimate video renders correctly, every broken
one is refused with its exact error class and leaves no output behind."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.core.errors import InputError, InputNotFoundError, OutputError, ParameterError
from chromakey.pipeline import render

from media import figure_frame, read_png, rotate_mp4, write_clip

SKIN = np.array([205, 160, 130])


def write_raw(
    path: Path,
    frames: list[np.ndarray],
    pix_fmt: str,
    *,
    fmt: str = "nut",
    pts=None,
    time_base=Fraction(1, 25),
    rotate: int | None = None,
) -> Path:
    """rawvideo in NUT/MKV: any size and pixel format, exact timestamps."""
    with av.open(str(path), "w", format=fmt) as c:
        h, w = frames[0].shape[:2]
        s = c.add_stream("rawvideo", rate=25)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        s.time_base = s.codec_context.time_base = time_base
        full = pix_fmt.startswith("yuvj")
        if full:
            s.codec_context.color_range = 2  # JPEG range, so the decoder knows
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format=pix_fmt)
            if full:
                f.color_range = 2
            f.pts = i if pts is None else pts[i]
            f.time_base = time_base
            for p in s.encode(f):
                c.mux(p)
    return path


def figure(i, w, h):
    return figure_frame(i, w, h)


@pytest.fixture(params=["cpu", "gpu"])
def backend(request):
    if request.param == "gpu":
        request.getfixturevalue("gl_ctx")  # skips or (under CI) fails without OpenGL
    return request.param


def render_png(src: Path, tmp: Path, backend: str = "cpu", **kw) -> list[np.ndarray]:
    out = tmp / "out" / "%05d.png"
    stats = render(src, out, backend=backend, **kw)
    files = sorted((tmp / "out").iterdir())
    assert len(files) == stats.frames
    return [read_png(f) for f in files]


@pytest.mark.parametrize(
    ("pix_fmt", "size"),
    [
        ("yuv420p", (1919, 1079)),
        ("yuv420p", (1, 1)),
        ("yuv420p", (2, 2)),
        ("yuv420p10le", (64, 36)),
        ("yuv422p", (64, 36)),
        ("yuv444p", (65, 37)),
        ("yuvj420p", (64, 36)),
        ("nv12", (64, 36)),
        ("rgb24", (63, 35)),
        ("rgba", (64, 36)),
        ("gray", (64, 36)),
    ],
)
def test_legitimate_formats_and_sizes_render(pix_fmt, size, backend, tmp_path):
    w, h = size
    frames = [figure(i, w, h) for i in range(3)]
    # Matroska keeps the range tag that full-range (yuvj420p) video depends on; NUT drops it.
    container = "matroska" if pix_fmt == "yuvj420p" else "nut"
    src = write_raw(tmp_path / "in.mkv", frames, pix_fmt, fmt=container)
    out = render_png(src, tmp_path, backend, background="#ff0000")
    assert len(out) == 3
    assert out[0].shape == (h, w, 3)
    if pix_fmt == "gray" or min(w, h) < 8:
        return
    # Keyed-out corner shows the background; the subject's centre keeps its colour.
    np.testing.assert_allclose(out[1][1, 1], [255, 0, 0], atol=6)
    cy, cx = h // 2, w // 4 + 1 + w // 6
    np.testing.assert_allclose(out[1][cy, cx], SKIN, atol=8)


def test_rotated_stream_is_shown_upright(backend, tmp_path):
    def left_red(i, w, h):
        img = np.zeros((h, w, 3), np.uint8)
        img[...] = (0, 128, 0)
        img[:, : w // 2] = (220, 30, 30)
        return img

    src = rotate_mp4(write_clip(tmp_path / "r.mp4", width=64, height=32, frames=2, make=left_red))
    out = render_png(src, tmp_path, backend, background="#0000ff")
    assert out[0].shape[:2] == (64, 32)  # portrait: width and height swapped
    # Turned 90° clockwise, the left half is now the top half.
    assert near_rgb(out[0][8, 16], (220, 30, 30)) and near_rgb(out[0][56, 16], (0, 0, 255))


def near_rgb(px, rgb, tol=14):
    return np.abs(px[:3].astype(int) - np.array(rgb)).max() <= tol


def test_gray_foreground_has_nothing_to_key(tmp_path):
    frames = [figure(i, 32, 32) for i in range(2)]
    out = render_png(write_raw(tmp_path / "g.nut", frames, "gray"), tmp_path, background="#ff0000")
    assert (out[0][..., 0] != 255).any()


def test_variable_frame_rate_keeps_timestamps(tmp_path):
    pts = [0, 40, 50, 130, 140, 300]
    src = write_raw(
        tmp_path / "vfr.mkv",
        [figure(i, 64, 36) for i in range(6)],
        "yuv420p",
        fmt="matroska",
        pts=pts,
        time_base=Fraction(1, 1000),
    )
    out = tmp_path / "vfr.mp4"
    stats = render(src, out, backend="cpu", background="#000000")
    assert stats.frames == 6
    with av.open(str(out)) as c:
        times = [round(float(f.time), 3) for f in c.decode(video=0)]
    assert times == [p / 1000 for p in pts]


def write_ts(path: Path, frames: list[np.ndarray], start_pts: int = 0) -> Path:
    """H.264 in MPEG-TS: segments that can be spliced by concatenating bytes, as live streams are."""
    h, w = frames[0].shape[:2]
    with av.open(str(path), "w", format="mpegts") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for i, img in enumerate(frames):
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts = start_pts + i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def splice(tmp: Path, *parts: Path) -> Path:
    out = tmp / "spliced.ts"
    out.write_bytes(b"".join(p.read_bytes() for p in parts))
    return out


def test_timestamps_jumping_backwards_stay_monotonic(tmp_path):
    # A live stream re-started by the server: the second part's clock starts again at 0.
    a = write_ts(tmp_path / "a.ts", [figure(i, 64, 36) for i in range(8)], start_pts=50)
    b = write_ts(tmp_path / "b.ts", [figure(i, 64, 36) for i in range(8)], start_pts=0)
    out = tmp_path / "back.mp4"
    stats = render(splice(tmp_path, a, b), out, backend="cpu", background="#000000")
    with av.open(str(out)) as c:
        times = [float(f.time) for f in c.decode(video=0)]
    assert len(times) == stats.frames >= 14
    assert all(t1 > t0 for t0, t1 in zip(times, times[1:], strict=False))


def test_resolution_change_mid_stream(tmp_path):
    a = write_ts(tmp_path / "a.ts", [figure(i, 64, 36) for i in range(4)])
    b = write_ts(tmp_path / "b.ts", [figure(i, 96, 54) for i in range(4)], start_pts=4)
    path = splice(tmp_path, a, b)
    frames = render_png(path, tmp_path, background="#ff0000")
    sizes = [f.shape[:2] for f in frames]
    assert sizes[0] == (36, 64) and sizes[-1] == (54, 96) and len(frames) == 8
    # Every frame keyed right at its own size.
    for f in frames:
        np.testing.assert_allclose(f[1, 1], [255, 0, 0], atol=6)
    mp4 = tmp_path / "sizes.mp4"
    render(path, mp4, backend="cpu", background="#ff0000")
    with av.open(str(mp4)) as c:
        assert {(f.width, f.height) for f in c.decode(video=0)} == {(64, 36)}


def test_audio_only_file_is_refused(tmp_path):
    path = tmp_path / "audio.m4a"
    with av.open(str(path), "w") as c:
        a = c.add_stream("aac", rate=48000)
        a.layout = "mono"
        af = av.AudioFrame.from_ndarray(
            np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
        )
        af.sample_rate = 48000
        af.pts = 0
        for p in list(a.encode(af)) + list(a.encode(None)):
            c.mux(p)
    with pytest.raises(InputError, match="no video stream"):
        render(path, tmp_path / "o.mp4", backend="cpu")
    assert not (tmp_path / "o.mp4").exists()


def test_still_image_foreground_renders_one_frame(tmp_path):
    img = figure(0, 64, 36)
    path = tmp_path / "still.png"
    with av.open(str(path), "w", format="image2") as c:
        s = c.add_stream("png")
        s.width, s.height, s.pix_fmt = 64, 36, "rgb24"
        for p in list(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24"))) + list(
            s.encode(None)
        ):
            c.mux(p)
    out = render_png(path, tmp_path, background="#ff0000")
    assert len(out) == 1
    np.testing.assert_allclose(out[0][1, 1], [255, 0, 0], atol=3)


@pytest.mark.parametrize("fraction", [0.01, 0.10, 0.50])
def test_truncated_files(fraction, tmp_path):
    full = write_clip(tmp_path / "full.mp4", frames=40, width=160, height=96)
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * fraction)])
    out = tmp_path / "out.mp4"
    with pytest.raises(InputError):
        render(cut, out, backend="cpu")
    assert not out.exists()


def test_truncated_faststart_file_renders_what_it_has(tmp_path):
    path = tmp_path / "fast.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 160, 96, "yuv420p"
        rng = np.random.default_rng(1)
        for i in range(50):
            noisy = figure(i, 160, 96) ^ rng.integers(0, 32, (96, 160, 3), dtype=np.uint8)
            f = av.VideoFrame.from_ndarray(noisy, format="rgb24")
            f.pts = i
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    stats = render(cut, tmp_path / "o.mp4", backend="cpu", background="#000")
    assert 5 <= stats.frames < 50


def test_flipped_bytes_inside_packets_render_on(tmp_path):
    clip = write_clip(tmp_path / "c.mp4", frames=40, width=160, height=96)
    data = bytearray(clip.read_bytes())
    rng = np.random.default_rng(7)
    with av.open(str(clip)) as c:
        offsets = [p.pos for p in c.demux(video=0) if p.pos is not None and p.size > 64]
    for pos in offsets[5::3]:
        for k in rng.integers(8, 64, 6):
            data[pos + int(k)] ^= 0xFF
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(bytes(data))
    stats = render(bad, tmp_path / "o.mp4", backend="cpu", background="#000")
    assert stats.frames >= 30


def test_oversized_frames_are_refused_before_decoding(tmp_path):
    src = write_raw(tmp_path / "huge.nut", [np.zeros((4322, 7682, 3), np.uint8)], "gray")
    with pytest.raises(InputError, match="pixel limit"):
        render(src, tmp_path / "o.mp4", backend="cpu")
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize("output", ["/proc/chromakey-out.mp4", "/proc/frames/%05d.png"])
def test_read_only_output_folder(output, tmp_path):
    # /proc refuses new files even to root, like a read-only mount.
    with pytest.raises(OutputError, match="cannot write"):
        render(write_clip(tmp_path / "c.mp4"), output, backend="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4"]


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("concat:a.mp4|b.mp4", ParameterError),
        ("subfile:,,start,0,end,10,,:x.mp4", ParameterError),
        ("file:///etc/passwd", ParameterError),
        ("data:video/mp4;base64,AAAA", ParameterError),
        ("ftp://127.0.0.1/x.mp4", ParameterError),
        ("/no/such/file.mp4", InputNotFoundError),
    ],
)
def test_foreground_protocol_tricks_are_refused(spec, error, tmp_path):
    with pytest.raises(error):
        render(spec, tmp_path / "o.mp4", backend="cpu")
    assert list(tmp_path.iterdir()) == []
