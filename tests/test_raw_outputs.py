"""Raw outputs (NUT, Y4M), standard input and output, and YuvImage frames, decoded back with
PyAV and with the FFmpeg CLI: real codecs, real containers, real pipes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from chromakey.backgrounds import parse_background
from chromakey.core.color import YuvSpec
from chromakey.core.frames import YuvImage
from chromakey.core.params import KeyerParams
from chromakey.io.sinks import CallbackSink, PngSequenceSink, VideoFileSink, open_sink
from chromakey.io.sources import VideoSource
from chromakey.keying.kernels import CpuKeyer
from chromakey.pipeline import Pipeline

from media import SKIN, write_clip

ROOT = Path(__file__).resolve().parent.parent
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.usefixtures("ffmpeg_cli")  # skips without it, fails under CI
W, H, N, FPS = 160, 96, 6, 25
BG = "#ff00ff"
# (extension, transparent) → the pixel format the file holds.
FILE_FORMATS = {
    (".nut", False): "rgb24",
    (".nut", True): "rgba",
    (".y4m", False): "yuv420p",
    (".y4m", True): "yuva444p",
}


def run_cli(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "chromakey", *map(str, args)],
        capture_output=True,
        cwd=ROOT,
        timeout=300,
        **kw,
    )


def one_error_line(stderr: bytes) -> str:
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("chromakey: error: ") and "Traceback" not in lines[0]
    return lines[0]


def planes_of(frame: av.VideoFrame) -> list[np.ndarray]:
    return [
        np.frombuffer(p, np.uint8).reshape(-1, p.line_size)[: p.height, : p.width].copy()
        for p in frame.planes
    ]


def bt709_yuv(rgb: np.ndarray) -> np.ndarray:
    """H×W×3 uint8 RGB → H×W×3 float Y, U, V (0–255, limited range), by our own matrix."""
    m, off = YuvSpec("bt709", False).from_rgb()
    return (rgb.astype(np.float64) / 255.0 @ m.T + off) * 255.0


def flat(rgb: np.ndarray, r: int) -> np.ndarray:
    """Where the (2r+1)² neighbourhood of a pixel holds one colour (no edge to filter)."""
    h, w = rgb.shape[:2]
    p = np.pad(rgb, ((r, r), (r, r), (0, 0)), mode="edge")
    same = np.ones((h, w), bool)
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            same &= (p[dy : dy + h, dx : dx + w] == rgb).all(-1)
    return same


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return write_clip(
        tmp_path_factory.mktemp("rawclip") / "in.mp4", width=W, height=H, frames=N, audio=True
    )


@pytest.fixture(scope="module")
def keyed(clip, tmp_path_factory):
    """Each raw file written by the pipeline, beside the keyer's own images of the same run."""
    folder = tmp_path_factory.mktemp("raw")
    out = {}
    for ext, transparent in FILE_FORMATS:
        path = folder / f"out_{'alpha' if transparent else 'opaque'}{ext}"
        source = VideoSource(clip)
        bg = parse_background("transparent" if transparent else BG)
        images: list[np.ndarray] = []
        sink = open_sink(path, source.info, bg.transparent, audio_stream=source.audio)
        params = KeyerParams()
        grab = CallbackSink(lambda im, t, keep=images: keep.append(im.copy()), alpha=transparent)
        Pipeline(source, CpuKeyer(params), bg, [grab, sink], params).run()
        out[(ext, transparent)] = (path, images)
    assert sorted(p.name for p in folder.iterdir() if "partial" in p.name) == []
    return out


