"""The shape of a word set: symmetry of its PMI submatrix, Fourier content, order, hierarchy splits.

Pure numpy on small matrices (n set words); the counts and embeddings come from
:mod:`corpus_stats.geometry.cooccurrence` and :mod:`corpus_stats.geometry.analysis`.
"""

from __future__ import annotations

import numpy as np

N_PERMUTATIONS = 2000  # random orders of the set in the null of the shift-symmetry test
SPLIT_MIN_WEIGHT = 0.25  # share of a component's squared norm a node must hold for the component to split it


def gaps(n: int, cyclic: bool) -> np.ndarray:
    """Index gap of every pair (n x n): ``|i - j|``, or ``min(|i - j|, n - |i - j|)`` when cyclic."""
    g = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.minimum(g, n - g) if cyclic else g


def shift_symmetry(values: np.ndarray, mask: np.ndarray, cyclic: bool, seed: int = 0) -> dict:
    """How well a function of the index gap alone explains the unmasked off-diagonal entries.

    Returns mean value and number of pairs per gap, ``r2`` (the fraction of variance the best
    circulant (cyclic) / symmetric Toeplitz matrix explains: the per-gap means), and its null: the same
    R^2 for ``N_PERMUTATIONS`` random orders of the set (mean, and the one-sided p-value).
    """
    n = values.shape[0]
    iu, ju = np.triu_indices(n, 1)
    ok = mask[iu, ju]
    iu, ju, y = iu[ok], ju[ok], values[iu, ju][ok]
    g = gaps(n, cyclic)
    n_gaps = int(g.max())
    out = {"gap": list(range(1, n_gaps + 1))}
    if y.size < 2:
        return out | {"mean": [None] * n_gaps, "pairs": [0] * n_gaps, "r2": None, "r2_null": None, "p_value": None}

    def r2_of(gap_of_pair):
        sums = np.bincount(gap_of_pair, weights=y, minlength=n_gaps + 1)
        cnt = np.bincount(gap_of_pair, minlength=n_gaps + 1)
        fitted = (sums / np.maximum(cnt, 1))[gap_of_pair]
        tot = ((y - y.mean()) ** 2).sum()
        return 1.0 - ((y - fitted) ** 2).sum() / tot if tot > 0 else np.nan, sums, cnt

    r2, sums, cnt = r2_of(g[iu, ju])
    rng = np.random.default_rng(seed)
    null = np.array([r2_of(g[p[iu], p[ju]])[0] for p in (rng.permutation(n) for _ in range(N_PERMUTATIONS))])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnt > 0, sums / np.maximum(cnt, 1), np.nan)[1:]
    return out | {
        "mean": [None if not np.isfinite(m) else float(m) for m in means],
        "pairs": cnt[1:].astype(int).tolist(),
        "r2": float(r2),
        "r2_null": float(np.nanmean(null)),
        "p_value": float((1 + np.sum(null >= r2 - 1e-12)) / (1 + null.size)),
    }


