"""Correlations: ‖C(t)‖ of the lagged token covariance against the separation t.

:func:`correlation_curve` is the door; pair counting (``counts``), the matrix-free operators
(``operators``, ``lanczos``) and the numba kernels (``_kernels*``) are its private machinery.
"""

from corpus_stats.correlations.curve import PAPER_LAGS, CorrelationCurve, correlation_curve, default_lags, parse_lags

__all__ = ["PAPER_LAGS", "CorrelationCurve", "correlation_curve", "default_lags", "parse_lags"]
