"""β and γ from measured curves by one set of rules: the windows, thresholds and errors that
:func:`scaling.predict` and :func:`choose_exponents` share.

β is fitted on the debiased ‖C(t)‖_op at lags whose signal/noise reaches :data:`SNR_THRESHOLD`; γ on the
external L_n if given, else on the corrected H_n inside its validity mask, else on the size-extrapolated
H_n. Each exponent's total error is the larger of its jackknife and fit errors with the spread over
acceptable windows added in quadrature (:func:`total_error`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling._checks import as_float_array, check_confidence, get_field
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


def _replicates(obj: Any, name: str, length: int) -> np.ndarray | None:
    """G x length float array of jackknife replicates, or None when absent/malformed."""
    rep = get_field(obj, name)
    if rep is None:
        return None
    if isinstance(rep, list):
        rep = [[np.nan if v is None else v for v in row] for row in rep]
    arr = np.array(rep, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != length or arr.shape[0] < 3:
        return None
    return arr


def _ols_slopes(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """Decay exponents (−slope) of OLS of each row of ly on lx."""
    xc = lx - lx.mean()
    return -((ly - ly.mean(axis=-1, keepdims=True)) @ xc) / np.sum(xc**2)


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


@dataclass(frozen=True)
class GammaFit:
    """γ's window fit and what :func:`predict` needs beside it (private)."""

    curve: str  # "external", "corrected" or "extrapolated"
    n: np.ndarray
    values: np.ndarray
    valid: np.ndarray
    selection: WindowSelection
    paper: PowerLawFit | None  # raw log-log slope (ignores H_inf)
    differences: PowerLawFit | None
    replicates: np.ndarray | None  # leave-one-shard-out exponents (offset fit)
    paper_replicates: np.ndarray | None  # leave-one-shard-out raw slopes


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
    reps = _replicates(corr, "op_jackknife", lags.size)
    beta_reps = None
    if reps is not None:
        r = reps[:, in_w]
        good = np.all(np.isfinite(r) & (r > 0), axis=1)
        if good.all():
            beta_reps = _ols_slopes(np.log(lags[in_w]), np.log(r))
        else:
            warn.append("some op jackknife replicates non-positive in the window: none used")
    if sel.fallback:
        warn.extend(sel.notes)
    if sel.breaks is not None and sel.breaks.broken:
        warn.append(
            f"||C(t)|| has a broken power law (break near t = {sel.breaks.break_x:.3g}, exponents "
            + ", ".join(f"{e:.3f}" for e in sel.breaks.exponents)
            + f"); beta is from the window {lo:g}..{hi:g}"
        )
    beta_floor = _beta_floor_check(corr, lags, op, snr, sel, warn)
    return BetaFit(lags, y, valid, sel, beta_paper, beta_reps, beta_floor)


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


#: Fewest usable H_n points (n >= 1) for a curve to be fitted for gamma.
GAMMA_MIN_POINTS = 4


def _mask(ent, key, n, required):
    v = get_field(ent, key)
    if v is None:
        return np.ones(n.size, dtype=bool) if required else None
    v = np.asarray(v, dtype=bool)
    if v.shape != n.shape:
        raise ValueError(f"entropy.{key} must have {n.size} entries; got {v.size}.")
    return v


def curve_errors(ent, keys, n):
    """sqrt(sum of squares) of the named per-n error arrays, or None when the first is absent."""
    parts = []
    for key in keys:
        v = get_field(ent, key)
        if v is None:
            if not parts:
                return None
            continue
        a = as_float_array(v, f"entropy.{key}")
        if a.shape != n.shape:
            raise ValueError(f"entropy.{key} must have {n.size} entries; got {a.size}.")
        parts.append(a)
    return np.sqrt(np.sum(np.square(parts), axis=0))


def _check_decreasing(which, n, h, usable):
    """Refuse a curve that does not decrease with n (an L_n or H_n must fall with context)."""
    x, y = n[usable], h[usable]
    if x.size >= 2 and _ols_slopes(np.log(x), y[None, :])[0] <= 0:
        raise ValueError(
            f"entropy.{which} does not decrease with n over n = {x[0]:g}..{x[-1]:g} (from {y[0]:.4g} to "
            f"{y[-1]:.4g} nats): gamma is defined only for a curve that falls with the context length. "
            "Check the curve (columns n, loss; one value per context length)."
        )


