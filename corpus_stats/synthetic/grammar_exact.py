"""Exact C(t) and H_n of the uniform-depth grammars of :mod:`corpus_stats.synthetic.grammars` (private).

**Pairs (C(t)), by dynamic programming over the levels.** Two leaves of a tree are correlated only
through their lowest common ancestor u: given u's symbol and rule, its children's subtrees are
independent. So the expected number of leaf pairs (a, b) at distance t inside one tree is a sum
over depths l and rules r of ``N_l(lhs_r) p_r`` times the pairs that *cross* r's children, where
``N_l(X)`` is the expected number of depth-l nodes of symbol X (top-down) and the crossing pairs of
children c < c' need, for each child symbol, only three bottom-up profiles: its length distribution,
``Lft(d, a) = P(len > d, leaf d = a)`` and ``Rgt(d, a)`` (the same from the right end), with the
lengths of the children between c and c' convolved in the gap. Pairs that cross document
boundaries (the estimator's default stream mode) join the right profile of one tree, a renewal sum
over whole trees in between, and the left profile of the next tree (trees are independent). Per
document start, exactly ``E[len]`` pairs begin, so ``P_t(a, b) = E[pairs (a, b) at t] / E[len]``
is the distribution the pair estimator converges to (position-averaged, marginals included);
``C(t) = P_t - p_left p_right^T``.

**H_n, by exact enumeration** of the sentence distribution (identical sentences from different
trees merged, as ambiguity requires) and of the stationary n-block distribution of the
concatenated stream; tractable only for small grammars (otherwise ``None``).
"""

from __future__ import annotations

import numpy as np

#: Work limits above which the exact curves are declared intractable (None), not attempted.
MAX_PAIR_WORK = 2e10  # ~ flops of the crossing-pair sums
MAX_SENTENCES = 50_000  # distinct yields of one level's symbols together (the enumeration)
MAX_BLOCKS = 100_000  # entries of one n-block (or stream-prefix) table
MAX_BLOCK_WORK = 3_000_000  # dictionary updates of all block tables together


# -- bottom-up profiles ---------------------------------------------------------------------------


def _shift_conv(weights: np.ndarray, prof: np.ndarray, size: int) -> np.ndarray:
    """``out[r, d] = sum_l weights[r, l] prof[r, d - l]`` over rules r (prof: (R, T, ...))."""
    out = np.zeros((prof.shape[0], size) + prof.shape[2:])
    for ell in np.flatnonzero(weights.any(axis=0)):
        hi = min(size, ell + prof.shape[1])
        if hi > ell:
            w = weights[:, ell].reshape((-1,) + (1,) * (prof.ndim - 1))
            out[:, ell:hi] += w * prof[:, : hi - ell]
    return out


def _profiles(grammar):
    """Per depth 0..L: (lenp (v, T+1), lft (v, T, v), rgt (v, T, v)) of each symbol's subtree."""
    v, n_levels = grammar.v, grammar.n_levels
    eye = np.eye(v)
    lenp = np.zeros((v, 2))
    lenp[:, 1] = 1.0
    out = [None] * (n_levels + 1)
    out[n_levels] = (lenp, eye[:, None, :].copy(), eye[:, None, :].copy())
    for depth in range(n_levels - 1, -1, -1):
        lev = grammar.levels[depth]
        c_len, c_lft, c_rgt = out[depth + 1]
        t_new = c_lft.shape[1] * int(lev.arity.max())
        r_len = np.zeros((lev.prob.size, t_new + 1))
        r_lft = np.zeros((lev.prob.size, t_new, v))
        r_rgt = np.zeros((lev.prob.size, t_new, v))
        for k in np.unique(lev.arity):
            rows = np.flatnonzero(lev.arity == k)
            kids = lev.rhs[rows, :k]
            # left profile: fold children left to right; right profile: right to left
            for order, prof, store in ((range(k), c_lft, r_lft), (range(k - 1, -1, -1), c_rgt, r_rgt)):
                order = list(order)
                acc_len = np.zeros((rows.size, t_new + 1))
                acc_len[:, : c_len.shape[1]] = c_len[kids[:, order[0]]]
                acc = np.zeros((rows.size, t_new, v))
                acc[:, : prof.shape[1]] = prof[kids[:, order[0]]]
                for c in order[1:]:
                    acc += _shift_conv(acc_len, prof[kids[:, c]], t_new)
                    acc_len = _shift_conv(acc_len, c_len[kids[:, c]], t_new + 1)
                store[rows] = acc
            r_len[rows] = acc_len
        mix = np.zeros((v, lev.prob.size))
        mix[lev.lhs, np.arange(lev.prob.size)] = lev.prob
        out[depth] = (
            mix @ r_len,
            (mix @ r_lft.reshape(lev.prob.size, -1)).reshape(v, t_new, v),
            (mix @ r_rgt.reshape(lev.prob.size, -1)).reshape(v, t_new, v),
        )
    return out


