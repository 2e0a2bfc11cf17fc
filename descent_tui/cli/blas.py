"""Same seed, same numbers, whatever the machine's BLAS thread count.

OpenBLAS (and MKL) split a matrix product over threads, and a different split
adds the partial sums in a different order: a 512-wide network with gradient
clipping then gives different losses with ``OPENBLAS_NUM_THREADS=1`` and ``=2``.
The ``descent`` entry points therefore fix the BLAS thread count *before NumPy
is imported* (the libraries read it once, when they load):
``DESCENT_BLAS_THREADS`` if set, else 1 -- overriding ``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``VECLIB_MAXIMUM_THREADS``, so a
rerun reproduces a run whatever those say.  Descent's matrices are small
(at most 1024 wide), where one thread costs little.

Using descent as a library (NumPy imported by the caller first) bypasses this:
reruns then reproduce only with the same BLAS thread count.
"""

from __future__ import annotations

import os
import sys

__all__ = ["BLAS_VARIABLES", "pin_blas_threads"]

BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                  "VECLIB_MAXIMUM_THREADS")


def pin_blas_threads() -> bool:
    """Fix the BLAS thread count for this process; False if NumPy is already loaded."""
    if "numpy" in sys.modules:
        return False
    count = os.environ.get("DESCENT_BLAS_THREADS", "").strip()
    count = count if count.isdigit() and int(count) >= 1 else "1"
    for name in BLAS_VARIABLES:
        os.environ[name] = count
    return True
