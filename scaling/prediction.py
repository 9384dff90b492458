"""`predict`: α_D from a measurement's β and γ (:mod:`scaling.beta`, :mod:`scaling.gamma`), with the horizon
t*(P) and the loss curve L(P)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from scaling._checks import as_float_array, check_confidence, get_field, json_safe
from scaling.beta import SNR_THRESHOLD, BetaFit, check_snr_threshold, fit_beta
from scaling.errors import ErrorBudget
from scaling.exponents import total_error
from scaling.fits import PowerLawFit
from scaling.gamma import GammaFit, fit_gamma, flat_within_noise, gamma_consistency
from scaling.horizons import DEFAULT_FLOOR_CONSTANT, Horizon, horizon
from scaling.uncertainty import AlphaEstimate, alpha_D, format_estimate
from scaling.windows import BreakFit, WindowSelection

#: Default training-set sizes for the predicted learning curve: 10^6 .. 10^12 tokens.
DEFAULT_TOKENS = tuple(float(v) for v in 10.0 ** np.arange(6.0, 12.01, 0.5))


@dataclass(frozen=True, repr=False)
class Prediction:
    """Result of :func:`predict`.

    Attributes
    ----------
    alpha_D : AlphaEstimate
        γ/(2β) with β from debiased ‖C‖_op (window by rule) and γ from the fit with H_∞ profiled;
        interval from the joint leave-one-shard-out jackknife when available.
    alpha_D_paper : AlphaEstimate
        Paper-compatible: raw log-log slopes of ‖C‖_op and of H_n over the same windows; its
        ``paper_stderr`` is the paper's formula with bootstrap-over-points errors, its ``stderr`` the
        joint jackknife when replicates exist.
    beta, gamma : WindowSelection
        Window selection and fit behind β (``paper`` mode on debiased values) and γ (``offset``).
    beta_paper, gamma_paper, gamma_differences : PowerLawFit or None
        Raw-slope fits and the H_∞-free differences cross-check.
    beta_break : BreakFit or None
        Break test over all usable lags.
    beta_floor : PowerLawFit or None
        Cross-check: power law + measured floor on raw ‖C‖ from the window start out to the last lag
        with signal/noise ≥ 1.
    H_inf : float
        Fitted asymptotic entropy (nats).
    gamma_curve : str
        Which H curve γ was fitted on (``"external"``, ``"corrected"`` or ``"extrapolated"``;
        rule in :func:`predict`).
    horizon : Horizon
        t*(P) for `tokens`.
    loss : numpy.ndarray
        Predicted L(P) = H_{t*(P)} in nats (measured H_n interpolated, else the fitted law).
    loss_extrapolated : numpy.ndarray of bool
        True where t* or H_{t*} lies beyond the measured, trusted range.
    floor_constant : float
    floor_constant_source : str
    assumptions : tuple of str
        Conditions the prediction rests on, and whether they held.
    warnings : tuple of str
        Reasons not to trust a number.
    options : dict
    beta_error_budget, gamma_error_budget : ErrorBudget or None
        What β's and γ's total errors (``alpha_D.beta_stderr``, ``alpha_D.gamma_stderr``) are made of.
    """

    alpha_D: AlphaEstimate
    alpha_D_paper: AlphaEstimate
    beta: WindowSelection
    gamma: WindowSelection
    beta_paper: PowerLawFit | None
    gamma_paper: PowerLawFit | None
    gamma_differences: PowerLawFit | None
    H_inf: float
    gamma_curve: str
    horizon: Horizon
    loss: np.ndarray
    loss_extrapolated: np.ndarray
    floor_constant: float
    floor_constant_source: str
    beta_break: BreakFit | None = None
    beta_floor: PowerLawFit | None = None
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    options: dict = field(default_factory=dict)
    beta_error_budget: ErrorBudget | None = None
    gamma_error_budget: ErrorBudget | None = None

    @property
    def tokens(self) -> np.ndarray:
        """Training-set sizes P of the predicted curve."""
        return self.horizon.tokens

    def _parts(self, name: str) -> str:
        """What an exponent's total error is made of, for the summary."""
        budget = getattr(self, f"{name}_error_budget")
        if budget is None:
            return f"window spread {getattr(self, name).systematic:.4f}"
        return f"total {budget.describe()}"

    def summary(self) -> str:
        """Human-readable multi-line summary."""
        a, ap = self.alpha_D, self.alpha_D_paper
        b, g = self.beta.fit, self.gamma.fit
        z = float(stats.norm.ppf(0.5 + a.confidence / 2))
        ci = f"{a.confidence:.0%}"

        def est(value, se):  # value ± s.e. [90%: interval], as everywhere
            return format_estimate(value, se, (value - z * se, value + z * se), a.confidence, 4)

        lines = [
            f"± is 1 total standard error (sampling, curve systematic, window choice); [{ci}: ..] the interval",
            f"alpha_D = {format_estimate(a.value, a.stderr, a.interval, a.confidence, 4)} ({a.method})",
            f"alpha_D (paper-compatible raw slopes) = {ap.value:.4f} ± {ap.paper_stderr:.4f} (paper formula)",
            (
                f"beta  = {est(b.exponent, a.beta_stderr)} ({self._parts('beta')}) over t = "
                f"{b.window[0]:g}..{b.window[1]:g} ({b.n_points} lags)"
            ),
            (
                f"gamma = {est(g.exponent, a.gamma_stderr)} ({self._parts('gamma')}) over n = "
                f"{g.window[0]:g}..{g.window[1]:g} ({g.n_points} points, {self.gamma_curve} curve), "
                f"H_inf = {self.H_inf:.4f} nats"
            ),
            *(
                [
                    (
                        f"beta cross-check (power law + floor, t = {self.beta_floor.window[0]:g}.."
                        f"{self.beta_floor.window[1]:g}) = {self.beta_floor.exponent:.4f} ± "
                        f"{self.beta_floor.stderr:.4f}"
                    )
                ]
                if self.beta_floor is not None
                else []
            ),
            f"horizon floor constant c = {self.floor_constant:.3g} ({self.floor_constant_source})",
            "         P        t*(P)    L(P) nats",
        ]
        for p, t, l_, e in zip(self.tokens, self.horizon.t_star, self.loss, self.loss_extrapolated):
            lines.append(f"{p:10.3g} {t:12.4g} {l_:12.4f}{'  (extrapolated)' if e else ''}")
        lines += [f"assumption: {s}" for s in self.assumptions]
        lines += [f"warning: {s}" for s in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"Prediction(alpha_D={self.alpha_D.value:.4f} ± {self.alpha_D.stderr:.4f}, "
            f"beta={self.beta.fit.exponent:.4f}, gamma={self.gamma.fit.exponent:.4f}, "
            f"H_inf={self.H_inf:.4g}, gamma_curve={self.gamma_curve!r}, "
            f"{len(self.warnings)} warning(s))"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict (NaN/inf -> None)."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["tokens"] = self.tokens
        return json_safe(d)


def _refuse_flat(corr, b: BetaFit, confidence: float) -> None:
    """Refuse alpha_D when ||C|| changes less over the fit window than its noise (a flat H_n is
    refused by :func:`scaling.gamma.check_gamma_determined` already)."""
    lags, cy, cvalid, bsel = b.lags, b.values, b.valid, b.selection
    lo, hi = bsel.window
    in_b = cvalid & (lags >= lo) & (lags <= hi)
    # the error of the debiased values themselves; older reports have only the raw norm's
    key = "op_debiased_stderr" if get_field(corr, "op_debiased_stderr") is not None else "op_stderr"
    se = get_field(corr, key)
    if se is not None and in_b.sum() >= 2:
        rel = as_float_array(se, f"correlations.{key}")[in_b] / cy[in_b]
        change = bsel.fit.exponent * math.log(hi / lo)  # fitted change of ln ||C|| over the window
        rel = rel[np.isfinite(rel)] if np.isfinite(rel).any() else np.array([np.inf])
        flat, noise = flat_within_noise(change, float(np.median(rel)), confidence)
        if flat:
            raise ValueError(
                f"alpha_D refused: ||C(t)|| is flat within noise over t = {lo:g}..{hi:g} (fitted change "
                f"{change:.3g} in ln||C|| against noise {noise:.3g}; beta = {bsel.fit.exponent:.3g}). "
                "No decay, no horizon: measure more lags or a longer corpus."
            )


def _paper_alpha(b: BetaFit, g: GammaFit, confidence: float, warn: list) -> AlphaEstimate:
    """alpha_D from the paper-compatible raw log-log slopes (paper_stderr: the paper's formula)."""
    if b.paper is None or g.paper is None:
        warn.append("paper-compatible raw slopes unavailable (non-positive values in a window)")
        return alpha_D(b.selection.fit.exponent, g.selection.fit.exponent, confidence=confidence)
    return alpha_D(
        b.paper.exponent,
        g.paper.exponent,
        beta_stderr=b.paper.stderr,
        gamma_stderr=g.paper.stderr,
        # raw-op slopes are what b.replicates already are; paper_stderr keeps the paper's formula
        beta_replicates=b.replicates if g.paper_replicates is not None else None,
        gamma_replicates=g.paper_replicates if b.replicates is not None else None,
        confidence=confidence,
    )


def _loss_at(t_star, n, h, valid, fit):
    """H at continuous context length t*: measured (linear in n) inside the range, else the law."""
    nv, hv = n[valid], h[valid]
    lo, hi = fit.window
    out, extra = np.empty(t_star.size), np.zeros(t_star.size, dtype=bool)
    for i, t in enumerate(t_star):
        if lo <= t <= hi:
            out[i] = float(np.interp(t, nv, hv))
        elif t < lo and 0 in n and np.isfinite(h[n == 0]).all():
            # less than one usable token of context: between H_0 and H_lo
            out[i] = float(np.interp(t, [0.0, lo], [float(h[n == 0][0]), float(fit(lo))]))
        else:
            out[i] = float(fit(max(t, 1e-9)))
            extra[i] = t > hi
    return out, extra


def _floor_constant(corr, floor_constant, assume):
    if floor_constant is not None:
        c = float(floor_constant)
        if not (math.isfinite(c) and c > 0):
            raise ValueError(f"floor_constant must be finite and positive; got {floor_constant!r}.")
        return c, "given"
    floor, npairs = get_field(corr, "floor_op"), get_field(corr, "n_pairs")
    if floor is not None and npairs is not None:
        v = as_float_array(floor, "floor_op") * np.sqrt(as_float_array(npairs, "n_pairs"))
        v = v[np.isfinite(v) & (v > 0)]
        if v.size:
            c = float(np.median(v))
            assume.append(f"floor constant c = {c:.3g} calibrated as median(floor_op * sqrt(n_pairs))")
            return c, "calibrated from the shuffled floor of this measurement"
    assume.append(f"floor constant c = {DEFAULT_FLOOR_CONSTANT} (TinyStories op-norm floor, V = 8192)")
    return DEFAULT_FLOOR_CONSTANT, "default (TinyStories op-norm floor)"


def predict(
    measurement: Any,
    *,
    snr_threshold: float = SNR_THRESHOLD,
    floor_constant: float | None = None,
    tokens: Any = None,
    min_points: int = 5,
    min_decades: float = 0.6,
    confidence: float = 0.9,
    seed: int = 0,
) -> Prediction:
    """Predict α_D, the horizon t*(P) and the loss curve L(P) from measured C(t) and H_n.

    Parameters
    ----------
    measurement : Measurement or dict
        Any object with ``.correlations`` and ``.entropy`` (fields as in ``corpus_stats``), or the
        dict parsed from ``report.json``.
    snr_threshold : float, default SNR_THRESHOLD (5)
        β is fitted only at lags where signal/noise ≥ this.
    floor_constant : float, optional
        c in the noise level c/√P for the horizon. Default: calibrated from the measurement's
        shuffled floor (median of floor_op·√n_pairs), else 0.34 (TinyStories).
    tokens : array_like, optional
        Training-set sizes P for t*(P) and L(P); default 10^6..10^12 in half decades.
    min_points, min_decades : int, float
        Window rule (see :func:`scaling.select_window`).
    confidence : float, default 0.9
    seed : int, default 0
        Seed of the bootstrap resamples of the paper-style fits.

    Returns
    -------
    Prediction

    Raises
    ------
    ValueError
        A curve is missing or has too few usable points; an inconsistent report value (a norm that
        is NaN or <= 0 where signal/noise passes the threshold); an external L_n that does not
        decrease; alpha_D refused because ||C(t)|| or H_n is flat within noise or an exponent is
        consistent with 0 (see :func:`scaling.alpha_D`).

    Notes
    -----
    α_D = γ/(2β); t*(P) = (A√P/c)^(1/β); L(P) = H_{t*(P)} (Cagnetta et al. 2026). β's replicate g
    and γ's replicate g come from the same leave-one-shard-out sample, so α_D's jackknife keeps their
    covariance; without replicates the paper's independent-error formula is used and said so.

    γ's curve (``Prediction.gamma_curve``): the external L_n curve if it has at least 4 points at
    n >= 1; else the corrected H_n within its validity mask if that has at least 4; else the
    corpus-size extrapolated H_n within ``extrapolated_valid`` if that has at least 4 (with a
    warning: it rests on a model of the finite-size bias); else a ValueError saying so.
    """
    confidence = check_confidence(confidence)
    snr_threshold = check_snr_threshold(snr_threshold)
    corr, ent = get_field(measurement, "correlations"), get_field(measurement, "entropy")
    if corr is None or ent is None:
        missing = " and ".join(k for k, v in (("correlations", corr), ("entropy", ent)) if v is None)
        raise ValueError(f"predict needs both measured curves; the measurement has no {missing}.")
    warn: list[str] = []
    assume: list[str] = []
    b = fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed)
    g = fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed)
    b_se = total_error(b, "beta", warn)
    g_se = total_error(g, "gamma", warn)
    _refuse_flat(corr, b, confidence)
    a, ap = _alphas(b, g, b_se, g_se, confidence, warn)
    gamma_consistency(g, warn)
    c, c_src = _floor_constant(corr, floor_constant, assume)
    P = np.array(DEFAULT_TOKENS if tokens is None else as_float_array(tokens, "tokens"))
    hz, loss, extrapolated = _learning_curve(P, b, g, c, warn, assume)
    gfit = g.selection.fit
    if gfit.offset is not None and gfit.offset <= 1e-12:
        warn.append("H_inf fitted at 0: the H_n curve does not constrain the asymptote")
    return Prediction(
        alpha_D=a,
        alpha_D_paper=ap,
        beta=b.selection,
        gamma=g.selection,
        beta_paper=b.paper,
        gamma_paper=g.paper,
        gamma_differences=g.differences,
        H_inf=float(gfit.offset) if gfit.offset is not None else math.nan,
        gamma_curve=g.curve,
        horizon=hz,
        loss=loss,
        loss_extrapolated=extrapolated,
        floor_constant=c,
        floor_constant_source=c_src,
        beta_break=b.selection.breaks,
        beta_floor=b.floor_check,
        assumptions=tuple(assume),
        warnings=tuple(dict.fromkeys(warn)),
        options={
            "snr_threshold": snr_threshold,
            "floor_constant": floor_constant,
            "min_points": min_points,
            "min_decades": min_decades,
            "confidence": confidence,
        },
        beta_error_budget=b.budget,
        gamma_error_budget=g.budget,
    )


