"""Conditional entropy from per-context next-token counts: NSB (and plug-in, its exact check).

H_n = sum over contexts c (n tokens) of (N_c / P) * Ĥ(next token | c), where N_c counts the
occurrences of c that are followed by a token, P = sum N_c, and Ĥ is estimated from the context's
next-token counts alone -- through their counts of counts (how many next tokens were seen once,
twice, ...). With Ĥ = NSB (Nemenman, Shafee & Bialek, "Entropy and inference, revisited", NIPS 2002)
each context's estimate is the posterior mean entropy under a mixture of symmetric Dirichlet priors
over the K token types seen in the corpus, mixed so that the prior on the entropy is nearly flat.

The sums are formed for the same variants as :func:`corpus_stats.entropy.ngrams.ngram_statistics`
(full corpus, leave-one-shard-out jackknife, halves, size blocks; n-grams by start position), so
:func:`corpus_stats.entropy.curve.entropy_curve` applies its jackknife, size curve and validity
rule to them (``estimator="nsb"``; the residual bias is projected both ways there). With Ĥ = plug-in
the sums equal the block-entropy differences of ``ngram_statistics`` exactly (a test of the variant
bookkeeping).

Contexts are grouped level by level (the rank of an (n+1)-token context is the rank of its
n-token prefix and next token, one sort per level); a context seen once stays seen once at every
longer n and is carried as a count per shard instead of being sorted again. Each distinct
counts-of-counts histogram is integrated once per call (cached under a 64-bit multiset hash;
a collision, about 2^-64 per pair of histograms, would give one histogram another's estimate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_stats.entropy import _kernels_nsb as _k
from corpus_stats.entropy.ngrams import variant_masks
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream

ESTIMATORS = {"plugin": _k.PLUGIN, "nsb": _k.NSB}


@dataclass(frozen=True, eq=False)
class ContextEntropy:
    """Per-context conditional-entropy estimates H_n for every resampled variant.

    Attributes
    ----------
    values : numpy.ndarray
        (n_variants, n_max + 1): H_n of variant v (rows as in
        :class:`~corpus_stats.entropy.ngrams.NgramStatistics`: full, G jackknife, 2 halves, size
        blocks); NaN where a variant has no (n+1)-gram.
    positions : numpy.ndarray
        (n_variants, n_max + 1) int64: the number P of (n+1)-gram occurrences (context + next token).
    alphabet_size : int
        K, the number of token types seen in the corpus (the NSB prior's number of bins).
    estimator : str
        ``"nsb"`` or ``"plugin"``.
    n_histograms : int
        Distinct counts-of-counts histograms estimated (the cache size).
    """

    values: np.ndarray
    positions: np.ndarray
    alphabet_size: int
    estimator: str
    n_histograms: int


def nsb_entropy(counts, alphabet_size: int | None = None) -> float:
    """NSB posterior mean entropy (nats) of one vector of counts.

    Parameters
    ----------
    counts : array_like of int
        Non-negative counts of the observed symbols (zeros are ignored).
    alphabet_size : int, optional
        K, the number of possible symbols (at least the number of nonzero counts, at least 2).
        Default: the length of ``counts``.

    Returns
    -------
    float
        NaN when every count is 0.

    Examples
    --------
    >>> round(nsb_entropy([3, 1, 0, 0]), 4)
    0.8528
    """
    c = np.asarray(counts)
    if c.ndim != 1 or (c.size and (np.any(c < 0) or not np.all(np.mod(c, 1) == 0))):
        raise ValueError("counts must be a 1-d array of non-negative integers.")
    K = c.size if alphabet_size is None else alphabet_size
    nz = c[c > 0]
    if K < max(2, nz.size):
        raise ValueError(f"alphabet_size must be at least 2 and at least the number of nonzero counts; got {K}.")
    zs, ms = np.unique(nz, return_counts=True)
    return float(_k.nsb_entropy(zs.astype(np.float64), ms.astype(np.float64), float(K)))


def _rowmaps(G: int, masks: np.ndarray, size_blocks: tuple) -> np.ndarray:
    """rowmaps[q, g]: the row of ``masks`` holding shard g in partition q (halves, then each size), or -1."""
    first = [0] + [fr - (G + 1) for fr, _, _ in size_blocks]
    count = [2] + [b for _, b, _ in size_blocks]
    out = np.full((len(first), G), -1, dtype=np.int64)
    for q, (f, b) in enumerate(zip(first, count)):
        for r in range(f, f + b):
            out[q, masks[r].astype(bool)] = r
    return out


def context_entropy(
    stream: TokenStream,
    n_max: int,
    *,
    estimator: str = "nsb",
    within_documents: bool = False,
    n_shards: int | Shards = DEFAULT_SHARDS,
    seed: int = 0,
    size_fractions=(),
) -> ContextEntropy:
    """H_n, n = 0..n_max, from per-context next-token counts, for the full corpus and its variants.

    Parameters
    ----------
    stream : TokenStream
        The corpus.
    n_max : int
        Largest context length.
    estimator : {"nsb", "plugin"}, default "nsb"
        The per-context entropy estimator.
    within_documents, n_shards, seed, size_fractions
        As in :func:`corpus_stats.entropy.ngrams.ngram_statistics` (the same shards, halves and size
        blocks, so the variant rows line up).

    Returns
    -------
    ContextEntropy
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}; got {estimator!r}.")
    code = ESTIMATORS[estimator]
    tokens = np.asarray(stream.tokens)
    N = stream.n_tokens
    V = int(stream.vocab_size)
    token_bounds = np.ascontiguousarray(stream.shards(n_shards).bounds, dtype=np.int64)
    G = token_bounds.size - 1
    masks, size_blocks = variant_masks(G, seed, size_fractions)
    rowmaps = _rowmaps(G, masks, size_blocks)
    K = float(max(int(np.count_nonzero(np.bincount(tokens, minlength=V))), 2))
    shard = (np.searchsorted(token_bounds, np.arange(N), side="right") - 1).astype(np.int64)
    segments = stream.segment_bounds(within_documents)
    room = np.repeat(segments[1:], np.diff(segments)) - np.arange(N)  # tokens an n-gram at p may span
    cache = _k.new_cache()
    h_single = _k._estimate(np.ones(1, np.int64), 1, K, code)  # a context seen once
    n_rows = masks.shape[0]
    n_var = 1 + G + n_rows
    values = np.full((n_var, n_max + 1), np.nan)
    positions = np.zeros((n_var, n_max + 1), dtype=np.int64)
    rank = np.zeros(N, dtype=np.int64)
    active = np.flatnonzero(room >= 1)
    retired = np.zeros(0, dtype=np.int64)
    for n in range(n_max + 1):
        per_shard = np.bincount(shard[room >= n + 1], minlength=G)
        positions[:, n] = np.concatenate([[per_shard.sum()], per_shard.sum() - per_shard, masks @ per_shard])
        active = active[room[active] >= n + 1]
        key = rank[active] * V + tokens[active + n].astype(np.int64)
        order = np.argsort(key, kind="stable")
        sk, sp = key[order], active[order]
        ctx = sk // V
        ctx_new = np.ones(sk.size, dtype=bool)
        ctx_new[1:] = ctx[1:] != ctx[:-1]
        ctx_id = np.cumsum(ctx_new) - 1
        single = np.bincount(ctx_id)[ctx_id] == 1 if sk.size else np.zeros(0, bool)
        retired = np.concatenate([retired[room[retired] >= n + 1], sp[single]])
        sk, sp = sk[~single], sp[~single]
        new_child = np.ones(sk.size, dtype=bool)
        new_child[1:] = sk[1:] != sk[:-1]
        new_ctx = np.ones(sk.size, dtype=bool)
        new_ctx[1:] = (sk[1:] // V) != (sk[:-1] // V)
        full, jack, rows = np.zeros(1), np.zeros(G), np.zeros(n_rows)
        _k._context_sums(
            np.append(np.flatnonzero(new_ctx), sk.size),
            np.append(np.flatnonzero(new_child), sk.size),
            shard[sp],
            rowmaps,
            n_rows,
            G,
            K,
            code,
            cache,
            full,
            jack,
            rows,
        )
        ones = np.bincount(shard[retired], minlength=G).astype(np.float64)  # contexts seen once
        full += h_single * ones.sum()
        jack -= h_single * ones
        rows += h_single * (masks @ ones)
        sums = np.concatenate([full, full + jack, rows])
        with np.errstate(invalid="ignore", divide="ignore"):
            values[:, n] = np.where(positions[:, n] > 0, sums / np.maximum(positions[:, n], 1), np.nan)
        rank[sp] = np.cumsum(new_child) - 1  # the (n+1)-token context of each still-repeated position
        active = sp
    return ContextEntropy(
        values=values, positions=positions, alphabet_size=int(K), estimator=estimator, n_histograms=len(cache)
    )
