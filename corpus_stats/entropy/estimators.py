"""Block-entropy estimators from n-gram count statistics, in nats (private).

* plug-in: ``H = ln P - sum c ln c / P`` (biased low when most n-grams are rare);
* Chao, Wang & Jost (2013), "Entropy and the species accumulation curve", Methods Ecol. Evol. 4,
  1091: ``psi(P) - sum c psi(c) / P`` plus an unseen-mass term from the singletons f1 and doubletons f2.

Both work on arrays of any shape (one entry per corpus variant and n-gram order); n-gram counting
lives in :mod:`corpus_stats.entropy.ngrams`.
"""

from __future__ import annotations

import numpy as np
import scipy.special


def plugin_entropy(P: np.ndarray, sum_clnc: np.ndarray) -> np.ndarray:
    """Plug-in entropy ln P - sum c ln c / P from sample size P and sum c ln c; NaN where P = 0."""
    P = P.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(P > 0, np.log(np.maximum(P, 1.0)) - sum_clnc / np.maximum(P, 1.0), np.nan)


def _exp1_scaled(x: np.ndarray) -> np.ndarray:
    """exp(x) E1(x) for x > 0 without overflow."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = x < 500.0
    out[small] = np.exp(x[small]) * scipy.special.exp1(x[small])
    xl = x[~small]
    out[~small] = (1.0 - 1.0 / xl + 2.0 / xl**2 - 6.0 / xl**3 + 24.0 / xl**4) / xl
    return out


def _cwj_tail(A: np.ndarray, P: np.ndarray) -> np.ndarray:
    """(1-A)^(1-P) (-ln A - sum_{r=1}^{P-1} (1-A)^r / r) = sum_{j>=1} (1-A)^j / (P-1+j).

    The first 200 terms are summed exactly, the rest by the midpoint rule as an exponential integral.
    """
    out = np.zeros_like(A)
    ok = A < 1.0
    if not ok.any():
        return out
    lam = -np.log1p(-A[ok])
    m = P[ok] - 1.0
    j = np.arange(1, 201, dtype=np.float64)
    direct = (np.exp(-lam[:, None] * j) / (m[:, None] + j)).sum(axis=1)
    rest = np.exp(-lam * 200.5) * _exp1_scaled(lam * (m + 200.5))
    out[ok] = direct + rest
    return out


def chao_wang_jost_entropy(P, f1, f2, sum_cpsi):
    """Chao, Wang & Jost (2013) entropy estimate from sample size, f1, f2 and sum c psi(c)."""
    shape = P.shape
    P, f1, f2, sum_cpsi = (np.ravel(a).astype(np.float64) for a in (P, f1, f2, sum_cpsi))
    out = np.full(P.shape, np.nan)
    ok = P > 0
    Pk, f1k, f2k = P[ok], f1[ok], f2[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        A = np.where(
            f2k > 0,
            2.0 * f2k / ((Pk - 1.0) * f1k + 2.0 * f2k),
            np.where(f1k > 0, 2.0 / ((Pk - 1.0) * (f1k - 1.0) + 2.0), 1.0),
        )
    A = np.clip(np.nan_to_num(A, nan=1.0), 0.0, 1.0)
    first = scipy.special.digamma(Pk) - sum_cpsi[ok] / Pk
    out[ok] = first + f1k / Pk * _cwj_tail(A, Pk)
    return out.reshape(shape)
