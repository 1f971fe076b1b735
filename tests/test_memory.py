"""The CLI's allocator setting: freed frame buffers stay in the process for the next frame."""

import subprocess
import sys
import textwrap

# Keys one 1080p frame a few times and prints the page faults of the last renders: the
# allocator's behaviour, in a fresh process each time. The numpy reference makes plane-sized
# temporaries every frame; the compiled keyer keeps its scratch between frames.
SCRIPT = textwrap.dedent(
    """
    import resource
    import numpy as np
    from chromakey.{module} import {keyer} as Keyer
    from chromakey.core.frames import Frame
    from chromakey.core.layers import CLEAR
    from chromakey.core.memory import keep_freed_memory
    from chromakey.core.params import KeyerParams
    from chromakey.core.screenmap import ScreenMap

    if {keep}:
        assert keep_freed_memory()
    rng = np.random.default_rng(0)
    rgb = np.zeros((1080, 1920, 3), np.uint8)
    rgb[..., 1] = 128
    rgb[300:900, 600:1300] = rng.integers(0, 256, (600, 700, 3), dtype=np.uint8)
    frame = Frame.from_rgb(rgb)
    keyer = Keyer(KeyerParams())
    screen = ScreenMap.constant((0.0, 0.5, 0.0))
    for _ in range(2):
        keyer.render(frame, screen, CLEAR)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(3):
        keyer.render(frame, screen, CLEAR)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - start)
    keyer.close()
    """
)


def page_faults(keep: bool, module: str = "keying.reference", keyer: str = "ReferenceKeyer") -> int:
    code = SCRIPT.format(keep=keep, module=module, keyer=keyer)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[-1])


def test_the_numpy_path_stops_faulting_its_buffers_in_every_frame():
    kept, default = page_faults(True), page_faults(False)
    assert kept < 0.5 * default, (kept, default)


def test_the_compiled_keyer_does_not_fault_its_buffers_in_every_frame():
    # Three 1080p RGBA frames are 6000 pages; a keyer that faulted its output or scratch
    # in anew every frame would show thousands.
    assert page_faults(False, "keying.kernels", "CpuKeyer") < 300


def test_the_setting_is_accepted_here():
    # In a child: the setting changes how the whole process allocates, and the tests that
    # run after this one must not inherit it.
    code = "from chromakey.core.memory import keep_freed_memory; print(keep_freed_memory())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True"]
