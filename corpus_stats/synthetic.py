"""Synthetic corpora whose correlation and entropy curves are known exactly (DESIGN.md §4).

Every generator is seeded, returns a frozen :class:`SyntheticCorpus` holding a
:class:`~corpus_stats.stream.TokenStream` (no eos; ``eos_id=None``), and knows, where they exist,
the exact curves:

========================  ======================================  ===============================
generator                 exact C(t)                              exact H_n
========================  ======================================  ===============================
:func:`iid_zipf`          0                                       H_0 for every n
:func:`markov_chain`      by propagating the block chain          enumeration (H_n = H_k, n >= k)
:func:`copy_process`      c(t) (diag p - p p^T), closed form      --
:func:`santa_fe`          f(t) C_0 (f = within-document share)    H(K) + ln2 sum_k p_k (1-p_k)^n
:func:`random_hierarchy`  -- (beta ~ ln m / ln s, loose)          --
========================  ======================================  ===============================

Markov and copy streams are one continuous stationary sequence cut into documents, so their
stream-mode statistics are exact; Santa Fe's H_n holds for contexts inside one document.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse
import scipy.sparse.linalg
from scipy.sparse.csgraph import breadth_first_order, connected_components

from corpus_stats._kernels_synthetic import _markov_chain
from corpus_stats.stream import TokenStream

__all__ = [
    "KINDS",
    "SyntheticCorpus",
    "copy_process",
    "iid_zipf",
    "markov_chain",
    "random_hierarchy",
    "santa_fe",
]

_LN2 = math.log(2.0)


# -- validation helpers ---------------------------------------------------------------------------


def _int(name: str, value, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}.")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum:,}" if maximum is None else f"in {minimum:,}..{maximum:,}"
        raise ValueError(f"{name} must be an integer {bound}; got {value:,}.")
    return value


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


# -- the result ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SyntheticCorpus:
    """A generated corpus and what is known exactly about it.

    Attributes
    ----------
    stream : TokenStream
        The tokens (``eos_id=None``) with their documents.
    kind : str
        Generator name: ``"iid_zipf"``, ``"markov_chain"``, ``"copy_process"``, ``"santa_fe"`` or
        ``"random_hierarchy"``.
    params : dict
        The generator's arguments (JSON-safe), enough to regenerate the corpus.
    expected_beta : float or None
        Asymptotic exponent of ``||C(t)||`` (``None`` when C(t) is not a power law).
    expected_gamma : float or None
        Asymptotic exponent of ``H_n - H_inf`` (``None`` when H_n is not a power law).
    """

    stream: TokenStream
    kind: str
    params: dict
    expected_beta: float | None = None
    expected_gamma: float | None = None
    _model: dict = field(default_factory=dict, repr=False)

    def exact_entropy(self, n_max: int) -> np.ndarray | None:
        """Exact conditional entropy ``H_n`` in nats for ``n = 0..n_max``, or ``None`` if unknown.

        For Santa Fe the values hold for contexts inside one document (``within_documents``).
        """
        n_max = _int("n_max", n_max, 0)
        n = np.arange(n_max + 1)
        m = self._model
        if self.kind == "iid_zipf":
            return np.full(n_max + 1, _entropy(m["p"]))
        if self.kind == "markov_chain":
            h = m["block_entropy_differences"]  # H_0..H_k
            return np.concatenate([h, np.full(max(n_max + 1 - h.size, 0), h[-1])])[: n_max + 1]
        if self.kind == "santa_fe":
            p = m["p"]
            tail = ((1.0 - p)[None, :] ** n[:, None] * p[None, :]).sum(axis=1)
            return _entropy(p) + _LN2 * tail
        return None

    def exact_correlation(self, lags, *, within_documents: bool = False) -> dict | None:
        """Exact ``||C(t)||_op`` and ``||C(t)||_F`` at ``lags``, or ``None`` if unknown.

        ``C_ab(t) = P(x_i = a, x_{i+t} = b) - P(a) P(b)`` is the expectation over the pairs the
        estimator counts: all pairs of the stream (``within_documents=False``, the default) or pairs
        inside one document. The two agree for the continuous iid, Markov and copy streams; for
        Santa Fe only the within-document share of the pairs is correlated.

        Returns
        -------
        dict or None
            ``{"op": float64[L], "fro": float64[L]}``.
        """
        lags = _lags(lags)
        m = self._model
        if self.kind == "iid_zipf":
            return {"op": np.zeros(lags.size), "fro": np.zeros(lags.size)}
        if self.kind == "copy_process":
            c = _copy_c(lags, m["rho"], m["q"])
            return {"op": c * m["d_op"], "fro": c * m["d_fro"]}
        if self.kind == "markov_chain":
            return _markov_correlation(m, lags)
        if self.kind == "santa_fe":
            p = m["p"]
            lengths = np.diff(self.stream.doc_offsets)
            inside = np.maximum(lengths[None, :] - lags[:, None], 0).sum(axis=1).astype(float)
            if within_documents:
                share = np.where(inside > 0, 1.0, np.nan)
            else:
                share = inside / np.maximum(self.stream.n_tokens - lags, 1)
            return {"op": share * p.max() ** 2 / 2.0, "fro": share * math.sqrt(np.sum(p**4)) / 2.0}
        return None


def _corpus(kind, tokens, offsets, vocab_size, params, beta=None, gamma=None, model=None):
    provenance = {"source": "synthetic", "kind": kind, "params": params}
    stream = TokenStream(tokens, offsets, vocab_size, None, provenance)
    return SyntheticCorpus(stream, kind, params, beta, gamma, model or {})


# -- iid ------------------------------------------------------------------------------------------


def iid_zipf(
    n_tokens: int,
    vocab_size: int = 1000,
    exponent: float = 1.0,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """iid tokens with a Zipf unigram ``p_r ∝ r^(-exponent)`` (token id ``r - 1``).

    Parameters
    ----------
    n_tokens : int
        Stream length (>= 1).
    vocab_size : int, default 1000
        Number of token ids (>= 2).
    exponent : float, default 1.0
        Zipf exponent (>= 0; 0 is uniform).
    n_documents : int, default 100
        Number of equal documents the stream is cut into (<= n_tokens).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        Exact ``C(t) = 0`` for every t and ``H_n = H_0 = -sum p ln p`` for every n: the null case, on
        which a measured norm must sit at the shuffled floor and plug-in H_n fakes a decay.

    Examples
    --------
    >>> c = iid_zipf(10_000, vocab_size=50, seed=1)
    >>> c.stream.n_tokens, c.exact_entropy(2).round(3).tolist()
    (10000, [3.197, 3.197, 3.197])
    """
    n_tokens = _int("n_tokens", n_tokens, 1)
    vocab_size = _int("vocab_size", vocab_size, 2)
    exponent = _float("exponent", exponent, 0.0, 10.0, closed="left")
    n_documents = _int("n_documents", n_documents, 1, n_tokens)
    seed = _int("seed", seed, 0)
    params = {
        "n_tokens": n_tokens,
        "vocab_size": vocab_size,
        "exponent": exponent,
        "n_documents": n_documents,
        "seed": seed,
    }
    rng = np.random.default_rng(seed)
    p = _zipf_probs(vocab_size, exponent)
    tokens = _draw(rng, p, n_tokens)
    return _corpus("iid_zipf", tokens, _even_offsets(n_tokens, n_documents), vocab_size, params, model={"p": p})


# -- Markov ---------------------------------------------------------------------------------------


def _closed_class(transition: scipy.sparse.csr_matrix) -> np.ndarray:
    """States of the largest closed communicating class (no transition leaves it)."""
    n_comp, labels = connected_components(transition, directed=True, connection="strong")
    coo = transition.tocoo()
    leaving = labels[coo.row] != labels[coo.col]
    is_open = np.zeros(n_comp, dtype=bool)
    is_open[labels[coo.row[leaving]]] = True
    closed = np.flatnonzero(~is_open)
    sizes = np.bincount(labels, minlength=n_comp)
    return np.flatnonzero(labels == closed[np.argmax(sizes[closed])])


def _period(transition: scipy.sparse.csr_matrix) -> int:
    """Period of an irreducible chain (gcd of the level differences along its edges)."""
    order, pred = breadth_first_order(transition, 0, directed=True, return_predecessors=True)
    level = np.zeros(transition.shape[0], dtype=np.int64)
    for node in order[1:]:
        level[node] = level[pred[node]] + 1
    coo = transition.tocoo()
    diffs = np.abs(level[coo.row] + 1 - level[coo.col])
    return int(np.gcd.reduce(diffs[diffs > 0])) if np.any(diffs > 0) else 1


def _stationary(transition: scipy.sparse.csr_matrix, states: np.ndarray) -> np.ndarray:
    """Stationary distribution supported on the closed class ``states``: pi (P - I) = 0, sum 1."""
    sub = transition[states][:, states]
    n = sub.shape[0]
    a = (sub.T - scipy.sparse.identity(n, format="csr")).tolil()
    a[0, :] = 1.0
    rhs = np.zeros(n)
    rhs[0] = 1.0
    pi = np.zeros(transition.shape[0])
    pi[states] = np.clip(scipy.sparse.linalg.spsolve(a.tocsc(), rhs), 0.0, None)
    return pi / pi.sum()


def markov_chain(
    n_tokens: int,
    vocab_size: int = 8,
    order: int = 2,
    n_successors: int = 3,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """A stationary order-k Markov chain with a sparse random transition tensor.

    Every context (``vocab_size ** order`` of them) allows ``n_successors`` distinct next tokens
    with Dirichlet(1) probabilities. A sparse random tensor usually leaves some contexts
    transient, so the chain runs on its largest closed communicating class (tensors whose class is
    periodic or smaller than half the contexts are redrawn); the first ``order`` tokens are drawn
    from the stationary block distribution on that class, so the whole stream is stationary and
    ergodic. One continuous sequence is cut into
    ``n_documents`` equal documents.

    Parameters
    ----------
    n_tokens : int
        Stream length (> order).
    vocab_size : int, default 8
        Number of token ids (>= 2).
    order : int, default 2
        Markov order k (>= 1); ``vocab_size ** order`` must not exceed 2**20.
    n_successors : int, default 3
        Allowed next tokens per context (1..vocab_size).
    n_documents : int, default 100
        Number of documents the stream is cut into.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        With exact ``H_n`` (see Notes) and exact ``C(t)``, which decays exponentially.

    Notes
    -----
    With ``pi`` the stationary distribution of the k-blocks, the m-block distribution for m <= k is
    the marginal of ``pi`` over its first k - m positions, ``H(B_m)`` its entropy, and
    ``H_n = H(B_{n+1}) - H(B_n)`` for ``n < k``; for ``n >= k``,
    ``H_n = H_k = sum_s pi(s) H(P(. | s))`` (Cover & Thomas, *Elements of Information Theory*, ch. 4).
    ``C(t)`` follows from ``P(x_i = a, x_{i+t} = b) = sum pi(s) [P^t](s, s')`` over blocks ``s``
    ending in ``a`` and ``s'`` ending in ``b``.
    """
    n_tokens = _int("n_tokens", n_tokens, 2)
    vocab_size = _int("vocab_size", vocab_size, 2)
    order = _int("order", order, 1)
    if vocab_size**order > 2**20:
        raise ValueError(
            f"vocab_size ** order (the number of contexts) must be at most 2**20 = 1,048,576; "
            f"got {vocab_size}**{order} = {vocab_size**order:,}."
        )
    if n_tokens <= order:
        raise ValueError(f"n_tokens must exceed order ({order}); got {n_tokens}.")
    n_successors = _int("n_successors", n_successors, 1, vocab_size)
    n_documents = _int("n_documents", n_documents, 1, n_tokens)
    seed = _int("seed", seed, 0)
    params = {
        "n_tokens": n_tokens,
        "vocab_size": vocab_size,
        "order": order,
        "n_successors": n_successors,
        "n_documents": n_documents,
        "seed": seed,
    }
    rng = np.random.default_rng(seed)
    n_states = vocab_size**order
    for _ in range(100):
        successors = np.argsort(rng.random((n_states, vocab_size)), axis=1)[:, :n_successors]
        successors = np.sort(successors, axis=1)
        probs = rng.dirichlet(np.ones(n_successors), size=n_states)
        rows = np.repeat(np.arange(n_states), n_successors)
        cols = (rows * vocab_size + successors.ravel()) % n_states
        transition = scipy.sparse.csr_matrix((probs.ravel(), (rows, cols)), shape=(n_states, n_states))
        states = _closed_class(transition)
        if 2 * states.size >= n_states and _period(transition[states][:, states]) == 1:
            break
    else:
        raise ValueError(
            "could not draw an ergodic chain (an aperiodic closed class holding at least half the "
            f"contexts) in 100 tries with n_successors={n_successors}, vocab_size={vocab_size}, "
            f"order={order}; increase n_successors."
        )
    pi = _stationary(transition, states)
    cumprob = np.cumsum(probs, axis=1)
    cumprob[:, -1] = 1.0

    tokens = np.empty(n_tokens, dtype=np.int64)
    state = int(_draw(rng, pi, 1)[0])
    digits = np.array([(state // vocab_size ** (order - 1 - j)) % vocab_size for j in range(order)])
    tokens[:order] = digits
    _markov_chain(
        tokens,
        state,
        successors.astype(np.int64),
        cumprob,
        rng.random(n_tokens - order),
        vocab_size,
        n_states,
    )

    # block entropies H(B_m), m = 0..k, by marginalising pi over its leading positions
    blocks = pi.reshape((vocab_size,) * order)
    block_h = [0.0] + [_entropy(blocks.sum(axis=tuple(range(order - m))).ravel()) for m in range(1, order + 1)]
    h_k = float(-(pi[:, None] * probs * np.log(probs, where=probs > 0, out=np.zeros_like(probs))).sum())
    h = np.array([block_h[m + 1] - block_h[m] for m in range(order)] + [h_k])
    model = {
        "pi": pi,
        "transition": transition,
        "block_entropy_differences": h,
        "vocab_size": vocab_size,
    }
    return _corpus(
        "markov_chain",
        tokens,
        _even_offsets(n_tokens, n_documents),
        vocab_size,
        params,
        model=model,
    )


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


# -- copy process ---------------------------------------------------------------------------------


def _copy_c(lags: np.ndarray, rho: float, q: np.ndarray) -> np.ndarray:
    """c(t) = (1-rho) rho q(t) + rho^2 sum_k q(k) q(k+t); ``q[k - 1] = q(k)``, zero beyond k_max."""
    k_max = q.size
    out = np.zeros(lags.size)
    for i, t in enumerate(lags):
        if t <= k_max:
            out[i] = (1 - rho) * rho * q[t - 1] + rho**2 * float(np.dot(q[: k_max - t], q[t:]))
    return out


def copy_process(
    n_tokens: int,
    vocab_size: int = 1000,
    rho: float = 0.5,
    a: float = 0.5,
    k_max: int = 1000,
    zipf_exponent: float = 1.0,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """Tokens copied from an iid Zipf sequence at power-law distances.

    An underlying iid sequence ``y_j ~ p`` (Zipf) is drawn; token ``i`` is ``x_i = y_{i-K_i}`` with
    ``K_i = 0`` with probability ``1 - rho`` and otherwise ``K_i ~ q(k) ∝ k^(-(1+a))``,
    ``k = 1..k_max``, all ``K_i`` independent. Copies point into ``y``, never into ``x``, so they do
    not chain. ``y`` starts ``k_max`` positions before ``x``, so the stream is stationary.

    Parameters
    ----------
    n_tokens : int
        Stream length.
    vocab_size : int, default 1000
        Number of token ids.
    rho : float, default 0.5
        Copy probability, in (0, 1).
    a : float, default 0.5
        Tail exponent of the copy distance, > 0; ``beta -> 1 + a``.
    k_max : int, default 1000
        Largest copy distance; ``C(t) = 0`` for ``t > k_max``.
    zipf_exponent : float, default 1.0
        Exponent of the unigram ``p``.
    n_documents : int, default 100
        Number of documents the stream is cut into.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        ``expected_beta = 1 + a`` and exact ``C(t)``.

    Notes
    -----
    ``x_i`` and ``x_{i+t}`` are the same draw of ``y`` iff ``K_{i+t} = K_i + t`` and independent
    draws otherwise, so ``P(a, b) = c p_a δ_ab + (1 - c) p_a p_b`` and
    ``C(t) = c(t) (diag p - p p^T)`` with

    ``c(t) = P(K_{i+t} = K_i + t) = (1-rho) rho q(t) + rho^2 sum_k q(k) q(k+t)``

    (first term: ``K_i = 0``, ``K_{i+t} = t``; second: ``K_i = k >= 1``). Hence
    ``||C(t)||_op = c(t) lambda_max(diag p - p p^T)`` and ``||C(t)||_F = c(t) ||diag p - p p^T||_F``
    (see :func:`covariance_norms`); both terms of ``c(t)`` fall as ``t^-(1+a)`` for
    ``1 << t << k_max``.
    """
    n_tokens = _int("n_tokens", n_tokens, 1)
    vocab_size = _int("vocab_size", vocab_size, 2)
    rho = _float("rho", rho, 0.0, 1.0)
    a = _float("a", a, 0.0, 10.0)
    k_max = _int("k_max", k_max, 1)
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = _int("n_documents", n_documents, 1, n_tokens)
    seed = _int("seed", seed, 0)
    params = {
        "n_tokens": n_tokens,
        "vocab_size": vocab_size,
        "rho": rho,
        "a": a,
        "k_max": k_max,
        "zipf_exponent": zipf_exponent,
        "n_documents": n_documents,
        "seed": seed,
    }
    rng = np.random.default_rng(seed)
    p = _zipf_probs(vocab_size, zipf_exponent)
    q = _zipf_probs(k_max, 1.0 + a)
    y = _draw(rng, p, n_tokens + k_max)
    k = np.where(rng.random(n_tokens) < rho, _draw(rng, q, n_tokens) + 1, 0)
    tokens = y[np.arange(n_tokens) + k_max - k]
    d_op, d_fro = covariance_norms(p)
    model = {"p": p, "q": q, "rho": rho, "d_op": d_op, "d_fro": d_fro}
    return _corpus(
        "copy_process",
        tokens,
        _even_offsets(n_tokens, n_documents),
        vocab_size,
        params,
        beta=1.0 + a,
        model=model,
    )


# -- Santa Fe -------------------------------------------------------------------------------------


def santa_fe(
    n_tokens: int, b: float = 0.5, n_keys: int = 10_000, doc_length: int = 10_000, seed: int = 0
) -> SyntheticCorpus:
    """The Santa Fe process (Dębowski): keys with power-law frequencies reveal bits of a hidden string.

    Each document has its own hidden fair bit string ``z_1..z_{n_keys}``. Tokens are iid keys
    ``K ~ p_k ∝ k^(-1/b)``, ``k = 1..n_keys``, emitted with their bit, ``(k, z_k)``, as the id
    ``2 (k - 1) + z_k``; ``vocab_size = 2 n_keys``. Documents have ``doc_length`` tokens (the last
    one may be shorter).

    Parameters
    ----------
    n_tokens : int
        Stream length.
    b : float, default 0.5
        Hilberg exponent, in (0, 1); ``gamma = 1 - b``.
    n_keys : int, default 10_000
        Number of keys (the Zipf law is truncated there).
    doc_length : int, default 10_000
        Tokens per document; keep it much longer than the ``n_max`` you estimate.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        ``expected_gamma = 1 - b``; exact ``H_n`` within documents; exact ``C(t)``.

    Notes
    -----
    Given n previous tokens of the same document, the next key is unpredictable (``H(K)``) and its
    bit is known iff that key occurred among them, so, exactly,
    ``H_n = H(K) + ln 2 sum_k p_k (1 - p_k)^n`` nats (Dębowski 2011, *IEEE Trans. Inf. Theory*
    57:4589; 2021, *Information Theory Meets Power Laws*). The formula uses the **truncated**
    normalised ``p`` (so it is exact at any ``n_keys``); truncation makes the tail
    ``sum p_k (1-p_k)^n ~ n^-(1-b)`` fall exponentially once ``n >~ 1 / p_{n_keys}``
    (``~ n_keys^(1/b)``, far beyond practical ``n``). Contexts crossing a document boundary see a
    different bit string, so stream-mode H_n is larger than this. Within a document
    ``C_{(k,z),(k',z')} = δ_kk' p_k^2 (δ_zz'/2 - 1/4)`` for every t (the bits never decorrelate):
    ``||C||_op = p_1^2 / 2``, ``||C||_F = sqrt(sum p_k^4) / 2``; stream mode multiplies by the share
    of pairs at lag t that lie inside one document. There is no power-law ``C(t)``.

    These are population values. With D documents the realised share f_k of documents with
    ``z_k = 0`` scatters around 1/2, so a measurement's block of key k is ``2 p_k^2 f_k (1 - f_k)``,
    of expectation ``(p_k^2 / 2)(1 - 1/D)``, and its H_0 is lower by about ``p_1 / (2 D)``: use
    hundreds of documents (the reference case uses D = 500, a 0.2% bias).
    """
    n_tokens = _int("n_tokens", n_tokens, 1)
    b = _float("b", b, 0.0, 1.0)
    n_keys = _int("n_keys", n_keys, 1, 2**31 - 1)
    doc_length = _int("doc_length", doc_length, 1)
    seed = _int("seed", seed, 0)
    params = {
        "n_tokens": n_tokens,
        "b": b,
        "n_keys": n_keys,
        "doc_length": doc_length,
        "seed": seed,
    }
    n_docs = -(-n_tokens // doc_length)
    if n_docs * n_keys > 2**31:
        raise ValueError(
            f"n_documents * n_keys (hidden bits to draw) must be at most 2**31; got "
            f"{n_docs:,} * {n_keys:,}; use longer documents or fewer keys."
        )
    rng = np.random.default_rng(seed)
    p = _zipf_probs(n_keys, 1.0 / b)
    keys = _draw(rng, p, n_tokens)
    bits = rng.integers(0, 2, size=(n_docs, n_keys), dtype=np.uint8)
    doc = np.arange(n_tokens) // doc_length
    tokens = 2 * keys + bits[doc, keys]
    offsets = np.minimum(np.arange(n_docs + 1, dtype=np.int64) * doc_length, n_tokens)
    return _corpus("santa_fe", tokens, offsets, 2 * n_keys, params, gamma=1.0 - b, model={"p": p})


# -- Random Hierarchy Model -----------------------------------------------------------------------


def random_hierarchy(
    n_levels: int = 3, v: int = 16, m: int = 4, s: int = 2, n_documents: int = 1000, seed: int = 0
) -> SyntheticCorpus:
    """The Random Hierarchy Model (Cagnetta, Petrini, Tomasini, Favero & Wyart, PRX 14, 2024).

    A random context-free grammar: at each of ``n_levels`` levels, each of ``v`` symbols has ``m``
    production rules, each producing ``s`` symbols of the level below; the ``m v`` right-hand sides
    of a level are distinct (an unambiguous grammar; needs ``m <= v**(s-1)``). One document is one
    tree: a uniform root symbol expanded down to ``s**n_levels`` leaf tokens (ids ``0..v-1``), each
    rule chosen uniformly. The grammar is shared by all documents.

    Parameters
    ----------
    n_levels : int, default 3
        Depth L (>= 1).
    v : int, default 16
        Symbols per level (the vocabulary size), >= 2.
    m : int, default 4
        Rules per symbol, ``1 <= m <= v**(s-1)``.
    s : int, default 2
        Branching factor (>= 2).
    n_documents : int, default 1000
        Number of trees.
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` (grammar and samples).

    Returns
    -------
    SyntheticCorpus
        ``expected_beta = ln m / ln s`` (approximate), no exact curves.

    Notes
    -----
    Two leaves at distance ``t ~ s^l`` typically meet at level ``l``, and their correlation falls by
    a factor of order ``m`` per level, giving a step-like decay with
    ``beta ≈ ln m / ln s`` on average over lags (Cagnetta & Wyart 2024, arXiv 2406.00048). This
    is a loose check: the decay is a staircase, not a clean power law, and only lags
    ``t < s**n_levels`` exist within a document.

    Caution (measured here, seed 0, 2e6 tokens): the decay shows for **position-aligned** pairs
    (leaf 0 against leaf t of each tree: ``||C||_op`` = 0.063, 0.020, 0.0044, 0.0011 at t = 1, 2, 4, 8
    for L=5, v=16, m=4, s=2, local slopes 1.7-2.2 against ln m / ln s = 2; but slopes ~1.4-2.1 for
    m=2, where ln m / ln s = 1). The **position-averaged** C(t) that ``correlation_curve`` measures
    on the stream (even within documents) does not decay: it plateaus (~0.008 for t >= 2 in the
    first example) because token marginals depend on the position in the tree, so
    ``expected_beta`` must not be used as a tolerance on stream measurements.
    """
    n_levels = _int("n_levels", n_levels, 1)
    v = _int("v", v, 2)
    s = _int("s", s, 2)
    m = _int("m", m, 1, v ** (s - 1))
    n_documents = _int("n_documents", n_documents, 1)
    seed = _int("seed", seed, 0)
    doc_len = s**n_levels
    if n_documents * doc_len > 2**31:
        raise ValueError(f"n_documents * s**n_levels must be at most 2**31; got {n_documents * doc_len:,}.")
    params = {
        "n_levels": n_levels,
        "v": v,
        "m": m,
        "s": s,
        "n_documents": n_documents,
        "seed": seed,
    }
    rng = np.random.default_rng(seed)
    powers = v ** np.arange(s - 1, -1, -1)
    rules = []  # rules[l][symbol, rule] -> s children (top level first)
    for _ in range(n_levels):
        codes = rng.choice(v**s, size=m * v, replace=False)
        rules.append(((codes[:, None] // powers[None, :]) % v).reshape(v, m, s))
    symbols = rng.integers(0, v, size=(n_documents, 1))
    for level_rules in rules:
        choice = rng.integers(0, m, size=symbols.shape)
        symbols = level_rules[symbols, choice].reshape(n_documents, -1)
    tokens = symbols.ravel()
    offsets = np.arange(n_documents + 1, dtype=np.int64) * doc_len
    return _corpus(
        "random_hierarchy",
        tokens,
        offsets,
        v,
        params,
        beta=math.log(m) / math.log(s) if m > 1 else None,
        model={"rules": rules},
    )


KINDS = {
    "iid_zipf": iid_zipf,
    "markov_chain": markov_chain,
    "copy_process": copy_process,
    "santa_fe": santa_fe,
    "random_hierarchy": random_hierarchy,
}


# -- by name, and to disk (used by `corpus-stats synth`) -------------------------------------------

PAPER_LAGS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192)


def make(kind: str, n_tokens: int, seed: int = 0, **params) -> SyntheticCorpus:
    """Generate a corpus of about ``n_tokens`` tokens by generator name.

    ``random_hierarchy`` makes whole trees: ``ceil(n_tokens / s**n_levels)`` documents.
    Other keyword arguments go to the generator.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")
    if kind == "random_hierarchy":
        if "n_documents" in params:
            raise ValueError("random_hierarchy takes its size from n_tokens; do not pass n_documents.")
        s, levels = int(params.get("s", 2)), int(params.get("n_levels", 3))
        n_tokens = _int("n_tokens", n_tokens, 1)
        return random_hierarchy(n_documents=-(-n_tokens // s**levels), seed=seed, **params)
    try:
        return KINDS[kind](n_tokens, seed=seed, **params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ValueError(f"{kind} does not take that parameter: {exc}.") from None
        raise


def _json_curve(values) -> list | None:
    if values is None:
        return None
    return [None if not np.isfinite(v) else float(v) for v in values]


def describe(corpus: SyntheticCorpus, n_max: int = 32, lags=PAPER_LAGS) -> dict:
    """JSON-safe summary: kind, params, expected exponents and the exact curves where known."""
    corr = corpus.exact_correlation(lags)
    return {
        "kind": corpus.kind,
        "params": corpus.params,
        "n_tokens": corpus.stream.n_tokens,
        "n_documents": corpus.stream.n_documents,
        "vocab_size": corpus.stream.vocab_size,
        "expected_beta": corpus.expected_beta,
        "expected_gamma": corpus.expected_gamma,
        "exact_entropy_nats": _json_curve(corpus.exact_entropy(n_max)),
        "lags": list(map(int, lags)),
        "exact_correlation_op": None if corr is None else _json_curve(corr["op"]),
        "exact_correlation_fro": None if corr is None else _json_curve(corr["fro"]),
    }


def write_corpus(corpus: SyntheticCorpus, directory, fmt: str = "text", overwrite: bool = False):
    """Write ``corpus`` to ``directory`` and return the path of the written corpus.

    ``fmt="text"`` writes ``corpus.txt``: one document per line, token ids as decimal words
    separated by single spaces. A word-level (whitespace) tokenizer reads it back up to a relabelling
    of the ids, which leaves every statistic here (norms of C(t), H_n) unchanged.
    ``fmt="stream"`` writes a :class:`TokenStream` (``stream/``, load with ``TokenStream.load``).
    Both also write ``synthetic.json`` (:func:`describe`: parameters and exact curves).
    """
    import json
    import os
    from pathlib import Path

    if fmt not in ("text", "stream"):
        raise ValueError(f"format must be 'text' or 'stream'; got {fmt!r}.")
    directory = Path(directory)
    target = directory / ("corpus.txt" if fmt == "text" else "stream")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; choose another directory or overwrite.")
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "stream":
        corpus.stream.save(target, overwrite=overwrite)
    else:
        tmp = target.with_name(f".{target.name}.tmp")
        tokens, off = corpus.stream.tokens, corpus.stream.doc_offsets
        with open(tmp, "w", encoding="ascii") as fh:
            for i in range(corpus.stream.n_documents):
                fh.write(" ".join(map(str, tokens[off[i] : off[i + 1]].tolist())))
                fh.write("\n")
        os.replace(tmp, target)
    (directory / "synthetic.json").write_text(json.dumps(describe(corpus), indent=2))
    return target