def _occupancy(grammar) -> list[np.ndarray]:
    """``N_l(X)``: expected number of depth-l nodes with symbol X, l = 0..L-1 (top-down)."""
    occ = [np.asarray(grammar.root, dtype=np.float64)]
    for lev in grammar.levels[:-1]:
        w = occ[-1][lev.lhs] * lev.prob
        nxt = np.zeros(grammar.v)
        for c in range(lev.rhs.shape[1]):
            ok = lev.arity > c
            np.add.at(nxt, lev.rhs[ok, c], w[ok])
        occ.append(nxt)
    return occ


def _outer_conv(left: np.ndarray, right: np.ndarray, t_max: int, weights=None) -> np.ndarray:
    """``out[t, a, b] = sum_r w_r sum_{e + d = t - 1} left[r, e, a] right[r, d, b]``, t = 0..t_max."""
    out = np.zeros((t_max + 1, left.shape[2], right.shape[2]))
    if weights is not None:
        left = left * weights[:, None, None]
    for e in range(min(left.shape[1], t_max)):
        n_d = min(right.shape[1], t_max - e)
        block = np.tensordot(left[:, e, :], right[:, :n_d, :], axes=(0, 0))  # (a, d, b)
        out[e + 1 : e + 1 + n_d] += block.transpose(1, 0, 2)
    return out


def pair_work(grammar) -> float:
    """Rough flop count of :func:`pair_distributions` (to refuse intractable grammars up front)."""
    t = grammar.max_length()
    rules = max(lev.prob.size for lev in grammar.levels)
    return float(grammar.n_levels * 3 * rules * t * t * grammar.v**2)


