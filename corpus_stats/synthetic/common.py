"""Argument checks and small helpers shared by the synthetic generators (private).

The checks raise ``TypeError`` / ``ValueError`` naming the argument, the rule and the value received;
the helpers are the Zipf law, its inverse-CDF draws, the entropy of a distribution and even document cuts.
"""

from __future__ import annotations

import math

import numpy as np

# -- argument checks ------------------------------------------------------------------------------


def _float(name: str, value, low: float, high: float, *, closed: str = "neither") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number; got {type(value).__name__} {value!r}.")
    value = float(value)
    lo_ok = value >= low if closed in ("left", "both") else value > low
    hi_ok = value <= high if closed in ("right", "both") else value < high
    if not (lo_ok and hi_ok and math.isfinite(value)):
        left = "[" if closed in ("left", "both") else "("
        right = "]" if closed in ("right", "both") else ")"
        raise ValueError(f"{name} must lie in {left}{low:g}, {high:g}{right}; got {value!r}.")
    return value


def _lags(lags) -> np.ndarray:
    lags = np.atleast_1d(np.asarray(lags))
    if lags.ndim != 1 or lags.dtype.kind not in "ui" or (lags.size and lags.min() < 1):
        raise ValueError(f"lags must be a 1-D array of positive integers; got {lags!r}.")
    return lags.astype(np.int64)


# -- shared by several generators -----------------------------------------------------------------


def _even_offsets(n_tokens: int, n_documents: int) -> np.ndarray:
    return np.linspace(0, n_tokens, n_documents + 1).round().astype(np.int64)


def _zipf_probs(size: int, exponent: float) -> np.ndarray:
    p = np.arange(1, size + 1, dtype=np.float64) ** -exponent
    return p / p.sum()


def _draw(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """iid draws of indices 0..len(probs)-1 by inverse CDF (fast for large vocabularies)."""
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int64)


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())
