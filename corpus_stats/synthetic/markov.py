"""The stationary order-k Markov chain generator and its chain helpers (private).

Public through :mod:`corpus_stats.synthetic`. The chain runs on the largest aperiodic closed class of
a sparse random transition tensor; its exact C(t) is in :mod:`corpus_stats.synthetic.exact`, the
sampling loop in :mod:`corpus_stats.synthetic._kernels`.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse
import scipy.sparse.linalg
from scipy.sparse.csgraph import breadth_first_order, connected_components

from corpus_stats._checks import check_int
from corpus_stats.synthetic._kernels import _markov_chain
from corpus_stats.synthetic.common import _draw, _entropy, _even_offsets
from corpus_stats.synthetic.corpus import SyntheticCorpus, _corpus

# -- chain structure ------------------------------------------------------------------------------


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


# -- the generator --------------------------------------------------------------------------------


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
    n_tokens = check_int("n_tokens", n_tokens, 2)
    vocab_size = check_int("vocab_size", vocab_size, 2)
    order = check_int("order", order, 1)
    if vocab_size**order > 2**20:
        raise ValueError(
            f"vocab_size ** order (the number of contexts) must be at most 2**20 = 1,048,576; "
            f"got {vocab_size}**{order} = {vocab_size**order:,}."
        )
    if n_tokens <= order:
        raise ValueError(f"n_tokens must exceed order ({order}); got {n_tokens}.")
    n_successors = check_int("n_successors", n_successors, 1, vocab_size)
    n_documents = check_int("n_documents", n_documents, 1, n_tokens)
    seed = check_int("seed", seed, 0)
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
