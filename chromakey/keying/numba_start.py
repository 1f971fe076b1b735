"""Loading the compiled kernels without importing SciPy's linear algebra.

numba's first compile or cache load in a process imports its NumPy implementations, and one
of them (``numba.np.arraymath``) probes for a BLAS by importing ``scipy.linalg.cython_blas``
when SciPy is installed: SciPy's linear algebra and, through it, ``numpy.f2py`` — 0.2–0.3 s
of a start-up that is about a second in all, for functions the kernels never call (their
sums are loops, no ``np.dot``). The probe is answered "no BLAS" while the kernels load;
numba then makes 1-D ``np.dot`` a loop in this process, and compiles everything else that
needs BLAS as before (it imports SciPy itself then). Where SciPy's linear algebra is already
imported, nothing changes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

_PROBED_BY = "numba.np.arraymath"  # the module whose import probes for BLAS
_PROBE = "scipy.linalg"


@contextmanager
def no_blas_probe() -> Iterator[None]:
    """numba's BLAS probe finds none for the duration (only if it has not run yet)."""
    if _PROBED_BY in sys.modules or _PROBE in sys.modules:
        yield
        return
    sys.modules[_PROBE] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        yield  # the first compile or cache load in the block probes, and finds none
    finally:
        if sys.modules.get(_PROBE, 0) is None:
            del sys.modules[_PROBE]
