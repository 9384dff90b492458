"""The grammar corpora: the Random Hierarchy Model and its Zipf, ambiguous and varying-tree variants
(private; public through :mod:`corpus_stats.synthetic`).

Each generator checks its arguments, draws a grammar with
:func:`~corpus_stats.synthetic.grammars.build_grammar` (where the models and their sources are
stated), samples its trees with :func:`~corpus_stats.synthetic.grammars.sample_documents` and returns
a :class:`SyntheticCorpus` that keeps the grammar, so it knows its exact curves.
"""

from __future__ import annotations

import math

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.synthetic.common import _float
from corpus_stats.synthetic.corpus import SyntheticCorpus, _corpus
from corpus_stats.synthetic.grammars import build_grammar, sample_documents

# -- parameter checks -----------------------------------------------------------------------------


def _check_common(n_levels, v, n_documents, seed, a, ambiguity):
    n_levels = check_int("n_levels", n_levels, 1, 12)
    v = check_int("v", v, 2, 1 << 16)
    n_documents = check_int("n_documents", n_documents, 1)
    seed = check_int("seed", seed, 0)
    if a is not None:
        a = _float("a", a, 0.0, 10.0, closed="left")
    ambiguity = _float("ambiguity", ambiguity, 0.0, 1.0, closed="left")
    return n_levels, v, n_documents, seed, a, ambiguity


def expected_length(kind: str, params: dict) -> float:
    """Mean document length of a grammar kind from its parameters (for ``make``'s tree count)."""
    n_levels = int(params.get("n_levels", 3))
    if kind == "varying_tree_hierarchy":
        p2 = float(params.get("p2", 0.5))
        return (2 * p2 + 3 * (1 - p2)) ** n_levels
    return float(int(params.get("s", 2)) ** n_levels)


def _length_guard(max_len: float, n_documents: int) -> None:
    if n_documents * max_len > 2**31:
        raise ValueError(
            f"n_documents * (longest tree) must be at most 2**31 tokens; got {n_documents:,} * {max_len:,.0f}; "
            f"use fewer documents or levels."
        )


# -- generators -----------------------------------------------------------------------------------


