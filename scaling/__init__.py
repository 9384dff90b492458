"""scaling: power-law fits, exponent uncertainty and data-scaling predictions (numpy/scipy only).

Turns measured curves -- ‖C(t)‖ against the lag t and H_n against the context length n -- into the
exponents β and γ, the predicted data-scaling exponent α_D = γ/(2β) (Cagnetta, Raventós, Ganguli &
Wyart 2026), the horizon t*(P) and the loss curve L(P). It never imports ``corpus_stats``: it takes plain
arrays, a ``Measurement``-like object or the dict parsed from ``report.json``.
"""

from scaling.beta import SNR_THRESHOLD, check_snr_threshold
from scaling.compare import Collapse, LearningCurveComparison, collapse, compare_learning_curve
from scaling.errors import ErrorBudget, window_spread
from scaling.exponents import ExponentChoice, choose_exponents
from scaling.fits import PowerLawFit, fit_power_law
from scaling.horizons import DEFAULT_FLOOR_CONSTANT, Horizon, horizon
from scaling.prediction import Prediction, predict
from scaling.uncertainty import AlphaEstimate, alpha_D, format_estimate, jackknife_stderr, paper_alpha_error
from scaling.windows import BreakFit, WindowSelection, detect_break, select_window

__all__ = [
    "DEFAULT_FLOOR_CONSTANT",
    "SNR_THRESHOLD",
    "AlphaEstimate",
    "BreakFit",
    "Collapse",
    "ErrorBudget",
    "ExponentChoice",
    "Horizon",
    "LearningCurveComparison",
    "PowerLawFit",
    "Prediction",
    "WindowSelection",
    "alpha_D",
    "check_snr_threshold",
    "choose_exponents",
    "collapse",
    "compare_learning_curve",
    "detect_break",
    "fit_power_law",
    "format_estimate",
    "horizon",
    "jackknife_stderr",
    "paper_alpha_error",
    "predict",
    "select_window",
    "window_spread",
]
