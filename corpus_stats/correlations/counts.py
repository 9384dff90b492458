"""Lagged token-pair counts of a stream, per jackknife shard, in compact sparse form (private).

:class:`PairCounter` groups the positions by token once; :meth:`PairCounter.count` then gives the
pair counts of any lag in O(N) as a :class:`LagCounts`: a CSR matrix over the active rows and columns
(tokens seen as left / right of a pair) plus per-shard entries, so that every replicate (whole
corpus, leave-one-shard-out, halves) is a re-weighting of one sparsity pattern. Numba kernels in
:mod:`corpus_stats.correlations._kernels`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from corpus_stats.correlations import _kernels as K
from corpus_stats.correlations.spill import SpillFile, open_spill_file
from corpus_stats.execution.plan import token_counts
from corpus_stats.stream import TokenStream


@dataclass(frozen=True)
class ShardBlock:
    """The shard entries of consecutive rows ``row_lo ..``: entry index (into the lag's entries),
    shard and count, stored row by row (``shptr``, from 0)."""

    row_lo: int
    shptr: np.ndarray
    sh_entry: np.ndarray
    sh_g: np.ndarray
    sh_cnt: np.ndarray


@dataclass(frozen=True)
class LagCounts:
    """Pair counts of one lag on the active rows and columns (tokens seen as left / right of a
    pair; C vanishes identically elsewhere, so every norm is unchanged): compact CSR of the corpus
    plus per-shard entries (stored row by row, ``shptr``) and marginals.

    Counted in several left-token ranges, the shard entries are not held (``sh_*`` are empty):
    :meth:`shard_blocks` yields them range by range, read back from a temporary file or, where it
    could not be written, counted again, so that only one range's shard entries are in memory.
    """

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
    recount: Callable[[], Iterator[ShardBlock]] | None = None

    def shard_blocks(self) -> Iterator[ShardBlock]:
        """The shard entries, in blocks of consecutive rows that together cover every row once (a
        block's arrays may be reused by the next: use each before asking for the next)."""
        if self.recount is None:
            yield ShardBlock(0, self.shptr, self.sh_entry, self.sh_g, self.sh_cnt)
        else:
            yield from self.recount()

    def csr(self, counts: np.ndarray | None = None) -> sp.csr_matrix:
        data = self.counts if counts is None else counts
        return sp.csr_matrix((data, self.cols, self.indptr), shape=(self.left.size, self.right.size))


class PairCounter:
    """Positions grouped by left token; then pair counts for any lag in O(N).

    With ``token_bounds`` (consecutive left-token ranges, e.g. a
    :class:`~corpus_stats.execution.RangePlan`'s ``bounds``) only one range's positions and counting
    slots are held at a time: every range's positions are gathered once by a sequential scan of the
    stream into a temporary file (:mod:`~corpus_stats.correlations.spill`), and each lag reads them
    back range by range to count its rows of J(t), setting each range's shard entries aside in a
    temporary file of the lag's own. Pair counts are additive over left tokens, so the result is the
    same, integer for integer, as with one range (the default).
    """

    def __init__(
        self,
        stream: TokenStream,
        within_documents: bool,
        shard_starts: np.ndarray,
        token_bounds: np.ndarray | None = None,
    ):
        tokens = stream.tokens
        offsets = stream.segment_bounds(within_documents)
        v = stream.vocab_size
        self.tokens, self.vocab_size, self.offsets = tokens, v, offsets
        self.shard_starts = np.ascontiguousarray(shard_starts, dtype=np.int64)
        bounds = np.array([0, v], np.int64) if token_bounds is None else np.asarray(token_bounds, np.int64)
        if bounds.size < 2 or bounds[0] != 0 or bounds[-1] != v or np.any(np.diff(bounds) <= 0):
            raise ValueError(f"token_bounds must rise strictly from 0 to the vocabulary size {v}; got {bounds}.")
        self.bounds = bounds
        if bounds.size == 2:  # one range: group every position once, for all lags
            self.rowptr, self._order, self._room = K._group_positions(tokens, offsets, v, within_documents)
        else:  # positions of one range at a time, regrouped per lag
            self.rowptr = np.zeros(v + 1, dtype=np.int64)
            np.cumsum(token_counts(np.asarray(tokens), v), out=self.rowptr[1:])
        self._position_ints = (2 if within_documents else 1) if bounds.size > 2 else 0
        # slots of the counting kernel: a row has at most one entry per position and per (shard,
        # column), so a frequent token needs far fewer slots than positions
        self.slotptr = np.zeros(v + 1, dtype=np.int64)
        np.cumsum(np.minimum(np.diff(self.rowptr), slots_per_row(self.shard_starts.size - 1, v)), out=self.slotptr[1:])
        self._ranges = [self._range_plan(int(lo), int(hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]
        # one pool holds the working set of whichever range is being counted (its positions, five
        # counting slots and three shard-entry arrays per slot): the largest range sets its size, as
        # the plan assumes (separate buffers would each take the largest of their own kind)
        n_positions, n_slots = np.diff(self.rowptr[bounds]), np.diff(self.slotptr[bounds])
        self._pool = np.empty(int((self._position_ints * n_positions + INTS_PER_SLOT * n_slots).max()), np.int32)
        self._buffers: dict[str, np.ndarray] = {}
        self._positions = None
        if bounds.size > 2:
            self._positions = self._cache_positions()
        # per-chunk (slot_of, seg_cnt, seg_list); the kernel leaves them as initialised here
        n_chunks = max(r[2].size - 1 for r in self._ranges)
        self._scratch = np.zeros((n_chunks, 3, v + 1), dtype=np.int32)
        self._scratch[:, 0] = -1

    def _range_plan(self, lo: int, hi: int) -> tuple:
        """(row pointers into the range's own positions and slots, row chunks, chunk order) of ids
        ``lo..hi-1``."""
        m = int(self.rowptr[hi] - self.rowptr[lo])
        local = np.clip(self.rowptr - self.rowptr[lo], 0, m)
        slots = np.clip(self.slotptr - self.slotptr[lo], 0, int(self.slotptr[hi] - self.slotptr[lo]))
        chunk_rows = row_chunks(local)  # balanced by positions
        # thread t takes a contiguous block of this order: chunks t, t + T, t + 2T, ...
        chunk_order = np.argsort(np.arange(chunk_rows.size - 1) % max(1, n_threads()), kind="stable")
        return local, slots, chunk_rows, chunk_order

    @property
    def n_partitions(self) -> int:
        return len(self._ranges)

    @property
    def working_set_bytes(self) -> int:
        """Bytes held for counting the largest range (its positions, slots and shard entries): what
        :func:`~corpus_stats.correlations.plan.pair_count_plan` plans per range."""
        grouped = 0 if self._position_ints else self._order.nbytes + self._room.nbytes
        return int(self._pool.nbytes + grouped)

    def _working_set(self, k: int) -> tuple:
        """Range ``k``'s views of the pool: (positions, their room, the five counting slots, the
        three shard-entry arrays), the last as long as the slots (a shard entry fills one slot)."""
        lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
        m = int(self.rowptr[hi] - self.rowptr[lo]) if self._position_ints else 0
        n = int(self.slotptr[hi] - self.slotptr[lo])
        room = m if self._position_ints == 2 else 0
        cuts = np.cumsum([0, m, room] + [n] * INTS_PER_SLOT)
        views = [self._pool[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
        if not self._position_ints:  # one range: every position was grouped once, outside the pool
            views[0], views[1] = self._order, self._room
        return views[0], views[1], views[2:7], views[7:]

    def _cache_positions(self) -> SpillFile | None:
        """Every range's grouped positions, gathered once into a temporary file (None where it
        cannot be written: then they are gathered again at every count)."""
        cache = open_spill_file(4 * self._position_ints * int(self.rowptr[-1]))
        if cache is None:
            return None
        for k in range(self.n_partitions):
            order, room, _, _ = self._working_set(k)
            self._group_range(k, order, room)
            if not cache.keep(k, order, room):
                return None
        return cache

    def _group_range(self, k: int, order: np.ndarray, room: np.ndarray) -> None:
        """Range ``k``'s positions grouped by token (and their room) into ``order`` and ``room``."""
        if self._positions is not None:
            self._positions.get(k, order, room)
        else:
            lo, hi = int(self.bounds[k]), int(self.bounds[k + 1])
            K._group_range(self.tokens, self.offsets, self.rowptr, lo, hi, order, room)

    def _buffer(self, name: str, size: int, dtype) -> np.ndarray:
        """A length-``size`` view of a buffer kept across lags: freshly allocated arrays of this size
        cost more in page faults than the compaction that fills them (measured several-fold)."""
        buf = self._buffers.get(name)
        if buf is None or buf.size < size:
            buf = self._buffers[name] = np.empty(int(size * 1.25) + 1, dtype=dtype)
        return buf[:size]

    def _count_range(self, k: int, lag: int, col_seen: np.ndarray) -> tuple:
        """Count range ``k``'s rows of J(lag) into the slots: (the range's slot pointer, active rows,
        entries per row, shard entries per row, the five counting slots, three empty shard-entry
        arrays as long as the slots); entries and shard entries per row are indexed by token."""
        local, slots, chunk_rows, chunk_order = self._ranges[k]
        order, room, counting, shard_entries = self._working_set(k)
        if self.n_partitions > 1:
            self._group_range(k, order, room)
        row_nnz = np.zeros(self.vocab_size, dtype=np.int64)
        row_nsh = np.zeros(self.vocab_size, dtype=np.int64)
        K._pair_counts(
            self.tokens, local, slots, order, room, self.shard_starts, lag, chunk_rows, chunk_order,
            self._scratch, col_seen, row_nnz, row_nsh, *counting,
        )  # fmt: skip
        return slots, np.flatnonzero(row_nnz), row_nnz, row_nsh, counting, shard_entries

    def count(self, lag: int, shard_entries: bool = True) -> LagCounts:
        """Pair counts at ``lag``. The arrays are views of buffers that the next call overwrites:
        use (or copy) one lag's counts before counting the next. Counted in several ranges, the
        shard entries are set aside per range in a temporary file (counted again when it cannot be
        written) and read back on demand (:meth:`LagCounts.shard_blocks`); ``shard_entries=False``
        skips that where they are not needed (no jackknife)."""
        v, n_shards = self.vocab_size, self.shard_starts.size - 1
        partitioned = self.n_partitions > 1
        aside = open_spill_file() if partitioned and shard_entries else None
        # several ranges: reserve room for every entry up front (pages are only touched as filled),
        # so that the ranges append without copying; one range allocates what it needs
        cap_e = min(self.tokens.size, v * v) if partitioned else 0
        col_seen = np.zeros(v, dtype=np.uint8)
        row_nnz_all = np.zeros(v, dtype=np.int64)
        row_nsh_all = np.zeros(v, dtype=np.int64)
        identity = np.arange(v, dtype=np.int32)  # columns stay token ids until every range is counted
        no_shards = [np.zeros(0, np.int32)] * 3
        left_parts, starts = [], []
        n_rows = nnz = nsh = 0
        for k in range(self.n_partitions):
            slots, act, row_nnz, row_nsh, counting, she_pool = self._count_range(k, lag, col_seen)
            indptr = np.zeros(act.size + 1, dtype=np.int64)
            shptr = np.zeros(act.size + 1, dtype=np.int64)
            np.cumsum(row_nnz[act], out=indptr[1:])
            np.cumsum(row_nsh[act], out=shptr[1:])
            e1 = nnz + int(indptr[-1])
            ent = [self._buffer(x, max(cap_e, e1), np.int32)[nnz:e1] for x in ("cols", "counts", "first", "entry_row")]
            # one range keeps its shard entries; several set them aside (or count them again later)
            she = no_shards if partitioned and aside is None else [x[: int(shptr[-1])] for x in she_pool]
            left_g = np.zeros((act.size, n_shards), dtype=np.float64)
            K._compact(
                row_parts(shptr), slots, act, row_nnz, row_nsh, indptr, shptr, identity, n_shards // 2,
                *counting, *ent, *she, left_g, True, not partitioned or aside is not None,
            )  # fmt: skip
            if n_rows:
                ent[3] += n_rows  # entry_row: rows of the earlier ranges come first
            if aside is not None:
                she[0] += nnz  # entry indices into the lag's entries: the earlier ranges' come first
                aside = aside if aside.keep(k, *she) else None
            starts.append((n_rows, nnz, shptr))
            left_parts.append(left_g)
            row_nnz_all += row_nnz
            row_nsh_all += row_nsh
            n_rows, nnz = n_rows + act.size, e1
            nsh = 0 if partitioned else int(shptr[-1])
        act_rows = np.flatnonzero(row_nnz_all)
        act_cols = np.flatnonzero(col_seen)
        col_index = np.full(v, -1, dtype=np.int32)
        col_index[act_cols] = np.arange(act_cols.size, dtype=np.int32)
        indptr = np.zeros(act_rows.size + 1, dtype=np.int64)
        shptr = np.zeros(act_rows.size + 1, dtype=np.int64)
        np.cumsum(row_nnz_all[act_rows], out=indptr[1:])
        np.cumsum(row_nsh_all[act_rows], out=shptr[1:])
        cols, counts, counts_first, entry_row = (
            self._buffers[x][:nnz] for x in ("cols", "counts", "first", "entry_row")
        )
        sh_entry, sh_g, sh_cnt = she if nsh else no_shards  # one range: its shard entries, in the pool
        _remap(cols, col_index)
        left_g = left_parts[0] if len(left_parts) == 1 else np.concatenate(left_parts)
        right_g = np.ascontiguousarray(
            K._right_marginals(self.tokens, col_index, self.offsets, self.shard_starts, lag, act_cols.size).T
        )
        pairs_g = left_g.sum(axis=0)
        recount = (lambda: self._shard_blocks(lag, col_index, starts, aside)) if partitioned else None
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
            recount,
        )

    def _shard_blocks(self, lag: int, col_index: np.ndarray, starts: list, aside: SpillFile | None):
        """Yield every range's shard entries at ``lag`` (entry indices into the lag's compacted
        counts; ``starts`` holds each range's first row and entry and its shard-entry pointers),
        read back from ``aside`` or, without it, counted again."""
        col_seen = np.zeros(self.vocab_size, dtype=np.uint8)
        no_entries = [np.zeros(0, np.int32)] * 4
        for k, (row_lo, entry_lo, shptr) in enumerate(starts):
            if aside is not None:
                she = [x[: int(shptr[-1])] for x in self._working_set(k)[3]]
                aside.get(k, *she)
                yield ShardBlock(row_lo, shptr, *she)
                continue
            slots, act, row_nnz, row_nsh, counting, she_pool = self._count_range(k, lag, col_seen)
            if act.size != shptr.size - 1 or not np.array_equal(np.cumsum(row_nsh[act]), shptr[1:]):
                raise RuntimeError(f"range {k} of lag {lag} counted other rows than the first time")
            indptr = np.zeros(act.size + 1, dtype=np.int64)
            np.cumsum(row_nnz[act], out=indptr[1:])
            she = [x[: int(shptr[-1])] for x in she_pool]
            K._compact(
                row_parts(shptr), slots, act, row_nnz, row_nsh, indptr, shptr, col_index, 0,
                *counting, *no_entries, *she, np.zeros((0, 0)), False, True,
            )  # fmt: skip
            she[0] += entry_lo
            yield ShardBlock(row_lo, shptr, *she)


def _remap(cols: np.ndarray, col_index: np.ndarray, chunk: int = 1 << 20) -> None:
    """``cols[:] = col_index[cols]`` in place, through a bounded temporary."""
    tmp = np.empty(min(chunk, cols.size), dtype=cols.dtype)
    for s in range(0, cols.size, chunk):
        part = cols[s : s + chunk]
        np.take(col_index, part, out=tmp[: part.size])
        part[:] = tmp[: part.size]


BYTES_PER_POSITION = 4  # a range's grouped position (int32); +4 room to the document's end within documents
# a range's five counting slots (int32) and its shard entries (entry, shard, count), per slot
INTS_PER_SLOT = 5 + 3
BYTES_PER_SLOT = 4 * INTS_PER_SLOT
# one lag's compacted entries: column, count, first-half count, row (int32) and the second half's count
BYTES_PER_ENTRY = 20


def slots_per_row(n_shards: int, vocab_size: int) -> int:
    """Most counting slots a row can need: one per (shard, column) pair (and never more than its positions)."""
    return n_shards * vocab_size


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