def _hierarchy_corpus(kind, params, grammar, n_documents, rng, beta=None):
    _length_guard(grammar.max_length(), n_documents)
    tokens, offsets = sample_documents(rng, grammar, n_documents)
    return _corpus(kind, tokens, offsets, grammar.v, params, beta=beta, model={"grammar": grammar})


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
        ``expected_beta = ln m / ln s`` (approximate); exact C(t) by dynamic programming over the
        levels and exact H_n for small grammars (:mod:`~corpus_stats.synthetic.grammar_exact`).
        The sampler is :func:`~corpus_stats.synthetic.grammars.sample_documents` (same stream as
        before it existed, for every seed); :func:`~corpus_stats.synthetic.zipf_hierarchy` with
        ``a=None`` is this model.

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
    ``expected_beta`` must not be used as a tolerance on stream measurements; the exact curves
    (``exact_correlation``) include that plateau.
    """
    n_levels = check_int("n_levels", n_levels, 1)
    v = check_int("v", v, 2)
    s = check_int("s", s, 2)
    m = check_int("m", m, 1)
    n_documents = check_int("n_documents", n_documents, 1)
    seed = check_int("seed", seed, 0)
    if n_documents * s**n_levels > 2**31:
        raise ValueError(f"n_documents * s**n_levels must be at most 2**31; got {n_documents * s**n_levels:,}.")
    params = {
        "n_levels": n_levels,
        "v": v,
        "m": m,
        "s": s,
        "n_documents": n_documents,
        "seed": seed,
    }
    rng = np.random.default_rng(seed)
    grammar = build_grammar(rng, n_levels, v, ((s, m, 1.0),))
    tokens, offsets = sample_documents(rng, grammar, n_documents)
    return _corpus(
        "random_hierarchy",
        tokens,
        offsets,
        v,
        params,
        beta=math.log(m) / math.log(s) if m > 1 else None,
        model={"grammar": grammar},
    )


def zipf_hierarchy(
    n_levels: int = 3,
    v: int = 16,
    m: int = 4,
    s: int = 2,
    a: float | None = 0.5,
    n_documents: int = 1000,
    seed: int = 0,
):
    """The Random Hierarchy Model with Zipf-distributed rule usage (arXiv 2505.07067, §2).

    As :func:`random_hierarchy` (``m`` distinct ``s``-tuples per symbol, the ``m v`` right-hand sides
    of a level distinct), but the ``k``-th rule of every symbol is used with probability
    ``f_k = k^-(1+a) / sum_j j^-(1+a)``. Rank ``k`` goes to the ``k``-th right-hand side drawn, so the
    grammar (which tuples) is the RHM's for the same seed; ``a=None`` is the uniform RHM itself and
    gives :func:`random_hierarchy`'s stream exactly.

    Parameters
    ----------
    n_levels, v, m, s : int
        Depth L (1..12), symbols per level (>= 2), rules per symbol, branching (2..8);
        ``m v <= v**s`` (distinct right-hand sides).
    a : float or None, default 0.5
        Zipf exponent of rule usage, ``a >= 0``; None for uniform usage.
    n_documents : int, default 1000
        Number of trees (documents of ``s**n_levels`` tokens).
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` (grammar, then trees).

    Returns
    -------
    SyntheticCorpus
        Exact C(t) (:func:`~corpus_stats.synthetic.grammar_exact.pair_distribution`); exact H_n
        by enumeration for small grammars.
    """
    n_levels, v, n_documents, seed, a, _ = _check_common(n_levels, v, n_documents, seed, a, 0.0)
    s = check_int("s", s, 2, 8)
    m = check_int("m", m, 1)
    params = {"n_levels": n_levels, "v": v, "m": m, "s": s, "a": a, "n_documents": n_documents, "seed": seed}
    rng = np.random.default_rng(seed)
    grammar = build_grammar(rng, n_levels, v, ((s, m, 1.0),), 0.0, a)
    beta = math.log(m) / math.log(s) if (a is None and m > 1) else None
    return _hierarchy_corpus("zipf_hierarchy", params, grammar, n_documents, rng, beta)


def ambiguous_hierarchy(
    n_levels: int = 3,
    v: int = 16,
    m: int = 4,
    s: int = 2,
    ambiguity: float = 0.25,
    a: float | None = None,
    n_documents: int = 1000,
    seed: int = 0,
):
    """A fixed-tree random grammar whose right-hand sides are shared between symbols.

    Each level has ``m v`` rule slots; ``round(ambiguity m v)`` of them, at random, repeat the
    right-hand side of a rule of another symbol (never one the symbol already has), the others are
    distinct ``s``-tuples. A shared tuple can be parsed as either parent, so the grammar is ambiguous
    (Parley, Cagnetta & Wyart, arXiv 2602.06065, §2, introduce ambiguity as a knob of this family;
    this share-of-slots definition is this module's, see the module notes). ``ambiguity=0`` is the
    RHM (same grammar and stream for a seed).

    Parameters
    ----------
    n_levels, v, m, s : int
        As :func:`zipf_hierarchy`; needs ``m v (1 - ambiguity) <= v**s`` distinct tuples and at least
        ``m`` of them.
    ambiguity : float, default 0.25
        Share of rule slots with a repeated right-hand side, in [0, 1).
    a : float or None, default None
        Zipf exponent of rule usage (None: uniform).
    n_documents, seed : int
        Number of trees; seed.

    Returns
    -------
    SyntheticCorpus
    """
    n_levels, v, n_documents, seed, a, ambiguity = _check_common(n_levels, v, n_documents, seed, a, ambiguity)
    s = check_int("s", s, 2, 8)
    m = check_int("m", m, 1)
    params = {
        "n_levels": n_levels, "v": v, "m": m, "s": s, "ambiguity": ambiguity, "a": a,
        "n_documents": n_documents, "seed": seed,
    }  # fmt: skip
    rng = np.random.default_rng(seed)
    grammar = build_grammar(rng, n_levels, v, ((s, m, 1.0),), ambiguity, a)
    return _hierarchy_corpus("ambiguous_hierarchy", params, grammar, n_documents, rng)


def varying_tree_hierarchy(
    n_levels: int = 3,
    v: int = 16,
    m2: int = 4,
    m3: int = 4,
    p2: float = 0.5,
    ambiguity: float = 0.0,
    a: float | None = None,
    n_documents: int = 1000,
    seed: int = 0,
):
    """A uniform-depth grammar mixing binary and ternary rules (Parley, Cagnetta & Wyart,
    arXiv 2602.06065, §2: the varying-tree RHM).

    Every symbol has ``m2`` binary and ``m3`` ternary rules; a node branches in two with
    probability ``p2`` and in three with ``1 - p2``, the rule of that arity then uniform (or Zipf,
    ``a``). Binary right-hand sides of a level are distinct pairs and ternary ones distinct triples
    (``ambiguity`` shares slots as in :func:`ambiguous_hierarchy`). All leaves lie at depth
    ``n_levels``, so a document has between ``2**L`` and ``3**L`` tokens, ``(3 - p2)**L`` on
    average, and the parse (which leaves are siblings) is not given by the position: the local
    ambiguity that the paper's inference lifts with correlations across scales.

    Parameters
    ----------
    n_levels, v : int
        Depth (1..12) and symbols per level.
    m2, m3 : int
        Binary and ternary rules per symbol (``m2 v <= v**2``, ``m3 v <= v**3``; 0 drops an arity,
        which needs ``p2`` 0 or 1 accordingly).
    p2 : float, default 0.5
        Probability of a binary production, in [0, 1].
    ambiguity : float, default 0.0
        Share of rule slots with a repeated right-hand side, in [0, 1).
    a : float or None, default None
        Zipf exponent of rule usage within an arity (None: uniform).
    n_documents, seed : int
        Number of trees; seed.

    Returns
    -------
    SyntheticCorpus
    """
    n_levels, v, n_documents, seed, a, ambiguity = _check_common(n_levels, v, n_documents, seed, a, ambiguity)
    m2, m3 = check_int("m2", m2, 0), check_int("m3", m3, 0)
    p2 = _float("p2", p2, 0.0, 1.0, closed="both")
    if (m2 == 0 and p2 > 0) or (m3 == 0 and p2 < 1):
        raise ValueError(
            f"a branching of positive probability needs rules: got m2={m2}, m3={m3}, p2={p2:g} "
            f"(m2 = 0 needs p2 = 0; m3 = 0 needs p2 = 1)."
        )
    params = {
        "n_levels": n_levels, "v": v, "m2": m2, "m3": m3, "p2": p2, "ambiguity": ambiguity, "a": a,
        "n_documents": n_documents, "seed": seed,
    }  # fmt: skip
    rules = tuple(r for r in ((2, m2, p2), (3, m3, 1.0 - p2)) if r[1] > 0 and r[2] > 0)
    rng = np.random.default_rng(seed)
    grammar = build_grammar(rng, n_levels, v, rules, ambiguity, a)
    return _hierarchy_corpus("varying_tree_hierarchy", params, grammar, n_documents, rng)
