"""Background layers: colours, images (fits, alpha, limits), videos (play styles), JSON, URLs."""

from __future__ import annotations

import http.server
import json
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from chromakey.backgrounds import (
    MAX_BACKGROUND_PIXELS,
    ColorBackground,
    ImageBackground,
    TransparentBackground,
    VideoBackground,
    parse_background,
)
from chromakey.core.errors import InputError, InputNotFoundError, ParameterError
from chromakey.core.frames import Frame
from chromakey.core.params import KeyerParams
from chromakey.core.screenmap import ScreenMap
from chromakey.keying import reference as cpu
from chromakey.keying.kernels import CpuKeyer

from bgmedia import BLUE, GREEN, RED, WHITE, make_media, near, pixels_at
from media import (
    SCREEN,
    SKIN,
    colour_index,
    figure_frame,
    write_image,
)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> dict[str, Path]:
    return make_media(tmp_path_factory.mktemp("bg"))


# --- colours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "rgb"),
    [("#FAFAFA", (250, 250, 250)), ("#0f0", (0, 255, 0)), ("dodgerblue", (30, 144, 255))],
)
def test_colour_specs(spec, rgb):
    bg = parse_background(spec)
    assert isinstance(bg, ColorBackground)
    px = pixels_at(bg, 0.0, 8, 8)
    assert px.shape == (3,) and px.dtype == np.float32
    np.testing.assert_allclose(px * 255, rgb, atol=0.01)
    assert bg.duration is None
    bg.bind(3.0)  # a no-op for stills


def test_transparent_and_passthrough():
    bg = parse_background(" Transparent ")
    assert isinstance(bg, TransparentBackground) and bg.transparent
    assert pixels_at(bg, 1.0, 4, 4) is None
    assert parse_background(bg) is bg


@pytest.mark.parametrize("spec", ["#12345", "blu", "", "   "])
def test_bad_colour_is_parameter_error(spec):
    with pytest.raises(ParameterError, match="#RRGGBB"):
        parse_background(spec)


# --- images -----------------------------------------------------------------------------------


def test_image_cover_crops_the_centre(media):
    bg = ImageBackground(media["split"], fit="cover")
    img = pixels_at(bg, 0.0, 80, 20)  # 4:1 from 4:3: scale 2, keep the middle 10 source rows
    assert img.shape == (20, 80, 3) and img.dtype == np.uint8
    assert near(img[0, 5], RED) and near(img[19, 5], RED)  # the white top band is cropped away
    assert near(img[10, 75], BLUE)
    tall = pixels_at(bg, 0.0, 20, 80)  # 1:4: keep the middle 8 columns, the red/blue split centred
    assert near(tall[40, 1], RED) and near(tall[40, 18], BLUE)
    assert near(tall[2, 1], WHITE)


def test_image_contain_letterboxes(media):
    bg = ImageBackground(media["split"], fit="contain", letterbox="#00ff00")
    img = pixels_at(bg, 0.0, 80, 20)  # scaled to 27×20, centred: 26 px bars left and right
    assert img.shape == (20, 80, 3)
    for x in (0, 20, 25, 54, 79):
        assert near(img[10, x], GREEN, 0), x
    assert near(img[12, 30], RED) and near(img[12, 50], BLUE)
    assert near(img[1, 39], WHITE, 30)
    tall = pixels_at(
        ImageBackground(media["split"], fit="contain"), 0.0, 40, 60
    )  # bars above/below
    assert near(tall[0, 20], (0, 0, 0), 0) and near(tall[59, 20], (0, 0, 0), 0)
    assert near(tall[30, 5], RED) and near(tall[30, 35], BLUE)


def test_image_stretch_keeps_everything(media):
    img = pixels_at(ImageBackground(media["split"], fit="stretch"), 0.0, 80, 20)
    assert near(img[1, 5], WHITE) and near(img[1, 75], WHITE)  # the top band, squeezed
    assert near(img[15, 5], RED) and near(img[15, 75], BLUE)


