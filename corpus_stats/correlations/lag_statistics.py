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
    p = lc.n_pairs
    a, b = (lc.left / p)[:, None], (lc.right / p)[:, None]
    return float(K._fro_sq_rows(lc.entry_row, lc.cols, lc.counts, np.array([1.0 / p]), a, b)[0])


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
    """All statistics of one lag from its counts: top singular triplets, the split-half statistics,
    then one pass over the shard entries for every leave-one-shard-out replicate (all re-weightings
    of the same counts).

    ``warm`` (mutable) is the Lanczos state carried from lag to lag: ``vocab_size``, ``rng`` (the
    generator of start vectors where there is no warm start) and ``v``, the previous lag's top right
    singular vector in full vocabulary coordinates (updated in place).
    """
    g_n = lc.pairs_g.size
    nan_g = np.full(g_n, np.nan)
    if lc.n_pairs == 0:
        return LagStatistics(np.nan, np.nan, np.nan, np.nan, nan_g, nan_g.copy(), nan_g.copy())
    top = _top_singular(lc, dense, jackknife, warm)
    half = _split_half(lc, top) if halves and g_n >= 2 else None
    norms = _Replicates(lc, top) if jackknife and np.all(lc.n_pairs - lc.pairs_g > 0) else None
    lam_terms = _HalfReplicates(lc, half) if jackknife and half is not None and half.ritz is not None else None
    parts = [x for x in (norms, lam_terms) if x is not None]
    if parts:  # one pass: shard entries may be counted again for it (LagCounts.shard_blocks)
        for block in lc.shard_blocks():
            for x in parts:
                x.add(block)
    op_jk, fro_jk = norms.finish() if norms is not None else (nan_g, nan_g.copy())
    op_lam_jk = lam_terms.finish() if lam_terms is not None else nan_g.copy()
    op_lam, fro_deb = (half.lam, half.fro_deb) if half is not None else (np.nan, np.nan)
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


class _Replicates:
    """(op, fro) norms of the G leave-one-shard-out replicates, accumulated over blocks of shard
    entries: exact (dense), or the replicate restricted to the corpus's top-k singular subspaces
    (a lower bound, exact to second order)."""

    def __init__(self, lc: LagCounts, top: _TopSingular):
        self.lc, self.top = lc, top
        g_n = lc.pairs_g.size
        self.p_rep = lc.n_pairs - lc.pairs_g
        self.a_rep = (lc.left[:, None] - lc.left_g) / self.p_rep
        self.b_rep = (lc.right[:, None] - lc.right_g) / self.p_rep
        self.fro_sq = K._fro_sq_rows(lc.entry_row, lc.cols, lc.counts, 1.0 / self.p_rep, self.a_rep, self.b_rep)
        if top.dense:
            self.jg = np.zeros((g_n, lc.left.size, lc.right.size))  # J_g of every shard
            return
        # ||C_g V|| and ||C_g^T U|| are lower bounds of ||C_g||, exact to second order; keep the larger
        self.u, self.v = np.ascontiguousarray(top.u), np.ascontiguousarray(top.v)
        k = self.v.shape[1]
        self.jv = np.column_stack([spmv(lc.indptr, lc.cols, lc.counts, x.copy(), top.chunks) for x in self.v.T])
        self.bv = _tmatmul(self.b_rep, self.v)  # (G, k), without BLAS threads
        self.gv = np.zeros((g_n, k, k))
        self.jgu = np.zeros((g_n, lc.right.size, k))  # J_g^T U of every shard

    def add(self, block) -> None:
        lc = self.lc
        self.fro_sq += K._fro_sq_corrections(
            lc.entry_row, lc.cols, lc.counts, block.sh_entry, block.sh_g, block.sh_cnt, 1.0 / self.p_rep,
            self.a_rep, self.b_rep,
        )  # fmt: skip
        if self.top.dense:
            rows, cols = lc.entry_row[block.sh_entry], lc.cols[block.sh_entry]
            np.add.at(self.jg, (block.sh_g, rows, cols), block.sh_cnt)
            return
        K._jackknife_row_grams(
            block.row_lo, row_parts(block.shptr), lc.cols, block.shptr, block.sh_entry, block.sh_g, block.sh_cnt,
            self.v, self.jv, 1.0 / self.p_rep, self.a_rep, self.bv, self.gv,
        )  # fmt: skip
        K._shard_products_t(
            block.row_lo, lc.cols, block.shptr, block.sh_entry, block.sh_g, block.sh_cnt, self.u, self.jgu
        )

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        lc, top, p_rep, a_rep, b_rep = self.lc, self.top, self.p_rep, self.a_rep, self.b_rep
        fro_jk = np.sqrt(np.maximum(self.fro_sq, 0.0))
        if top.dense:
            op_jk = np.array([
                np.linalg.norm((top.jd - self.jg[g]) / p_rep[g] - np.outer(a_rep[:, g], b_rep[:, g]), 2)
                for g in range(p_rep.size)
            ])  # fmt: skip
            return op_jk, fro_jk
        ju = np.column_stack(
            [spmv_t(lc.indptr, lc.cols, lc.counts, y.copy(), top.cov.chunks_t, lc.right.size) for y in self.u.T]
        )
        gu = K._jackknife_col_grams(self.jgu, ju, 1.0 / p_rep, b_rep, _tmatmul(a_rep, self.u))
        gv = _symmetric(self.gv)
        top_eig = np.maximum(np.linalg.eigvalsh(gv)[:, -1], np.linalg.eigvalsh(_symmetric(gu))[:, -1])
        return np.sqrt(np.maximum(top_eig, 0.0)), fro_jk


