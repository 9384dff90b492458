"""The statistics of one lag of C(t) from its pair counts: the top singular triplets, the leave-one-shard-out
replicates and the split-half values, all re-weightings of the same sparse pattern (see
:mod:`corpus_stats.correlations.curve` for what they estimate).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from corpus_stats.correlations import _kernels as K
from corpus_stats.correlations import lanczos as _lanczos
from corpus_stats.correlations._kernels_lanczos import _tmatmul
from corpus_stats.correlations.counts import LagCounts, row_chunks, row_parts
from corpus_stats.correlations.operators import Cov, HalfSym, spmv, spmv_t, top_svd

DENSE_MAX_V = 192  # dense LAPACK below this vocabulary size, matrix-free above
RITZ_K = 4  # singular triplets kept for the jackknife's Rayleigh-Ritz replicates
LANCZOS_TOL = 1e-5  # residual of the top Ritz pair <= LANCZOS_TOL * sigma; sigma itself to ~1e-10


def signed_sqrt(x):
    """``sign(x) sqrt(|x|)``, elementwise: how split-half statistics in the squared domain are reported."""
    return np.sign(x) * np.sqrt(np.abs(x))


def _fro_sq(lc: LagCounts) -> float:
    empty = np.zeros(0, np.int32)
    p = lc.n_pairs
    return float(
        K._fro_sq_rows(
            lc.entry_row, lc.cols, lc.counts, empty, empty, empty,
            np.array([1.0 / p]), (lc.left / p)[:, None], (lc.right / p)[:, None],
        )[0]
    )  # fmt: skip


@dataclass(frozen=True)
class LagStatistics:
    """Everything measured at one lag (NaN where undefined: no pairs, one shard, no halves).

    ``op_lam`` is the top eigenvalue of (C_A^T C_B + C_B^T C_A)/2 (squared domain, not debiased);
    ``op_jk`` and ``fro_jk`` are the G leave-one-shard-out norms, ``op_lam_jk`` the G leave-one-shard-out
    values of ``op_lam`` (the shard left out of its half).
    """

    op: float
    fro: float
    op_lam: float
    fro_deb: float
    op_jk: np.ndarray
    fro_jk: np.ndarray
    op_lam_jk: np.ndarray


def _lag_statistics(lc: LagCounts, dense: bool, jackknife: bool, halves: bool, warm: dict) -> LagStatistics:
    """All statistics of one lag from its counts: top singular triplets, then the leave-one-shard-out
    replicates and the split-half statistics, all re-weightings of the same counts.

    ``warm`` (mutable) is the Lanczos state carried from lag to lag: ``vocab_size``, ``rng`` (the
    generator of start vectors where there is no warm start) and ``v``, the previous lag's top right
    singular vector in full vocabulary coordinates (updated in place).
    """
    g_n = lc.pairs_g.size
    nan_g = np.full(g_n, np.nan)
    if lc.n_pairs == 0:
        return LagStatistics(np.nan, np.nan, np.nan, np.nan, nan_g, nan_g.copy(), nan_g.copy())
    top = _top_singular(lc, dense, jackknife, warm)
    op_jk, fro_jk = nan_g, nan_g.copy()
    if jackknife and np.all(lc.n_pairs - lc.pairs_g > 0):
        op_jk, fro_jk = _leave_one_shard_out(lc, top)
    op_lam = fro_deb = np.nan
    op_lam_jk = nan_g.copy()
    if halves and g_n >= 2:
        op_lam, fro_deb, op_lam_jk = _split_half(lc, top, jackknife)
    return LagStatistics(float(top.s[0]), top.fro, op_lam, fro_deb, op_jk, fro_jk, op_lam_jk)


@dataclass(frozen=True)
class _TopSingular:
    """The lag's covariance and its top singular triplets (private to one lag's statistics)."""

    s: np.ndarray
    u: np.ndarray
    v: np.ndarray
    fro: float
    dense: bool
    rng: np.random.Generator  # start vectors of the split-half eigenvalue when needed
    jd: np.ndarray | None  # dense pair counts (dense path)
    cov: Cov | None  # matrix-free covariance (sparse path)
    chunks: np.ndarray | None


def _top_singular(lc: LagCounts, dense: bool, jackknife: bool, warm: dict) -> _TopSingular:
    """||C||_F exactly and the top singular triplets of C = J/P - a b^T (Ritz vectors for the
    jackknife too), dense LAPACK for a small active vocabulary, warm-started Lanczos otherwise."""
    p = lc.n_pairs
    n_r, n_c = lc.left.size, lc.right.size
    dense = dense or n_r * n_c <= DENSE_MAX_V**2 or min(n_r, n_c) <= 8
    a, b = lc.left / p, lc.right / p
    fro_sq = max(_fro_sq(lc), 0.0)
    v0 = None if warm.get("v") is None else warm["v"][lc.act_cols]
    jd = cov = chunks = None
    if dense:
        jd = lc.csr().toarray()
        s, u, v = top_svd(jd / p - np.outer(a, b), 1)
    else:
        chunks = row_chunks(lc.indptr)
        k = min(RITZ_K if jackknife else 1, min(n_r, n_c) - 2)
        cov = Cov(lc.indptr, lc.cols, lc.counts, p, a, b, chunks)
        s, u, v = top_svd(cov, k, warm["rng"], v0=v0, scale=math.sqrt(fro_sq), tol=LANCZOS_TOL)
    if s[0] > 0:
        full = np.zeros(warm["vocab_size"])
        full[lc.act_cols] = v[:, 0]
        warm["v"] = full
    return _TopSingular(s, u, v, math.sqrt(fro_sq), dense, warm["rng"], jd, cov, chunks)


def _leave_one_shard_out(lc: LagCounts, top: _TopSingular) -> tuple[np.ndarray, np.ndarray]:
    """(op, fro) norms of the G leave-one-shard-out replicates: exact (dense), or the replicate
    restricted to the corpus's top-k singular subspaces (a lower bound, exact to second order)."""
    g_n = lc.pairs_g.size
    p_rep = lc.n_pairs - lc.pairs_g
    a_rep = (lc.left[:, None] - lc.left_g) / p_rep
    b_rep = (lc.right[:, None] - lc.right_g) / p_rep
    fro_sq = K._fro_sq_rows(
        lc.entry_row, lc.cols, lc.counts, lc.sh_entry, lc.sh_g, lc.sh_cnt, 1.0 / p_rep, a_rep, b_rep
    )
    fro_jk = np.sqrt(np.maximum(fro_sq, 0.0))
    if top.dense:
        op_jk = np.empty(g_n)
        rows, cols = lc.entry_row[lc.sh_entry], lc.cols[lc.sh_entry]
        for g in range(g_n):
            sel = lc.sh_g == g
            jg = top.jd.copy()
            np.subtract.at(jg, (rows[sel], cols[sel]), lc.sh_cnt[sel])
            op_jk[g] = np.linalg.norm(jg / p_rep[g] - np.outer(a_rep[:, g], b_rep[:, g]), 2)
        return op_jk, fro_jk
    # replicate g restricted to the corpus's top-k right (left) singular subspace:
    # ||C_g V|| and ||C_g^T U|| are lower bounds, exact to second order; keep the larger
    u, v = np.ascontiguousarray(top.u), np.ascontiguousarray(top.v)
    n_c = lc.right.size
    jv = np.column_stack([spmv(lc.indptr, lc.cols, lc.counts, x.copy(), top.chunks) for x in v.T])
    ju = np.column_stack([spmv_t(lc.indptr, lc.cols, lc.counts, y.copy(), top.cov.chunks_t, n_c) for y in u.T])
    bv, au = _tmatmul(b_rep, v), _tmatmul(a_rep, u)  # (G, k), without BLAS threads
    gv, gu = K._jackknife_grams(
        row_parts(lc.shptr), lc.cols, lc.shptr, lc.sh_entry, lc.sh_g, lc.sh_cnt, u, v, jv, ju, 1.0 / p_rep,
        a_rep, b_rep, bv, au,
    )  # fmt: skip
    top_eig = np.maximum(np.linalg.eigvalsh(gv)[:, -1], np.linalg.eigvalsh(gu)[:, -1])
    return np.sqrt(np.maximum(top_eig, 0.0)), fro_jk


