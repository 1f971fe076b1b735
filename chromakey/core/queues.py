"""The one bounded hand-over between a decoding thread and its consumer.

Every producer thread (foreground decode, network decode, background video, the sample's
renderer, a host's feed) puts into a small bounded queue, so that memory stays bounded
and a stopped consumer never leaves a thread blocked for ever.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


def bounded_put(
    q: queue.Queue[Any],
    item: tuple[Any, ...],
    stop: threading.Event | None = None,
    drop: bool = False,
    *,
    wait: float = 0.1,
    alive: Callable[[], bool] | None = None,
) -> tuple[bool, int]:
    """Put into a bounded queue, waiting while it is full — or, with ``drop``, making room by
    dropping the oldest video item (``item[0] == "video"``) after ``wait`` seconds (at once
    for 0). Returns (queued, items dropped); not queued once ``stop`` is set or ``alive()``
    says the consumer is gone."""
    dropped = 0
    while (stop is None or not stop.is_set()) and (alive is None or alive()):
        try:
            if wait > 0:
                q.put(item, timeout=wait)
            else:
                q.put_nowait(item)
            return True, dropped
        except queue.Full:
            if drop and item[0] == "video":
                try:
                    old = q.get_nowait()
                    if old[0] == "video":
                        dropped += 1
                    else:
                        q.put_nowait(old)
                except (queue.Empty, queue.Full):
                    pass
    return False, dropped
