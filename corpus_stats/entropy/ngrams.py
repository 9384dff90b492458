"""N-gram statistics of every order 1..n_levels in one counting pass, with resampled variants (private).

:func:`ngram_statistics` drives :mod:`corpus_stats.entropy._kernels_ngrams` once and returns an
:class:`NgramStatistics` holding, per n-gram order, the counts the estimators need (occurrences,
distinct, singletons, doubletons, sum c ln c, sum c psi(c)) for the full corpus, every
leave-one-shard-out jackknife replicate, the two halves of the subsample test and, optionally, the
disjoint sub-corpora of the size extrapolation. Public through :mod:`corpus_stats.entropy.curve`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_stats._random import generator
from corpus_stats.entropy import _kernels_ngrams as _k
from corpus_stats.entropy.estimators import chao_wang_jost_entropy, plugin_entropy
from corpus_stats.execution import PROCESS_BYTES, Execution, RangePlan, plan_token_ranges, token_counts
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream

_PSI1 = -0.5772156649015329  # psi(1): the singletons that never entered a tracked group
# working set per tracked position of a partition: its int64 position, its group flag and the int64
# scratch slot of the counting sort that refines its group
BYTES_PER_POSITION = 17
_ROOM: dict = {}  # per worker process: the room array of the stream last counted within documents


@dataclass(frozen=True)
class NgramPlan(RangePlan):
    """A :class:`~corpus_stats.execution.RangePlan` plus the stream's token counts (the tasks need them)."""

    counts: np.ndarray | None = None


def ngram_plan(stream: TokenStream, within_documents: bool, execution: Execution) -> NgramPlan:
    """First-token ranges for :func:`ngram_statistics` whose working sets fit ``execution.memory_limit``.

    A partition holds the tracked positions (token seen at least twice) of its first tokens,
    ``BYTES_PER_POSITION`` each; every partition also touches the memory-mapped stream (its pages,
    ``itemsize`` bytes per token, count towards the resident memory), the within-document room array
    (1 byte per token) and per-thread tables of the vocabulary. One sequential pass counts the tokens.

    Raises
    ------
    corpus_stats.execution.MemoryLimitError
        The limit is below what the most frequent token's partition needs (named in the message).
    """
    import numba

    counts = token_counts(np.asarray(stream.tokens), stream.vocab_size)
    tracked = np.where(counts >= 2, counts, 0)
    n = stream.n_tokens
    fixed = PROCESS_BYTES + stream.tokens.dtype.itemsize * n + (n if within_documents else 0)
    fixed += 24 * stream.vocab_size * (numba.get_num_threads() + 1)
    plan = plan_token_ranges(
        tracked,
        bytes_per_item=BYTES_PER_POSITION,
        fixed_bytes=fixed,
        memory_limit=execution.memory_limit,
        what="n-gram statistics (H_n)",
        min_partitions=2 * execution.executor.n_workers if execution.executor.name == "dask" else 1,
    )
    return NgramPlan(**{f: getattr(plan, f) for f in plan.__dataclass_fields__}, counts=counts)