def _split_half(lc: LagCounts, top: _TopSingular, jackknife: bool) -> tuple[float, float, np.ndarray]:
    """(op_lam, fro_deb, op_lam_jk) from the halves A | B of the shards: the top eigenvalue of
    (C_A^T C_B + C_B^T C_A)/2, sign(x) sqrt(|x|) of x = <C_A, C_B>_F, and the G leave-one-shard-out
    values of that eigenvalue (the shard removed from its own half; NaN without ``jackknife``). NaN
    when a half is empty."""
    g_n = lc.pairs_g.size
    h = g_n // 2
    cnt_a = lc.counts_first
    cnt_b = lc.counts - cnt_a
    pa, pb = lc.pairs_g[:h].sum(), lc.pairs_g[h:].sum()
    lam_jk = np.full(g_n, np.nan)
    if not (pa > 0 and pb > 0):
        return np.nan, np.nan, lam_jk
    aa, ba = lc.left_g[:, :h].sum(1) / pa, lc.right_g[:, :h].sum(1) / pa
    ab, bb = (lc.left - aa * pa) / pb, (lc.right - ba * pa) / pb
    inner = K._fro_inner(lc.entry_row, lc.cols, cnt_a, cnt_b, 1.0 / pa, 1.0 / pb, aa, ba, ab, bb)
    if top.dense:
        ca = lc.csr(cnt_a).toarray() / pa - np.outer(aa, ba)
        cb = lc.csr(cnt_b).toarray() / pb - np.outer(ab, bb)
        ev, evec = np.linalg.eigh(0.5 * (ca.T @ cb + cb.T @ ca))
        lam = ev[-1]
        # the whole space (exact replicates) while it is small, else the top eigenvectors
        identity = ev.size <= DENSE_MAX_V
        ritz = np.eye(ev.size) if identity else evec[:, ::-1][:, :RITZ_K]
    else:
        ca = Cov(lc.indptr, lc.cols, cnt_a, pa, aa, ba, top.chunks)
        cb = Cov(lc.indptr, lc.cols, cnt_b, pb, ab, bb, top.chunks)
        # residual scale ~ ||C_A|| ||C_B||: signal^2 plus the noise scale 1/sqrt(P_A P_B)
        identity = False
        lam, ritz, _ = _lanczos.top_eigenvalue(
            HalfSym(ca, cb), lc.right.size, top.rng, v0=top.v[:, 0], tol=LANCZOS_TOL,
            scale=top.s[0] ** 2 + 1.0 / math.sqrt(pa * pb), k=RITZ_K,
        )  # fmt: skip
    if jackknife:
        halves = ((slice(0, h), pa, aa, ba), (slice(h, g_n), pb, ab, bb))
        lam_jk = _split_half_replicates(lc, ritz, identity, halves, (ca, cb))
    return float(lam), float(signed_sqrt(inner)), lam_jk


