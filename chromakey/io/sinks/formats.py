"""How each kind of video file is written: container, codec, pixel layout, the audio it can
carry. One table, so that the CLI's checks, the sink and the docs agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...core.errors import ParameterError
from ...core.quote import quoted, shown
from ..stdio import describe, is_stdio


@dataclass(frozen=True)
class VideoFormat:
    """How one kind of video file is written: container, codec, pixels, audio it can carry."""

    container: str
    codec: str
    pix_fmt: str
    options: dict[str, str]
    audio_copy: frozenset[str]  # audio codecs the container takes as they are
    audio_codec: str | None  # what other audio is re-encoded to; None: the file has no audio
    input_format: str = ""  # what write() takes as it is (Sink.pixel_format); "": pix_fmt
    even: bool = True  # the codec needs an even width and height (4:2:0 chroma)
    fixed_rate: bool = False  # the file stores a frame rate, no timestamps: count in 1/rate
    container_options: dict[str, str] = field(default_factory=dict)

    @property
    def pixel_format(self) -> str:
        return self.input_format or self.pix_fmt


_MP4_AUDIO = frozenset({"aac", "mp3", "ac3", "eac3", "opus", "alac", "flac"})
_H264 = {"preset": "veryfast", "crf": "18"}
_NUT_AUDIO = _MP4_AUDIO | {"vorbis", "mp2", "pcm_s16le", "pcm_s24le", "pcm_f32le"}
# Y4M names the chroma siting in its header; ours (and H.264's default) is left: C420mpeg2.
_Y4M = {"chroma_sample_location": "left"}
# (extension, with alpha) → format. VP9 alpha must be decoded with libvpx-vp9 (FFmpeg's own vp9
# decoder drops it); ProRes 4444 is the dependable alternative for editors.
VIDEO_FORMATS: dict[tuple[str, bool], VideoFormat] = {
    (".mp4", False): VideoFormat("mp4", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".m4v", False): VideoFormat("mp4", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".mov", False): VideoFormat("mov", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".mkv", False): VideoFormat("matroska", "libx264", "yuv420p", _H264, _MP4_AUDIO, "aac"),
    (".webm", False): VideoFormat(
        "webm",
        "libvpx-vp9",
        "yuv420p",
        {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
        frozenset({"opus", "vorbis"}),
        "libopus",
    ),
    (".webm", True): VideoFormat(
        "webm",
        "libvpx-vp9",
        "yuva420p",
        {
            "crf": "30",
            "b": "0",
            "deadline": "realtime",
            "cpu-used": "8",
            "row-mt": "1",
            "auto-alt-ref": "0",
        },
        frozenset({"opus", "vorbis"}),
        "libopus",
    ),
    (".mov", True): VideoFormat(
        "mov",
        "prores_ks",
        "yuva444p10le",
        {"profile": "4", "vendor": "apl0"},
        _MP4_AUDIO | {"pcm_s16le", "pcm_s24le"},
        "aac",
        input_format="rgba",  # full-resolution chroma: RGBA → 4:4:4 loses nothing
    ),
    # Raw outputs for other tools (and speed runs without an encoder). NUT carries rawvideo
    # RGB(A) and the source's audio as it is; Y4M carries only video, BT.709 limited range.
    (".nut", False): VideoFormat(
        "nut", "rawvideo", "rgb24", {}, _NUT_AUDIO, "pcm_s16le", even=False
    ),
    (".nut", True): VideoFormat("nut", "rawvideo", "rgba", {}, _NUT_AUDIO, "pcm_s16le", even=False),
    (".y4m", False): VideoFormat(
        "yuv4mpegpipe",
        "wrapped_avframe",
        "yuv420p",
        _Y4M,
        frozenset(),
        None,
        even=False,
        fixed_rate=True,
    ),
    # yuva444p is Y4M's only alpha layout ("C444alpha"), an FFmpeg extension: strict -1.
    (".y4m", True): VideoFormat(
        "yuv4mpegpipe",
        "wrapped_avframe",
        "yuva444p",
        _Y4M,
        frozenset(),
        None,
        input_format="rgba",
        even=False,
        fixed_rate=True,
        container_options={"strict": "unofficial"},
    ),
}
# --format NAME → the extension it writes (for standard output and names without one).
RAW_FORMATS = {"nut": ".nut", "y4m": ".y4m"}


def video_format(path: Path, alpha: bool, output_format: str | None = None) -> VideoFormat:
    """The format ``path`` is written in: ``output_format`` (``nut``/``y4m``) when given, else
    the one its extension names. Standard output (``-``) and names without an extension
    need ``output_format``."""
    name = describe(path, output=True)
    if output_format is not None:
        if output_format not in RAW_FORMATS:
            raise ParameterError(
                f"--format {quoted(output_format)} is unknown; use {' or '.join(RAW_FORMATS)}"
            )
        ext = RAW_FORMATS[output_format]
        given = "" if is_stdio(path) else path.suffix.lower()
        if given in {e for e, _ in VIDEO_FORMATS} and given != ext:
            raise ParameterError(
                f"{shown(name)}: --format {output_format} does not match its {given} extension; "
                "drop one of them"
            )
    elif is_stdio(path) or not path.suffix:
        raise ParameterError(
            f"{shown(name)}: the output has no extension to tell its format; "
            f"add --format {' or --format '.join(RAW_FORMATS)}"
        )
    else:
        ext = path.suffix.lower()
    fmt = VIDEO_FORMATS.get((ext, alpha))
    if fmt is not None:
        return fmt
    if alpha and (ext, False) in VIDEO_FORMATS:
        raise ParameterError(
            f"{shown(name)}: {ext} video has no alpha channel here; for transparent output use .webm "
            "(VP9 alpha), .mov (ProRes 4444), .nut, .y4m or a %05d.png pattern, or give a "
            "--background colour"
        )
    raise ParameterError(
        f"{shown(name)}: unknown output type {quoted(ext)}; use .mp4, .mov, .mkv, .webm, .nut, .y4m "
        "or a %05d.png pattern"
    )
