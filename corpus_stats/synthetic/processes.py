"""The iid Zipf, copy and Santa Fe generators (private).

Public through :mod:`corpus_stats.synthetic`; each is vectorised numpy (no sequential kernel).
"""

from __future__ import annotations

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.synthetic.common import _draw, _even_offsets, _float, _zipf_probs
from corpus_stats.synthetic.corpus import SyntheticCorpus, _corpus
from corpus_stats.synthetic.exact import covariance_norms

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
    n_tokens = check_int("n_tokens", n_tokens, 1)
    vocab_size = check_int("vocab_size", vocab_size, 2)
    exponent = _float("exponent", exponent, 0.0, 10.0, closed="left")
    n_documents = check_int("n_documents", n_documents, 1, n_tokens)
    seed = check_int("seed", seed, 0)
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


# -- copy process ---------------------------------------------------------------------------------


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
    n_tokens = check_int("n_tokens", n_tokens, 1)
    vocab_size = check_int("vocab_size", vocab_size, 2)
    rho = _float("rho", rho, 0.0, 1.0)
    a = _float("a", a, 0.0, 10.0)
    k_max = check_int("k_max", k_max, 1)
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = check_int("n_documents", n_documents, 1, n_tokens)
    seed = check_int("seed", seed, 0)
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
    n_tokens = check_int("n_tokens", n_tokens, 1)
    b = _float("b", b, 0.0, 1.0)
    n_keys = check_int("n_keys", n_keys, 1, 2**31 - 1)
    doc_length = check_int("doc_length", doc_length, 1)
    seed = check_int("seed", seed, 0)
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