def _split_half_replicates(lc: LagCounts, ritz: np.ndarray, identity: bool, halves, covs) -> np.ndarray:
    """The split-half eigenvalue with one shard left out of its half, for every shard.

    Rayleigh-Ritz on the top Ritz vectors R of the corpus's split-half operator: the top eigenvalue of
    R^T M_g R = sym((C_A^(g) R)^T (C_B R)) (or with C_B^(g)), a lower bound exact to second order in
    the left-out shard, like the norm replicates; exact when R spans the whole space (dense path).
    Only shard g's own pair counts change C^(g) = (J - J_g)/(p - p_g) - a_g b_g^T, so each replicate
    costs one pass over that shard's entries (one numba pass per half gives them all; ``identity``: R
    is the identity, so only the entry's own column is touched).
    """
    ritz = np.ascontiguousarray(ritz, dtype=np.float64)
    cr = [_times(c, ritz) for c in covs]  # C_A R and C_B R, (rows, k)
    out = np.full(lc.pairs_g.size, np.nan)
    for side, (shards, p, a, b) in enumerate(halves):
        other = np.ascontiguousarray(cr[1 - side])
        jr = p * (cr[side] + np.outer(a, b @ ritz))  # J_side R
        jr_other = jr.T @ other
        # (J_g R)^T other for each shard g of this half, from its own entries only (one pass)
        shard_terms = K._shard_cross_terms(
            lc.entry_row, lc.cols, lc.sh_entry, lc.sh_g, lc.sh_cnt, ritz, identity, other, shards.start, shards.stop
        )
        for g in range(shards.start, shards.stop):
            p_g = p - lc.pairs_g[g]
            if p_g <= 0:
                continue
            a_g = (a * p - lc.left_g[:, g]) / p_g
            b_g = (b * p - lc.right_g[:, g]) / p_g
            m = (jr_other - shard_terms[g - shards.start]) / p_g - np.outer(b_g @ ritz, a_g @ other)
            out[g] = np.linalg.eigvalsh(0.5 * (m + m.T))[-1]
    return out


def _times(c, x: np.ndarray) -> np.ndarray:
    """C X for a dense covariance or a matrix-free :class:`Cov`, column by column."""
    if isinstance(c, np.ndarray):
        return c @ x
    return np.column_stack([c.mv(col) for col in x.T])
