"""The CLI's allocator setting: freed frame buffers stay in the process for the next frame."""

import subprocess
import sys
import textwrap

from chromakey.memory import keep_freed_memory

# Keys one 1080p frame a few times on the CPU path and prints the page faults of the last
# renders: the allocator's behaviour, in a fresh process each time.
SCRIPT = textwrap.dedent(
    """
    import resource
    import numpy as np
    from chromakey.cpu import CpuKeyer
    from chromakey.frames import Frame
    from chromakey.memory import keep_freed_memory
    from chromakey.params import KeyerParams

    if {keep}:
        assert keep_freed_memory()
    rng = np.random.default_rng(0)
    rgb = np.zeros((1080, 1920, 3), np.uint8)
    rgb[..., 1] = 128
    rgb[300:900, 600:1300] = rng.integers(0, 256, (600, 700, 3), dtype=np.uint8)
    frame = Frame.from_rgb(rgb)
    keyer = CpuKeyer(KeyerParams())
    screen = np.array([0.0, 0.5, 0.0], np.float32)
    for _ in range(2):
        keyer.render(frame, screen, None)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        keyer.render(frame, screen, None)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
    keyer.close()
    """
)


def page_faults(keep: bool) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(keep=keep)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.split()[-1])


def test_the_cpu_path_stops_faulting_its_buffers_in_every_frame():
    kept, default = page_faults(True), page_faults(False)
    assert kept < 0.5 * default, (kept, default)


def test_the_setting_is_accepted_here():
    assert keep_freed_memory() is True