@pytest.mark.parametrize(("ext", "transparent"), list(FILE_FORMATS))
def test_raw_file_decodes_back_with_pyav_to_what_the_keyer_made(keyed, ext, transparent):
    path, images = keyed[(ext, transparent)]
    with av.open(str(path)) as c:
        assert [s.type for s in c.streams] == (["video", "audio"] if ext == ".nut" else ["video"])
        frames = list(c.decode(video=0))
    assert len(frames) == len(images) == N
    for got, want in zip(frames, images, strict=True):
        assert (got.width, got.height, got.format.name) == (W, H, FILE_FORMATS[(ext, transparent)])
        if ext == ".nut":  # rawvideo RGB(A): the keyer's bytes, exactly
            np.testing.assert_array_equal(got.to_ndarray(format=got.format.name), want)
            continue
        planes = planes_of(got)
        yuv = bt709_yuv(want[..., :3])
        assert np.abs(planes[0] - yuv[..., 0]).max() <= 1.0  # BT.709 limited-range luma
        if transparent:  # yuva444p: chroma at full resolution, straight alpha
            for k in (1, 2):
                assert np.abs(planes[k] - yuv[..., k]).max() <= 1.0
            assert np.abs(planes[3].astype(int) - want[..., 3]).max() <= 1
        else:  # 4:2:0: a level on flat areas (the edges depend on the chroma filter)
            calm = flat(want, 3)[::2, ::2]
            for k in (1, 2):
                sub = yuv[..., k].reshape(H // 2, 2, W // 2, 2).mean((1, 3))
                assert calm.mean() > 0.5
                assert np.abs(planes[k] - sub)[calm].max() <= 1.0


@needs_ffmpeg
@pytest.mark.parametrize(("ext", "transparent"), list(FILE_FORMATS))
def test_raw_file_decodes_back_with_the_ffmpeg_cli(keyed, ext, transparent):
    path, _ = keyed[(ext, transparent)]
    fmt = FILE_FORMATS[(ext, transparent)]
    info = subprocess.run([FFMPEG, "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    assert f"{fmt}" in info.stderr and f"{W}x{H}" in info.stderr, info.stderr
    cli = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-fps_mode", "passthrough"]
        + ["-f", "rawvideo", "-pix_fmt", fmt, "-"],
        capture_output=True,
        check=True,
    ).stdout
    with av.open(str(path)) as c:
        ours = b"".join(
            (
                f.to_ndarray(format=fmt)
                if ext == ".nut"
                else np.concatenate([p.ravel() for p in planes_of(f)])
            ).tobytes()
            for f in c.decode(video=0)
        )
    assert len(cli) == len(ours) and cli == ours  # N frames, byte for byte
    if ext == ".nut":
        audio = subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-ac", "1", "-"],
            capture_output=True,
            check=True,
        ).stdout
        assert abs(len(audio) / 2 / 48000 - N / FPS) < 0.05  # the source's 0.24 s of audio


def test_render_cli_writes_nut_and_y4m_files(clip, tmp_path):
    for name, args in [("out.nut", []), ("out.y4m", []), ("alpha.y4m", ["-b", "transparent"])]:
        r = run_cli("render", clip, "-o", tmp_path / name, "--backend", "cpu", *args)
        assert r.returncode == 0, r.stderr
        assert f"wrote {tmp_path / name}" in r.stdout.decode()
    head = (tmp_path / "alpha.y4m").read_bytes()[:100]
    assert head.startswith(b"YUV4MPEG2 W160 H96 F25:1") and b" C444alpha" in head
    assert b"XCOLORRANGE=LIMITED" in (tmp_path / "out.y4m").read_bytes()[:100]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alpha.y4m", "out.nut", "out.y4m"]


@needs_ffmpeg
def test_stdin_to_stdout_between_two_ffmpeg_processes(tmp_path):
    """ffmpeg → chromakey render - -o - --format nut → ffmpeg: video keyed, audio kept."""
    frames = 10
    src = write_clip(tmp_path / "src.mkv", frames=frames, audio=True, container_format="matroska")
    video, audio = tmp_path / "video.rgb", tmp_path / "audio.pcm"
    producer = subprocess.Popen(
        [FFMPEG, "-v", "error", "-nostdin", "-i", str(src), "-c", "copy", "-f", "matroska", "-"],
        stdout=subprocess.PIPE,
    )
    ours = subprocess.Popen(
        [sys.executable, "-m", "chromakey", "render", "-", "-o", "-", "--format", "nut"]
        + ["--backend", "cpu", "-b", "#0000ff"],
        stdin=producer.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    producer.stdout.close()
    consumer = subprocess.run(
        [FFMPEG, "-v", "error", "-f", "nut", "-i", "-"]
        + ["-map", "0:v", "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24"]
        + [str(video), "-map", "0:a", "-f", "s16le", "-ac", "1", "-ar", "48000", str(audio)],
        stdin=ours.stdout,
        capture_output=True,
        timeout=300,
    )
    ours.stdout.close()
    err = ours.stderr.read().decode()
    assert ours.wait(timeout=300) == 0, err
    assert producer.wait(timeout=60) == 0
    assert consumer.returncode == 0, consumer.stderr.decode()
    assert "wrote standard output: 10 frames" in err  # the report went to stderr
    rgb = np.frombuffer(video.read_bytes(), np.uint8).reshape(-1, 96, 160, 3)
    assert len(rgb) == frames
    np.testing.assert_allclose(rgb[3][2:10, 2:10].reshape(-1, 3).mean(0), [0, 0, 255], atol=8)
    np.testing.assert_allclose(rgb[3][40:56, 70:80].reshape(-1, 3).mean(0), SKIN, atol=12)
    seconds = len(audio.read_bytes()) / 2 / 48000
    assert abs(seconds - frames / 25) < 0.05


@pytest.mark.parametrize(
    ("output", "extra", "says"),
    [
        ("-", [], "no extension"),
        ("noext", [], "no extension"),
        ("-", ["--format", "mp4"], "invalid choice: 'mp4'"),
        ("out.mp4", ["--format", "y4m"], "does not match"),
        ("%05d.png", ["--format", "nut"], "PNG sequence"),
    ],
)
def test_format_is_required_without_an_extension_and_checked(clip, tmp_path, output, extra, says):
    target = output if output == "-" else tmp_path / output
    r = run_cli("render", clip, "-o", target, "--backend", "cpu", *extra)
    assert r.returncode == 2
    assert says in one_error_line(r.stderr)
    assert r.stdout == b""
    assert list(tmp_path.iterdir()) == []


def test_a_reader_that_goes_away_ends_in_one_line_and_a_nonzero_status(tmp_path):
    clip = write_clip(tmp_path / "long.mp4", frames=30)
    proc = subprocess.Popen(
        [sys.executable, "-m", "chromakey", "render", str(clip), "-o", "-", "--format", "nut"]
        + ["--backend", "cpu"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert len(proc.stdout.read(1000)) == 1000
    proc.stdout.close()  # the reader goes away after one frame's worth, of 30
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 5
    assert "broken pipe" in one_error_line(err)


def test_only_the_name_dash_opens_standard_input():
    """``-`` is standard input; FFmpeg's own ``pipe:``/``fd:`` protocol names stay refused."""
    from chromakey.core.errors import ParameterError
    from chromakey.io.locations import check_location

    with open("/dev/null") as devnull:  # not a terminal, as a pipe is not
        old, sys.stdin = sys.stdin, devnull
        try:
            assert check_location("-") == "-"
        finally:
            sys.stdin = old
    for name in ("pipe:0", "fd:0"):
        with pytest.raises(ParameterError, match="protocol is not accepted"):
            check_location(name)


def test_standard_input_that_is_not_video_is_one_line(tmp_path):
    r = run_cli("render", "-", "-o", tmp_path / "out.nut", input=b"not a video at all\n" * 50)
    assert r.returncode == 4
    assert "standard input" in one_error_line(r.stderr)
    assert list(tmp_path.iterdir()) == []


# --- YuvImage ----------------------------------------------------------------------------------


def yuv_image(w: int, h: int, seed: int = 0, alpha: bool = False) -> YuvImage:
    """Smooth planes (gradients with a little texture): what a codec keeps well."""
    rng = np.random.default_rng(seed)
    cw, ch = (w + 1) // 2, (h + 1) // 2

    def plane(pw: int, ph: int, lo: int, hi: int) -> np.ndarray:
        yy, xx = np.mgrid[0:ph, 0:pw]
        base = lo + (hi - lo) * (0.5 + 0.5 * np.sin(xx / pw * 3 + yy / ph * 2 + rng.uniform(0, 6)))
        return np.clip(base + rng.normal(0, 0.5, (ph, pw)), 0, 255).round().astype(np.uint8)

    a = plane(w, h, 0, 255) if alpha else None
    return YuvImage(plane(w, h, 30, 220), plane(cw, ch, 70, 180), plane(cw, ch, 80, 170), a)


def write_yuv(path: Path, images: list[YuvImage], w: int, h: int, **kw) -> None:
    sink = VideoFileSink(path, w, h, rate=FPS, time_base=Fraction(1, FPS), **kw)
    for i, im in enumerate(images):
        sink.write(im, i / FPS)
    sink.close()


def decoded_planes(path: Path) -> list[list[np.ndarray]]:
    with av.open(str(path)) as c:
        return [planes_of(f) for f in c.decode(video=0)]


@pytest.mark.parametrize(("w", "h"), [(160, 96), (161, 97), (1, 1)])
def test_yuv_image_goes_into_y4m_as_it_is(tmp_path, w, h):
    images = [yuv_image(w, h, seed) for seed in range(3)]
    write_yuv(tmp_path / "out.y4m", images, w, h)
    got = decoded_planes(tmp_path / "out.y4m")
    assert len(got) == 3
    for planes, im in zip(got, images, strict=True):
        for p, q in zip(planes, im.planes, strict=True):
            np.testing.assert_array_equal(p, q)  # no conversion on the way: lossless


@pytest.mark.parametrize(("w", "h"), [(160, 96), (161, 97)])
def test_yuv_image_through_h264_decodes_to_the_same_planes(tmp_path, w, h):
    """H.264 (crf 18) keeps the planes within its loss; an odd size is cropped, not scaled."""
    images = [yuv_image(w, h, seed) for seed in range(3)]
    write_yuv(tmp_path / "out.mp4", images, w, h)
    got = decoded_planes(tmp_path / "out.mp4")
    assert len(got) == 3
    ew, eh = w - w % 2, h - h % 2
    with av.open(str(tmp_path / "out.mp4")) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.width, cc.height) == (ew, eh)
        assert (cc.colorspace, cc.color_range) == (1, 1)  # BT.709, limited
    for planes, im in zip(got, images, strict=True):
        crops = [im.y[:eh, :ew], im.u[: eh // 2, : ew // 2], im.v[: eh // 2, : ew // 2]]
        for p, q in zip(planes, crops, strict=True):
            d = p.astype(float) - q
            psnr = 10 * np.log10(255.0**2 / max(float((d**2).mean()), 1e-9))
            # x264's loss only: unbiased and small (a shifted or rescaled plane is neither).
            assert abs(d.mean()) < 0.5 and psnr > 38.0, (d.mean(), psnr)


def test_yuv_image_into_nut_is_converted_with_bt709_limited(tmp_path):
    """A NUT file holds RGB: the planes go through BT.709 limited range, as a player reads them."""
    w, h = 64, 32
    rgb = np.zeros((h, w, 3), np.uint8)
    colours = [(0, 128, 0), (205, 160, 130), (30, 60, 200), (250, 250, 250)]
    for k, c in enumerate(colours):
        rgb[:, k * 16 : (k + 1) * 16] = c
    yuv = bt709_yuv(rgb)
    sub = [yuv[..., k].reshape(h // 2, 2, w // 2, 2).mean((1, 3)) for k in (1, 2)]
    im = YuvImage(*(np.rint(p).astype(np.uint8) for p in (yuv[..., 0], *sub)))
    write_yuv(tmp_path / "out.nut", [im], w, h)
    with av.open(str(tmp_path / "out.nut")) as c:
        got = next(c.decode(video=0)).to_ndarray(format="rgb24")
    for k, c in enumerate(colours):
        patch = got[4:-4, k * 16 + 4 : (k + 1) * 16 - 4].reshape(-1, 3).astype(int)
        assert np.abs(patch - c).max() <= 2, (c, patch[0])


def test_yuv_image_alpha_is_kept_or_composited_over_black(tmp_path):
    w, h = 32, 16
    im = yuv_image(w, h, 1)
    a = np.zeros((h, w), np.uint8)
    a[:, w // 2 :] = 255
    im = YuvImage(im.y, im.u, im.v, a)
    write_yuv(tmp_path / "alpha.y4m", [im], w, h, alpha=True)
    y, u, v, got_a = decoded_planes(tmp_path / "alpha.y4m")[0]  # yuva444p
    np.testing.assert_array_equal(got_a, a)
    np.testing.assert_array_equal(y, im.y)
    write_yuv(tmp_path / "opaque.y4m", [im], w, h)
    y, u, v = decoded_planes(tmp_path / "opaque.y4m")[0]
    assert (y[:, : w // 2] == 16).all() and (u[:, : w // 4] == 128).all()  # black
    np.testing.assert_array_equal(y[:, w // 2 :], im.y[:, w // 2 :])  # opaque: untouched
    np.testing.assert_array_equal(v[:, w // 4 :], im.v[:, w // 4 :])


def test_yuv_image_checks_its_planes():
    y = np.zeros((3, 5), np.uint8)
    assert YuvImage(y, np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8)).pixel_format == (
        "yuv420p"
    )
    with pytest.raises(ValueError, match="YuvImage.u"):
        YuvImage(y, np.zeros((1, 3), np.uint8), np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="YuvImage.a"):
        YuvImage(y, np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8), y.astype(np.float32))


def test_every_sink_names_the_pixel_format_it_takes(tmp_path):
    want = {
        ("out.mp4", False): "yuv420p",
        ("out.webm", False): "yuv420p",
        ("out.webm", True): "yuva420p",
        ("out.mov", True): "rgba",  # ProRes 4444: full-resolution chroma from RGBA
        ("out.nut", False): "rgb24",
        ("out.nut", True): "rgba",
        ("out.y4m", False): "yuv420p",
        ("out.y4m", True): "rgba",  # stored as yuva444p
    }
    for (name, alpha), fmt in want.items():
        sink = VideoFileSink(tmp_path / name, 32, 16, alpha=alpha)
        assert sink.pixel_format == fmt, name
        sink.abort()
    png = PngSequenceSink(tmp_path / "f" / "%05d.png", alpha=True)
    assert png.pixel_format == "rgba"
    png.abort()
    assert CallbackSink(lambda im, t: None).pixel_format == "rgb24"
    assert list(tmp_path.iterdir()) == []
