"""What every contender shares: the composite colour, the FFmpeg peer's settings, the
result line children print."""

from __future__ import annotations

# key on its own clips. The speed peer samples each input's border instead (border_key_color).
FFMPEG_KEY = "0x05800A"
KEY_BORDER = 4  # px: the width of the outer ring the key colour is sampled from
KEY_FRAMES = 3  # how many of the first frames it is sampled over
FFMPEG_SIMILARITY = 0.10
FFMPEG_BLEND = 0.05
BACKGROUND = (1.0, 0.0, 1.0)  # magenta: the composite colour of every contender
PIPE = "nut"  # the whole-process contenders' output: NUT on standard output
MP4_FILE = "mp4 file"  # … or an MP4 file (x264 veryfast crf 18 on both sides)
_RESULT = "BENCH-RESULT "
