"""The render thread's milliseconds a 1080p frame for a raw NUT sink writing a file.

    python benchmarks/nut_sink.py TREE OUT.nut [--threaded]

TREE is a chromakey source tree (this one, or an older commit's, for a before/after pair).
Without ``--threaded`` the render thread calls ``VideoFileSink.write`` itself, as before
io.sinks.threaded; with it, it hands the frame to a ``ThreadedSink``, as ``render`` now
does. Between frames the render thread sleeps 40 ms, the keyer's share of a frame, while
the writer works. OUT on a tmpfs (/dev/shm) leaves the disk out of it; on a disk slower
than the keyer the render thread waits for a free slot (the writer's back-pressure).
"""

import statistics
import sys
import time
from fractions import Fraction

import numpy as np

sys.path.insert(0, sys.argv[1])
from chromakey.io.sinks.video import VideoFileSink  # noqa: E402

threaded = "--threaded" in sys.argv
images = [np.random.default_rng(i).integers(0, 256, (1080, 1920, 3), np.uint8) for i in range(4)]
sink = VideoFileSink(sys.argv[2], 1920, 1080, rate=Fraction(30), time_base=Fraction(1, 30))
if threaded:
    from chromakey.io.sinks.threaded import ThreadedSink

    sink = ThreadedSink(sink)
took = []
for i in range(60):
    t = time.perf_counter()
    sink.write(images[i % 4], i / 30)
    took.append(time.perf_counter() - t)
    time.sleep(0.040)
sink.close()
print(
    f"{'threaded' if threaded else 'direct'}: median {1000 * statistics.median(took):.2f} ms, "
    f"mean {1000 * statistics.mean(took):.2f} ms, max {1000 * max(took):.1f} ms a frame"
)
