"""Uniform-depth random grammars: the Random Hierarchy Model and its Zipf, ambiguous and
varying-tree variants (private; public through :mod:`corpus_stats.synthetic`).

A :class:`Grammar` has ``n_levels`` levels of production rules over ``v`` symbols per level. A
document is one tree: a root symbol drawn from ``root`` is rewritten level by level, every node of a
level by one rule of its symbol, until depth ``n_levels``, whose symbols are the tokens (ids
``0..v-1``). Every leaf sits at the same depth (a *uniform-depth* PCFG); a rule has 2 or 3 children.

Sources of the definitions
--------------------------
* Random Hierarchy Model (RHM): Cagnetta, Petrini, Tomasini, Favero & Wyart, *How deep neural
  networks learn compositional data: the Random Hierarchy Model*, PRX 14 (2024), §II: ``m`` rules
  per symbol, each an ``s``-tuple, the ``m v`` right-hand sides of a level distinct (unambiguous),
  rules used uniformly.
* Zipf rule usage: Cagnetta, Kang & Wyart, arXiv 2505.07067 (ICML 2025), §2: the ``k``-th rule of
  a symbol is used with probability ``f_k ∝ k^-(1+a)``, ``k = 1..m``. (Their classification
  analysis puts the law on one level; here it applies to every level.)
* Varying trees and ambiguity: Parley, Cagnetta & Wyart, arXiv 2602.06065 (2026), §2 ("a tunable
  class of PCFGs in which both the degree of ambiguity and the correlation structure across scales
  can be controlled"): uniform-depth trees whose nodes branch in 2 or 3 (probabilities ``p2``,
  ``p3 = 1 - p2``; ``m2`` binary and ``m3`` ternary rules per symbol). Only that paper's abstract
  and summaries could be read here, not its definitions section, so the ambiguity knob below is
  this module's own stated definition: ``ambiguity`` is the fraction of a level's rule slots whose
  right-hand side repeats one of another symbol (0: the RHM's distinct right-hand sides).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.synthetic.common import _float


@dataclass(frozen=True, eq=False)
class Level:
    """The production rules of one level, sorted by left-hand side.

    Attributes
    ----------
    lhs : int64[R]
        Parent symbol of each rule (non-decreasing).
    rhs : int64[R, width]
        Children, padded with -1 beyond ``arity`` (``width`` = the largest arity).
    arity : int64[R]
        Number of children (2 or 3; ``s`` in a fixed-arity grammar).
    prob : float64[R]
        ``P(rule | lhs)``; sums to 1 over each symbol's rules.
    start : int64[v + 1]
        Rules of symbol X are ``start[X]:start[X + 1]``, in rank order (rule k has rank k + 1).
    """

    lhs: np.ndarray
    rhs: np.ndarray
    arity: np.ndarray
    prob: np.ndarray
    start: np.ndarray


@dataclass(frozen=True, eq=False)
class Grammar:
    """A uniform-depth PCFG: ``levels[0]`` rewrites the root, ``levels[-1]`` produces the tokens."""

    v: int
    root: np.ndarray
    levels: tuple

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def uniform_rule_count(self) -> int | None:
        """``m`` when every symbol of every level has ``m`` equiprobable rules (the RHM), else None."""
        counts = {int(c) for lev in self.levels for c in np.diff(lev.start)}
        if len(counts) != 1:
            return None
        m = counts.pop()
        return m if all(np.allclose(lev.prob, 1.0 / m) for lev in self.levels) else None

    def mean_length(self) -> float:
        """Expected number of leaves of a tree (``s**n_levels`` for a fixed arity ``s``)."""
        mean = 1.0
        for lev in self.levels:
            # every symbol's expected arity weighted by its marginal would be exact; arities do not
            # depend on the symbol in these generators, so the first symbol's expectation is enough
            mean *= float(np.dot(lev.prob[lev.start[0] : lev.start[1]], lev.arity[lev.start[0] : lev.start[1]]))
        return mean

    def max_length(self) -> int:
        return int(np.prod([lev.arity.max() for lev in self.levels]))


# -- construction ---------------------------------------------------------------------------------


def _rule_probs(m: int, a: float | None) -> np.ndarray:
    """Usage of a symbol's m rules: uniform (a=None) or Zipf f_k ∝ k^-(1+a) (arXiv 2505.07067 §2)."""
    if a is None:
        return np.full(m, 1.0 / m)
    f = np.arange(1, m + 1, dtype=np.float64) ** -(1.0 + a)
    return f / f.sum()