def test_image_fit_is_cached_and_read_only(media):
    bg = ImageBackground(media["split"])
    a = pixels_at(bg, 0.0, 64, 36)
    assert pixels_at(bg, 5.0, 64, 36) is a
    assert not a.flags.writeable
    b = pixels_at(bg, 0.0, 32, 18)
    assert b.shape == (18, 32, 3) and pixels_at(bg, 0.0, 64, 36) is a
    assert bg.size == (40, 30) and bg.duration is None


def test_rgba_png_keeps_its_alpha(media):
    bg = ImageBackground(media["rgba"], fit="stretch")
    img = pixels_at(bg, 0.0, 80, 60)
    assert img.shape == (60, 80, 4)
    assert img[30, 10, 3] == 0 and img[30, 70, 3] == 255 and near(img[30, 70], RED, 0)
    assert abs(int(img[30, 63, 3]) - 128) <= 3 and near(img[30, 63], BLUE, 3)  # half-alpha blue
    # Scaled premultiplied: the edge of opaque red against transparent black stays red.
    edge = img[30, 35:45]
    partial = (edge[:, 3] > 10) & (edge[:, 3] < 245)
    assert partial.any() and (edge[partial, 0] > 200).all()
    # An RGBA file that is fully opaque composites as RGB.
    opaque = ImageBackground(media["opaque_rgba"])
    assert pixels_at(opaque, 0.0, 40, 30).shape == (30, 40, 3) and not opaque.has_alpha
    assert bg.has_alpha and not bg.transparent


def test_jpeg_image(media):
    img = pixels_at(ImageBackground(media["jpeg"], fit="stretch"), 0.0, 40, 30)
    assert near(img[15, 5], RED, 12) and near(img[15, 35], BLUE, 12) and near(img[2, 20], WHITE, 12)


# The wall-clock bound runs in the timed step only; the refusal itself in every suite.
@pytest.mark.parametrize("timed", [False, pytest.param(True, marks=pytest.mark.timed)])
def test_oversized_image_refused_before_decoding(tmp_path, media, timed):
    # A real 16385×4097 PNG (67.1 Mpx, just over 8192²), one gray level: cheap to encode.
    big = write_image(tmp_path / "big.png", np.full((4097, 16385), 90, np.uint8))
    assert MAX_BACKGROUND_PIXELS < 16385 * 4097
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"16385×4097 is larger than .*8192×8192"):
        parse_background(str(big))
    assert not timed or time.perf_counter() - t0 < 0.5  # refused from the header, not decoded
    # Only the header counts: a PNG claiming 20000×20000 with almost no data.
    fake = tmp_path / "fake.png"
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    fake.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + _chunk(b"IEND", b"")
    )
    with pytest.raises(InputError, match="20000×20000"):
        ImageBackground(fake)
    # A smaller limit, for images and videos alike.
    with pytest.raises(InputError, match="40×30 is larger than the 1000-pixel limit"):
        ImageBackground(media["split"], max_pixels=1000)
    with pytest.raises(InputError, match="64×48"):
        VideoBackground(media["clip"], max_pixels=1000)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def test_bad_files(tmp_path, media):
    d = media["split"].parent
    with pytest.raises(InputNotFoundError):
        parse_background(str(d / "nope.png"))
    with pytest.raises(InputError, match="not an image or video"):
        parse_background(str(d / "garbage.png"))
    with pytest.raises(InputError, match="empty"):
        parse_background(str(d / "empty.png"))
    with pytest.raises(InputError, match="folder"):
        ImageBackground(d)


def test_probe_decides_image_or_video(media):
    for key in ("split", "jpeg", "rgba"):
        assert isinstance(parse_background(str(media[key])), ImageBackground)
    for key in ("clip", "webm", "ts"):
        bg = parse_background(media[key])  # a Path works too
        assert isinstance(bg, VideoBackground) and bg.play_style == "loop" and bg.fit == "cover"
        bg.close()
    bg = parse_background(str(media["split"]), fit="contain", play_style="freeze")
    assert isinstance(bg, ImageBackground) and bg.fit == "contain"
    bg = parse_background(str(media["clip"]), fit="stretch", play_style="full_video")
    assert (bg.fit, bg.play_style) == ("stretch", "full_video")
    bg.close()