def fourier_basis(n: int, cyclic: bool) -> list[np.ndarray]:
    """Orthonormal modes per frequency f = 1, 2, ...: (cos, sin) pairs of period n / f (cyclic) or
    the cosine modes ``cos(pi f (i + 1/2) / n)`` (an open chain)."""
    i = np.arange(n)
    modes = []
    for f in range(1, n // 2 + 1 if cyclic else n):
        cols = (
            [np.cos(2 * np.pi * f * i / n), np.sin(2 * np.pi * f * i / n)]
            if cyclic
            else [np.cos(np.pi * f * (i + 0.5) / n)]
        )
        q, _ = np.linalg.qr(np.column_stack([c for c in cols if np.linalg.norm(c) > 1e-9]))
        modes.append(q)
    return modes


def fourier_overlap(scores: np.ndarray, cyclic: bool) -> np.ndarray:
    """Share of each column's variance (n x m scores) in each frequency: shape (m, n_frequencies)."""
    z = scores - scores.mean(axis=0)
    norm = np.maximum((z**2).sum(axis=0), np.finfo(float).tiny)
    modes = fourier_basis(scores.shape[0], cyclic)
    return np.array([[((q.T @ z[:, c]) ** 2).sum() / norm[c] for q in modes] for c in range(z.shape[1])])


def pca(x: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores on the top principal components of the rows of ``x`` and the explained variance ratios."""
    z = x - x.mean(axis=0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    m = min(n_components, s.size)
    total = max((s**2).sum(), np.finfo(float).tiny)
    scores = u[:, :m] * s[:m]
    # a fixed sign per component (largest-|score| word positive): outputs independent of LAPACK's choice
    signs = np.sign(scores[np.abs(scores).argmax(axis=0), np.arange(m)])
    return scores * np.where(signs == 0, 1.0, signs), s[:m] ** 2 / total


def recovered_order(scores: np.ndarray, cyclic: bool) -> tuple[list[int], bool]:
    """Order of the words along the top components (around the circle of components 1-2 when cyclic,
    along component 1 otherwise) and whether it is the set's order (up to rotation and reflection)."""
    n = scores.shape[0]
    if cyclic:
        order = np.argsort(np.arctan2(scores[:, 1], scores[:, 0]), kind="stable")
        start = int(np.flatnonzero(order == 0)[0])
        rot = np.roll(order, -start)
        ok = np.array_equal(rot, np.arange(n)) or np.array_equal(np.roll(rot[::-1], 1), np.arange(n))
    else:
        order = np.argsort(scores[:, 0], kind="stable")
        ok = np.array_equal(order, np.arange(n)) or np.array_equal(order[::-1], np.arange(n))
    return order.tolist(), bool(ok)


def splits(component: np.ndarray, children: list[list[int]]) -> bool:
    """True when the component's sign is constant within each child and not the same for all."""
    signs = [np.sign(component[c]) for c in children]
    if any(np.any(s == 0) or np.any(s != s[0]) for s in signs):
        return False
    return len({float(s[0]) for s in signs}) > 1


def hierarchy_splits(emb: np.ndarray, nodes: list, index: dict, n_components: int) -> dict:
    """Do the leading components split the tree's branches, broad branches first?

    ``nodes`` are :func:`~corpus_stats.geometry.sets.internal_nodes` (breadth first); ``index`` maps a
    word to its row of ``emb``. Per node: whether the first principal component of the node's own words
    splits its children (``local``), and the first global component (of all the tree's words) that
    splits it while holding at least ``SPLIT_MIN_WEIGHT`` of its squared norm on the node's words.
    ``in_order``: the root is split by component 1, every node is split by some component, and the
    components splitting deeper nodes never come before those splitting shallower ones.
    """
    scores, _ = pca(emb, n_components)
    out = []
    for path, depth, kids in nodes:
        rows = [[index[w] for w in kid] for kid in kids]
        flat = [r for kid in rows for r in kid]
        local = [[flat.index(r) for r in kid] for kid in rows]
        local_scores, _ = pca(emb[flat], 1)
        first = None
        for c in range(scores.shape[1]):
            col = scores[:, c]
            weight = (col[flat] ** 2).sum() / max((col**2).sum(), np.finfo(float).tiny)
            if weight >= SPLIT_MIN_WEIGHT and splits(col, rows):
                first = c + 1
                break
        out.append({"path": list(path), "depth": depth, "local": splits(local_scores[:, 0], local), "component": first})
    comps = [(n["depth"], n["component"]) for n in out]
    in_order = bool(out) and out[0]["component"] == 1 and all(c is not None for _, c in comps)
    if in_order:
        for d1, c1 in comps:
            in_order &= all(c2 >= c1 for d2, c2 in comps if d2 > d1)
    return {"nodes": out, "in_order": bool(in_order), "all_local": all(n["local"] for n in out)}
