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
    lam_jk = []  # the split-half eigenvalue with shard g left out of its half
    for g in range(g_n):
        kept = [s for i, s in enumerate(shards) if i != g]
        h = g_n // 2 - (g < g_n // 2)
        a_g = dense_cov(sum(kept[:h], Counter()), vocab_size)
        b_g = dense_cov(sum(kept[h:], Counter()), vocab_size)
        lam_jk.append(np.linalg.eigvalsh(0.5 * (a_g.T @ b_g + b_g.T @ a_g))[-1])
    return dict(
        op_lam_jk=np.array(lam_jk),
        n_pairs=sum(total.values()),
        op=op,
        fro=fro,
        op_jk=np.array([x[0] for x in jk]),
        fro_jk=np.array([x[1] for x in jk]),
        op_deb=float(np.sign(lam) * np.sqrt(abs(lam))),
        fro_deb=float(np.sign(inner) * np.sqrt(abs(inner))),
    )


# --- interpolated modified Kneser-Ney (tests/test_kneser_ney.py) -------------------------------


def naive_kn_discounts(n1, n2, n3, n4):
    """Chen & Goodman D1, D2, D3+; fallback r/2 when a needed count-of-counts is 0; clip to [0.01, r]."""
    nr = [n1, n2, n3, n4]
    y = n1 / (n1 + 2 * n2) if n1 + 2 * n2 > 0 else 0.0
    out = []
    for r in (1, 2, 3):
        ok = nr[r - 1] > 0 and (n1 + 2 * n2 > 0)
        d = r - (r + 1) * y * nr[r] / nr[r - 1] if ok else r / 2
        out.append(min(max(d, 0.01), r))
    return out


class NaiveKneserNey:
    """Interpolated modified Kneser-Ney from Counters over n-gram tuples, written for clarity.

    ``segments``: training token lists; n-grams never cross a segment end, and the left neighbour of
    an n-gram at a segment start is a special BOS symbol (it counts as one continuation).
    """

    def __init__(self, segments, vocab_size, n_max):
        self.vocab_size, self.n_max = vocab_size, n_max
        self.raw = [Counter() for _ in range(n_max + 2)]  # raw[L][gram of length L]
        lefts = [dict() for _ in range(n_max + 2)]
        for seg in segments:
            seg = list(seg)
            for p in range(len(seg)):
                for length in range(1, n_max + 2):
                    if p + length > len(seg):
                        break
                    g = tuple(seg[p : p + length])
                    self.raw[length][g] += 1
                    lefts[length].setdefault(g, set()).add(seg[p - 1] if p > 0 else "BOS")
        self.cont = [Counter({g: len(s) for g, s in lefts[length].items()}) for length in range(n_max + 2)]
        self.discounts = {}
        for kind, table in (("raw", self.raw), ("cont", self.cont)):
            for length in range(1, n_max + 2):
                coc = Counter(table[length].values())
                self.discounts[kind, length - 1] = naive_kn_discounts(coc[1], coc[2], coc[3], coc[4])

    def _level(self, k, context, w, kind):
        """P at order k (context = last k tokens of ``context``), top level with ``kind`` counts."""
        if k < 0:
            return 1.0 / self.vocab_size
        lower = self._level(k - 1, context, w, "cont")
        h = tuple(context[len(context) - k :]) if k else ()
        table = self.raw if kind == "raw" else self.cont
        children = {g[-1]: c for g, c in table[k + 1].items() if g[:-1] == h}
        total = sum(children.values())
        if total == 0:
            return lower
        d = self.discounts[kind, k]
        c = children.get(w, 0)
        gamma = sum(d[min(x, 3) - 1] for x in children.values()) / total
        return max(c - (d[min(c, 3) - 1] if c else 0.0), 0.0) / total + gamma * lower

    def prob(self, n, context, w):
        """P_n(w | last n tokens of context)."""
        return self._level(n, list(context), w, "raw")

    def cross_entropy(self, segments, n):
        """Mean -ln P_n over held-out positions that have n preceding tokens in their segment."""
        losses = [
            -float(np.log(self.prob(n, seg[i - n : i], seg[i])))
            for seg in map(list, segments)
            for i in range(n, len(seg))
        ]
        return (sum(losses) / len(losses), len(losses)) if losses else (float("nan"), 0)


# -- n-gram statistics and entropy (issue 4) ----------------------------------------------------


def ngram_counter(tokens, doc_offsets, n, within_documents=False, keep_start=None):
    """Counter of n-gram tuples; ``keep_start(p)`` (optional) keeps only n-grams starting at p."""
    tokens = [int(x) for x in tokens]
    segments = (
        [(int(a), int(b)) for a, b in zip(doc_offsets[:-1], doc_offsets[1:])]
        if within_documents
        else [(0, len(tokens))]
    )
    counter = Counter()
    for a, b in segments:
        for p in range(a, b - n + 1):
            if keep_start is None or keep_start(p):
                counter[tuple(tokens[p : p + n])] += 1
    return counter


def counter_summary(counter):
    """(positions, distinct, f1, f2, sum c ln c, plug-in entropy) of a Counter of counts."""
    c = np.array(list(counter.values()), dtype=np.float64)
    if c.size == 0:
        return 0, 0, 0, 0, 0.0, float("nan")
    P = c.sum()
    clnc = float((c * np.log(c)).sum())
    return int(P), int(c.size), int((c == 1).sum()), int((c == 2).sum()), clnc, float(np.log(P) - clnc / P)


def chao_wang_jost(counts):
    """Chao, Wang & Jost (2013) entropy (nats), literal transcription of their eq. (7), slow."""
    from scipy.special import digamma

    x = np.asarray([c for c in counts if c > 0], dtype=np.float64)
    n = x.sum()
    f1, f2 = float((x == 1).sum()), float((x == 2).sum())
    first = float(sum(xi / n * (digamma(n) - digamma(xi)) for xi in x if xi <= n - 1))
    if f2 > 0:
        A = 2 * f2 / ((n - 1) * f1 + 2 * f2)
    elif f1 > 0:
        A = 2 / ((n - 1) * (f1 - 1) + 2)
    else:
        A = 1.0
    if A == 1.0 or f1 == 0:
        return first
    tail = -np.log(A) - sum((1 - A) ** r / r for r in range(1, int(n)))
    return first + f1 / n * (1 - A) ** (1 - n) * tail
