"""The synthetic green-screen clip: its truth is a fair test, and its file is what it claims."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from chromakey import sample
from chromakey.color import YuvSpec, rgb_to_hsl
from chromakey.core.errors import OutputError, ParameterError
from chromakey.core.frames import Frame
from chromakey.cpu import decode_rgb
from chromakey.sample import SampleSpec, TruthFrame, render_truth, truth_frames, write_sample

SMALL = SampleSpec(width=320, height=180, fps=30.0, seconds=1.0, seed=0)


def _decoded_rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame through the keyer's own decode path."""
    w, h = frame.width, frame.height
    planes = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
        planes.append(rows[: plane.height, : plane.width])
    spec = YuvSpec.for_frame(frame.colorspace, frame.color_range, w, h)
    return decode_rgb(Frame.from_yuv(*planes, spec))


def _no_leftovers(folder, keep=()):
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(keep), f"unexpected files in {folder}: {names}"


# --- the spec -------------------------------------------------------------------------------


def test_spec_defaults_and_frame_count():
    spec = SampleSpec()
    assert (spec.width, spec.height, spec.fps, spec.seconds, spec.seed) == (1280, 720, 30.0, 5.0, 0)
    assert spec.frame_count == 150
    assert SampleSpec(fps=29.97, seconds=10).frame_count == 300
    assert SampleSpec(fps=29.97).rate == Fraction(30000, 1001)
    assert SampleSpec(fps=10, seconds=0.01).frame_count == 1


@pytest.mark.parametrize(
    "field, value",
    [
        ("width", 15),
        ("width", 321),
        ("width", 7682),
        ("height", 0),
        ("height", 4322),
        ("width", 320.0),
        ("height", True),
        ("fps", 0),
        ("fps", 241),
        ("fps", float("nan")),
        ("seconds", 0),
        ("seconds", 3601),
        ("seconds", "5"),
        ("seed", -1),
        ("seed", 1.5),
    ],
)
def test_spec_rejects_bad_values(field, value):
    with pytest.raises(ParameterError, match=field) as info:
        SampleSpec(**{field: value})
    assert "\n" not in str(info.value)


# --- the truth ---------------------------------------------------------------------------------


def test_truth_shapes_types_and_ranges():
    f = render_truth(SMALL, 3)
    assert isinstance(f, TruthFrame)
    assert (f.index, f.time) == (3, pytest.approx(0.1))
    assert f.observed.shape == (180, 320, 3) and f.observed.dtype == np.float32
    assert f.alpha.shape == (180, 320) and f.alpha.dtype == np.float32
    assert f.foreground.shape == (180, 320, 3) and f.foreground.dtype == np.float32
    for a in (f.observed, f.alpha, f.foreground):
        assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0
    assert (f.foreground[f.alpha == 0] == 0).all()
    # The figure is there and is not all of the frame.
    assert 0.1 < (f.alpha > 0.5).mean() < 0.6
    assert (f.alpha == 0).mean() > 0.3


