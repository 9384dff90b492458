"""Numba kernels of the word co-occurrence counts (private; imported by ``cooccurrence`` only)."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def _window_counts(idx, seg, keep, window, lo, hi, n_words):
    """Rows ``lo .. hi - 1`` (as ``m[a - lo, b]``) of the symmetric counts of word pairs at distance
    1..window inside one segment; skips idx < 0 and positions with keep == 0 (they still occupy their
    place in the text)."""
    m = np.zeros((hi - lo, n_words), dtype=np.int32)
    n = idx.size
    for p in range(n):
        a = idx[p]
        if a < 0 or keep[p] == 0:
            continue
        stop = min(n, p + window + 1)
        for q in range(p + 1, stop):
            if seg[q] != seg[p]:
                break
            b = idx[q]
            if b < 0 or keep[q] == 0:
                continue
            if lo <= a < hi:
                m[a - lo, b] += 1
            if lo <= b < hi:
                m[b - lo, a] += 1
    return m


@numba.njit(cache=True)
def _close_pairs(pos, word, seg, window, span_removed, unit, unit_removed, cover):
    """For every pair of set-word positions (sorted ``pos``) of different words in one segment at most
    ``window`` apart: mark their units (``unit_removed[unit[p]]``), or, when ``span_removed`` >= 0, add
    the span from ``span_removed`` words before the first to as many after the second to ``cover`` (a
    difference array of length n + 1). Returns the number of such pairs."""
    n = cover.size - 1
    n_pairs = 0
    for i in range(pos.size):
        for j in range(i + 1, pos.size):
            if pos[j] - pos[i] > window or seg[pos[j]] != seg[pos[i]]:
                break
            if word[i] != word[j]:
                n_pairs += 1
                if span_removed >= 0:
                    cover[max(0, pos[i] - span_removed)] += 1
                    cover[min(n, pos[j] + span_removed + 1)] -= 1
                else:
                    unit_removed[unit[pos[i]]] = True
                    unit_removed[unit[pos[j]]] = True
    return n_pairs
