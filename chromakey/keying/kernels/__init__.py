"""The compiled CPU keyer: the numpy reference's maths (``keying.reference``) fused into few passes.

Why: the reference makes about 180 numpy calls and 250 plane-sized float32 writes a frame.
Here a frame is keyed in bands of rows, each band with the rows of context its neighbourhood
stages reach, every stage of a band working in buffers that stay in the CPU's caches, the
bands on numba's threads. Each stage reads like its twin in ``keying.reference`` and takes its
constants from there; tests/test_kernels.py holds the two within TOLERANCE over random
parameters, sizes, screens and backgrounds.

Work only where it is needed: a band is cut into tiles of TILE columns. A tile whose guided
matte is provably clearly screen (at most min(clip_black, edge_tolerance/2)) or clearly
subject through the reach of the refinement stages — from bounds on the guided filter given
the raw matte's and luma's ranges (:func:`guide._bound_tiles`), or from the guided matte
itself — needs neither guide, edge test, choke nor feather: its alpha is exactly 0 or the
refined 1. Screen tiles take the background, subject tiles only despill. The window sums are
direct (not running) sums in a fixed order of taps, so a pixel's value does not depend on
which tiles or bands around it were computed: the output is identical with and without the
tiling (``tiles=False``) and for any band height, which the tests check bit for bit.

The flow of one band (``frame._band``): ``chroma`` (the chroma guide's slopes on the band's
chroma rows) → ``pixels`` (decode with the guided chroma, screen map, membership, raw alpha,
luma, then membership's reach beside the screen) → ``guide`` (bounds per tile, the luma guide near mixed tiles) → ``refine`` (mixed tiles:
edge test, clip, then ``colour_model`` at the partial pixels, choke, feather) → ``composite`` (spill gate, unmix, edge colour, despill, over, and the encoders' YUV planes); ``windows``
holds the window sums and extrema they share, ``common`` the constants, ``keyer`` the
:class:`CpuKeyer` that packs the parameters and calls the kernel.
"""

from .cache_guard import drop_stale_cache

drop_stale_cache()  # before any kernel is loaded from numba's cache

from .common import BAND_ROWS, TILE, TOLERANCE  # noqa: E402
from .frame import kernel  # noqa: E402
from .keyer import CpuKeyer  # noqa: E402
from .packing import halo, pack_params  # noqa: E402

__all__ = ["BAND_ROWS", "TILE", "TOLERANCE", "CpuKeyer", "halo", "kernel", "pack_params"]
