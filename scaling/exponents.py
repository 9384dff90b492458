"""β and γ together: :func:`choose_exponents` fits each exponent on its own by the rules of
:func:`scaling.predict` (:mod:`scaling.beta`, :mod:`scaling.gamma`), and :func:`total_error` is each
exponent's "±" (the total of its :class:`ErrorBudget`) in both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling._checks import check_confidence, get_field
from scaling.beta import SNR_THRESHOLD, BetaFit, check_snr_threshold, fit_beta
from scaling.errors import ErrorBudget
from scaling.gamma import GammaFit, fit_gamma
from scaling.windows import WindowSelection


def total_error(fit: BetaFit | GammaFit, name: str, warn: list) -> float:
    """The exponent's total standard error (its :class:`ErrorBudget`), the "±" everywhere.

    A fallback window has no spread: the fit over all usable points is then the only error, and a
    warning says so.
    """
    if fit.selection.fallback:
        warn.append(f"{name}: no window satisfied the rule, so its error has no window-spread part")
    return fit.budget.total


@dataclass(frozen=True)
class ExponentChoice:
    """β and γ chosen by :func:`predict`'s rules, each on its own (see :func:`choose_exponents`).

    Attributes
    ----------
    beta, gamma : WindowSelection or None
        The chosen window and fit; None when that exponent cannot be fitted (reason in ``*_error``).
    beta_stderr, gamma_stderr : float
        Leave-one-shard-out jackknife standard errors of the window's exponent where the curve has
        replicates, else the fit's own; NaN when the exponent is absent.
    gamma_curve : str or None
        ``"external"``, ``"corrected"`` or ``"extrapolated"``: the H curve γ was fitted on.
    beta_error, gamma_error : str or None
        Why an exponent could not be fitted.
    warnings : tuple of str
        The rules' warnings, as :func:`predict` would give them.
    beta_budget, gamma_budget : ErrorBudget or None
        What each total error is made of.
    """

    beta: WindowSelection | None
    gamma: WindowSelection | None
    beta_stderr: float
    gamma_stderr: float
    gamma_curve: str | None
    beta_error: str | None
    gamma_error: str | None
    warnings: tuple = ()
    beta_budget: ErrorBudget | None = None
    gamma_budget: ErrorBudget | None = None


def choose_exponents(
    measurement: Any,
    *,
    snr_threshold: float = SNR_THRESHOLD,
    min_points: int = 5,
    min_decades: float = 0.6,
    confidence: float = 0.9,
    seed: int = 0,
) -> ExponentChoice:
    """β and γ by the rules of :func:`predict`, each without needing the other.

    :func:`predict` needs both exponents; this gives whichever can be fitted (e.g. γ on a corpus
    too small for β), by exactly the same window, threshold and curve rules, so a summary never
    states an exponent that :func:`predict` would have chosen differently.

    Parameters
    ----------
    measurement : Measurement or dict
        As for :func:`predict`; a missing curve gives that exponent's error.
    snr_threshold, min_points, min_decades, confidence, seed
        As for :func:`predict`.

    Returns
    -------
    ExponentChoice
    """
    confidence = check_confidence(confidence)
    snr_threshold = check_snr_threshold(snr_threshold)
    warn: list[str] = []
    assume: list[str] = []
    beta = gamma = curve = beta_error = gamma_error = b_budget = g_budget = None
    beta_se = gamma_se = math.nan
    corr, ent = get_field(measurement, "correlations"), get_field(measurement, "entropy")
    if corr is None:
        beta_error = "the measurement has no correlations"
    else:
        try:
            b = fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed)
            beta = b.selection
            beta_se = total_error(b, "beta", warn)  # the "±" predict uses
            b_budget = b.budget
        except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError) as exc:
            beta_error = str(exc)
    if ent is None:
        gamma_error = "the measurement has no entropy curve"
    else:
        try:
            g = fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed)
            curve, gamma = g.curve, g.selection
            gamma_se = total_error(g, "gamma", warn)
            g_budget = g.budget
        except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError) as exc:
            gamma_error = str(exc)
    return ExponentChoice(
        beta=beta,
        gamma=gamma,
        beta_stderr=float(beta_se),
        gamma_stderr=float(gamma_se),
        gamma_curve=curve,
        beta_error=beta_error,
        gamma_error=gamma_error,
        warnings=tuple(dict.fromkeys(warn)),
        beta_budget=b_budget,
        gamma_budget=g_budget,
    )
