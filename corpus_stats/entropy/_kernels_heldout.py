"""Numba kernel of the held-out document split (no I/O, validation or raising here).

* `_document_hashes` - a 64-bit FNV-1a hash per document, so that :mod:`corpus_stats.entropy.heldout`
  compares only the held-out documents whose hash matches a training document's.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _document_hashes(tokens, offsets):
    """64-bit FNV-1a hash of every document's tokens (length mixed in)."""
    n_docs = offsets.size - 1
    out = np.empty(n_docs, np.uint64)
    prime = np.uint64(1099511628211)
    for d in range(n_docs):
        h = np.uint64(14695981039346656037) ^ np.uint64(offsets[d + 1] - offsets[d])
        for i in range(offsets[d], offsets[d + 1]):
            h = (h ^ np.uint64(tokens[i])) * prime
        out[d] = h
    return out
