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

from corpus_stats.entropy import _kernels_ngrams as _k
from corpus_stats.entropy.estimators import chao_wang_jost_entropy, plugin_entropy
from corpus_stats.stream import TokenStream

_PSI1 = -0.5772156649015329  # psi(1): the singletons that never entered a tracked group


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
    n_shards: int = 20,
    seed: int = 0,
    size_fractions=(),
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
    n_shards : int, default 20
        Jackknife shards, ``stream.shard_token_bounds(n_shards)``; a corpus with a single document is split
        into equal token ranges instead (noted in ``shard_note``).
    seed : int, default 0
        Chooses which shards form the first half of the subsample test.
    size_fractions : sequence of float, default ()
        Also count disjoint sub-corpora of about this fraction of the shards each (``round(f G)``
        shards per block, ``G // that`` blocks), for the size curve of
        :func:`corpus_stats.entropy.curve.entropy_curve`.

    Returns
    -------
    NgramStatistics
    """
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream; got {type(stream).__name__}.")
    if stream.vocab_size > 1 << 24:
        raise ValueError(f"vocab_size must be at most 2**24 for n-gram counting; got {stream.vocab_size:,}.")
    N = stream.n_tokens
    tokens = np.asarray(stream.tokens)
    if tokens.dtype == np.uint8:  # one kernel signature for small vocabularies
        tokens = tokens.astype(np.uint16)
    token_bounds = stream.shard_token_bounds(n_shards)
    G = token_bounds.size - 1
    shard_note = "documents"
    if stream.shard_bounds(n_shards).size - 1 < min(G, 2):
        shard_note = f"fewer than 2 documents: {G} shards of equal token ranges (n-grams by start position)"
    token_bounds = np.ascontiguousarray(token_bounds, dtype=np.int64)
    if within_documents:
        room = _k._room(stream.doc_offsets, N, True)
        hist = _k._room_histogram(room, token_bounds)
        # positions of shard g whose n-gram exists: room >= n
        per_shard = hist[:, ::-1].cumsum(axis=1)[:, ::-1][:, : n_levels + 1]
    else:  # n-grams run across documents: one starting at p exists iff p + n <= N
        room = np.zeros(1, np.uint8)
        last = np.minimum(token_bounds[1:, None], N - np.arange(n_levels + 1)[None, :] + 1)
        per_shard = np.maximum(last - token_bounds[:-1, None], 0)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(G)
    rows = [np.isin(np.arange(G), perm[: G // 2]), np.isin(np.arange(G), perm[G // 2 :])]
    size_blocks = []
    for f in size_fractions:  # disjoint runs of the same permutation: nested-size sub-corpora
        k = min(max(round(float(f) * G), 1), G)
        b = G // k
        size_blocks.append((G + 1 + len(rows), b, k))
        rows += [np.isin(np.arange(G), perm[i * k : (i + 1) * k]) for i in range(b)]
    masks = np.ascontiguousarray(np.array(rows, dtype=np.uint8))
    full, jack, sub = _k._ngram_stats(
        tokens, room, bool(within_documents), token_bounds, int(stream.vocab_size), n_levels, masks
    )
    del room
    P_full = per_shard.sum(axis=0)
    P = np.concatenate([P_full[None], P_full[None] - per_shard, masks.astype(np.int64) @ per_shard])
    # prefixes: occurrences of n-grams that extend to an (n+1)-gram, i.e. P(n+1) positions
    P_prefix = np.zeros_like(P)
    P_prefix[:, :-1] = P[:, 1:]
    prefix = _assemble(full[1], jack[1], sub[1], P_prefix, G, shard_note, None)
    return _assemble(full[0], jack[0], sub[0], P, G, shard_note, prefix, tuple(size_blocks))


def _assemble(full, jack, sub, P, G, shard_note, prefix, size_blocks=()) -> NgramStatistics:
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
    )
