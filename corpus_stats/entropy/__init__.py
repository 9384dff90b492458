"""Conditional entropy: H_n = H(x_{n+1} | x_1..x_n) against the context length n.

:func:`entropy_curve` is the door. Behind it: n-gram statistics (``ngrams``) and the block-entropy
estimators (``estimators``), the Kneser–Ney upper bound (``kneser_ney``; against the training size in
``kneser_ney_sizes``) and its held-out document split (``heldout``), the corpus-size extrapolation
(``extrapolation``), external L_n curves (``external``) and the numba kernels.
"""

from corpus_stats.entropy.curve import EntropyCurve, entropy_curve
from corpus_stats.entropy.external import ExternalCurve, read_entropy_curve
from corpus_stats.entropy.ngrams import NgramStatistics, ngram_statistics

__all__ = [
    "EntropyCurve",
    "ExternalCurve",
    "NgramStatistics",
    "entropy_curve",
    "ngram_statistics",
    "read_entropy_curve",
]
