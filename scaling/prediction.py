"""`predict`: β, γ, H_∞ and α_D from a measurement, with the horizon t*(P) and the loss curve L(P)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from scaling._checks import as_float_array, check_confidence, json_safe
from scaling.fits import PowerLawFit, fit_power_law
from scaling.horizons import DEFAULT_FLOOR_CONSTANT, Horizon, horizon
from scaling.uncertainty import AlphaEstimate, alpha_D, jackknife_stderr
from scaling.windows import BreakFit, WindowSelection, select_window

#: Default training-set sizes for the predicted learning curve: 10^6 .. 10^12 tokens.
DEFAULT_TOKENS = tuple(float(v) for v in 10.0 ** np.arange(6.0, 12.01, 0.5))

#: β is fitted only at lags whose signal/noise (``correlations.snr``) is at least this.
SNR_THRESHOLD = 5.0


def check_snr_threshold(snr_threshold: Any) -> float:
    """The rule for the signal/noise threshold: a finite positive number."""
    ok = isinstance(snr_threshold, (int, float, np.integer, np.floating)) and not isinstance(snr_threshold, bool)
    if not (ok and math.isfinite(snr_threshold) and snr_threshold > 0):
        raise ValueError(f"snr_threshold must be a finite positive number; got {snr_threshold!r}.")
    return float(snr_threshold)


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

    @property
    def tokens(self) -> np.ndarray:
        """Training-set sizes P of the predicted curve."""
        return self.horizon.tokens

    def summary(self) -> str:
        """Human-readable multi-line summary."""
        a, ap = self.alpha_D, self.alpha_D_paper
        b, g = self.beta.fit, self.gamma.fit
        z = float(stats.norm.ppf(0.5 + a.confidence / 2))
        ci = f"{a.confidence:.0%}"
        lines = [
            f"± is 1 standard error (total: sampling, fit and window choice); intervals are {ci}",
            (
                f"alpha_D = {a.value:.4f} ± {a.stderr:.4f} ({ci} interval {a.interval[0]:.4f}..{a.interval[1]:.4f}; "
                f"{a.method})"
            ),
            f"alpha_D (paper-compatible raw slopes) = {ap.value:.4f} ± {ap.paper_stderr:.4f} (paper formula)",
            (
                f"beta  = {b.exponent:.4f} ± {a.beta_stderr:.4f} ({ci} {b.exponent - z * a.beta_stderr:.4f}.."
                f"{b.exponent + z * a.beta_stderr:.4f}; window spread {self.beta.systematic:.4f}) over t = "
                f"{b.window[0]:g}..{b.window[1]:g} ({b.n_points} lags)"
            ),
            (
                f"gamma = {g.exponent:.4f} ± {a.gamma_stderr:.4f} ({ci} {g.exponent - z * a.gamma_stderr:.4f}.."
                f"{g.exponent + z * a.gamma_stderr:.4f}; window spread {self.gamma.systematic:.4f}) over n = "
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


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """Field `name` of a dataclass-like object or a dict."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _replicates(obj: Any, name: str, length: int) -> np.ndarray | None:
    """G x length float array of jackknife replicates, or None when absent/malformed."""
    rep = _get(obj, name)
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
class _BetaFit:
    """β's window fit and what :func:`predict` needs beside it (private)."""

    lags: np.ndarray
    values: np.ndarray  # debiased ||C||_op (raw when not debiased)
    valid: np.ndarray  # lags with signal/noise >= threshold and a positive value
    selection: WindowSelection
    paper: PowerLawFit | None  # raw-op log-log slope in the window (paper-compatible)
    replicates: np.ndarray | None  # leave-one-shard-out exponents in the window
    floor_check: PowerLawFit | None


@dataclass(frozen=True)
class _GammaFit:
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


def _fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed=0) -> _BetaFit:
    lags = as_float_array(_get(corr, "lags"), "correlations.lags")
    op = as_float_array(_get(corr, "op"), "correlations.op")
    deb = _get(corr, "op_debiased")
    y = op if deb is None else as_float_array(deb, "correlations.op_debiased")
    snr = _get(corr, "snr")
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
    return _BetaFit(lags, y, valid, sel, beta_paper, beta_reps, beta_floor)


def _beta_floor_check(corr, lags, op, snr, sel, warn):
    """Cross-check: power law + measured floor on raw ||C||, out to where signal ~ noise."""
    fl = _get(corr, "floor_op")
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
    v = _get(ent, key)
    if v is None:
        return np.ones(n.size, dtype=bool) if required else None
    v = np.asarray(v, dtype=bool)
    if v.shape != n.shape:
        raise ValueError(f"entropy.{key} must have {n.size} entries; got {v.size}.")
    return v