def test_truth_is_deterministic_and_seeded():
    a, b = render_truth(SMALL, 5), render_truth(SMALL, 5)
    for name in ("observed", "alpha", "foreground"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    c = render_truth(SampleSpec(320, 180, seconds=1.0, seed=1), 5)
    assert not np.array_equal(a.observed, c.observed)
    assert not np.array_equal(a.alpha, c.alpha)  # the hair strands and the pose move with the seed


def test_banded_rendering_matches_single_thread():
    spec = SampleSpec(1280, 720, seconds=1.0, seed=3)
    banded = render_truth(spec, 11, threads=True)
    single = render_truth(spec, 11, threads=False)
    for name in ("observed", "alpha", "foreground", "spill"):
        assert np.array_equal(getattr(banded, name), getattr(single, name)), name


def test_the_figure_moves():
    first, later = render_truth(SMALL, 0), render_truth(SMALL, 15)
    moved = np.abs(first.alpha - later.alpha) > 0.5
    assert moved.sum() > 100


def test_observed_is_the_composite_of_the_truth():
    """Where the figure is solid and far from its edge, observed is the foreground plus noise."""
    f = render_truth(SampleSpec(640, 360, seconds=1.0), 4)
    solid = f.alpha == 1.0
    diff = f.observed - f.foreground
    # Spill only reaches a few pixels in; most solid pixels show the clean colour.
    clean = solid & (np.abs(diff).max(axis=-1) < 6 * sample.NOISE_SIGMA)
    assert clean.sum() > 0.9 * solid.sum()
    assert abs(float(diff[clean].mean())) < 0.001


def test_spill_truth_explains_the_observed_pixels():
    """observed = a·(F + k·lit screen) + (1 − a)·shadowed screen + noise, with the spill k given."""
    spec = SampleSpec(640, 360, seconds=1.0)
    f = render_truth(spec, 4)
    assert f.spill.shape == f.alpha.shape and f.spill.dtype == np.float32
    assert (f.spill[f.alpha == 0] == 0).all()
    assert 0 < f.spill.max() <= sample.SPILL_STRENGTH + 1e-6
    noise, negate = sample.frame_noise(spec, 4)
    clean = f.observed - (-noise if negate else noise)
    lit = sample.lit_screen(spec.width, spec.height, spec.seed)
    a = f.alpha[..., None]
    # Away from the cast shadow (where the screen behind is the lit one) and the 0/1 clipping.
    solid = (f.alpha == 1.0) & (clean.min(axis=-1) > 0.01) & (clean.max(axis=-1) < 0.99)
    model = a * (f.foreground + f.spill[..., None] * lit) + (1 - a) * lit
    assert np.abs(clean - model)[solid].max() < 1e-5


@pytest.mark.parametrize("spec", [SMALL, SampleSpec(1280, 720, seconds=1.0, seed=7)])
def test_truth_is_a_fair_test_of_a_keyer(spec):
    f = render_truth(spec, 9)
    a, obs, fg = f.alpha, f.observed, f.foreground
    n = a.size
    hue, sat, _, _ = rgb_to_hsl(obs)
    solid = a >= 1.0

    # Hair and edges: a meaningful amount of genuinely fractional alpha.
    fractional = (a > 0.05) & (a < 0.95)
    assert fractional.sum() > 0.008 * n
    # ... much of it in the hair, above the face, not only along outlines.
    rows = np.flatnonzero(fractional.any(axis=1))
    top = rows[0]
    assert fractional[top : top + spec.height // 10].sum() > 0.002 * n

    # Colours a naive keyer gets wrong, solid (alpha 1).
    lime = solid & (hue > 70) & (hue < 90) & (sat > 0.5)
    teal = solid & (hue > 165) & (hue < 185) & (sat > 0.5)
    near_black = solid & (obs.max(axis=-1) < 0.08)
    assert lime.sum() > 0.01 * n
    assert teal.sum() > 0.001 * n
    assert near_black.sum() > 0.002 * n

    # The screen: not the nominal green, unevenly lit, with a cast shadow.
    screen = a == 0
    g = obs[..., 1][screen]
    median_g = float(np.median(g))
    assert 0.40 < median_g < 0.60
    lo, hi = np.percentile(g, [1, 99])
    assert (hi - lo) / median_g > 0.15  # uneven lighting
    shadow = screen & (obs[..., 1] <= 0.75 * median_g)
    assert shadow.sum() > 0.005 * n
    assert float(obs[..., 1][shadow].min()) > 0.45 * median_g  # a shadow, not a hole
    screen_hue = hue[screen]
    assert np.median(screen_hue) == pytest.approx(120, abs=6)

    # Spill: solid subject pixels near the edge are greener than their true colour.
    diff = obs - fg
    spilled = solid & (diff[..., 1] > 0.03) & (diff[..., 1] > 3 * np.abs(diff[..., 0]))
    assert spilled.sum() > 0.001 * n
    edge = a < 0.999
    # ... only near the silhouette: every spilled pixel has an edge within a few pixels.
    ys, xs = np.nonzero(spilled)
    r = max(3, round(12 * spec.height / 720))
    padded = np.pad(edge, r)
    near = np.zeros(len(ys), bool)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            near |= padded[ys + r + dy, xs + r + dx]
    assert near.mean() > 0.99


def test_odd_shapes_render():
    for spec in (SampleSpec(16, 16, seconds=0.1), SampleSpec(180, 320, seconds=0.1)):
        f = render_truth(spec, 0)
        assert f.alpha.shape == (spec.height, spec.width)
        assert f.alpha.max() > 0.5
        assert np.isfinite(f.observed).all()


def test_truth_frames_iterates_the_clip():
    spec = SampleSpec(64, 36, fps=10, seconds=0.5)
    frames = list(truth_frames(spec))
    assert [f.index for f in frames] == list(range(5))
    assert frames[-1].time == pytest.approx(0.4)


def test_render_truth_rejects_bad_index():
    with pytest.raises(ParameterError, match="index"):
        render_truth(SMALL, -1)
    with pytest.raises(ParameterError, match="index"):
        render_truth(SMALL, 1.5)


# --- the file ------------------------------------------------------------------------------------


def test_write_sample_mp4_round_trip(tmp_path):
    calls = []
    out = write_sample(tmp_path / "clip.mp4", SMALL, progress=lambda d, t: calls.append((d, t)))
    assert out == tmp_path / "clip.mp4" and out.is_file()
    _no_leftovers(tmp_path, keep=["clip.mp4"])
    assert calls == [(i, SMALL.frame_count) for i in range(1, SMALL.frame_count + 1)]

    with av.open(str(out)) as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1
        vs, aus = c.streams.video[0], c.streams.audio[0]
        assert vs.codec_context.name == "h264"
        assert vs.codec_context.pix_fmt == "yuv420p"
        assert (vs.codec_context.width, vs.codec_context.height) == (320, 180)
        assert aus.codec_context.name == "aac" and aus.codec_context.sample_rate == 48000
        header_v = float(vs.duration * vs.time_base)
        header_a = float(aus.duration * aus.time_base)
        errors, times = [], []
        for i, frame in enumerate(c.decode(vs)):
            assert frame.colorspace == 1 and frame.color_range == 1  # BT.709, limited
            times.append(frame.time)
            truth = render_truth(SMALL, i)
            errors.append(float(np.abs(_decoded_rgb(frame) - truth.observed).mean()))
    assert len(times) == SMALL.frame_count
    assert times == pytest.approx([i / SMALL.fps for i in range(SMALL.frame_count)], abs=1e-3)
    assert max(errors) < 4 / 255, errors

    with av.open(str(out)) as c:
        samples = sum(f.samples for f in c.decode(audio=0))
    one_frame = 1 / SMALL.fps
    video_seconds = SMALL.frame_count / SMALL.fps
    assert abs(samples / 48000 - video_seconds) < one_frame
    assert abs(header_a - header_v) < one_frame
    assert abs(header_v - video_seconds) < one_frame


@pytest.mark.parametrize("ext, audio", [(".mkv", True), (".mov", False)])
def test_write_sample_other_containers(tmp_path, ext, audio):
    spec = SampleSpec(160, 90, fps=25, seconds=0.4, seed=2)
    out = write_sample(tmp_path / f"clip{ext}", spec, crf=23, preset="ultrafast", audio=audio)
    _no_leftovers(tmp_path, keep=[f"clip{ext}"])
    with av.open(str(out)) as c:
        assert len(c.streams.audio) == (1 if audio else 0)
        frames = list(c.decode(video=0))
    assert len(frames) == spec.frame_count
    assert frames[0].colorspace == 1 and frames[0].color_range == 1
    err = np.abs(_decoded_rgb(frames[3]) - render_truth(spec, 3).observed).mean()
    assert err < 5 / 255


def test_write_sample_missing_folder(tmp_path):
    missing = tmp_path / "nope" / "clip.mp4"
    with pytest.raises(OutputError, match="does not exist") as info:
        write_sample(missing, SMALL)
    assert "\n" not in str(info.value)
    assert not missing.parent.exists()
    _no_leftovers(tmp_path)


def test_write_sample_rejects_unknown_container_and_settings(tmp_path):
    with pytest.raises(OutputError, match=r"\.mp4"):
        write_sample(tmp_path / "clip.avi", SMALL)
    with pytest.raises(ParameterError, match="crf"):
        write_sample(tmp_path / "clip.mp4", SMALL, crf=60)
    with pytest.raises(ParameterError, match="preset"):
        write_sample(tmp_path / "clip.mp4", SMALL, preset="warp")
    _no_leftovers(tmp_path)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_write_sample_interrupted_leaves_nothing(tmp_path, exc):
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"old")  # an existing file survives an aborted rewrite

    def stop(done, total):
        if done == 3:
            raise exc("stop")

    with pytest.raises(exc):
        write_sample(target, SMALL, progress=stop)
    _no_leftovers(tmp_path, keep=["clip.mp4"])
    assert target.read_bytes() == b"old"


def test_audio_track_beeps_on_whole_seconds():
    rate = sample.AUDIO_RATE
    track = sample.audio_samples(0, 3 * rate)
    assert track.dtype == np.float32 and np.abs(track).max() < 0.5
    beep = int(0.04 * rate)
    for s in range(3):
        start = s * rate
        loud = np.sqrt(np.mean(track[start : start + beep] ** 2))
        quiet = np.sqrt(np.mean(track[start + rate // 2 : start + rate // 2 + beep] ** 2))
        assert loud > 1.5 * quiet

    # The pitch changes each second.
    def dominant(x):
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
        return np.argmax(spectrum) * rate / len(x)

    mids = [dominant(track[s * rate + rate // 4 : s * rate + 3 * rate // 4]) for s in range(3)]
    assert len({round(m) for m in mids}) == 3
    # Chunks join seamlessly.
    assert np.array_equal(
        np.concatenate([sample.audio_samples(0, 1000), sample.audio_samples(1000, 5000)]),
        sample.audio_samples(0, 5000),
    )
