"""Word-set geometry from co-occurrence counts: the statistic, the geometry it induces, the ablation.

Two views of one set of words (Karkada et al., arXiv 2602.15029; Nava & Wyart, arXiv 2605.23821):

* **the statistic**: the set's own PMI submatrix with its counts and a minimum-count mask; the mean PMI
  per index gap and the share of variance a circulant (cyclic sets) / Toeplitz matrix explains, against
  random orders of the set; the top eigenvectors of the submatrix, their Fourier content and order;
* **the geometry it induces**: embeddings from the PPMI matrix of the K most frequent words (top-d
  eigenvectors scaled by the square root of their eigenvalues, as a word-embedding model factorises it),
  normalised to unit length; the PCA of the set's embeddings, the overlap of its top components with
  Fourier modes, the order of the words around the circle (cyclic) or along the first component;
* **the ablation**: every sentence where two different set words co-occur (in window mode: both
  sentences of two set words at most w apart) is removed and everything recomputed, so the set's own
  submatrix is empty while the rest of the corpus remains;
* a **hierarchy** (a tree of words): do the leading components split the broad branches first?
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.geometry import shape
from corpus_stats.geometry.cooccurrence import ablation_keep, count_pairs, ppmi, row_index
from corpus_stats.geometry.sets import WordSet, internal_nodes
from corpus_stats.geometry.words import WordStream

DEFAULT_WINDOW = 5
DEFAULT_N_FREQUENT = 4000
DEFAULT_DIM = 50
DEFAULT_MIN_COUNT = 5
CDS = 0.75  # context-distribution smoothing of the embedding PPMI (Levy, Goldberg & Dagan 2015)
N_COMPONENTS = 3


@dataclass(frozen=True, eq=False)
class SetView:
    """One count matrix seen through a set: both views (``pmi`` is n x n with NaN where masked)."""

    counts: np.ndarray
    pmi: np.ndarray
    mask: np.ndarray
    symmetry: dict
    statistic: dict
    embedding: dict

    def to_dict(self) -> dict:
        def nan_none(a):
            return np.where(np.isfinite(a), a, None).tolist()

        return {
            "counts": self.counts.astype(np.int64).tolist(),
            "pmi": nan_none(self.pmi),
            "masked_pairs": int((~self.mask).sum() - self.mask.shape[0]) // 2,
            "symmetry": self.symmetry,
            "statistic": self.statistic,
            "embedding": self.embedding,
        }


@dataclass(frozen=True, eq=False)
class SetGeometry:
    """Result of :func:`set_geometry`.

    Attributes
    ----------
    words, cyclic : tuple of str, bool
        The set (a tree's leaves depth first) and whether its order wraps around.
    word_counts : numpy.ndarray
        Occurrences of each word in the corpus.
    full, ablated : SetView
        Both views on the whole corpus and after the ablation (``ablated`` None when not asked).
    hierarchy, hierarchy_ablated : dict or None
        Split tests of a tree (see :func:`corpus_stats.geometry.shape.hierarchy_splits`).
    options : dict
        Window, K, d, minimum count, pre-tokenizer, ablation sizes, notes.
    """

    words: tuple
    cyclic: bool
    word_counts: np.ndarray
    full: SetView
    ablated: SetView | None
    hierarchy: dict | None
    hierarchy_ablated: dict | None
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return {
            "words": list(self.words),
            "cyclic": self.cyclic,
            "word_counts": self.word_counts.tolist(),
            "full": self.full.to_dict(),
            "ablated": None if self.ablated is None else self.ablated.to_dict(),
            "hierarchy": self.hierarchy,
            "hierarchy_ablated": self.hierarchy_ablated,
            "options": json.loads(json.dumps(self.options, default=str)),
        }


def embeddings(counts, dim: int, min_count: int) -> np.ndarray:
    """Unit-length word vectors: top-``dim`` eigenvectors of the PPMI matrix scaled by sqrt(eigenvalue).

    Pairs seen fewer than ``min_count`` times count as unseen (PPMI 0): the PMI of rare pairs is noise
    that would otherwise fill the leading eigenvectors."""
    from scipy.sparse.linalg import eigsh

    m = ppmi(counts, CDS, min_count)
    # context smoothing makes PMI slightly asymmetric: factorise its symmetric part; sparse products
    # (single-threaded) rather than dense BLAS, whose spinning threads stall on a busy machine
    m = 0.5 * (m + m.T)
    if m.nnz == 0:
        raise ValueError(
            f"no pair of the {m.shape[0]} counted words co-occurs {min_count} times or more: no embedding; "
            "lower --min-count or use a larger corpus."
        )
    dim = min(dim, m.shape[0] - 2)
    v0 = np.random.default_rng(0).standard_normal(m.shape[0])
    lam, vec = eigsh(m, k=dim, which="LA", v0=v0)
    emb = vec * np.sqrt(np.maximum(lam, 0.0))
    norm = np.linalg.norm(emb, axis=1, keepdims=True)
    return emb / np.where(norm > 0, norm, 1.0)


def _statistic_view(sub_pmi: np.ndarray, mask: np.ndarray, cyclic: bool) -> dict:
    """Top eigenvectors of the set's (masked, zero-diagonal, double-centred) PMI submatrix."""
    n = sub_pmi.shape[0]
    usable = int((mask.sum() - n) // 2)
    if usable < n:  # too few pairs to read a shape from (e.g. after the ablation)
        return {"order_recovered": None, "reason": f"only {usable} set pairs above the minimum count"}
    s = np.where(mask, sub_pmi, 0.0)
    np.fill_diagonal(s, 0.0)
    c = np.eye(n) - 1.0 / n
    lam, vec = np.linalg.eigh(c @ s @ c)
    top = np.argsort(lam)[::-1][: min(N_COMPONENTS, n - 1)]
    scores = vec[:, top] * np.sqrt(np.maximum(lam[top], 0.0))
    return _shape_summary(scores, cyclic) | {"eigenvalues": lam[top].tolist()}


def _shape_summary(scores: np.ndarray, cyclic: bool) -> dict:
    overlap = shape.fourier_overlap(scores, cyclic)
    order, ok = shape.recovered_order(scores, cyclic)
    out = {
        "scores": scores.tolist(),
        "fourier_overlap": overlap.tolist(),
        "best_frequency": (overlap.argmax(axis=1) + 1).tolist(),
        "order": order,
        "order_recovered": ok,
    }
    if not cyclic:
        rank = np.argsort(np.argsort(scores[:, 0]))
        out["spearman_component1"] = float(np.corrcoef(rank, np.arange(rank.size))[0, 1])
    return out


def _view(counts, rows, ws_set: WordSet, min_count: int, dim: int, seed: int, tree_index=None):
    n = rows.size
    sub = counts[rows][:, rows].toarray()
    mask = sub >= min_count
    np.fill_diagonal(mask, True)
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    total, marginal = n_i.sum(), n_i[rows]
    with np.errstate(divide="ignore"):
        sub_pmi = np.log(sub * total / np.outer(marginal, marginal))  # = pmi(counts) on the set's rows
    sub_pmi = np.where(mask, sub_pmi, np.nan)
    np.fill_diagonal(sub_pmi, np.nan)
    off = ~np.eye(n, dtype=bool)
    symmetry = shape.shift_symmetry(np.nan_to_num(sub_pmi), mask & off, ws_set.cyclic, seed)
    emb = embeddings(counts, dim, min_count)[rows]
    scores, ratio = shape.pca(emb, N_COMPONENTS)
    embedding = _shape_summary(scores, ws_set.cyclic) | {"explained_variance": ratio.tolist()}
    hierarchy = None
    if ws_set.tree is not None:
        nodes = internal_nodes(ws_set.tree)
        hierarchy = shape.hierarchy_splits(emb, nodes, tree_index, min(n - 1, 2 * len(nodes) + 2))
    view = SetView(sub, sub_pmi, mask, symmetry, _statistic_view(sub_pmi, mask, ws_set.cyclic), embedding)
    return view, hierarchy


def set_geometry(
    ws: WordStream,
    word_set: WordSet,
    *,
    window=DEFAULT_WINDOW,
    n_frequent: int = DEFAULT_N_FREQUENT,
    dim: int = DEFAULT_DIM,
    min_count: int = DEFAULT_MIN_COUNT,
    ablation: bool = True,
    drop_missing: bool = False,
    seed: int = 0,
) -> SetGeometry:
    """Both views of a word set (and of a tree's splits), on the whole corpus and after the ablation.

    Parameters
    ----------
    ws : WordStream
        The corpus as words (:func:`corpus_stats.geometry.word_stream`).
    word_set : WordSet
        The set or tree (:func:`corpus_stats.geometry.resolve_set`).
    window : int or {"sentence", "document"}, default 5
        Co-occurrence within ±window words (inside one document), or within a sentence / document.
    n_frequent : int, default 4000
        The K most frequent words whose PPMI matrix gives the embeddings (set words are added).
    dim : int, default 50
        Embedding dimension d.
    min_count : int, default 5
        Set pairs co-occurring fewer times are masked in the PMI submatrix (PMI's noise ~ 1/sqrt(count)).
    ablation : bool, default True
        Also compute everything after removing the sentences where two set words co-occur.
    drop_missing : bool, default False
        Drop set words absent from the corpus instead of raising.
    seed : int, default 0
        Seed of the random orders in the symmetry test's null.

    Returns
    -------
    SetGeometry

    Raises
    ------
    ValueError
        Words absent from the corpus (named), fewer than 3 words left, or bad parameters.
    """
    from corpus_stats.geometry.cooccurrence import parse_window

    window = parse_window(window)
    for name, value, low in (("n_frequent", n_frequent, 10), ("dim", dim, 2), ("min_count", min_count, 1)):
        check_int(name, value, low)
    ids = [ws.id_of(w) for w in word_set.words]
    missing = [w for w, i in zip(word_set.words, ids) if i < 0]
    notes = []
    if missing and not drop_missing:
        hint = " (try --lowercase)" if not ws.info.get("lowercase") else ""
        raise ValueError(
            f"{len(missing)} word(s) of the set never occur in the corpus: {', '.join(missing)}; "
            f"remove them from the set or drop them (--drop-missing){hint}."
        )
    if missing:
        if word_set.tree is not None:
            raise ValueError(f"words of the tree never occur in the corpus: {', '.join(missing)}; remove them.")
        notes.append(f"dropped words absent from the corpus: {', '.join(missing)}.")
        kept = [w for w, i in zip(word_set.words, ids) if i >= 0]
        if len(kept) < 3:
            raise ValueError(f"only {len(kept)} word(s) of the set occur in the corpus ({', '.join(kept)}); need 3.")
        word_set = WordSet(word_set.name, tuple(kept), word_set.cyclic)
        ids = [i for i in ids if i >= 0]
    row_ids, row_of = row_index(ws, n_frequent, ids)
    if row_ids.size < dim + 3:
        raise ValueError(
            f"the corpus has {row_ids.size} distinct words counted; need more than dim + 2 = {dim + 2} (lower --dim)."
        )
    rows = row_of[np.asarray(ids)].astype(np.int64)
    tree_index = {w: k for k, w in enumerate(word_set.words)}
    counts = count_pairs(ws, row_of, window)
    full, hierarchy = _view(counts, rows, word_set, min_count, dim, seed, tree_index)
    n_masked = int((~full.mask).sum()) // 2
    if n_masked:
        notes.append(
            f"{n_masked} of {len(ids) * (len(ids) - 1) // 2} set pairs co-occur fewer than {min_count} times: "
            "their PMI is masked (too noisy)."
        )
    ablated = hierarchy_ablated = None
    ablation_info = None
    if ablation:
        keep, removed, total = ablation_keep(ws, ids, window)
        counts_ab = count_pairs(ws, row_of, window, keep)
        left = float(counts_ab[rows][:, rows].toarray()[~np.eye(len(ids), dtype=bool)].sum())
        ablation_info = {
            "unit": window + "s" if isinstance(window, str) else "windows around two set words",
            "removed": removed,
            "out_of": total,
            "words_removed_fraction": float(1.0 - keep.mean()),
            "set_pair_counts_left": left,
        }
        if np.any(np.asarray(counts_ab[rows].sum(axis=1)) == 0):
            notes.append("the ablation leaves a set word without any co-occurrence: no ablated geometry.")
        else:
            ablated, hierarchy_ablated = _view(counts_ab, rows, word_set, min_count, dim, seed, tree_index)
    options = {
        "window": window if isinstance(window, str) else f"±{window} words",
        "n_frequent": int(n_frequent),
        "rows": int(row_ids.size),
        "dim": int(dim),
        "min_count": int(min_count),
        "ppmi_context_smoothing": CDS,
        "words": ws.info,
        "ablation": ablation_info,
        "notes": notes,
    }
    if window == "document" and ws.info.get("n_documents", 2) < 2:
        notes.append("one document: document co-occurrence carries no information (use a window).")
    return SetGeometry(
        words=tuple(word_set.words),
        cyclic=bool(word_set.cyclic),
        word_counts=ws.counts[np.asarray(ids)],
        full=full,
        ablated=ablated,
        hierarchy=hierarchy,
        hierarchy_ablated=hierarchy_ablated,
        options=options,
    )


def summary_lines(g: SetGeometry) -> list[str]:
    """A few human-readable lines about the result."""
    info = g.options["words"]
    cached = "; split earlier, read from the cache" if (info.get("cache") or {}).get("hit") else ""
    lines = [f"words: {info['n_words']:,}, {info['n_documents']:,} documents{cached}"]
    lines += [
        f"set: {len(g.words)} words ({'cyclic' if g.cyclic else 'open'}), counts "
        + ", ".join(f"{w} {c}" for w, c in zip(g.words, g.word_counts.tolist()))
    ]
    for name, view in (("corpus", g.full), ("ablated", g.ablated)):
        if view is None:
            continue
        sym = view.symmetry
        r2 = "n/a" if sym["r2"] is None else f"{sym['r2']:.3f} (null {sym['r2_null']:.3f}, p {sym['p_value']:.3g})"
        emb = view.embedding
        lines.append(
            f"{name}: shift-symmetry R^2 {r2}; embedding components best frequencies {emb['best_frequency']}, "
            f"order recovered: {emb['order_recovered']} (statistic: {view.statistic['order_recovered']})"
        )
    if g.hierarchy is not None:
        lines.append(f"tree: broad branches first: {g.hierarchy['in_order']}; local splits: {g.hierarchy['all_local']}")
    for note in g.options["notes"]:
        lines.append(f"note: {note}")
    return lines
