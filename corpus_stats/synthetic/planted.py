"""Corpora with a planted co-occurrence geometry: a latent circle and a latent tree (private).

Public through :mod:`corpus_stats.synthetic`. Both streams are filler tokens (Zipf, ids ``n_set ..
vocab_size - 1``) interleaved with words of a planted set (ids ``0 .. n_set - 1``) whose choice follows
a hidden state that drifts along the text, so that how often two set words co-occur depends only on
how far apart they are in the planted structure:

* :func:`planted_circle`: the hidden state is a phase ``phi`` doing a random walk; set word ``i`` sits
  at angle ``theta_i = 2 pi i / n`` and is emitted with probability ``∝ exp(kappa cos(phi - theta_i))``.
  Co-occurrence then depends on the circular gap ``|i - j| mod n`` only: the set's PMI submatrix is
  circulant (Karkada et al., arXiv 2602.15029) and the words' embeddings lie on a circle in planted order.
* :func:`planted_tree`: the hidden state is a root-to-leaf path of a complete tree whose upper levels
  switch rarely and deeper levels more often; the emitted set word is drawn from the current leaf.
  Words sharing a deeper ancestor co-occur more (Nava & Wyart, arXiv 2605.23821): the leading
  components split the top branches first.

The planted structure is ``corpus.planted`` (``{"words", "cyclic"}`` or ``{"tree"}``, words as the
decimal strings :func:`~corpus_stats.synthetic.write_corpus` writes), the ground truth of the
geometry tests.
"""

from __future__ import annotations

import math

import numpy as np

from corpus_stats.synthetic.common import _draw, _even_offsets, _float, _int, _zipf_probs
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
    n_tokens = _int("n_tokens", n_tokens, 1)
    n_words = _int("n_words", n_words, 3)
    vocab_size = _int("vocab_size", vocab_size, n_words + 2)
    set_rate = _float("set_rate", set_rate, 0.0, 1.0, closed="right")
    coherence = _float("coherence", coherence, 0.0, math.inf)
    kappa = _float("kappa", kappa, 0.0, math.inf, closed="left")
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = _int("n_documents", n_documents, 1, n_tokens)
    seed = _int("seed", seed, 0)
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
    top_switch: float = 2000.0,
    ratio: float = 4.0,
    zipf_exponent: float = 1.0,
    n_documents: int = 100,
    seed: int = 0,
) -> SyntheticCorpus:
    """Filler text with set words drawn from the leaf of a hidden root-to-leaf path.

    The choice at tree level ``l`` (1 = the root's children) is redrawn when a switch happens at that
    level or above; switches at level ``l`` occur on average every ``top_switch / ratio**(l - 1)``
    tokens, so broad branches persist longest.

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
    top_switch : float, default 2000
        Mean tokens between switches of the top-level branch.
    ratio : float, default 4
        How much more often each deeper level switches (> 1 makes broad branches the most persistent).
    zipf_exponent : float, default 1.0
        Exponent of the filler's Zipf law.
    n_documents : int, default 100
        Equal documents; every document starts on a fresh random path.
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
    n_tokens = _int("n_tokens", n_tokens, 1)
    branching = _int("branching", branching, 2)
    depth = _int("depth", depth, 1, 8)
    words_per_leaf = _int("words_per_leaf", words_per_leaf, 1)
    n_set = branching**depth * words_per_leaf
    vocab_size = _int("vocab_size", vocab_size, n_set + 2)
    set_rate = _float("set_rate", set_rate, 0.0, 1.0, closed="right")
    top_switch = _float("top_switch", top_switch, 1.0, math.inf, closed="left")
    ratio = _float("ratio", ratio, 0.0, math.inf)
    zipf_exponent = _float("zipf_exponent", zipf_exponent, 0.0, 10.0, closed="left")
    n_documents = _int("n_documents", n_documents, 1, n_tokens)
    seed = _int("seed", seed, 0)
    params = dict(
        n_tokens=n_tokens, branching=branching, depth=depth, words_per_leaf=words_per_leaf, vocab_size=vocab_size,
        set_rate=set_rate, top_switch=top_switch, ratio=ratio, zipf_exponent=zipf_exponent,
        n_documents=n_documents, seed=seed,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    offsets = _even_offsets(n_tokens, n_documents)
    starts = np.zeros(n_tokens, dtype=bool)
    starts[offsets[:-1]] = True
    redraw = starts.copy()
    leaf = np.zeros(n_tokens, dtype=np.int64)
    for level in range(1, depth + 1):
        rate = min(1.0, ratio ** (level - 1) / top_switch)
        redraw |= rng.random(n_tokens) < rate  # a switch here or above redraws this level
        segment = np.cumsum(redraw) - 1
        leaf = leaf * branching + rng.integers(0, branching, int(segment[-1]) + 1)[segment]
    tokens = _filler(rng, n_tokens, n_set, vocab_size, zipf_exponent)
    where = np.flatnonzero(rng.random(n_tokens) < set_rate)
    tokens[where] = leaf[where] * words_per_leaf + rng.integers(0, words_per_leaf, where.size)
    planted = {"tree": _tree(branching, depth, words_per_leaf)}
    return _corpus("planted_tree", tokens, offsets, vocab_size, params, model={"planted": planted})
