"""Lagged token-pair counts of a stream, per jackknife shard, in compact sparse form (private).

:class:`PairCounter` groups the positions by token once; :meth:`PairCounter.count` then gives the
pair counts of any lag in O(N) as a :class:`LagCounts`: a CSR matrix over the active rows and columns
(tokens seen as left / right of a pair) plus per-shard entries, so that every replicate (whole
corpus, leave-one-shard-out, halves) is a re-weighting of one sparsity pattern. Numba kernels in
:mod:`corpus_stats.correlations._kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from corpus_stats.correlations import _kernels as K
from corpus_stats.stream import TokenStream


@dataclass(frozen=True)
class LagCounts:
    """Pair counts of one lag on the active rows and columns (tokens seen as left / right of a
    pair; C vanishes identically elsewhere, so every norm is unchanged): compact CSR of the corpus
    plus per-shard entries (stored row by row, ``shptr``) and marginals."""

    n_pairs: int
    indptr: np.ndarray
    cols: np.ndarray
    counts: np.ndarray  # int32, one per stored entry (products convert on the fly: less memory traffic)
    counts_first: np.ndarray  # int32: the counts of the first half of the shards (g < G // 2)
    entry_row: np.ndarray
    shptr: np.ndarray
    sh_entry: np.ndarray
    sh_g: np.ndarray
    sh_cnt: np.ndarray
    left: np.ndarray  # (rows,) left marginal counts
    right: np.ndarray  # (columns,)
    left_g: np.ndarray  # (rows, G) per-shard marginal counts
    right_g: np.ndarray
    pairs_g: np.ndarray  # (G,)
    act_rows: np.ndarray  # token id of each row
    act_cols: np.ndarray  # token id of each column

    def csr(self, counts: np.ndarray | None = None) -> sp.csr_matrix:
        data = self.counts if counts is None else counts
        return sp.csr_matrix((data, self.cols, self.indptr), shape=(self.left.size, self.right.size))


class PairCounter:
    """Positions grouped by left token once; then pair counts for any lag in O(N)."""

    def __init__(self, stream: TokenStream, within_documents: bool, shard_starts: np.ndarray):
        tokens = stream.tokens
        offsets = stream.doc_offsets if within_documents else np.array([0, tokens.size], np.int64)
        self.tokens, self.vocab_size, self.offsets = tokens, stream.vocab_size, offsets
        self.rowptr, self.order, self.room = K._group_positions(tokens, offsets, self.vocab_size, within_documents)
        self.shard_starts = np.ascontiguousarray(shard_starts, dtype=np.int64)
        self.chunk_rows = row_chunks(self.rowptr)  # balanced by positions
        # thread t takes a contiguous block of this order: chunks t, t + T, t + 2T, ...
        self.chunk_order = np.argsort(np.arange(self.chunk_rows.size - 1) % max(1, n_threads()), kind="stable")
        # position-indexed slots of the counting kernel, reused across lags (no fresh page faults)
        self._slots = [np.empty(tokens.size, dtype=np.int32) for _ in range(5)]
        self._buffers: dict[str, np.ndarray] = {}
        # per-chunk (slot_of, seg_cnt, seg_list); the kernel leaves them as initialised here
        self._scratch = np.zeros((self.chunk_rows.size - 1, 3, self.vocab_size + 1), dtype=np.int32)
        self._scratch[:, 0] = -1

    def _buffer(self, name: str, size: int, dtype) -> np.ndarray:
        """A length-``size`` view of a buffer kept across lags: freshly allocated arrays of this size
        cost more in page faults than the compaction that fills them (measured several-fold)."""
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            buf = self._buffers[name] = np.empty(int(size * 1.25) + 1, dtype=dtype)
        return buf[:size]

    def count(self, lag: int) -> LagCounts:
        """Pair counts at ``lag``. The arrays are views of buffers that the next call overwrites:
        use (or copy) one lag's counts before counting the next."""
        v, n_shards = self.vocab_size, self.shard_starts.size - 1
        col_seen = np.zeros(v, dtype=np.uint8)
        row_nnz = np.zeros(v, dtype=np.int64)
        row_nsh = np.zeros(v, dtype=np.int64)
        slots = self._slots
        K._pair_counts(
            self.tokens,
            self.rowptr,
            self.order,
            self.room,
            self.shard_starts,
            lag,
            self.chunk_rows,
            self.chunk_order,
            self._scratch,
            col_seen,
            row_nnz,
            row_nsh,
            *slots,
        )
        act_rows = np.flatnonzero(row_nnz)
        act_cols = np.flatnonzero(col_seen)
        col_index = np.full(v, -1, dtype=np.int32)
        col_index[act_cols] = np.arange(act_cols.size, dtype=np.int32)
        indptr = np.zeros(act_rows.size + 1, dtype=np.int64)
        shptr = np.zeros(act_rows.size + 1, dtype=np.int64)
        np.cumsum(row_nnz[act_rows], out=indptr[1:])
        np.cumsum(row_nsh[act_rows], out=shptr[1:])
        nnz, nsh = int(indptr[-1]), int(shptr[-1])
        cols, entry_row = self._buffer("cols", nnz, np.int32), self._buffer("entry_row", nnz, np.int32)
        counts, counts_first = self._buffer("counts", nnz, np.int32), self._buffer("first", nnz, np.int32)
        sh_entry, sh_g, sh_cnt = (self._buffer(f"sh_{x}", nsh, np.int32) for x in ("entry", "g", "cnt"))
        left_g = np.zeros((act_rows.size, n_shards), dtype=np.float64)
        K._compact(
            row_parts(shptr), self.rowptr, act_rows, row_nnz, row_nsh, indptr, shptr, col_index, n_shards // 2, *slots,
            cols, counts, counts_first, entry_row, sh_entry, sh_g, sh_cnt, left_g,
        )  # fmt: skip
        right_g = np.ascontiguousarray(
            K._right_marginals(self.tokens, col_index, self.offsets, self.shard_starts, lag, act_cols.size).T
        )
        pairs_g = left_g.sum(axis=0)
        return LagCounts(
            int(pairs_g.sum()),
            indptr,
            cols,
            counts,
            counts_first,
            entry_row,
            shptr,
            sh_entry,
            sh_g,
            sh_cnt,
            left_g.sum(axis=1),
            right_g.sum(axis=1),
            left_g,
            right_g,
            pairs_g,
            act_rows,
            act_cols,
        )


