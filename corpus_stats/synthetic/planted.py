"""Corpora with a planted co-occurrence geometry: a latent circle and a latent tree (private).

Public through :mod:`corpus_stats.synthetic`. Both streams are filler tokens (Zipf, ids ``n_set ..
vocab_size - 1``) interleaved with words of a planted set (ids ``0 .. n_set - 1``) whose choice follows
a hidden state that drifts along the text, so that how often two set words co-occur depends only on
how far apart they are in the planted structure:

* :func:`planted_circle`: the hidden state is a phase ``phi`` doing a random walk; set word ``i`` sits
  at angle ``theta_i = 2 pi i / n`` and is emitted with probability ``∝ exp(kappa cos(phi - theta_i))``.
  Co-occurrence then depends on the circular gap ``|i - j| mod n`` only: the set's PMI submatrix is
  circulant (Karkada et al., arXiv 2602.15029) and the words' embeddings lie on a circle in planted order.
* :func:`planted_tree`: the hidden state is a root-to-leaf path of a complete tree; an emitted set
  word follows it at each level with a probability that falls with depth. Words sharing a broader
  branch co-occur more (Nava & Wyart, arXiv 2605.23821): the leading
  components split the top branches first.

The planted structure is ``corpus.planted`` (``{"words", "cyclic"}`` or ``{"tree"}``, words as the
decimal strings :func:`~corpus_stats.synthetic.write_corpus` writes), the ground truth of the
geometry tests.
"""

from __future__ import annotations

import math

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.synthetic.common import _draw, _even_offsets, _float, _zipf_probs
from corpus_stats.synthetic.corpus import SyntheticCorpus, _corpus


def _filler(rng, n_tokens, n_set, vocab_size, zipf_exponent):
    """Zipf filler tokens with ids ``n_set .. vocab_size - 1``."""
    return n_set + _draw(rng, _zipf_probs(vocab_size - n_set, zipf_exponent), n_tokens)


