"""H_n of grammars too large to enumerate: Monte Carlo over windows with exact probabilities (private).

The stream of independent trees is stationary, so ``H_n = E[-log q(x_{n+1} | x_1..x_n)]`` over
windows drawn at a uniform position of the stream, where ``q`` is the grammar's **exact** block
distribution. :func:`monte_carlo_entropies` draws independent windows (a start tree chosen with
probability proportional to its length, a uniform offset in it, fresh trees after it) and computes,
for each, the exact ``q_k(w[:k])`` of all its prefixes by an inside-style recursion over the tree
levels (:mod:`~corpus_stats.synthetic._kernels_grammar`):

``q_k(w) E[len] = O(k) + sum_{1 <= j < k} S(j) F(j, k)``

with ``O(k)`` the expected number of occurrences of ``w[:k]`` inside one tree, ``S(j)`` the
probability that a tree ends with ``w[:j]`` and ``F(j, k)`` that a fresh run of trees starts with
``w[j:k]``. The mean of ``-log q(w_k | w[:k])`` over the windows estimates H_k without bias (no
counting, no smoothing); its standard error is the sample standard deviation over the independent
windows divided by their square root. One set of windows of ``n_max + 1`` tokens gives every n.

Which method gives a grammar's H_n is decided in one place, :func:`reference_entropies`:
enumeration (exact) for every n it completes within the limits of
:mod:`~corpus_stats.synthetic.grammar_exact`; Monte Carlo for the rest while
:func:`monte_carlo_work` stays within ``MAX_MC_WORK`` and the sampled trees within
``MAX_MC_TOKENS``; otherwise no reference (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from corpus_stats.synthetic import grammar_exact
from corpus_stats.synthetic.grammars import sample_documents

MC_SAMPLES = 10_000  # independent windows of the default estimate (s.e. ~0.01 nats on the RHM)
MAX_MC_WORK = 4e10  # rough operations of the window recursion (monte_carlo_work)
MAX_MC_TOKENS = 2e7  # tokens of the trees sampled to draw the windows (held at once: ~160 MB as int64)


@dataclass(frozen=True, eq=False)
class EntropyReference:
    """A grammar's H_n, n = 0..n_max, with how it was obtained.

    Attributes
    ----------
    values : float64[n_max + 1]
        H_n in nats (NaN where neither method is tractable).
    stderr : float64[n_max + 1]
        Standard error: 0 where enumerated (exact), the Monte Carlo standard error elsewhere.
    method : str
        ``"enumeration"``, ``"monte_carlo"`` or ``"enumeration+monte_carlo"`` (enumerated for the
        first n, Monte Carlo beyond).
    n_samples : int
        Independent windows of the Monte Carlo part (0 when fully enumerated).
    seed : int
        Seed of the Monte Carlo windows.
    """

    values: np.ndarray
    stderr: np.ndarray
    method: str
    n_samples: int = 0
    seed: int = 0

    def to_dict(self) -> dict:
        from corpus_stats._io import json_safe

        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def _length_bounds(grammar) -> tuple[np.ndarray, np.ndarray]:
    """Shortest and longest yield of a depth-d symbol, d = 0..L (d = L: a token)."""
    lo, hi = [1], [1]
    for lev in reversed(grammar.levels):
        lo.append(lo[-1] * int(lev.arity.min()))
        hi.append(hi[-1] * int(lev.arity.max()))
    return np.asarray(lo[::-1], dtype=np.int64), np.asarray(hi[::-1], dtype=np.int64)


def monte_carlo_work(grammar, n_max: int, n_samples: int = MC_SAMPLES) -> float:
    """Rough operation count of :func:`monte_carlo_entropies` (the cost rule of the method choice)."""
    n = n_max + 2
    per_level = sum(lev.prob.size * float(lev.arity.max()) * n * n + 4 * grammar.v * n * n for lev in grammar.levels)
    return float(n_samples) * per_level


def monte_carlo_tokens(grammar, n_max: int, n_samples: int = MC_SAMPLES) -> float:
    """Tokens of the trees drawn for ``n_samples`` windows of ``n_max + 1`` tokens."""
    lo, hi = _length_bounds(grammar)
    trees_after = math.ceil(n_max / lo[0])
    mean = float(_leaf_counts(grammar).sum())
    accept = mean / hi[0]  # length-biased choice of the start tree
    return float(n_samples) * mean * (1.0 / accept + trees_after)


def _leaf_counts(grammar) -> np.ndarray:
    """Expected number of leaves of each token per tree (their sum: the mean tree length)."""
    occ = grammar_exact._occupancy(grammar)[-1]
    lev = grammar.levels[-1]
    w = occ[lev.lhs] * lev.prob
    leaves = np.zeros(grammar.v)
    for c in range(lev.rhs.shape[1]):
        ok = lev.arity > c
        np.add.at(leaves, lev.rhs[ok, c], w[ok])
    return leaves


def _unigram(grammar) -> np.ndarray:
    """Stationary token distribution ``q_1`` (expected leaf counts per tree / mean length)."""
    leaves = _leaf_counts(grammar)
    return leaves / leaves.sum()


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def sample_windows(rng: np.random.Generator, grammar, n_samples: int, length: int) -> np.ndarray:
    """``n_samples`` independent windows of ``length`` tokens at uniform positions of the stream.

    Each window has its own trees: the start tree is drawn with probability proportional to its
    length (rejection against the longest), the offset uniformly in it, and fresh trees follow.
    """
    lo, hi = _length_bounds(grammar)
    after = math.ceil(max(length - 1, 0) / lo[0])
    starts = []
    while sum(len(s) for s in starts) < n_samples:
        tok, off = sample_documents(rng, grammar, n_samples)
        lengths = np.diff(off)
        keep = np.flatnonzero(rng.random(lengths.size) * hi[0] < lengths)
        starts.append([tok[off[i] : off[i + 1]] for i in keep])
    starts = [t for batch in starts for t in batch][:n_samples]
    offs = [int(rng.integers(0, t.size)) for t in starts]
    out = np.empty((n_samples, length), dtype=np.int64)
    if after:
        tok, off = sample_documents(rng, grammar, n_samples * after)
    for s in range(n_samples):
        head = starts[s][offs[s] :]
        if head.size < length:
            tail = tok[off[s * after] : off[(s + 1) * after]]
            head = np.concatenate([head, tail])
        out[s] = head[:length]
    return out


def _rule_arrays(grammar):
    levels = grammar.levels
    width = max(lev.rhs.shape[1] for lev in levels)
    rhs = np.concatenate(
        [np.pad(lev.rhs, ((0, 0), (0, width - lev.rhs.shape[1])), constant_values=-1) for lev in levels]
    )
    start = np.zeros(len(levels) + 1, dtype=np.int64)
    np.cumsum([lev.prob.size for lev in levels], out=start[1:])
    return (
        np.concatenate([lev.lhs for lev in levels]).astype(np.int64),
        np.ascontiguousarray(rhs, dtype=np.int64),
        np.concatenate([lev.arity for lev in levels]).astype(np.int64),
        np.concatenate([lev.prob for lev in levels]).astype(np.float64),
        start,
    )


def window_log_probabilities(grammar, windows: np.ndarray) -> np.ndarray:
    """``log q_k(w[:k])``, k = 1..N, for each window: the exact stationary block probabilities.

    Parameters
    ----------
    grammar : Grammar
    windows : int64[S, N]

    Returns
    -------
    float64[S, N]
    """
    from corpus_stats.synthetic._kernels_grammar import window_log_probs

    windows = np.ascontiguousarray(windows, dtype=np.int64)
    q1 = _unigram(grammar)
    with np.errstate(divide="ignore"):
        log_q1 = np.log(q1)[windows]
    lo, hi = _length_bounds(grammar)
    lhs, rhs, arity, prob, start = _rule_arrays(grammar)
    root = np.asarray(grammar.root, dtype=np.float64)
    scaled = window_log_probs(windows, -log_q1, lhs, rhs, arity, prob, start, lo, hi, root, grammar.v)
    return scaled + np.cumsum(log_q1, axis=1) - math.log(float(_leaf_counts(grammar).sum()))


def monte_carlo_entropies(grammar, n_max: int, n_samples: int = MC_SAMPLES, seed: int = 0) -> EntropyReference:
    """Monte Carlo estimate of H_n, n = 0..n_max, with its standard error (the module notes).

    H_0 and H_1 are exact (entropies of the stationary unigram and lag-1 pair distributions,
    standard error 0); H_1 only while the pair recursion is within ``grammar_exact.MAX_PAIR_WORK``.
    With H_1 known, ``-log q(w_k | w_{k-1})`` (mean H_1) is a control variate for every n: the
    estimate is the mean of ``Y - b (Z - H_1)`` with ``b = cov(Y, Z) / var(Z)`` per n, which leaves
    the expectation unchanged (up to O(1/n_samples) from estimating b) and removes the part of the
    variance the previous token explains.
    """
    rng = np.random.default_rng(seed)
    windows = sample_windows(rng, grammar, n_samples, n_max + 1)
    logq = window_log_probabilities(grammar, windows)
    if not np.all(np.isfinite(logq)):
        raise ValueError(
            f"window probabilities of {n_max + 1} tokens left the floating-point range for this grammar; "
            f"use a smaller n_max."
        )
    cond = -(logq[:, 1:] - logq[:, :-1])  # -log q(w_k | w[:k]), k = 1..n_max
    h0 = _entropy(_unigram(grammar))
    exact_h1 = n_max >= 1 and grammar_exact.pair_work(grammar) <= grammar_exact.MAX_PAIR_WORK
    if exact_h1:
        pairs = grammar_exact.pair_distributions(grammar, 1)[1]
        h1 = _entropy(pairs.ravel()) - _entropy(pairs.sum(axis=1))
        with np.errstate(divide="ignore"):
            bigram = -np.log(pairs / pairs.sum(axis=1, keepdims=True))
        z = bigram[windows[:, :-1], windows[:, 1:]] - h1  # control: mean 0
        zc = z - z.mean(axis=0)
        b = (zc * (cond - cond.mean(axis=0))).sum(axis=0) / np.maximum((zc * zc).sum(axis=0), 1e-300)
        cond = cond - b * z
    values = np.concatenate([[h0], cond.mean(axis=0)])
    stderr = np.concatenate([[0.0], cond.std(axis=0, ddof=1) / math.sqrt(n_samples)])
    if exact_h1:
        values[1], stderr[1] = h1, 0.0
    return EntropyReference(values, stderr, "monte_carlo", int(n_samples), int(seed))


def reference_entropies(grammar, n_max: int, *, n_samples: int = MC_SAMPLES, seed: int = 0) -> EntropyReference | None:
    """H_n, n = 0..n_max, by the rule of the module notes: enumeration, else Monte Carlo, else None."""
    exact = grammar_exact.conditional_entropies(grammar, n_max)
    if exact is not None and np.all(np.isfinite(exact)):
        return EntropyReference(exact, np.zeros(n_max + 1), "enumeration")
    if (
        monte_carlo_work(grammar, n_max, n_samples) > MAX_MC_WORK
        or monte_carlo_tokens(grammar, n_max, n_samples) > MAX_MC_TOKENS
    ):
        return None
    mc = monte_carlo_entropies(grammar, n_max, n_samples, seed)
    if exact is None or not np.isfinite(exact[0]):
        return mc
    done = np.isfinite(exact)
    return EntropyReference(
        np.where(done, exact, mc.values),
        np.where(done, 0.0, mc.stderr),
        "enumeration+monte_carlo",
        mc.n_samples,
        mc.seed,
    )