def _right_hand_sides(rng, v: int, m: int, s: int, ambiguity: float, level: int) -> np.ndarray:
    """``(v, m, s)`` children: symbol X's k-th rule. Unambiguous (``ambiguity = 0``): the ``m v``
    tuples are distinct, drawn exactly as the RHM draws them; otherwise ``round(ambiguity m v)``
    random slots repeat a tuple of another symbol (never one the symbol already has)."""
    n_slots = m * v
    n_shared = int(round(ambiguity * n_slots))
    n_distinct = n_slots - n_shared
    if n_distinct > v**s:
        rule = "an unambiguous grammar" if n_shared == 0 else f"ambiguity {ambiguity:g}"
        raise ValueError(
            f"level {level}: {rule} needs {n_distinct:,} distinct right-hand sides of {s} symbols "
            f"(m * v * (1 - ambiguity)), but only v**{s} = {v**s:,} exist; got m={m}, v={v}. "
            f"Use fewer rules, more symbols or more ambiguity."
        )
    if n_distinct < m:
        raise ValueError(
            f"level {level}: a symbol's {m} rules need {m} different right-hand sides, but ambiguity "
            f"{ambiguity:g} leaves {n_distinct} distinct ones; use ambiguity <= {1 - m / n_slots:.3g}."
        )
    codes = rng.choice(v**s, size=n_distinct, replace=False)
    if n_shared:
        slots = np.empty(n_slots, dtype=np.int64)
        shared = np.zeros(n_slots, dtype=bool)
        shared[rng.permutation(n_slots)[:n_shared]] = True
        slots[~shared] = codes
        for i in np.flatnonzero(shared):
            x = i // m
            own = set(slots[x * m : (x + 1) * m][~shared[x * m : (x + 1) * m]].tolist())
            own |= {int(slots[j]) for j in range(x * m, i) if shared[j]}
            while True:
                c = int(codes[rng.integers(0, n_distinct)])
                if c not in own:
                    break
            slots[i] = c
        codes = slots
    powers = v ** np.arange(s - 1, -1, -1)
    return ((codes[:, None] // powers[None, :]) % v).reshape(v, m, s)


def build_grammar(
    rng: np.random.Generator,
    n_levels: int,
    v: int,
    rules: tuple,
    ambiguity: float = 0.0,
    a: float | None = None,
) -> Grammar:
    """Draw a random uniform-depth grammar.

    ``rules`` lists ``(s, m, weight)`` per arity: each symbol gets ``m`` rules of ``s`` children,
    chosen with total probability ``weight`` shared by ``_rule_probs(m, a)``. With one arity,
    ``ambiguity = 0`` and ``a = None`` the draws are exactly the RHM's (same grammar for a seed).
    """
    levels, width = [], max(r[0] for r in rules)
    for lev in range(n_levels):
        blocks = []
        for s, m, weight in rules:
            children = _right_hand_sides(rng, v, m, s, ambiguity, lev)
            padded = np.full((v, m, width), -1, dtype=np.int64)
            padded[:, :, :s] = children
            blocks.append((padded, np.full((v, m), s), np.tile(weight * _rule_probs(m, a), (v, 1))))
        rhs = np.concatenate([b[0] for b in blocks], axis=1)  # (v, M, width), symbol-major
        arity = np.concatenate([b[1] for b in blocks], axis=1)
        prob = np.concatenate([b[2] for b in blocks], axis=1)
        n_rules = rhs.shape[1]
        levels.append(
            Level(
                lhs=np.repeat(np.arange(v), n_rules),
                rhs=rhs.reshape(-1, width),
                arity=arity.ravel().astype(np.int64),
                prob=prob.ravel(),
                start=np.arange(v + 1, dtype=np.int64) * n_rules,
            )
        )
    return Grammar(v, np.full(v, 1.0 / v), tuple(levels))


# -- sampling -------------------------------------------------------------------------------------


def sample_documents(rng: np.random.Generator, grammar: Grammar, n_documents: int) -> tuple[np.ndarray, np.ndarray]:
    """``n_documents`` trees' leaves: ``(tokens, doc_offsets)``.

    Vectorised level by level (a level's nodes stay in left-to-right order). When every symbol has
    ``m`` equiprobable rules the rule draws are ``rng.integers(0, m)``, as in the RHM; otherwise one
    uniform draw per node is mapped through the symbol's cumulative rule probabilities.
    """
    m = grammar.uniform_rule_count
    v = grammar.v
    if np.allclose(grammar.root, 1.0 / v):
        symbols = rng.integers(0, v, size=n_documents)
    else:
        symbols = np.searchsorted(np.cumsum(grammar.root)[:-1], rng.random(n_documents), side="right")
    doc = np.arange(n_documents, dtype=np.int64)
    for lev in grammar.levels:
        if m is not None:
            rule = lev.start[symbols] + rng.integers(0, m, size=symbols.size)
        else:
            within = np.zeros(lev.prob.size)
            for x in range(v):  # cumulative probability inside each symbol's run, ending at 1
                lo, hi = lev.start[x], lev.start[x + 1]
                within[lo:hi] = np.cumsum(lev.prob[lo:hi])
                within[hi - 1] = 1.0
            key = symbols + rng.random(symbols.size)
            rule = np.searchsorted(lev.lhs + within, key, side="right")
            rule = np.minimum(rule, lev.start[symbols + 1] - 1)  # key rounded up to symbol + 1
        ar = lev.arity[rule]
        keep = np.arange(lev.rhs.shape[1])[None, :] < ar[:, None]
        symbols = lev.rhs[rule][keep]
        doc = np.repeat(doc, ar)
    offsets = np.zeros(n_documents + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc, minlength=n_documents), out=offsets[1:])
    return symbols.astype(np.int64), offsets


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
    from corpus_stats.synthetic.corpus import _corpus

    _length_guard(grammar.max_length(), n_documents)
    tokens, offsets = sample_documents(rng, grammar, n_documents)
    return _corpus(kind, tokens, offsets, grammar.v, params, beta=beta, model={"grammar": grammar})


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
