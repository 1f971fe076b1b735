"""Loading the compiled kernels without importing SciPy's linear algebra or cffi's C parser.

numba's first compile or cache load in a process imports its NumPy implementations and its
typing of foreign functions, and two of them import optional packages only to offer what the
kernels never use:

- ``numba.np.arraymath`` probes for a BLAS by importing ``scipy.linalg.cython_blas`` when
  SciPy is installed: SciPy's linear algebra and, through it, ``numpy.f2py`` (0.1–0.3 s). The
  kernels' sums are loops, no ``np.dot``.
- ``numba.core.typing.cffi_utils`` makes a ``cffi.FFI()`` when cffi is installed (aiortc
  brings it): cffi's C parser and pycparser's lexer tables (about 0.05 s). The kernels call no
  cffi function.

Both imports are answered "not installed" while the kernels load: numba then makes 1-D
``np.dot`` a loop and types no cffi function in this process, and compiles anything else as
before. Where a module is already imported, nothing changes for it; afterwards both import
as usual (aiortc's cffi included).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# (the numba module whose import probes, the optional module it imports)
_PROBES = (("numba.np.arraymath", "scipy.linalg"), ("numba.core.typing.cffi_utils", "cffi"))


@contextmanager
def quiet_probes() -> Iterator[None]:
    """numba's probes find neither package for the duration (each only if it has not run)."""
    blocked = [
        name
        for probed_by, name in _PROBES
        if probed_by not in sys.modules and name not in sys.modules
    ]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # an import of it raises ImportError
    try:
        yield  # the first compile or cache load in the block probes, and finds none
    finally:
        for name in blocked:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
