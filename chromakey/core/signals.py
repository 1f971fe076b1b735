"""The signals that end a process — SIGINT, SIGTERM, SIGHUP — end a run cleanly and promptly.

The handler raises :class:`Interrupted` (a KeyboardInterrupt, so every clean-up written for
Ctrl-C runs: sinks remove their partial files) carrying the signal, and the command exits
with 128 + its number, as a shell reports a process a signal ended. Later signals are left
to the first one's clean-up, which a second Ctrl-C must not cut short.

A Python handler runs only when the main thread is back in Python: a C call that retries
its read or write on EINTR (FFmpeg's own protocols do) never lets it. So a watcher thread
learns of the signal from the wakeup fd, which the C-level handler writes whatever the main
thread is doing, and if the process is still there GRACE seconds later it removes the
temporary files still registered here (:func:`track`) and ends the process itself.

Raising anywhere is not safe everywhere: an exception inside numba's compiler or llvmlite
leaves their LLVM objects half torn down (their finalisers then print tracebacks), and one
inside ``Thread.start`` a thread that no join can wait for. While the main thread is in such
code the signal is only recorded, and raised at the next :func:`checkpoint`: between frames,
and in the waits for a frame or a free writer slot.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

ENDING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Seconds a run gets to clean up after the first signal before the watcher ends it.
GRACE = 10.0
# … and with --keep-partial, whose point is to finish the file (an encoder's last frames).
FINISH_GRACE = 60.0
# Seconds between the looks a long wait (for a frame, for a writer slot) takes at a pending signal.
POLL = 0.1


class Interrupted(KeyboardInterrupt):
    """A signal ended the run; ``signum`` says which (SIGINT for a plain KeyboardInterrupt)."""

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def exit_status(exc: BaseException | None = None) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP — the one
    ``exc`` carries, else the first this process received, else SIGINT's."""
    signum = getattr(exc, "signum", None) or _State.received or signal.SIGINT
    return 128 + int(signum)


class _State:
    received: int | None = None  # the first ending signal
    grace = GRACE
    when: Callable[[], bool] | None = None  # raise only while this says so (a pool worker)
    watcher: threading.Thread | None = None
    tracked: set[str] = set()
    lock = threading.Lock()
    pending = False  # received, not yet raised: held in a compiler, or lost in a finaliser
    unraisable: Callable[..., None] | None = None  # the hook ours replaced


def track(path: str | os.PathLike[str]) -> None:
    """Register a temporary file or folder to remove should the watcher end the process."""
    with _State.lock:
        _State.tracked.add(os.fspath(path))


def untrack(path: str | os.PathLike[str]) -> None:
    """It was published or removed: nothing left to do for it."""
    with _State.lock:
        _State.tracked.discard(os.fspath(path))


def discard_tracked() -> None:
    """Remove every temporary still registered: a run that a signal ended publishes nothing,
    and this catches a partial made in the instant before its owner could abort it."""
    with _State.lock:
        paths = list(_State.tracked)
    for p in paths:
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                Path(p).unlink(missing_ok=True)
        untrack(p)


def received() -> int | None:
    """The first ending signal this process received, if any."""
    return _State.received


# Packages whose code an exception must not cut through (see the module's docstring).
_UNINTERRUPTIBLE = ("numba", "llvmlite")
# … and calls: a Thread.start cut short while it waits for the new thread leaves that thread
# launched but not marked started, and the clean-up's join then fails ("cannot join thread
# before it is started") instead of ending the run with the signal's status.
_UNINTERRUPTIBLE_CALLS = (("threading", "start"),)


def _in_uninterruptible(frame: FrameType | None) -> bool:
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if isinstance(name, str) and (
            name.split(".", 1)[0] in _UNINTERRUPTIBLE
            or (name, frame.f_code.co_name) in _UNINTERRUPTIBLE_CALLS
        ):
            return True
        frame = frame.f_back
    return False


def _handler(signum: int, frame: FrameType | None) -> None:
    if _State.received is not None:
        return  # the first signal's clean-up is under way (and the watcher holds a deadline)
    _State.received = signum
    if _State.when is not None and not _State.when():
        return
    if _in_uninterruptible(frame):
        _State.pending = True
        return
    raise Interrupted(signum)


def checkpoint() -> None:
    """Raise the Interrupted a signal left pending: one that landed in numba's compiler or
    llvmlite (held there), or in a ``__del__``, where Python only reports an exception.
    Called where a run can stop cleanly."""
    if _State.pending and _State.received is not None:
        _State.pending = False
        raise Interrupted(_State.received)


def _unraisable(hook_args: object) -> None:
    """Our own Interrupted, lost in a finaliser, is kept for :func:`checkpoint`, not printed."""
    exc_type = getattr(hook_args, "exc_type", None)
    if isinstance(exc_type, type) and issubclass(exc_type, Interrupted):
        _State.pending = True
        return
    if _State.unraisable is not None:
        _State.unraisable(hook_args)


def _watch(fd: int) -> None:
    """Wait for an ending signal's byte on the wakeup fd; give the run GRACE s, then end it."""
    first: int | None = None
    while first is None:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        first = next((b for b in data if b in ENDING), None)
    threading.Event().wait(_State.grace)
    discard_tracked()
    os._exit(128 + first)


def install(grace: float | None = None, when: Callable[[], bool] | None = None) -> None:
    """Handle the ending signals in this process (from the main thread; elsewhere nothing is
    done, as for embedded use). A signal ignored when the process started (``nohup``) stays
    ignored. ``grace`` changes the watcher's wait (calling again updates it); with ``when``
    the handler raises only while ``when()`` is true, and otherwise the signal is only
    recorded (:func:`received`): a pool worker between jobs has nothing to stop."""
    if grace is not None:
        _State.grace = grace
    _State.when = when
    if threading.current_thread() is not threading.main_thread():
        return
    if _State.unraisable is None:
        _State.unraisable = sys.unraisablehook
        sys.unraisablehook = _unraisable
    for s in ENDING:
        current = signal.getsignal(s)
        if current is signal.SIG_IGN:
            continue
        signal.signal(s, _handler)
    if _State.watcher is None:
        r, w = os.pipe2(os.O_CLOEXEC)
        os.set_blocking(w, False)
        signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        _State.watcher = threading.Thread(
            target=_watch, args=(r,), name="chromakey-signals", daemon=True
        )
        _State.watcher.start()