@pytest.mark.parametrize(
    ("kwargs", "allowed"),
    [({"fit": "zoom"}, "cover, contain, stretch"), ({"play_style": "bounce"}, "loop, freeze")],
)
def test_bad_fit_or_play_style(media, kwargs, allowed):
    with pytest.raises(ParameterError, match=allowed):
        parse_background(str(media["clip"]), **kwargs)
    with pytest.raises(ParameterError, match=allowed):
        parse_background("#ffffff", **kwargs)


# --- HeyGen JSON ------------------------------------------------------------------------------


def test_json_each_type_inline_and_from_a_file(media, tmp_path):
    clip, image = str(media["clip"]), str(media["split"])
    specs = {
        "color": ({"type": "color", "value": "#FAFAFA"}, ColorBackground),
        "transparent": ({"type": "transparent"}, TransparentBackground),
        "image": ({"type": "image", "url": image, "fit": "contain"}, ImageBackground),
        "image_path": ({"type": "image", "path": image}, ImageBackground),
        "video": ({"type": "video", "url": clip, "play_style": "freeze"}, VideoBackground),
    }
    for name, (spec, cls) in specs.items():
        for given in (spec, json.dumps(spec)):
            bg = parse_background(given)
            assert type(bg) is cls, name
            bg.close()
        f = tmp_path / f"{name}.json"
        f.write_text(json.dumps(spec))
        bg = parse_background(str(f))
        assert type(bg) is cls, name
        bg.close()
    assert parse_background(json.dumps(specs["image"][0])).fit == "contain"
    video = parse_background(json.dumps(specs["video"][0]), play_style="loop", fit="stretch")
    assert video.play_style == "freeze" and video.fit == "stretch"  # JSON wins, options fill in
    video.close()


def test_json_file_paths_are_relative_to_the_file(media, tmp_path):
    sub = tmp_path / "conf"
    sub.mkdir()
    (sub / "bg.png").write_bytes(media["split"].read_bytes())
    (sub / "bg.json").write_text('{"type": "image", "url": "bg.png"}')
    assert isinstance(parse_background(str(sub / "bg.json")), ImageBackground)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ('{"type": "color", "value": "#FAFAFA"', "malformed"),
        ("{'type': 'color'}", "malformed"),
        ('{"type": "gradient"}', "'gradient' is not supported; use color, image, video"),
        ('{"value": "#FAFAFA"}', 'needs a "type"'),
        ('{"type": "color"}', 'needs a "value"'),
        ('{"type": "color", "value": 7}', "must be a string"),
        ('{"type": "color", "value": "#GG0000"}', "invalid colour"),
        ('{"type": "image"}', 'needs a "url"'),
        ('{"type": "video", "video_asset_id": "abc"}', "asset ids"),
        ('{"type": "image", "url": 5}', "must be a non-empty string"),
        ('{"type": 3}', "not supported"),
        ('{"type": "image", "url": "x.png", "fit": "zoom"}', "cover, contain, stretch"),
        ('{"type": "video", "url": "x.mp4", "play_style": "bounce"}', "loop, freeze"),
    ],
)
def test_json_errors_are_parameter_errors(spec, message):
    with pytest.raises(ParameterError, match=message):
        parse_background(spec)


def test_json_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ParameterError, match="must be an object"):
        parse_background(str(bad))
    bad.write_text("{nope")
    with pytest.raises(ParameterError, match="bad.json is malformed"):
        parse_background(str(bad))
    with pytest.raises(InputNotFoundError):
        parse_background(str(tmp_path / "missing.json"))
    with pytest.raises(ParameterError):
        parse_background(42)  # type: ignore[arg-type]


# --- URLs -------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(10_000))
            self.end_headers()
            self.wfile.write(b"\0" * 10_000)
        elif self.path == "/big-chunked":  # no Content-Length: counted while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"\0" * 1000)
        elif self.path == "/to-file":
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()
        elif self.path == "/stall":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"\0")
            self.wfile.flush()
            time.sleep(1.5)
        elif self.path in self.files:
            body = self.files[self.path]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "Not Found")


