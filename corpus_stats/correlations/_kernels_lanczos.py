"""Small serial numba kernels for the Lanczos solvers (no I/O, no validation, no exceptions).

Written as loops so that they never start BLAS threads: OpenBLAS threads spin after each call and
then compete with the numba-parallel kernels for the cores (the products and the jackknife Gram
kernel ran several times slower right after a threaded ``a.T @ b``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _reorth(x, basis, k):
    """Twice-repeated Gram-Schmidt of x against rows 0..k-1 of basis (in place; rows are contiguous)."""
    n = x.size
    for _ in range(2):
        for j in range(k):
            d = 0.0
            for i in range(n):
                d += basis[j, i] * x[i]
            for i in range(n):
                x[i] -= d * basis[j, i]
    return x


@njit(cache=True)
def _dot(x, y):
    """``x @ y`` for 1-D arrays, serially."""
    s = 0.0
    for i in range(x.size):
        s += x[i] * y[i]
    return s


@njit(cache=True)
def _norm(x):
    """Euclidean norm of a 1-D array, serially."""
    return _dot(x, x) ** 0.5


@njit(cache=True)
def _tmatmul(a, b):
    """``a.T @ b`` for a (m, n) and b (m, q), serially (basis combinations, marginal projections)."""
    m, n = a.shape
    q = b.shape[1]
    out = np.zeros((n, q), dtype=np.float64)
    for i in range(m):
        for j in range(n):
            aij = a[i, j]
            for s in range(q):
                out[j, s] += aij * b[i, s]
    return out
