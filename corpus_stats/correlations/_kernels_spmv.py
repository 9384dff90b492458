"""Numba sparse products over a lag's compacted CSR pattern, for the matrix-free covariance
operators of :mod:`corpus_stats.correlations.operators` (no I/O, no validation, no exceptions)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Sparse products over the CSR pattern (indptr, cols) with entry weights w. Each product has a
# serial row-range worker; the serial kernels run it over all rows, the parallel drivers over row
# chunks (transposed products scatter into one buffer per chunk, reduced serially afterwards).
# Serial products exist because entering one OpenMP region costs more than a small product when
# the cores are shared with other jobs, so products below a work threshold
# (``correlations.PARALLEL_MIN_NNZ``) run serially.


@njit(cache=True)
def _spmv_rows(indptr, cols, w, x, y, r0, r1):
    """``y[r] = (W x)[r]`` for rows r0..r1-1."""
    for r in range(r0, r1):
        s = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            s += w[e] * x[cols[e]]
        y[r] = s


@njit(cache=True)
def _spmv_t_rows(indptr, cols, w, y, out, r0, r1):
    """``out += W[r0:r1]^T y[r0:r1]`` (rows with y = 0 skipped)."""
    for r in range(r0, r1):
        yr = y[r]
        if yr != 0.0:
            for e in range(indptr[r], indptr[r + 1]):
                out[cols[e]] += w[e] * yr


@njit(cache=True)
def _spmv_pair_rows(indptr, cols, wa, wb, x, ya, yb, r0, r1):
    """``(W_A x, W_B x)`` for rows r0..r1-1 in one pass over the shared pattern."""
    for r in range(r0, r1):
        sa = 0.0
        sb = 0.0
        for e in range(indptr[r], indptr[r + 1]):
            xc = x[cols[e]]
            sa += wa[e] * xc
            sb += wb[e] * xc
        ya[r] = sa
        yb[r] = sb


@njit(cache=True)
def _spmv_pair_t_rows(indptr, cols, wa, wb, ya, yb, out, r0, r1):
    """``out += W_A[r0:r1]^T ya + W_B[r0:r1]^T yb`` in one pass over the shared pattern."""
    for r in range(r0, r1):
        a = ya[r]
        b = yb[r]
        for e in range(indptr[r], indptr[r + 1]):
            out[cols[e]] += wa[e] * a + wb[e] * b


@njit(cache=True)
def _reduce_rows(local):
    """Sum of the per-chunk scatter buffers, in chunk order."""
    out = np.zeros(local.shape[1], dtype=np.float64)
    for c in range(local.shape[0]):
        for j in range(local.shape[1]):
            out[j] += local[c, j]
    return out


@njit(cache=True)
def _spmv_serial(indptr, cols, w, x):
    """``y = W x`` serially."""
    y = np.zeros(indptr.size - 1, dtype=np.float64)
    _spmv_rows(indptr, cols, w, x, y, 0, indptr.size - 1)
    return y


@njit(cache=True)
def _spmv_t_serial(indptr, cols, w, y, n_cols):
    """``x = W^T y`` serially."""
    out = np.zeros(n_cols, dtype=np.float64)
    _spmv_t_rows(indptr, cols, w, y, out, 0, indptr.size - 1)
    return out


@njit(cache=True)
def _spmv_pair_serial(indptr, cols, wa, wb, x):
    """``(W_A x, W_B x)`` in one pass over a shared pattern (the split-half products)."""
    ya = np.zeros(indptr.size - 1, dtype=np.float64)
    yb = np.zeros(indptr.size - 1, dtype=np.float64)
    _spmv_pair_rows(indptr, cols, wa, wb, x, ya, yb, 0, indptr.size - 1)
    return ya, yb


@njit(cache=True)
def _spmv_pair_t_serial(indptr, cols, wa, wb, ya, yb, n_cols):
    """``W_A^T ya + W_B^T yb`` in one pass over a shared pattern."""
    out = np.zeros(n_cols, dtype=np.float64)
    _spmv_pair_t_rows(indptr, cols, wa, wb, ya, yb, out, 0, indptr.size - 1)
    return out


@njit(parallel=True, cache=True)
def _spmv(indptr, cols, w, x, chunk_rows):
    """Parallel ``y = W x``: row chunks."""
    y = np.zeros(indptr.size - 1, dtype=np.float64)
    for c in prange(chunk_rows.size - 1):
        _spmv_rows(indptr, cols, w, x, y, chunk_rows[c], chunk_rows[c + 1])
    return y


@njit(parallel=True, cache=True)
def _spmv_t(indptr, cols, w, y, chunk_rows, n_cols):
    """Parallel ``x = W^T y``: one scatter buffer per row chunk."""
    local = np.zeros((chunk_rows.size - 1, n_cols), dtype=np.float64)
    for c in prange(chunk_rows.size - 1):
        _spmv_t_rows(indptr, cols, w, y, local[c], chunk_rows[c], chunk_rows[c + 1])
    return _reduce_rows(local)


@njit(parallel=True, cache=True)
def _spmv_pair(indptr, cols, wa, wb, x, chunk_rows):
    """Parallel ``(W_A x, W_B x)``: row chunks."""
    ya = np.zeros(indptr.size - 1, dtype=np.float64)
    yb = np.zeros(indptr.size - 1, dtype=np.float64)
    for c in prange(chunk_rows.size - 1):
        _spmv_pair_rows(indptr, cols, wa, wb, x, ya, yb, chunk_rows[c], chunk_rows[c + 1])
    return ya, yb


@njit(parallel=True, cache=True)
def _spmv_pair_t(indptr, cols, wa, wb, ya, yb, chunk_rows, n_cols):
    """Parallel ``W_A^T ya + W_B^T yb``: one scatter buffer per row chunk."""
    local = np.zeros((chunk_rows.size - 1, n_cols), dtype=np.float64)
    for c in prange(chunk_rows.size - 1):
        _spmv_pair_t_rows(indptr, cols, wa, wb, ya, yb, local[c], chunk_rows[c], chunk_rows[c + 1])
    return _reduce_rows(local)