def _alphas(b: BetaFit, g: GammaFit, b_se: float, g_se: float, confidence: float, warn: list):
    """α_D from the window fits with their total errors (joint jackknife when both have replicates)
    and the paper-compatible α_D from the raw log-log slopes: ``(alpha_D, alpha_D_paper)``."""
    bfit, gfit = b.selection.fit, g.selection.fit
    a = alpha_D(
        bfit.exponent,
        gfit.exponent,
        beta_stderr=b_se,
        gamma_stderr=g_se,
        beta_replicates=b.replicates,
        gamma_replicates=g.replicates,
        confidence=confidence,
    )
    notes = [n for n in a.notes if "treated as independent" not in n]
    if a.method != "joint jackknife":  # one warning, with alpha_D's own reason when it gave one
        why = next((n.split(";")[0] for n in a.notes if "treated as independent" in n), "no joint replicates")
        warn.append(f"alpha_D interval assumes independent beta and gamma errors ({why})")
    warn.extend(notes)
    try:
        ap = _paper_alpha(b, g, confidence, warn)
    except ValueError as exc:
        warn.append(f"paper-compatible alpha_D: {exc}")
        ap = alpha_D(bfit.exponent, gfit.exponent, confidence=confidence)
    return a, ap


def _learning_curve(P, b: BetaFit, g: GammaFit, c: float, warn: list, assume: list):
    """The horizon t*(P) from β's law and the floor c/√P, and L(P) = H at t*(P):
    ``(horizon, loss, extrapolated)``."""
    bfit = b.selection.fit
    trusted = b.valid & (b.lags >= bfit.window[0]) & (b.lags <= bfit.window[1])
    hz = horizon(
        P,
        beta=bfit.exponent,
        prefactor=bfit.prefactor,
        floor_constant=c,
        lags=b.lags[trusted],
        norms=b.values[trusted],
    )
    loss, l_extra = _loss_at(hz.t_star, g.n, g.values, g.valid, g.selection.fit)
    assume.append(
        "L(P) = H_{t*(P)}: a model trained on P tokens learns everything within its horizon "
        "(fast learning) and nothing beyond"
    )
    if (hz.extrapolated | l_extra).any():
        warn.append(
            f"{int((hz.extrapolated | l_extra).sum())} of {P.size} points of L(P) rest on "
            "extrapolated power laws (beyond the measured lags or context lengths)"
        )
    return hz, loss, hz.extrapolated | l_extra