def planted_circle(
    n_tokens: int,
    n_words: int = 12,
    vocab_size: int = 1000,
    set_rate: float = 0.05,
    coherence: float = 200.0,
    kappa: float = 2.0,
    zipf_exponent: float = 1.0,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """Filler text with set words drawn around a hidden phase that drifts along the text.

    Parameters
    ----------
    n_tokens : int
        Stream length.
    n_words : int, default 12
        Words on the circle (ids ``0 .. n_words - 1`` at angles ``2 pi i / n_words``; >= 3).
    vocab_size : int, default 1000
        Total ids; the filler uses ``vocab_size - n_words`` of them.
    set_rate : float, default 0.05
        Probability that a position holds a set word.
    coherence : float, default 200
        Tokens over which the phase diffuses by one radian (random-walk variance ``1 / coherence``
        per token); the phase restarts uniformly at each document.
    kappa : float, default 2
        Concentration: set word i has probability ``∝ exp(kappa cos(phi - theta_i))``.
    zipf_exponent : float, default 1.0
        Exponent of the filler's Zipf law.
    n_documents : int, default 100
        Equal documents the stream is cut into.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        ``planted == {"words": ["0", ..., str(n_words - 1)], "cyclic": True}``: the circle's order.

    Examples
    --------
    >>> c = planted_circle(20_000, n_words=6, seed=1)
    >>> c.planted["words"], c.planted["cyclic"]
    (['0', '1', '2', '3', '4', '5'], True)
    """
    n_tokens = check_int("n_tokens", n_tokens, 1)
    n_words = check_int("n_words", n_words, 3)
    vocab_size = check_int("vocab_size", vocab_size, n_words + 2)
    set_rate = _float("set_rate", set_rate, 0.0, 1.0, closed="right")
    coherence = _float("coherence", coherence, 0.0, math.inf)
    kappa = _float("kappa", kappa, 0.0, math.inf, closed="left")
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = check_int("n_documents", n_documents, 1, n_tokens)
    seed = check_int("seed", seed, 0)
    params = dict(
        n_tokens=n_tokens, n_words=n_words, vocab_size=vocab_size, set_rate=set_rate, coherence=coherence,
        kappa=kappa, zipf_exponent=zipf_exponent, n_documents=n_documents, seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    offsets = _even_offsets(n_tokens, n_documents)
    steps = rng.standard_normal(n_tokens) / math.sqrt(coherence)
    steps[offsets[:-1]] = rng.uniform(0.0, 2.0 * math.pi, n_documents)  # a fresh phase per document
    doc = np.repeat(np.arange(n_documents), np.diff(offsets))
    walk = np.cumsum(steps)
    phase = walk - (walk[offsets[:-1]] - steps[offsets[:-1]])[doc]  # cumulative sum restarted per document
    tokens = _filler(rng, n_tokens, n_words, vocab_size, zipf_exponent)
    where = np.flatnonzero(rng.random(n_tokens) < set_rate)
    theta = 2.0 * math.pi * np.arange(n_words) / n_words
    logits = kappa * np.cos(phase[where, None] - theta[None, :])
    cdf = np.cumsum(np.exp(logits - logits.max(axis=1, keepdims=True)), axis=1)
    u = rng.random(where.size)[:, None] * cdf[:, -1:]
    tokens[where] = np.minimum((cdf < u).sum(axis=1), n_words - 1)
    planted = {"words": [str(i) for i in range(n_words)], "cyclic": True}
    return _corpus("planted_circle", tokens, offsets, vocab_size, params, model={"planted": planted})


def _tree(branching: int, depth: int, words_per_leaf: int, level: int = 0, first: int = 0) -> list:
    """Nested lists of decimal word ids, leaves in depth-first order (a one-word leaf is the word)."""
    if level == depth:
        return str(first) if words_per_leaf == 1 else [str(first + i) for i in range(words_per_leaf)]
    size = branching ** (depth - level - 1) * words_per_leaf
    return [_tree(branching, depth, words_per_leaf, level + 1, first + c * size) for c in range(branching)]


def planted_tree(
    n_tokens: int,
    branching: int = 2,
    depth: int = 3,
    words_per_leaf: int = 2,
    vocab_size: int = 1000,
    set_rate: float = 0.1,
    switch: float = 200.0,
    stay_top: float = 0.95,
    stay_ratio: float = 0.6,
    zipf_exponent: float = 1.0,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """Filler text with set words drawn near a hidden root-to-leaf path, broad branches most faithfully.

    The hidden path (a child index per tree level) is redrawn on average every ``switch`` tokens and
    at each document start. An emitted set word copies the hidden child index at level ``l``
    (1 = the root's children) with probability ``stay_l = stay_top * stay_ratio**(l - 1)``, else
    takes a uniform child: words sharing a broader branch co-occur more, each deeper shared level
    adds less (an ultrametric PMI, positive within a top branch, negative across).

    Parameters
    ----------
    n_tokens : int
        Stream length.
    branching, depth, words_per_leaf : int, default 2, 3, 2
        A complete tree with ``branching**depth`` leaves of ``words_per_leaf`` words each (ids in
        depth-first order).
    vocab_size : int, default 1000
        Total ids (set words plus filler).
    set_rate : float, default 0.1
        Probability that a position holds a set word.
    switch : float, default 200
        Mean tokens between redraws of the hidden path.
    stay_top, stay_ratio : float, default 0.95, 0.6
        Probability of following the hidden path at the top level, and its factor per level down.
    zipf_exponent : float, default 1.0
        Exponent of the filler's Zipf law.
    n_documents : int, default 100
        Equal documents.
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    SyntheticCorpus
        ``planted == {"tree": nested lists of word ids}``.

    Examples
    --------
    >>> planted_tree(10_000, depth=2, words_per_leaf=1, seed=1).planted["tree"]
    [['0', '1'], ['2', '3']]
    """
    n_tokens = check_int("n_tokens", n_tokens, 1)
    branching = check_int("branching", branching, 2)
    depth = check_int("depth", depth, 1, 8)
    words_per_leaf = check_int("words_per_leaf", words_per_leaf, 1)
    n_set = branching**depth * words_per_leaf
    vocab_size = check_int("vocab_size", vocab_size, n_set + 2)
    set_rate = _float("set_rate", set_rate, 0.0, 1.0, closed="right")
    switch = _float("switch", switch, 1.0, math.inf, closed="left")
    stay_top = _float("stay_top", stay_top, 0.0, 1.0, closed="both")
    stay_ratio = _float("stay_ratio", stay_ratio, 0.0, 1.0, closed="right")
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = check_int("n_documents", n_documents, 1, n_tokens)
    seed = check_int("seed", seed, 0)
    params = dict(
        n_tokens=n_tokens, branching=branching, depth=depth, words_per_leaf=words_per_leaf, vocab_size=vocab_size,
        set_rate=set_rate, switch=switch, stay_top=stay_top, stay_ratio=stay_ratio, zipf_exponent=zipf_exponent,
        n_documents=n_documents, seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    offsets = _even_offsets(n_tokens, n_documents)
    redraw = rng.random(n_tokens) < 1.0 / switch
    redraw[offsets[:-1]] = True
    segment = np.cumsum(redraw) - 1
    tokens = _filler(rng, n_tokens, n_set, vocab_size, zipf_exponent)
    where = np.flatnonzero(rng.random(n_tokens) < set_rate)
    leaf = np.zeros(where.size, dtype=np.int64)
    for level in range(1, depth + 1):
        hidden = rng.integers(0, branching, int(segment[-1]) + 1)[segment[where]]
        follow = rng.random(where.size) < stay_top * stay_ratio ** (level - 1)
        leaf = leaf * branching + np.where(follow, hidden, rng.integers(0, branching, where.size))
    tokens[where] = leaf * words_per_leaf + rng.integers(0, words_per_leaf, where.size)
    planted = {"tree": _tree(branching, depth, words_per_leaf)}
    return _corpus("planted_tree", tokens, offsets, vocab_size, params, model={"planted": planted})
