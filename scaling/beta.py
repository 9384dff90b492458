"""β from the correlation curve by the rules that :func:`scaling.predict` and :func:`scaling.choose_exponents`
share.

β is fitted by the window rule on the debiased ‖C(t)‖_op at lags whose signal/noise reaches
:data:`SNR_THRESHOLD`; the paper's raw log-log slope over the same window and a power law seen through the
measured noise floor of the raw ‖C(t)‖ are kept as cross-checks. Its :class:`ErrorBudget` holds the sampling
error (leave-one-shard-out jackknife, or the fit's scatter when that is larger) and the spread over
acceptable windows beyond what the noise of window-to-window differences explains (:func:`window_spread`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling._checks import as_float_array, get_field
from scaling.errors import ErrorBudget, jackknife_replicates, ols_slopes, statistical_error, window_part
from scaling.fits import PowerLawFit, fit_power_law
from scaling.uncertainty import jackknife_stderr
from scaling.windows import WindowSelection, select_window

#: β is fitted only at lags whose signal/noise (``correlations.snr``) is at least this.
SNR_THRESHOLD = 5.0


def check_snr_threshold(snr_threshold: Any) -> float:
    """The rule for the signal/noise threshold: a finite positive number."""
    ok = isinstance(snr_threshold, (int, float, np.integer, np.floating)) and not isinstance(snr_threshold, bool)
    if not (ok and math.isfinite(snr_threshold) and snr_threshold > 0):
        raise ValueError(f"snr_threshold must be a finite positive number; got {snr_threshold!r}.")
    return float(snr_threshold)


@dataclass(frozen=True)
class BetaFit:
    """β's window fit and what :func:`predict` needs beside it (private)."""

    lags: np.ndarray
    values: np.ndarray  # debiased ||C||_op (raw when not debiased)
    valid: np.ndarray  # lags with signal/noise >= threshold and a positive value
    selection: WindowSelection
    paper: PowerLawFit | None  # raw-op log-log slope in the window (paper-compatible)
    replicates: np.ndarray | None  # leave-one-shard-out exponents in the window
    floor_check: PowerLawFit | None
    budget: ErrorBudget


def fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed=0) -> BetaFit:
    """β by the window rule on the debiased ‖C(t)‖_op at lags with signal/noise >= ``snr_threshold``.

    ``corr`` is a correlation curve (object or report dict); ``warn`` and ``assume`` collect the rule's
    warnings and stated assumptions. Raises ValueError when too few lags qualify.
    """
    lags = as_float_array(get_field(corr, "lags"), "correlations.lags")
    op = as_float_array(get_field(corr, "op"), "correlations.op")
    deb = get_field(corr, "op_debiased")
    y = op if deb is None else as_float_array(deb, "correlations.op_debiased")
    snr = get_field(corr, "snr")
    if snr is None:
        valid = np.ones(lags.size, dtype=bool)
        warn.append("no signal/noise given: beta fitted on all lags")
    else:
        valid = as_float_array(snr, "correlations.snr") >= snr_threshold
        name = "op" if deb is None else "op_debiased"
        lost = ~np.isfinite(y) & np.isfinite(op)
        if lost.any():  # e.g. a half without pairs at a long lag: dropped, but never silently
            warn.append(
                f"correlations.{name} is not a number at {int(lost.sum())} lag(s) where op is finite "
                f"(t = {', '.join(f'{t:g}' for t in lags[lost][:8])}): not used for beta"
            )
        bad = np.flatnonzero(valid & ~(np.isfinite(y) & (y > 0)))
        if bad.size:  # a measured signal has a positive norm: NaN or <= 0 here is a broken report
            i = int(bad[0])
            raise ValueError(
                f"correlations.{name}[{i}] (lag {lags[i]:g}) is {y[i]:.4g} while its signal/noise is "
                f"{float(as_float_array(snr, 'correlations.snr')[i]):.3g} >= {snr_threshold:g}: the report "
                "is inconsistent (a norm measured above the noise must be positive); re-run the measurement."
            )
    valid &= np.isfinite(y) & (y > 0)
    if valid.sum() < 3:
        raise ValueError(
            f"beta needs at least 3 lags with signal/noise >= {snr_threshold:g}; got "
            f"{int(valid.sum())} of {lags.size}. Measure on more tokens or lower snr_threshold."
        )
    sel = select_window(
        lags,
        y,
        valid=valid,
        method="paper",
        min_points=min_points,
        min_decades=min_decades,
        confidence=confidence,
        seed=seed,
    )
    assume.append(
        f"beta fitted on {'debiased' if deb is not None else 'raw'} ||C(t)||_op at lags with "
        f"signal/noise >= {snr_threshold:g} ({int(valid.sum())} of {lags.size} lags); window rule: "
        f"{sel.rule}"
    )
    lo, hi = sel.window
    in_w = (lags >= lo) & (lags <= hi) & valid
    beta_paper = None
    if np.all(np.isfinite(op[in_w]) & (op[in_w] > 0)):
        beta_paper = fit_power_law(lags[in_w], op[in_w], confidence=confidence, seed=seed)
    reps = jackknife_replicates(corr, "op_jackknife", lags.size)

    def window_reps(mask):  # leave-one-shard-out raw-op slopes over one window, or None
        r = reps[:, mask]
        if not np.all(np.isfinite(r) & (r > 0)):
            return None
        return ols_slopes(np.log(lags[mask]), np.log(r))

    beta_reps = None if reps is None else window_reps(in_w)
    if reps is not None and beta_reps is None:
        warn.append("some op jackknife replicates non-positive in the window: none used")
    wreps = [beta_reps] + [
        None if beta_reps is None else window_reps((lags >= a) & (lags <= b_) & valid)
        for a, b_ in sel.candidate_windows[1:]
    ]
    jk = jackknife_stderr(beta_reps) if beta_reps is not None else math.nan
    stat, how = statistical_error(jk, sel.fit.stderr, larger=True)
    window = window_part(sel, wreps, None)
    budget = ErrorBudget(stat, 0.0, window, 1.0, math.hypot(stat, window), how)
    if sel.fallback:
        warn.extend(sel.notes)
    if sel.breaks is not None and sel.breaks.broken:
        warn.append(
            f"||C(t)|| has a broken power law (break near t = {sel.breaks.break_x:.3g}, exponents "
            + ", ".join(f"{e:.3f}" for e in sel.breaks.exponents)
            + f"); beta is from the window {lo:g}..{hi:g}"
        )
    beta_floor = _beta_floor_check(corr, lags, op, snr, sel, warn)
    return BetaFit(lags, y, valid, sel, beta_paper, beta_reps, beta_floor, budget)


def _beta_floor_check(corr, lags, op, snr, sel, warn):
    """Cross-check: power law + measured floor on raw ||C||, out to where signal ~ noise."""
    fl = get_field(corr, "floor_op")
    if fl is None:
        return None
    fl = as_float_array(fl, "correlations.floor_op")
    if fl.shape != lags.shape:
        return None
    reach = (lags >= sel.window[0]) & np.isfinite(op) & (op > 0) & np.isfinite(fl) & (fl >= 0)
    if snr is not None:
        s = as_float_array(snr, "correlations.snr")
        above = np.flatnonzero(np.isfinite(s) & (s >= 1.0))
        reach &= lags <= (lags[above[-1]] if above.size else 0)
    if reach.sum() < 4:
        return None
    try:
        fit = fit_power_law(lags[reach], op[reach], method="floor", floor=fl[reach])
    except ValueError:
        return None
    b = sel.fit
    if abs(fit.exponent - b.exponent) > max(2 * math.hypot(fit.stderr, b.stderr), 0.01):
        warn.append(
            f"power law + floor on raw ||C|| out to t = {fit.window[1]:g} gives beta = "
            f"{fit.exponent:.3f} ± {fit.stderr:.3f}, unlike {b.exponent:.3f} from the window: "
            "the decay changes beyond the window"
        )
    return fit