def _gamma_curve(ent, warn, assume):
    """Which H curve gamma is fitted on: (name, n, values, usable mask, errors or None).

    Rule: the external L_n curve if it has >= GAMMA_MIN_POINTS finite points at n >= 1; else the
    corrected curve within its validity mask if that has enough points; else the corpus-size
    extrapolated curve within ``extrapolated_valid`` if that has enough; else an error.
    """
    n = as_float_array(get_field(ent, "n"), "entropy.n")
    ext = get_field(ent, "external")
    if ext is not None:
        e = as_float_array(ext, "entropy.external")
        if e.shape == n.shape and np.sum(np.isfinite(e) & (n >= 1)) >= GAMMA_MIN_POINTS:
            use = np.isfinite(e) & (n >= 1)
            _check_decreasing("external", n, e, use)
            return "external", n, e, use, curve_errors(ent, ("external_stderr",), n)
        warn.append(f"external L_n curve has fewer than {GAMMA_MIN_POINTS} points at n >= 1: not used for gamma")
    h = as_float_array(get_field(ent, "corrected"), "entropy.corrected")
    v = _mask(ent, "valid", n, True) & np.isfinite(h) & (n >= 1)
    if v.sum() >= GAMMA_MIN_POINTS:
        err = curve_errors(ent, ("stderr", "systematic"), n)
        if err is not None and get_field(ent, "systematic") is None:
            warn.append(
                "the report has no systematic (projected bias) errors for H_n: gamma's interval "
                "holds the jackknife error only"
            )
        return "corrected", n, h, v, err
    x = get_field(ent, "extrapolated")
    xv = _mask(ent, "extrapolated_valid", n, False)
    if x is not None and xv is not None:
        hx = as_float_array(x, "entropy.extrapolated")
        if hx.shape != n.shape:
            raise ValueError(f"entropy.extrapolated must have {n.size} entries; got {hx.size}.")
        xv = xv & np.isfinite(hx) & (n >= 1)
        if xv.sum() >= GAMMA_MIN_POINTS:
            warn.append(
                f"the corrected H_n is valid at only {int(v.sum())} n >= 1: gamma is fitted on the "
                "corpus-size extrapolated H_n, which rests on a model of the finite-size bias "
                "(H_n(N) = H_n(inf) -/+ B N^-delta); prefer a model's L_n curve (--entropy-curve)"
            )
            assume.append("extrapolated H_n(N -> inf) follows a power law in corpus size N")
            return "extrapolated", n, hx, xv, curve_errors(ent, ("extrapolated_stderr",), n)
        raise ValueError(
            f"gamma needs at least {GAMMA_MIN_POINTS} valid H_n points at n >= 1; the corrected "
            f"curve has {int(v.sum())} and the size-extrapolated curve {int(xv.sum())}. Measure on "
            "more tokens or supply an external L_n curve (--entropy-curve)."
        )
    return "corrected", n, h, v, None


def fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed=0) -> GammaFit:
    """γ by the window rule (offset fit, H_∞ profiled) on the curve chosen by the stated rule: external
    L_n, else corrected H_n in its validity mask, else the size-extrapolated H_n.

    ``ent`` is an entropy curve (object or report dict); ``warn`` and ``assume`` as for :func:`fit_beta`.
    Raises ValueError when too few n qualify or an external curve does not decrease.
    """
    which, n, h, valid, err = _gamma_curve(ent, warn, assume)
    if err is not None and not np.all(np.isfinite(err[valid]) & (err[valid] > 0)):
        err = None  # errors missing or zero somewhere (e.g. an exact curve): noise level from residuals
    if valid.sum() < GAMMA_MIN_POINTS:
        raise ValueError(
            f"gamma needs at least {GAMMA_MIN_POINTS} valid H_n points at n >= 1; the {which} curve "
            f"has {int(valid.sum())} (and no size-extrapolated curve was measured). Measure on more "
            "tokens or supply an external L_n curve (--entropy-curve)."
        )
    sel = select_window(
        n,
        h,
        valid=valid,
        method="offset",
        min_points=min_points,
        min_decades=min_decades,
        sigma=err,
        confidence=confidence,
    )
    lo, hi = sel.window
    in_w = (n >= lo) & (n <= hi) & valid
    if err is not None:
        assume.append(
            f"gamma fit weighted by the per-n errors of the {which} curve"
            + (" (jackknife s.e. and projected bias in quadrature)" if which == "corrected" else "")
        )
    assume.append(
        f"gamma fitted on the {which} curve (rule: external if given, else corrected H_n within "
        f"the validity mask if it has >= {GAMMA_MIN_POINTS} points, else the size-extrapolated "
        f"H_n within its mask), n = {lo:g}..{hi:g} ({int(in_w.sum())} points), "
        "H_n = H_inf + A n^-gamma with H_inf >= 0 profiled"
    )
    if in_w.sum() < 8:
        warn.append(f"H_n usable only for n = {lo:g}..{hi:g}: gamma rests on {int(in_w.sum())} points")
    if sel.fallback:
        warn.extend(sel.notes)
    warn.extend(f"gamma fit: {s}" for s in sel.fit.notes if "unbounded" in s or "bound" in s)
    g_paper = fit_power_law(n[in_w], h[in_w], confidence=confidence, seed=seed) if np.all(h[in_w] > 0) else None
    try:
        g_diff = fit_power_law(n[in_w], h[in_w], method="differences", confidence=confidence)
    except ValueError:
        g_diff = None
    reps = _replicates(ent, "corrected_jackknife", n.size) if which == "corrected" else None
    g_reps = gp_reps = None
    if reps is not None:
        r = reps[:, in_w]
        if np.all(np.isfinite(r)):
            sig = None if err is None else err[in_w]
            g_reps = np.array(
                [fit_power_law(n[in_w], row, method="offset", sigma=sig, confidence=confidence).exponent for row in r]
            )
            if np.all(r > 0):
                gp_reps = _ols_slopes(np.log(n[in_w]), np.log(r))
    if which in ("external", "extrapolated"):
        assume.append(f"{which} curve has no shard replicates: gamma error from the fit alone")
    return GammaFit(which, n, h, valid, sel, g_paper, g_diff, g_reps, gp_reps)


