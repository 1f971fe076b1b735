"""Real-time compositing for a render loop: the embedding API.

:class:`LiveCompositor` keys frames into a texture of the host's OpenGL context and decides,
by the frames' timestamps against a clock, which frame to show now. All its GL calls happen
in the thread that calls :meth:`~LiveCompositor.update` or :meth:`~LiveCompositor.render`
(the thread that owns the context); decoding runs on the source's own thread, and the render
loop never waits for it.

    import moderngl
    from chromakey.live import LiveCompositor
    from chromakey.io.sources import open_source

    ctx = moderngl.create_context()                 # the host's context (or "standalone")
    live = LiveCompositor(ctx, background="transparent")
    live.attach(open_source("https://example.com/avatar.m3u8"))   # or a file path
    while host_is_running():                        # the host's render loop, ~60 Hz
        tex = live.update()                         # never blocks; None until a first frame
        if tex is not None:
            draw_quad(tex)                          # RGBA8, row 0 = top: flip v
    live.close()

A host that decodes by itself calls ``render(frame)`` (key this frame now) or, from any
thread, ``feed(frame)`` and then ``update()`` in its render loop.

Backends (``backend``): ``gpu`` keys with the GLSL passes (:class:`chromakey.gpu.GpuKeyer`)
straight into the texture. ``cpu`` keys with :class:`chromakey.kernels.CpuKeyer` and uploads the
composite as one RGBA8 texture. ``auto`` (the default) takes ``cpu`` where the context is a
software rasteriser (Mesa's llvmpipe, as ``chromakey render --backend auto`` decides:
:func:`chromakey.keying.select.auto_takes_cpu`), whose passes would run on the same cores and
slower, and ``gpu`` otherwise. On the CPU path a frame is keyed on a worker thread
(``threaded``, the default; the keyer releases the GIL), so that ``update`` returns at once
and the host keeps presenting while the next frame is keyed; a later ``update`` uploads the
result (the only GL call of the CPU path). The pacer then starts keying a frame up to one
frame before it is due — by the keying time measured so far, never more than the frame's
own interval — and holds a result that is ready early until its time. One frame at a time is
in the keyer; frames that fall due meanwhile are dropped and counted when the next is
chosen, never queued. ``threaded=False`` keys on the calling thread, inside ``update``, as
the GPU path does: every call then shows what is due at once (deterministic, for tests and
hosts that drive ``update(now=…)`` themselves).

Pacing (``update``): the first frame is shown at once and fixes the mapping of stream time
to the clock; after that a frame is due at ``anchor + frame.time``, so a variable frame
rate plays as timed. Of several frames due at one update only the newest is keyed, the
others are dropped and counted (``stats.dropped_late``); a frame not yet due stays where
it is (one frame is held, the rest wait in the source's bounded queue). When nothing new
arrived (a stall), ``update`` returns the last texture at once. After a stall of a live
source — found empty for more than ``resync_after`` seconds — a frame that is more than
that late re-anchors the clock to itself ("play on from here"); so does a jump in the
timestamps, a frame more than ``max_ahead`` seconds early or ``resync_after`` seconds
before the previous one (``stats.resyncs``). A local file keeps strict real time, and a
decoder that merely lags behind the clock never re-anchors it: its frames are shown late,
and the older of those due together are dropped.

Latency (``stats``): a frame's ``decoded_at`` (a field of every Frame) is
``time.perf_counter()`` when it left the decoder: the sources stamp it as they queue the
frame (a file paced to real time when its pacer releases it), so the wait in the queue
counts; frames given to ``feed`` are stamped when fed, frames without a stamp when they
are dequeued. ``latency_ms`` runs from that stamp to the composited texture being
complete on the GPU (``ctx.finish()``; ``sync=False`` skips it and the measurement then
stops when the commands are queued); ``wait_ms`` is its part spent queued, ``render_ms``
the keying (calibration, upload, passes; on the worker thread: calibration and keying there,
plus the upload here).
"""

from ..keying.select import BACKENDS
from .compositor import LiveCompositor
from .feed import FrameFeed
from .stats import LiveStats

__all__ = ["BACKENDS", "FrameFeed", "LiveCompositor", "LiveStats"]
