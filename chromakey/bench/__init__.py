"""Speed harness: our render against PyAV decode-only and the FFmpeg CLI, in one interleaved run.

``chromakey bench [INPUT]`` (or ``python -m benchmarks.speed``) times, on a recorded stream or
on generated clips (720p and 1080p by default, of the kinds in ``clips``: ``camera``, the sample
avatar with a camera's noise, and ``avatar``, a talking avatar on a flat #008000 screen):

- ``decode``: PyAV decode only, ``thread_type="AUTO"`` — the ceiling of any pipeline on PyAV;
- ``ours raw``: decode → calibrate → key → composite over a colour, frames handed to a
  callback that drops them (the pipeline's own numbers: no encoder);
- ``ours mp4``: the same into the real VideoFileSink (libx264 veryfast crf 18 yuv420p);
- ``ffmpeg raw`` / ``ffmpeg mp4``: the FFmpeg CLI doing chromakey + overlay over a colour, to
  rgb24 raw video (the bytes our raw path delivers) or to the same x264 settings;
- ``ours nut`` / ``ffmpeg nut``: whole commands, process start-up included on both sides:
  ``chromakey render IN -o - --format nut > /dev/null`` against FFmpeg writing rgb24 NUT to
  its standard output — what a user chaining either with another tool waits for; ``ours mp4
  file`` / ``ffmpeg mp4 file``: whole commands writing the same x264 MP4.

FFmpeg keys with the colour a user would pick with an eyedropper: the median of the input's
outer border over its first frames, decoded with the stream's own matrix and range
(``border_key_color``), not a constant — a recorded stream's screen is rarely the sample's.

Every contender runs in its own process, one after another, round-robin over several rounds
(the order rotates each round); the tables give medians. Peak memory is each process's own
peak resident set (VmHWM from /proc: read by our children at their end, sampled every 20 ms for
FFmpeg); ``ru_maxrss`` is not used, as Linux carries it over from the parent through fork and
exec. For our contenders it includes the interpreter, numpy, PyAV and, for the GPU, Mesa. Timings on a shared machine are noisy: read the ratios, not the digits.

The flow: ``clips`` (what is measured), ``peer`` (FFmpeg's side), ``child`` (each contender's
process), ``run`` (round-robin and timing), ``tables`` and ``machine`` (the report), ``cli``.
"""

from ..core.sizes import SIZES, parse_size, size_name
from .child import TimedCpuKeyer, TimedGpuKeyer
from .cli import main
from .clips import encode_clip, realistic_bitrate, sample_clip
from .machine import ffmpeg_path, machine_info, machine_table
from .peer import border_key_color, ffmpeg_color, ffmpeg_command
from .run import run_bench
from .settings import BACKGROUND, FFMPEG_KEY

__all__ = [
    "BACKGROUND",
    "FFMPEG_KEY",
    "SIZES",
    "TimedCpuKeyer",
    "TimedGpuKeyer",
    "border_key_color",
    "encode_clip",
    "ffmpeg_color",
    "ffmpeg_command",
    "ffmpeg_path",
    "machine_info",
    "machine_table",
    "main",
    "parse_size",
    "realistic_bitrate",
    "run_bench",
    "sample_clip",
    "size_name",
]