def _symmetric(upper: np.ndarray) -> np.ndarray:
    """Stacked symmetric matrices from their upper triangles."""
    return np.triu(upper) + np.swapaxes(np.triu(upper, 1), -1, -2)


@dataclass(frozen=True)
class _Halves:
    """The split-half statistics of one lag and what their leave-one-shard-out values need: the top
    eigenvalue ``lam`` of (C_A^T C_B + C_B^T C_A)/2, ``fro_deb`` = sign(x) sqrt(|x|) of
    x = <C_A, C_B>_F, the Ritz vectors (None when a half is empty: then both are NaN), whether they
    are the identity, and per half (its shards, pairs, marginals)."""

    lam: float
    fro_deb: float
    ritz: np.ndarray | None = None
    identity: bool = False
    sides: tuple = ()
    covs: tuple = ()


def _split_half(lc: LagCounts, top: _TopSingular) -> _Halves:
    """The split-half statistics of the halves A | B of the shards (see :class:`_Halves`)."""
    g_n = lc.pairs_g.size
    h = g_n // 2
    cnt_a = lc.counts_first
    cnt_b = lc.counts - cnt_a
    pa, pb = lc.pairs_g[:h].sum(), lc.pairs_g[h:].sum()
    if not (pa > 0 and pb > 0):
        return _Halves(np.nan, np.nan)
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
    sides = ((slice(0, h), pa, aa, ba), (slice(h, g_n), pb, ab, bb))
    ritz = np.ascontiguousarray(ritz, dtype=np.float64)
    return _Halves(float(lam), float(signed_sqrt(inner)), ritz, identity, sides, (ca, cb))


class _HalfReplicates:
    """The split-half eigenvalue with one shard left out of its half, for every shard, accumulated
    over blocks of shard entries.

    Rayleigh-Ritz on the top Ritz vectors R of the corpus's split-half operator: the top eigenvalue of
    R^T M_g R = sym((C_A^(g) R)^T (C_B R)) (or with C_B^(g)), a lower bound exact to second order in
    the left-out shard, like the norm replicates; exact when R spans the whole space (dense path).
    Only shard g's own pair counts change C^(g) = (J - J_g)/(p - p_g) - a_g b_g^T: the blocks add up
    (J_g R)^T (C_other R) for every shard (``identity``: R is the identity, so only the entry's own
    column is touched).
    """

    def __init__(self, lc: LagCounts, half: _Halves):
        self.lc, self.half = lc, half
        self.cr = [_times(c, half.ritz) for c in half.covs]  # C_A R and C_B R, (rows, k)
        self.terms = [None, None]

    def add(self, block) -> None:
        lc, half = self.lc, self.half
        for side, (shards, *_) in enumerate(half.sides):
            other = np.ascontiguousarray(self.cr[1 - side])
            t = K._shard_cross_terms(
                lc.entry_row, lc.cols, block.sh_entry, block.sh_g, block.sh_cnt, half.ritz, half.identity, other,
                shards.start, shards.stop,
            )  # fmt: skip
            self.terms[side] = t if self.terms[side] is None else self.terms[side] + t

    def finish(self) -> np.ndarray:
        lc, ritz = self.lc, self.half.ritz
        out = np.full(lc.pairs_g.size, np.nan)
        for side, (shards, p, a, b) in enumerate(self.half.sides):
            other = self.cr[1 - side]
            jr = p * (self.cr[side] + np.outer(a, b @ ritz))  # J_side R
            jr_other = jr.T @ other
            for g in range(shards.start, shards.stop):
                p_g = p - lc.pairs_g[g]
                if p_g <= 0:
                    continue
                a_g = (a * p - lc.left_g[:, g]) / p_g
                b_g = (b * p - lc.right_g[:, g]) / p_g
                m = (jr_other - self.terms[side][g - shards.start]) / p_g - np.outer(b_g @ ritz, a_g @ other)
                out[g] = np.linalg.eigvalsh(0.5 * (m + m.T))[-1]
        return out


def _times(c, x: np.ndarray) -> np.ndarray:
    """C X for a dense covariance or a matrix-free :class:`Cov`, column by column."""
    if isinstance(c, np.ndarray):
        return c @ x
    return np.column_stack([c.mv(col) for col in x.T])