def pair_counter_bytes(stream: TokenStream, within_documents: bool) -> int:
    """Bytes :class:`PairCounter` holds at least: the shuffled copy of the stream (floor) next to the
    stream's own pages, the grouped positions and the five position-indexed counting slots (int32),
    and the room to each document's end (within documents). C(t) is not partitioned: this grows
    linearly with the stream; each lag's compacted counts come on top (at most ~35 bytes per token,
    usually far less)."""
    per_token = 2 * stream.tokens.dtype.itemsize + 4 + 5 * 4 + (4 if within_documents else 0)
    return int(per_token * stream.n_tokens)


def n_threads() -> int:
    import numba

    return int(numba.get_num_threads())


def _balanced_cuts(ptr: np.ndarray, n_parts: int) -> np.ndarray:
    """``n_parts + 1`` row indices (non-decreasing, may repeat) splitting the rows of row pointer
    ``ptr`` into runs of about equal entries."""
    cuts = np.searchsorted(ptr, np.linspace(0, ptr[-1], n_parts + 1), side="left")
    return np.clip(cuts, 0, ptr.size - 1).astype(np.int64)


def row_chunks(ptr: np.ndarray) -> np.ndarray:
    """Row boundaries of ~8 chunks per thread, balanced by the entries of ``ptr`` (no empty chunks
    from repeated cuts): the work split of the parallel counting and product kernels."""
    cuts = np.unique(_balanced_cuts(ptr, 8 * max(1, n_threads())))
    cuts[0], cuts[-1] = 0, ptr.size - 1
    return cuts


def row_parts(ptr: np.ndarray) -> np.ndarray:
    """Exactly ``K.N_PARTS`` + 1 row boundaries balanced by the entries of ``ptr``: the fixed
    summation blocks of the parallel reductions."""
    cuts = _balanced_cuts(ptr, K.N_PARTS)
    cuts[0], cuts[-1] = 0, ptr.size - 1
    return np.maximum.accumulate(cuts)
