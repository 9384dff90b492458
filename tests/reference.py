"""Slow, obviously-correct reference implementations used to check the fast kernels.

Each function is written for clarity, not speed (Counter over zip, dense numpy). Other modules may
append their own references below.
"""

from __future__ import annotations

from collections import Counter

import numpy as np


# -- correlations (issue 3) -------------------------------------------------------------------


def pair_counter(tokens, doc_offsets, lag, within_documents=False, left_range=None):
    """Counter of (x_i, x_{i+lag}) pairs; ``left_range=(lo, hi)`` keeps pairs whose left index is in it."""
    tokens = [int(x) for x in tokens]
    n = len(tokens)
    doc_of = np.zeros(n, dtype=np.int64)
    for d in range(len(doc_offsets) - 1):
        doc_of[doc_offsets[d] : doc_offsets[d + 1]] = d
    lo, hi = (0, n) if left_range is None else left_range
    out = Counter()
    for i, (x, y) in enumerate(zip(tokens, tokens[lag:])):
        if lo <= i < hi and (not within_documents or doc_of[i] == doc_of[i + lag]):
            out[(x, y)] += 1
    return out


def dense_cov(counter, vocab_size):
    """C = J / P - a b^T as a dense V x V matrix (zero matrix when there are no pairs)."""
    j = np.zeros((vocab_size, vocab_size))
    for (x, y), c in counter.items():
        j[x, y] += c
    p = j.sum()
    if p == 0:
        return j
    return j / p - np.outer(j.sum(1) / p, j.sum(0) / p)


def norms(counter, vocab_size):
    """(operator norm, Frobenius norm) of the dense covariance."""
    c = dense_cov(counter, vocab_size)
    return float(np.linalg.norm(c, 2)), float(np.linalg.norm(c, "fro"))


def shard_counters(tokens, doc_offsets, shard_starts, lag, within_documents=False):
    """One pair Counter per shard (a pair belongs to the shard of its left token)."""
    return [
        pair_counter(tokens, doc_offsets, lag, within_documents, (shard_starts[g], shard_starts[g + 1]))
        for g in range(len(shard_starts) - 1)
    ]


def correlation_reference(tokens, doc_offsets, vocab_size, lag, shard_starts, within_documents=False):
    """op, fro, leave-one-shard-out op/fro and the split-half debiased values, all by brute force."""
    shards = shard_counters(tokens, doc_offsets, shard_starts, lag, within_documents)
    total = sum(shards, Counter())
    op, fro = norms(total, vocab_size)
    g_n = len(shards)
    jk = [norms(total - s, vocab_size) for s in shards]  # Counter subtraction drops zeros: fine
    a = dense_cov(sum(shards[: g_n // 2], Counter()), vocab_size)
    b = dense_cov(sum(shards[g_n // 2 :], Counter()), vocab_size)
    lam = np.linalg.eigvalsh(0.5 * (a.T @ b + b.T @ a))[-1]
    inner = float(np.sum(a * b))
    return dict(
        n_pairs=sum(total.values()), op=op, fro=fro,
        op_jk=np.array([x[0] for x in jk]), fro_jk=np.array([x[1] for x in jk]),
        op_deb=float(np.sign(lam) * np.sqrt(abs(lam))), fro_deb=float(np.sign(inner) * np.sqrt(abs(inner))),
    )
