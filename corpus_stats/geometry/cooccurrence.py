"""Windowed word co-occurrence counts, PMI, and the ablation that removes a set's co-occurrences.

Counts ``N_ij`` are symmetric: every ordered pair of positions (p, q), p != q, holding words i and j
that are at most ``window`` words apart (``window=w``) or in the same sentence / document. Rows are the
K most frequent words plus the words of the set under study; other words keep their place in the
text (distances are counted in words of the text) but are not counted. The counts are a sparse CSR
matrix: at a large K most pairs never meet, and the dense K x K matrix would not fit.
``PMI_ij = log(N_ij N / (N_i N_j))`` with ``N_i = sum_j N_ij`` and ``N = sum_ij N_ij``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from corpus_stats.geometry import _kernels as K
from corpus_stats.geometry.words import WordStream

UNIT_MODES = ("sentence", "document")
BLOCK_ENTRIES = 1 << 25  # dense int32 rows counted per pass over the text in window mode (128 MiB)


def parse_window(value) -> int | str:
    """``"5"`` or 5 (±5 words), ``"sentence"`` or ``"document"``."""
    if isinstance(value, str) and value.strip().lower() in UNIT_MODES:
        return value.strip().lower()
    try:
        w = int(value)
    except (TypeError, ValueError):
        w = 0
    if w < 1:
        raise ValueError(f"window must be a positive number of words, 'sentence' or 'document'; got {value!r}.")
    return w


def row_index(ws: WordStream, n_frequent: int, extra_ids) -> tuple[np.ndarray, np.ndarray]:
    """Rows: ids ``0 .. n_frequent - 1`` then the ``extra_ids`` not among them. Returns
    ``(row_ids, row_of)`` with ``row_of[word id] = row`` or -1."""
    top = np.arange(min(n_frequent, len(ws.words)), dtype=np.int64)
    extra = np.array([i for i in extra_ids if i >= top.size], dtype=np.int64)
    row_ids = np.concatenate([top, extra])
    row_of = np.full(len(ws.words), -1, dtype=np.int32)
    row_of[row_ids] = np.arange(row_ids.size, dtype=np.int32)
    return row_ids, row_of


def _units(ws: WordStream, window) -> np.ndarray:
    """Unit of each position: sentences (window or sentence mode) or documents."""
    return ws.doc_id if window == "document" else ws.sentence_id


def count_pairs(ws: WordStream, row_of: np.ndarray, window, keep: np.ndarray | None = None) -> sp.csr_matrix:
    """Symmetric co-occurrence counts (float64 CSR, rows x rows); ``keep`` (uint8 per position) drops positions.

    Window mode counts blocks of rows into a dense buffer of at most ``BLOCK_ENTRIES`` entries, one pass
    over the text per block (one pass at the default K); unit mode multiplies the sparse unit-by-word
    incidence matrix by its transpose."""
    idx = row_of[ws.ids]
    n_rows = int(row_of.max()) + 1
    if keep is None:
        keep = np.ones(idx.size, dtype=np.uint8)
    if not isinstance(window, str):
        step = max(1, BLOCK_ENTRIES // n_rows)
        blocks = [
            sp.csr_matrix(K._window_counts(idx, ws.doc_id, keep, int(window), lo, min(lo + step, n_rows), n_rows))
            for lo in range(0, n_rows, step)
        ]
        return sp.vstack(blocks, format="csr").astype(np.float64)
    ok = (idx >= 0) & (keep > 0)
    unit = _units(ws, window)[ok]
    x = sp.csr_matrix((np.ones(unit.size), (unit, idx[ok])), shape=(int(unit.max(initial=0)) + 1, n_rows))
    x.sum_duplicates()
    m = (x.T @ x).tocsr() - sp.diags(np.asarray(x.sum(axis=0)).ravel(), format="csr")  # no word is its own neighbour
    m.eliminate_zeros()
    m.sort_indices()
    return m


def ablation_keep(ws: WordStream, set_ids, window) -> tuple[np.ndarray, int, int]:
    """Positions kept after removing every place where two different set words co-occur: the units
    (sentences, documents) holding them, or in window mode the window around them (from ``window``
    words before the first to ``window`` words after the second), so that no two set words are left
    within ``window`` of each other.

    Returns ``(keep, removed, total)``: uint8 per position, and the units (or windows) removed out of
    the units (or set-word occurrences) there are.
    """
    in_set = np.full(len(ws.words), -1, dtype=np.int64)
    in_set[np.asarray(set_ids)] = np.arange(len(set_ids))
    pos = np.flatnonzero(in_set[ws.ids] >= 0).astype(np.int64)
    units = _units(ws, window)
    cover = np.zeros(ws.ids.size + 1, dtype=np.int64)
    if isinstance(window, str):
        removed = np.zeros(int(units[-1]) + 1, dtype=np.bool_)
        K._close_pairs(pos, in_set[ws.ids[pos]], units, ws.ids.size, -1, units, removed, cover)
        return (~removed[units]).astype(np.uint8), int(removed.sum()), removed.size
    n_pairs = K._close_pairs(
        pos, in_set[ws.ids[pos]], ws.doc_id, int(window), int(window), units, np.zeros(1, np.bool_), cover
    )
    return (np.cumsum(cover[:-1]) == 0).astype(np.uint8), int(n_pairs), int(pos.size)


def pmi(counts: np.ndarray, cds: float = 1.0) -> np.ndarray:
    """``log(N_ij N / (N_i N_j))`` (-inf where N_ij = 0); ``cds < 1`` smooths the context marginal
    ``N_j^cds / sum N^cds`` (Levy, Goldberg & Dagan 2015)."""
    total = counts.sum()
    n_i = counts.sum(axis=1)
    ctx = n_i**cds
    p_ctx = ctx / max(ctx.sum(), np.finfo(float).tiny)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log(counts / total) - np.log(n_i / total)[:, None] - np.log(p_ctx)[None, :]
    out[~np.isfinite(out)] = -np.inf
    return out


def ppmi(counts: sp.csr_matrix, cds: float, min_count: int) -> sp.csr_matrix:
    """``max(PMI, 0)`` with context smoothing ``cds`` (as :func:`pmi`), sparse: only on the pairs counted
    ``min_count`` times or more (the others count as unseen, PPMI 0)."""
    n_i = np.asarray(counts.sum(axis=1)).ravel()
    total = n_i.sum()
    ctx = n_i**cds
    p_ctx = ctx / max(ctx.sum(), np.finfo(float).tiny)
    c = counts.tocoo()
    seen = c.data >= min_count
    r, k, v = c.row[seen], c.col[seen], c.data[seen]
    val = np.log(v / total) - np.log(n_i[r] / total) - np.log(p_ctx[k])  # only rows that hold counts
    pos = val > 0
    return sp.csr_matrix((val[pos], (r[pos], k[pos])), shape=counts.shape)