@pytest.fixture(scope="module")
def server(media):
    _Handler.files = {
        "/bg.png": media["split"].read_bytes(),
        "/bg.mp4": media["clip"].read_bytes(),
        "/noext": media["split"].read_bytes(),
    }
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_image_url_is_fetched_and_fitted(server):
    for path in ("/bg.png", "/noext"):
        bg = parse_background(server + path, fit="cover")
        assert isinstance(bg, ImageBackground)
        img = pixels_at(bg, 0.0, 80, 20)
        assert near(img[10, 5], RED) and near(img[10, 75], BLUE)
    bg = parse_background(json.dumps({"type": "image", "url": server + "/bg.png"}))
    assert isinstance(bg, ImageBackground)


def test_video_url_downloads_to_a_temp_file_removed_on_close(server):
    bg = parse_background(server + "/bg.mp4", play_style="freeze")
    assert isinstance(bg, VideoBackground)
    temp = bg.downloaded
    assert temp is not None and temp.exists()
    assert colour_index(pixels_at(bg, 0.55, 16, 16)) == 5
    bg.close()
    assert not temp.exists()


def test_url_errors(server):
    with pytest.raises(InputError, match="HTTP 404"):
        parse_background(server + "/missing.png")
    with pytest.raises(InputError, match="10000 bytes is more than the 5000-byte limit"):
        ImageBackground(server + "/big-declared", max_bytes=5000)
    with pytest.raises(InputError, match="passed the 5000-byte limit"):
        ImageBackground(server + "/big-chunked", max_bytes=5000)
    with pytest.raises(InputError, match="redirects to a file: URL"):
        parse_background(server + "/to-file")
    with pytest.raises(InputError, match="no answer within 0.3 s"):
        ImageBackground(server + "/stall", timeout=0.3)
    with pytest.raises(InputError, match="cannot download"):
        parse_background("http://127.0.0.1:1/bg.png")  # nothing listens on port 1


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "concat:a.png|b.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "ftp://example.com/bg.png",
        "subfile:,,start,0,end,0,,:bg.png",
        "rtmp://example.com/live",
    ],
)
def test_other_schemes_are_refused(url):
    with pytest.raises(ParameterError, match=r"http:// or https://"):
        parse_background(url)
    with pytest.raises(ParameterError, match=r"http:// or https://"):
        parse_background({"type": "image", "url": url})


# --- composited on the CPU path ---------------------------------------------------------------


def _keyed(width: int = 160, height: int = 96) -> tuple[np.ndarray, np.ndarray]:
    rgb = figure_frame(0, width, height).astype(np.float32) / 255
    return cpu.key_pixels(rgb, np.asarray(SCREEN, np.float32) / 255, KeyerParams())


def test_composite_over_a_fitted_image(media):
    fg, alpha = _keyed()
    bg = ImageBackground(media["split"]).frame_at(0.0, 160, 96)
    out = cpu.to_uint8(cpu.composite(fg, alpha, bg))
    assert near(out[80, 5], RED) and near(out[80, 155], BLUE)  # the screen is replaced
    assert near(out[48, 70], SKIN, 3)  # the subject stays
    keyer = CpuKeyer(KeyerParams())
    frame = Frame.from_rgb(figure_frame(0, 160, 96))
    rendered = keyer.render(frame, ScreenMap.constant(np.asarray(SCREEN, np.float32) / 255), bg)
    assert near(rendered[80, 5], RED) and near(rendered[48, 70], SKIN, 3)


def test_composite_over_a_video_frame(media):
    fg, alpha = _keyed()
    bg = VideoBackground(media["clip"], play_style="freeze")
    out = cpu.to_uint8(cpu.composite(fg, alpha, bg.frame_at(0.31, 160, 96)))
    assert colour_index(out[70:, :20]) == 3  # frame 3 behind the keyed-out screen
    assert near(out[48, 70], SKIN, 3)
    bg.close()


def test_composite_over_an_image_with_alpha(media):
    fg, alpha = _keyed()
    bg = ImageBackground(media["rgba"], fit="stretch").frame_at(0.0, 160, 96)
    out = cpu.composite(fg, alpha, bg)
    assert out.shape == (96, 160, 4)
    assert out[80, 5, 3] < 0.01  # screen over transparent background: transparent
    assert out[80, 155, 3] > 0.99 and near(cpu.to_uint8(out)[80, 155], RED)
