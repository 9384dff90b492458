"""Small serial numba kernels for the Lanczos solvers (no I/O, no validation, no exceptions).

Written as loops so that they never start BLAS threads: OpenBLAS threads spin after each call and
then compete with the numba-parallel sparse products for the cores (measured: 5x slower products).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _reorth(x, basis, k):
    """Twice-repeated Gram-Schmidt of x against columns 0..k-1 of basis (in place)."""
    n = x.size
    for _ in range(2):
        for j in range(k):
            d = 0.0
            for i in range(n):
                d += basis[i, j] * x[i]
            for i in range(n):
                x[i] -= d * basis[i, j]
    return x


@njit(cache=True)
def _gram(m):
    """m^T m for a tall (n, k) matrix."""
    n, k = m.shape
    out = np.zeros((k, k))
    for i in range(n):
        for a in range(k):
            mia = m[i, a]
            for b in range(a, k):
                out[a, b] += mia * m[i, b]
    for a in range(k):
        for b in range(a):
            out[a, b] = out[b, a]
    return out