def variant_masks(G: int, seed: int, size_fractions=()) -> tuple[np.ndarray, tuple]:
    """Shard masks of the sub-corpus variants: the two halves, then the size blocks.

    Returns ``(masks, size_blocks)``: ``masks[h, g] == 1`` when shard g belongs to sub-corpus h
    (uint8, one row per half and per block), and per size fraction ``(first_row, n_blocks,
    shards_per_block)`` with ``first_row`` indexing the variant axis of :class:`NgramStatistics`.
    The halves come from one random permutation of the shards (``seed``); the blocks are
    consecutive runs of the same permutation, so the sub-corpora of one size are disjoint.
    """
    rng = generator(seed, "entropy_halves")
    perm = rng.permutation(G)
    rows = [np.isin(np.arange(G), perm[: G // 2]), np.isin(np.arange(G), perm[G // 2 :])]
    size_blocks = []
    for f in size_fractions:
        k = min(max(round(float(f) * G), 1), G)
        b = G // k
        size_blocks.append((G + 1 + len(rows), b, k))
        rows += [np.isin(np.arange(G), perm[i * k : (i + 1) * k]) for i in range(b)]
    return np.ascontiguousarray(np.array(rows, dtype=np.uint8)), tuple(size_blocks)


def _count_range(ref, room, use_room, token_bounds, vocab_size, n_levels, masks, counts, lo, hi):
    """One partition's sums (a task: runs wherever the executor puts it)."""
    stream = ref.get()
    if use_room and room is None:
        if ref.path not in _ROOM:
            _ROOM.clear()
            _ROOM[ref.path] = _k._room(stream.doc_offsets, stream.n_tokens, True)
        room = _ROOM[ref.path]
    if room is None:
        room = np.zeros(1, np.uint8)
    tokens = np.asarray(stream.tokens)  # a memory-mapped stream stays paged by the OS
    return _k._ngram_stats(tokens, room, use_room, token_bounds, vocab_size, n_levels, masks, counts, lo, hi)


@dataclass(frozen=True, eq=False)
class NgramStatistics:
    """Per-order n-gram statistics of a corpus and of its resampled variants.

    Arrays have shape (n_variants, n_levels + 1) and are indexed ``[variant, n]`` with n the n-gram
    order (column 0 is the empty context: one "0-gram" per position, entropy 0). Variant 0 is the full
    corpus, variants 1..G leave jackknife shard g - 1 out (n-grams counted by start position), and the
    last two are the complementary halves of the shards used by the subsample test.

    Attributes
    ----------
    positions, distinct, f1, f2 : numpy.ndarray
        Number of n-gram occurrences, distinct n-grams, singletons and doubletons (int64).
    sum_clnc, sum_cpsi : numpy.ndarray
        sum over distinct n-grams of c ln c and of c psi(c) (float64).
    n_shards : int
        G, the number of jackknife shards actually used.
    shard_note : str
        How shards were formed ("documents" or a note on splitting by position).
    size_blocks : tuple of (int, int, int)
        For corpus-size extrapolation: ``(first_row, n_blocks, shards_per_block)`` per requested
        size; rows ``first_row .. first_row + n_blocks - 1`` are disjoint sub-corpora of
        ``shards_per_block`` shards each (consecutive runs of the same shard permutation as the halves).
    prefix : NgramStatistics or None
        The same statistics restricted to the n-gram occurrences that extend to an (n+1)-gram (column
        n), so that H(n+1) - H_prefix(n) is the conditional entropy of one sample of (n+1)-grams. It
        differs from the n-gram statistics only at document ends (within documents) or the stream end.
    partitions : dict or None
        The partition plan the counts came from (``RangePlan.describe()`` plus the executor).
    """

    positions: np.ndarray
    distinct: np.ndarray
    f1: np.ndarray
    f2: np.ndarray
    sum_clnc: np.ndarray
    sum_cpsi: np.ndarray
    n_shards: int
    shard_note: str
    prefix: NgramStatistics | None = None
    size_blocks: tuple = ()
    partitions: dict | None = None

    def plugin_block_entropy(self) -> np.ndarray:
        """Plug-in block entropies H(n) = ln P - sum c ln c / P (nats); NaN where P = 0."""
        h = plugin_entropy(self.positions, self.sum_clnc)
        h[:, 0] = 0.0
        return h

    def cwj_block_entropy(self) -> np.ndarray:
        """Chao–Wang–Jost (2013) block entropies (nats); NaN where P = 0."""
        h = chao_wang_jost_entropy(
            self.positions.astype(np.float64), self.f1.astype(np.float64), self.f2.astype(np.float64), self.sum_cpsi
        )
        h[:, 0] = 0.0
        return h


def ngram_statistics(
    stream: TokenStream,
    n_levels: int,
    *,
    within_documents: bool = False,
    n_shards: int | Shards = DEFAULT_SHARDS,
    seed: int = 0,
    size_fractions=(),
    execution: Execution | None = None,
) -> NgramStatistics:
    """Count n-grams of every order 1..n_levels in one pass, with jackknife and half-corpus variants.

    Parameters
    ----------
    stream : TokenStream
        The corpus.
    n_levels : int
        Largest n-gram order (``n_max + 1`` for H_0..H_n_max), at most 255.
    within_documents : bool, default False
        Count only n-grams that lie inside one document (never crossing a boundary).
    n_shards : int or Shards, default DEFAULT_SHARDS
        Jackknife shards, ``stream.shards(n_shards)``; a corpus with fewer documents than shards is split
        into equal token ranges instead (noted in ``shard_note``).
    seed : int, default 0
        Chooses which shards form the first half of the subsample test.
    size_fractions : sequence of float, default ()
        Also count disjoint sub-corpora of about this fraction of the shards each (``round(f G)``
        shards per block, ``G // that`` blocks), for the size curve of
        :func:`corpus_stats.entropy.curve.entropy_curve`.
    execution : corpus_stats.execution.Execution, optional
        Memory limit and executor: the vocabulary is cut into first-token ranges that fit the limit
        (:func:`ngram_plan`), each counted in one task; their sums are added in the plan's order, so
        the result does not depend on the partition (integer counts exactly; float sums to rounding).
        Default: one partition, in this process.

    Returns
    -------
    NgramStatistics
    """
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream; got {type(stream).__name__}.")
    if stream.vocab_size > 1 << 24:
        raise ValueError(f"vocab_size must be at most 2**24 for n-gram counting; got {stream.vocab_size:,}.")
    execution = execution or Execution.unlimited()
    N = stream.n_tokens
    shards = stream.shards(n_shards)
    token_bounds, G = shards.bounds, shards.n_shards
    shard_note = "documents" if shards.note is None else f"{shards.note}; n-grams by start position"
    token_bounds = np.ascontiguousarray(token_bounds, dtype=np.int64)
    plan = ngram_plan(stream, within_documents, execution)
    room = None
    if within_documents:
        room = _k._room(stream.segment_bounds(within_documents), N, True)
        hist = _k._room_histogram(room, token_bounds)
        # positions of shard g whose n-gram exists: room >= n
        per_shard = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, : n_levels + 1]
    else:  # n-grams run across documents: one starting at p exists iff p + n <= N
        last = np.minimum(token_bounds[1:, None], N - np.arange(n_levels + 1)[None, :] + 1)
        per_shard = np.maximum(last - token_bounds[:-1, None], 0)
    masks, size_blocks = variant_masks(G, seed, size_fractions)
    executor = execution.executor
    ref = executor.stream_ref(stream)
    task_room = room if ref.stream is not None else None  # workers rebuild it from the offsets
    common = (
        ref,
        task_room,
        bool(within_documents),
        token_bounds,
        int(stream.vocab_size),
        n_levels,
        masks,
        plan.counts,
    )
    parts = executor.map(_count_range, [common + (lo, hi) for lo, hi in plan.ranges()])
    del room
    full, jack, sub = (sum(p[i] for p in parts) for i in range(3))  # fixed order: the plan's
    P_full = per_shard.sum(axis=0)
    P = np.concatenate([P_full[None], P_full[None] - per_shard, masks.astype(np.int64) @ per_shard])
    # prefixes: occurrences of n-grams that extend to an (n+1)-gram, i.e. P(n+1) positions
    P_prefix = np.zeros_like(P)
    P_prefix[:, :-1] = P[:, 1:]
    prefix = _assemble(full[1], jack[1], sub[1], P_prefix, G, shard_note, None)
    partitions = {**plan.describe(), **executor.describe()}
    return _assemble(full[0], jack[0], sub[0], P, G, shard_note, prefix, tuple(size_blocks), partitions)


def _assemble(full, jack, sub, P, G, shard_note, prefix, size_blocks=(), partitions=None) -> NgramStatistics:
    """Per-variant statistics from the kernel's tracked-group fields and the position counts."""
    fields = np.concatenate([full[None], full[None] + jack, sub], axis=0)
    tracked = np.rint(fields[..., _k.F_NPOS]).astype(np.int64)
    untracked = P - tracked  # singletons never entered a tracked group

    def as_int(f):
        return np.rint(fields[..., f]).astype(np.int64)

    return NgramStatistics(
        positions=P,
        distinct=untracked + as_int(_k.F_NZ),
        f1=untracked + as_int(_k.F_ONE),
        f2=as_int(_k.F_TWO),
        sum_clnc=fields[..., _k.F_CLNC],
        sum_cpsi=fields[..., _k.F_CPSI] + untracked * _PSI1,
        n_shards=G,
        shard_note=shard_note,
        prefix=prefix,
        size_blocks=size_blocks,
        partitions=partitions,
    )