def _errors(ent, keys, n):
    """sqrt(sum of squares) of the named per-n error arrays, or None when the first is absent."""
    parts = []
    for key in keys:
        v = _get(ent, key)
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
    n = as_float_array(_get(ent, "n"), "entropy.n")
    ext = _get(ent, "external")
    if ext is not None:
        e = as_float_array(ext, "entropy.external")
        if e.shape == n.shape and np.sum(np.isfinite(e) & (n >= 1)) >= GAMMA_MIN_POINTS:
            use = np.isfinite(e) & (n >= 1)
            _check_decreasing("external", n, e, use)
            return "external", n, e, use, _errors(ent, ("external_stderr",), n)
        warn.append(f"external L_n curve has fewer than {GAMMA_MIN_POINTS} points at n >= 1: not used for gamma")
    h = as_float_array(_get(ent, "corrected"), "entropy.corrected")
    v = _mask(ent, "valid", n, True) & np.isfinite(h) & (n >= 1)
    if v.sum() >= GAMMA_MIN_POINTS:
        err = _errors(ent, ("stderr", "systematic"), n)
        if err is not None and _get(ent, "systematic") is None:
            warn.append(
                "the report has no systematic (projected bias) errors for H_n: gamma's interval "
                "holds the jackknife error only"
            )
        return "corrected", n, h, v, err
    x = _get(ent, "extrapolated")
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
            return "extrapolated", n, hx, xv, _errors(ent, ("extrapolated_stderr",), n)
        raise ValueError(
            f"gamma needs at least {GAMMA_MIN_POINTS} valid H_n points at n >= 1; the corrected "
            f"curve has {int(v.sum())} and the size-extrapolated curve {int(xv.sum())}. Measure on "
            "more tokens or supply an external L_n curve (--entropy-curve)."
        )
    return "corrected", n, h, v, None


def _fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed=0) -> _GammaFit:
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
    return _GammaFit(which, n, h, valid, sel, g_paper, g_diff, g_reps, gp_reps)


def _total_error(sel, replicates, name, warn):
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


def _refuse_flat(corr, ent, b: _BetaFit, g: _GammaFit, confidence: float) -> None:
    """Refuse alpha_D when ||C|| or H_n changes less over the fit window than its noise."""
    lags, cy, cvalid, bsel = b.lags, b.values, b.valid, b.selection
    which, n, hvalid, gsel = g.curve, g.n, g.valid, g.selection
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    lo, hi = bsel.window
    in_b = cvalid & (lags >= lo) & (lags <= hi)
    se = _get(corr, "op_stderr")
    if se is not None and in_b.sum() >= 2:
        rel = as_float_array(se, "correlations.op_stderr")[in_b] / cy[in_b]
        change = bsel.fit.exponent * math.log(hi / lo)  # fitted change of ln ||C|| over the window
        rel = rel[np.isfinite(rel)] if np.isfinite(rel).any() else np.array([np.inf])
        noise = z * math.sqrt(2.0) * float(np.median(rel))
        if np.isfinite(noise) and change <= noise:
            raise ValueError(
                f"alpha_D refused: ||C(t)|| is flat within noise over t = {lo:g}..{hi:g} (fitted change "
                f"{change:.3g} in ln||C|| against noise {noise:.3g}; beta = {bsel.fit.exponent:.3g}). "
                "No decay, no horizon: measure more lags or a longer corpus."
            )
    lo, hi = gsel.window
    in_g = hvalid & (n >= lo) & (n <= hi)
    err = _errors(ent, ("stderr", "systematic") if which == "corrected" else (f"{which}_stderr",), n)
    f = gsel.fit
    change = float(f(lo) - f(hi))
    if err is not None and in_g.sum() >= 2 and np.isfinite(err[in_g]).any():
        noise = z * math.sqrt(2.0) * float(np.nanmedian(err[in_g]))
        if np.isfinite(noise) and change <= noise:
            raise ValueError(
                f"alpha_D refused: the {which} H_n is flat within noise over n = {lo:g}..{hi:g} (fitted "
                f"fall {change:.3g} nats against noise {noise:.3g}; gamma = {f.exponent:.3g})."
            )


def _paper_alpha(b: _BetaFit, g: _GammaFit, confidence: float, warn: list) -> AlphaEstimate:
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
    floor, npairs = _get(corr, "floor_op"), _get(corr, "n_pairs")
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
    corr, ent = _get(measurement, "correlations"), _get(measurement, "entropy")
    if corr is None or ent is None:
        missing = " and ".join(k for k, v in (("correlations", corr), ("entropy", ent)) if v is None)
        raise ValueError(f"predict needs both measured curves; the measurement has no {missing}.")
    warn: list[str] = []
    assume: list[str] = []
    b = _fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed)
    g = _fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed)
    b_se = _total_error(b.selection, b.replicates, "beta", warn)
    g_se = _total_error(g.selection, g.replicates, "gamma", warn)
    _refuse_flat(corr, ent, b, g, confidence)
    a, ap = _alphas(b, g, b_se, g_se, confidence, warn)
    _gamma_consistency(g, warn)
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
    )


def _alphas(b: _BetaFit, g: _GammaFit, b_se: float, g_se: float, confidence: float, warn: list):
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


def _gamma_consistency(g: _GammaFit, warn: list) -> None:
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


def _learning_curve(P, b: _BetaFit, g: _GammaFit, c: float, warn: list, assume: list):
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
    corr, ent = _get(measurement, "correlations"), _get(measurement, "entropy")
    if corr is None:
        beta_error = "the measurement has no correlations"
    else:
        try:
            b = _fit_beta(corr, snr_threshold, min_points, min_decades, confidence, warn, assume, seed)
            beta = b.selection
            beta_se = _total_error(beta, b.replicates, "beta", warn)  # the "±" predict uses
        except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError) as exc:
            beta_error = str(exc)
    if ent is None:
        gamma_error = "the measurement has no entropy curve"
    else:
        try:
            g = _fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed)
            curve, gamma = g.curve, g.selection
            gamma_se = _total_error(gamma, g.replicates, "gamma", warn)
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
