"""Uniform-depth random grammars of the Random Hierarchy Model and its Zipf, ambiguous and
varying-tree variants: drawing a grammar and sampling its trees (private; the corpora built from them
come from :mod:`~corpus_stats.synthetic.hierarchies`).

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

from dataclasses import dataclass

import numpy as np


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