def total_error(sel, replicates, name, warn):
    """Total standard error of an exponent: max(jackknife, fit) and the window spread in quadrature.

    The jackknife holds the sampling error, the fit's error the scatter of the points about the law
    (and, for gamma, the per-n systematic errors it was weighted with); the spread over acceptable
    windows is added as an independent error. A fallback window has no spread: the fit over all
    usable points is then the only error, and a warning says so.
    """
    jk = jackknife_stderr(replicates) if replicates is not None else math.nan
    fit_se = sel.fit.stderr
    finite = [v for v in (jk, fit_se) if math.isfinite(v)]
    base = math.inf if math.isinf(fit_se) else max(finite) if finite else math.nan
    window = sel.systematic if math.isfinite(sel.systematic) else 0.0
    if sel.fallback:
        warn.append(f"{name}: no window satisfied the rule, so its error has no window-spread part")
    return math.hypot(base, window)


def gamma_consistency(g: GammaFit, warn: list) -> None:
    """Warn when the raw slope or the differences fit disagrees with the H_inf-aware γ."""
    gfit = g.selection.fit
    # Disagreements below 0.5% of gamma are numerical, not physical (exact curves have stderr 0).
    tiny = 1e-9 + 5e-3 * abs(gfit.exponent)
    if g.paper is not None and abs(g.paper.exponent - gfit.exponent) > max(2 * gfit.stderr, tiny):
        warn.append(
            f"raw log-log slope of H_n ({g.paper.exponent:.3f}) and the H_inf-aware gamma "
            f"({gfit.exponent:.3f}) differ by more than 2 stderr: ignoring H_inf matters here"
        )
    g_diff = g.differences
    if g_diff is not None and abs(g_diff.exponent - gfit.exponent) > max(
        2 * math.hypot(g_diff.stderr, gfit.stderr), tiny
    ):
        warn.append(
            f"differences fit gamma = {g_diff.exponent:.3f} disagrees with the offset fit "
            f"({gfit.exponent:.3f}): H_n may not follow one power law"
        )


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
    """

    beta: WindowSelection | None
    gamma: WindowSelection | None
    beta_stderr: float
    gamma_stderr: float
    gamma_curve: str | None
    beta_error: str | None
    gamma_error: str | None
    warnings: tuple = ()


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
    beta = gamma = curve = beta_error = gamma_error = None
    beta_se = gamma_se = math.nan
    corr, ent = get_field(measurement, "correlations"), get_field(measurement, "entropy")
    if corr is None:
        beta_error = "the measurement has no correlations"
    else:
        try:
            b = fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed)
            beta = b.selection
            beta_se = total_error(beta, b.replicates, "beta", warn)  # the "±" predict uses
        except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError) as exc:
            beta_error = str(exc)
    if ent is None:
        gamma_error = "the measurement has no entropy curve"
    else:
        try:
            g = fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed)
            curve, gamma = g.curve, g.selection
            gamma_se = total_error(gamma, g.replicates, "gamma", warn)
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
    )
