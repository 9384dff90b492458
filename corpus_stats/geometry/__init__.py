"""Co-occurrence geometry of word sets: PMI symmetry, induced embeddings, ablation, hierarchy splits.

The door of this stage: :func:`word_stream` (a corpus as words, as the tokenizer's pre-tokenizer
splits it), :func:`resolve_set` (a built-in set or a set / tree file) and :func:`set_geometry` (both
views of the set, and of a tree's splits, with the ablation). Kernels in ``_kernels`` are private.
"""

from corpus_stats.geometry.analysis import SetGeometry, SetView, set_geometry, summary_lines
from corpus_stats.geometry.sets import BUILTIN_SETS, WordSet, read_set_file, resolve_set
from corpus_stats.geometry.words import WordStream, word_stream

__all__ = [
    "BUILTIN_SETS",
    "SetGeometry",
    "SetView",
    "WordSet",
    "WordStream",
    "read_set_file",
    "resolve_set",
    "set_geometry",
    "summary_lines",
    "word_stream",
]