def pair_distributions(grammar, t_max: int, *, within_documents: bool = False) -> np.ndarray:
    """Exact pair distributions ``P_t(a, b)``, t = 0..t_max (row 0 unused, zero).

    Stream mode (default): pairs of the concatenated stream of independent trees, normalised by
    ``E[len]`` pairs per document. ``within_documents=True``: pairs inside one tree, normalised by
    their expected number (NaN rows where a tree is shorter than t).
    """
    prof = _profiles(grammar)
    occ = _occupancy(grammar)
    v = grammar.v
    within = np.zeros((t_max + 1, v, v))
    for depth, lev in enumerate(grammar.levels):
        c_len, c_lft, c_rgt = prof[depth + 1]
        w_rule = occ[depth][lev.lhs] * lev.prob
        for k in np.unique(lev.arity):
            rows = np.flatnonzero((lev.arity == k) & (w_rule > 0))
            kids = lev.rhs[rows, :k]
            for c in range(k - 1):
                gap = np.zeros((rows.size, 1))
                gap[:, 0] = 1.0
                for c2 in range(c + 1, k):
                    # left side: right profile of child c convolved with the gap's length
                    left = _shift_conv(gap, c_rgt[kids[:, c]], c_rgt.shape[1] + gap.shape[1] - 1)
                    within += _outer_conv(left, c_lft[kids[:, c2]], t_max, w_rule[rows])
                    gap = _shift_conv(gap, c_len[kids[:, c2]], gap.shape[1] + c_len.shape[1] - 1)
    if within_documents:
        total = within.sum(axis=(1, 2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return within / np.where(total > 0, total, np.nan)[:, None, None]
    lenp, lft, rgt = (np.tensordot(grammar.root, x, axes=(0, 0)) for x in prof[0])
    mean_len = float(np.dot(np.arange(lenp.size), lenp))
    renewal = np.zeros(t_max + 1)  # P(some run of whole trees has total length g), g = 0..t_max
    renewal[0] = 1.0
    for g in range(1, t_max + 1):
        ell = np.arange(1, min(g, lenp.size - 1) + 1)
        renewal[g] = float(np.dot(lenp[ell], renewal[g - ell]))
    left = _shift_conv(renewal[None, :], rgt[None], t_max)
    across = _outer_conv(left, lft[None], t_max)
    return (within + across) / mean_len


def correlation_norms(grammar, lags, *, within_documents: bool = False) -> dict | None:
    """Exact ``||C(t)||_op`` and ``||C(t)||_F`` at ``lags``; None when beyond ``MAX_PAIR_WORK``."""
    if pair_work(grammar) > MAX_PAIR_WORK:
        return None
    lags = np.asarray(lags, dtype=np.int64)
    pt = pair_distributions(grammar, int(lags.max()), within_documents=within_documents)
    op, fro = np.full(lags.size, np.nan), np.full(lags.size, np.nan)
    for i, t in enumerate(lags):
        p = pt[t]
        if not np.all(np.isfinite(p)):
            continue
        c = p - np.outer(p.sum(axis=1), p.sum(axis=0))
        op[i] = float(np.linalg.norm(c, 2))
        fro[i] = float(np.linalg.norm(c))
    return {"op": op, "fro": fro}


# -- enumeration (H_n) ----------------------------------------------------------------------------


def sentence_distribution(grammar, max_sentences: int = MAX_SENTENCES) -> dict | None:
    """``{sentence tuple: probability}`` (identical yields merged), or None beyond ``max_sentences``."""
    v = grammar.v
    yields = [{(x,): 1.0} for x in range(v)]
    for lev in reversed(grammar.levels):
        new = []
        for x in range(v):
            if sum(len(y) for y in new) > max_sentences:
                return None
            acc: dict = {}
            for r in range(lev.start[x], lev.start[x + 1]):
                part = {(): float(lev.prob[r])}
                for y in lev.rhs[r, : lev.arity[r]]:
                    if len(part) * len(yields[y]) > max_sentences:
                        return None
                    part = {s + t: p * q for s, p in part.items() for t, q in yields[y].items()}
                for s, p in part.items():
                    acc[s] = acc.get(s, 0.0) + p
            if len(acc) > max_sentences:
                return None
            new.append(acc)
        yields = new
    out: dict = {}
    for x in range(v):
        if grammar.root[x] > 0:
            for s, p in yields[x].items():
                out[s] = out.get(s, 0.0) + grammar.root[x] * p
    return out


def _entropy(values) -> float:
    p = np.fromiter(values, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def block_entropies(grammar, n_max: int, *, within_documents: bool = False) -> np.ndarray | None:
    """Exact block entropies ``H(n)``, n = 1..n_max, of the stream (or of within-tree windows).

    None when the sentences are too many to enumerate; NaN from the first n whose n-blocks are.
    """
    sentences = sentence_distribution(grammar)
    if sentences is None:
        return None
    mean_len = sum(len(s) * p for s, p in sentences.items())
    prefixes: dict = {0: {(): 1.0}}
    work = [0]  # dictionary updates so far, against MAX_BLOCK_WORK

    def prefix(j):  # distribution of the first j tokens of a fresh stream of trees
        if j not in prefixes:
            acc: dict = {}
            for s, p in sentences.items():
                if len(acc) > MAX_BLOCKS or work[0] > MAX_BLOCK_WORK:
                    raise OverflowError
                if len(s) >= j:
                    acc[s[:j]] = acc.get(s[:j], 0.0) + p
                else:
                    work[0] += len(prefix(j - len(s)))
                    for w, q in prefix(j - len(s)).items():
                        acc[s + w] = acc.get(s + w, 0.0) + p * q
            prefixes[j] = acc
        return prefixes[j]

    out = np.full(n_max, np.nan)  # NaN from the first n beyond MAX_BLOCKS / MAX_BLOCK_WORK
    try:
        for n in range(1, n_max + 1):
            blocks: dict = {}
            for s, p in sentences.items():
                for i in range(len(s)):
                    if i + n <= len(s):
                        w = s[i : i + n]
                        blocks[w] = blocks.get(w, 0.0) + p
                    elif not within_documents:
                        tails = prefix(n - (len(s) - i))
                        work[0] += len(tails)
                        if work[0] > MAX_BLOCK_WORK or len(blocks) > MAX_BLOCKS:
                            raise OverflowError
                        for tail, q in tails.items():
                            w = s[i:] + tail
                            blocks[w] = blocks.get(w, 0.0) + p * q
            if len(blocks) > MAX_BLOCKS:
                break
            total = sum(blocks.values())
            if total <= 0:
                break
            # stream: every window starting in a tree counts, E[len] per tree; within: normalise
            norm = mean_len if not within_documents else total
            out[n - 1] = _entropy(x / norm for x in blocks.values())
    except OverflowError:
        pass
    return out


def conditional_entropies(grammar, n_max: int, *, within_documents: bool = False) -> np.ndarray | None:
    """Exact ``H_n = H(n+1) - H(n)`` (``H_0 = H(1)``) in nats, n = 0..n_max.

    None if the sentences cannot be enumerated; NaN beyond the tractable block length.
    """
    blocks = block_entropies(grammar, n_max + 1, within_documents=within_documents)
    if blocks is None:
        return None
    return np.concatenate([[blocks[0]], np.diff(blocks)])


def mean_length(grammar) -> float:
    """Exact expected tree length from the root's length distribution."""
    lenp = np.tensordot(grammar.root, _profiles(grammar)[0][0], axes=(0, 0))
    return float(np.dot(np.arange(lenp.size), lenp))
