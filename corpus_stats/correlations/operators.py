"""Matrix-free covariance operators for the Lanczos solvers (private).

``C = W / P - a b^T`` on a compact CSR pattern (:class:`Cov`) and the split-half operator
``(C_A^T C_B + C_B^T C_A) / 2`` (:class:`HalfSym`), applied through the numba sparse products of
:mod:`corpus_stats.correlations._kernels`, serially below ``PARALLEL_MIN_NNZ`` stored entries.
"""

from __future__ import annotations

import numpy as np

from corpus_stats.correlations import _kernels_spmv as K
from corpus_stats.correlations import lanczos as _lanczos
from corpus_stats.correlations._kernels_lanczos import _dot
from corpus_stats.correlations.counts import n_threads

PARALLEL_MIN_NNZ = 1 << 20  # stored entries below which sparse products run serially (see parallel)

MATVECS = [0]  # matrix-vector products performed (for benchmarks)


def parallel(nnz: int) -> bool:
    """Run a product in numba-parallel only when it is big enough to pay for the parallel region:
    on idle cores parallel halves a large product, but entering a region costs far more when other
    jobs hold the cores, so small products stay serial."""
    return nnz >= PARALLEL_MIN_NNZ and n_threads() > 1


def spmv(indptr, cols, w, x, chunks):
    if parallel(cols.size):
        return K._spmv(indptr, cols, w, x, chunks)
    return K._spmv_serial(indptr, cols, w, x)


def spmv_t(indptr, cols, w, y, chunks_t, n_cols):
    if parallel(cols.size):
        return K._spmv_t(indptr, cols, w, y, chunks_t, n_cols)
    return K._spmv_t_serial(indptr, cols, w, y, n_cols)


def spmv_pair(indptr, cols, wa, wb, x, chunks):
    if parallel(cols.size):
        return K._spmv_pair(indptr, cols, wa, wb, x, chunks)
    return K._spmv_pair_serial(indptr, cols, wa, wb, x)


def spmv_pair_t(indptr, cols, wa, wb, ya, yb, chunks_t, n_cols):
    if parallel(cols.size):
        return K._spmv_pair_t(indptr, cols, wa, wb, ya, yb, chunks_t, n_cols)
    return K._spmv_pair_t_serial(indptr, cols, wa, wb, ya, yb, n_cols)


def thread_chunks(chunks: np.ndarray) -> np.ndarray:
    """One chunk per thread (for the transposed products, which scatter into one buffer per chunk)."""
    return chunks[np.linspace(0, chunks.size - 1, max(1, n_threads()) + 1).astype(np.int64)]


class Cov:
    """C = W / P - a b^T on a compact CSR pattern with entry weights W (never a dense V x V matrix).

    Products run in numba (``spmv``, ``spmv_t``; serial below ``PARALLEL_MIN_NNZ`` entries) on the
    unscaled weights; the 1/P scale and the rank-one marginal term are applied to the result.
    """

    def __init__(self, indptr, cols, w, p, a, b, chunks):
        self.indptr, self.cols, self.w, self.inv_p = indptr, cols, np.ascontiguousarray(w), 1.0 / p
        self.a, self.b, self.chunks = a, b, chunks
        self.chunks_t = thread_chunks(chunks)
        self.shape = (a.size, b.size)

    def mv(self, x):
        MATVECS[0] += 1
        x = np.ascontiguousarray(x, dtype=np.float64)
        y = spmv(self.indptr, self.cols, self.w, x, self.chunks)
        y *= self.inv_p
        y -= self.a * _dot(self.b, x)
        return y

    def rmv(self, y):
        MATVECS[0] += 1
        y = np.ascontiguousarray(y, dtype=np.float64)
        x = spmv_t(self.indptr, self.cols, self.w, y, self.chunks_t, self.shape[1])
        x *= self.inv_p
        x -= self.b * _dot(self.a, y)
        return x


class HalfSym:
    """x -> (C_A^T C_B + C_B^T C_A) x / 2 for two covariances on one pattern, in two fused passes
    (both halves' products share every read of the pattern)."""

    def __init__(self, ca: Cov, cb: Cov):
        self.ca, self.cb = ca, cb

    def __call__(self, x):
        ca, cb = self.ca, self.cb
        MATVECS[0] += 4
        x = np.ascontiguousarray(x, dtype=np.float64)
        ya, yb = spmv_pair(ca.indptr, ca.cols, ca.w, cb.w, x, ca.chunks)
        ya *= ca.inv_p
        ya -= ca.a * _dot(ca.b, x)
        yb *= cb.inv_p
        yb -= cb.a * _dot(cb.b, x)
        # C_A^T yb + C_B^T ya
        z = spmv_pair_t(ca.indptr, ca.cols, ca.w, cb.w, yb * ca.inv_p, ya * cb.inv_p, ca.chunks_t, ca.shape[1])
        z -= ca.b * _dot(ca.a, yb) + cb.b * _dot(cb.a, ya)
        z *= 0.5
        return z


def top_svd(c, k: int, rng=None, v0: np.ndarray | None = None, scale: float = 1.0, tol: float = 1e-5):
    """Top-k singular triplets, descending (dense LAPACK for arrays, warm-started Lanczos otherwise;
    ``rng`` draws its start vector when ``v0`` is unusable)."""
    if isinstance(c, np.ndarray):
        u, s, vt = np.linalg.svd(c)
        return s[:k], u[:, :k], vt[:k].T
    s, u, v, _ = _lanczos.top_singular(c.mv, c.rmv, c.shape, rng, v0=v0, k=k, tol=tol, scale=scale)
    return s, u, v
