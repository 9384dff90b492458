"""Exact C(t) formulas of the synthetic generators that take more than a line (private).

Kept apart from the generators so that :class:`~corpus_stats.synthetic.corpus.SyntheticCorpus` can
evaluate them without importing the modules that build it.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse

# -- one-hot covariance diag(p) - p p^T (copy process) --------------------------------------------


def _exclusive_sums(x: np.ndarray) -> np.ndarray:
    """``sum_{j != i} x_j`` for every i, from prefix and suffix sums (no cancellation)."""
    before = np.concatenate([[0.0], np.cumsum(x)[:-1]])
    after = np.concatenate([np.cumsum(x[::-1])[::-1][1:], [0.0]])
    return before + after


def covariance_norms(p: np.ndarray) -> tuple[float, float]:
    """Operator and Frobenius norms of ``D = diag(p) - p p^T`` (the one-hot covariance).

    ``p`` is normalised to sum to 1. ``D`` is positive semi-definite, so its operator norm is its
    largest eigenvalue. By eigenvalue interlacing for a rank-one downdate (Golub 1973) it lies in
    ``[p_(2), p_(1)]`` and solves the secular equation ``1 = sum_i p_i^2 / (p_i - lambda)``, which
    (as ``sum p = 1``) is ``sum_i p_i / (p_i - lambda) = 0``: increasing on that interval and solved
    by Brent's method to machine precision. ``||D||_F^2 = sum_i p_i^2 (1 - p_i)^2 +
    sum_{i != j} p_i^2 p_j^2``, with ``1 - p_i`` and ``sum_{j != i} p_j^2`` summed directly so that
    near-degenerate ``p`` (one dominant token) keeps full relative precision.
    """
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    p = p / p.sum()
    if p.size < 2:
        return 0.0, 0.0
    rest1, rest2 = _exclusive_sums(p), _exclusive_sums(p * p)
    fro = math.sqrt(float(np.sum(p * p * rest1 * rest1) + np.sum(p * p * rest2)))
    top2 = np.sort(p)[-2:]
    lo, hi = float(top2[0]), float(top2[1])
    if hi - lo <= 1e-12 * hi:  # tied largest probabilities: lambda_max = p_max to 1e-12
        return hi, fro

    def secular(lam: float) -> float:
        return float(np.sum(p / (p - lam)))

    # secular(lo+) = -inf, secular(hi-) = +inf, increasing in between.
    step = max((hi - lo) * 1e-13, 4 * np.finfo(float).eps * hi)  # stay off the poles
    a, b = lo + step, hi - step
    if secular(a) >= 0:
        return a, fro
    if secular(b) <= 0:
        return b, fro
    root = scipy.optimize.brentq(secular, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    return float(root), fro


# -- copy process ---------------------------------------------------------------------------------


def _copy_c(lags: np.ndarray, rho: float, q: np.ndarray) -> np.ndarray:
    """c(t) = (1-rho) rho q(t) + rho^2 sum_k q(k) q(k+t); ``q[k - 1] = q(k)``, zero beyond k_max."""
    k_max = q.size
    out = np.zeros(lags.size)
    for i, t in enumerate(lags):
        if t <= k_max:
            out[i] = (1 - rho) * rho * q[t - 1] + rho**2 * float(np.dot(q[: k_max - t], q[t:]))
    return out


# -- Markov chain ---------------------------------------------------------------------------------


def _markov_correlation(model: dict, lags: np.ndarray) -> dict:
    """Exact norms of C(t) for the Markov chain by propagating ``J_0^T P^t`` lag by lag."""
    pi, transition, v = model["pi"], model["transition"], model["vocab_size"]
    last = np.arange(pi.size) % v  # last token of each context code
    a = scipy.sparse.csr_matrix((np.ones(pi.size), (np.arange(pi.size), last)), shape=(pi.size, v))
    y = (a.multiply(pi[:, None])).T.toarray()  # V x S: y[a, s] = pi(s) [last(s) == a]
    p = y.sum(axis=1)
    pt = transition.T.tocsr()
    op, fro = np.zeros(lags.size), np.zeros(lags.size)
    order = np.argsort(lags)
    t_now = 0
    for idx in order:
        while t_now < lags[idx]:
            y = (pt @ y.T).T
            t_now += 1
        c = (a.T @ y.T).T - np.outer(p, p)
        op[idx] = scipy.linalg.svdvals(c)[0]
        fro[idx] = np.linalg.norm(c)
    return {"op": op, "fro": fro}
