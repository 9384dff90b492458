"""γ from the entropy curve by the rules that :func:`scaling.predict` and :func:`scaling.choose_exponents`
share.

γ is fitted as H_n = H_∞ + A n^-γ (H_∞ profiled) on the external L_n if given, else on the corrected H_n
inside its validity mask, else on the size-extrapolated H_n. Its :class:`ErrorBudget`'s parts are measured
separately: the sampling error (leave-one-shard-out jackknife), for the corrected H_n the per-n systematic
errors (projected residual bias) propagated as one correlated shift of the curve, and the spread over
acceptable windows beyond what the noise of window-to-window differences explains (:func:`window_spread`).
Curves that do not determine γ (flat within noise, no longer falling inside the window, a fit at a bound of
its search range or with an unbounded profile interval) are refused (:func:`check_gamma_determined`), naming
:data:`MODEL_CURVE` as where γ should come from instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from scaling._checks import as_float_array, get_field
from scaling.errors import ErrorBudget, jackknife_replicates, ols_slopes, statistical_error, window_part
from scaling.fits import PowerLawFit, fit_power_law
from scaling.profile_fits import offset_exponent
from scaling.uncertainty import jackknife_stderr
from scaling.windows import WindowSelection, select_window

#: Where γ should come from when counts cannot give it (every refusal and fallback names it).
MODEL_CURVE = "a language model's L_n (measure --lm MODEL, or --entropy-curve FILE)"


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
    budget: ErrorBudget


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
    if x.size >= 2 and ols_slopes(np.log(x), y[None, :])[0] <= 0:
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
                f"(H_n(N) = H_n(inf) -/+ B N^-delta); prefer {MODEL_CURVE}"
            )
            assume.append("extrapolated H_n(N -> inf) follows a power law in corpus size N")
            return "extrapolated", n, hx, xv, curve_errors(ent, ("extrapolated_stderr",), n)
        raise ValueError(
            f"gamma needs at least {GAMMA_MIN_POINTS} valid H_n points at n >= 1; the corrected "
            f"curve has {int(v.sum())} and the size-extrapolated curve {int(xv.sum())}. Measure on "
            f"more tokens or use {MODEL_CURVE}."
        )
    return "corrected", n, h, v, None


def fit_gamma(ent, min_points, min_decades, confidence, warn, assume, seed=0) -> GammaFit:
    """γ by the window rule (offset fit, H_∞ profiled) on the curve chosen by the stated rule: external
    L_n, else corrected H_n in its validity mask, else the size-extrapolated H_n.

    ``ent`` is an entropy curve (object or report dict); ``warn`` and ``assume`` as for :func:`fit_beta`.
    Raises ValueError when too few n qualify, an external curve does not decrease, or the curve does
    not determine γ (:func:`check_gamma_determined`).
    """
    which, n, h, valid, err = _gamma_curve(ent, warn, assume)
    if err is not None and not np.all(np.isfinite(err[valid]) & (err[valid] > 0)):
        err = None  # errors missing or zero somewhere (e.g. an exact curve): noise level from residuals
    if valid.sum() < GAMMA_MIN_POINTS:
        raise ValueError(
            f"gamma needs at least {GAMMA_MIN_POINTS} valid H_n points at n >= 1; the {which} curve "
            f"has {int(valid.sum())} (and no size-extrapolated curve was measured). Measure on more "
            f"tokens or use {MODEL_CURVE}."
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
    sampling = curve_errors(ent, ("stderr",) if which == "corrected" else (f"{which}_stderr",), n)
    bias = curve_errors(ent, ("systematic",), n) if which == "corrected" else None
    check_gamma_determined(
        which,
        sel.fit,
        n[in_w],
        h[in_w],
        *(None if a is None else a[in_w] for a in (err, sampling, bias)),
        confidence=confidence,
    )
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
    wreps, gp_reps, budget = _gamma_budget(ent, which, n, h, valid, err, sel, warn, assume)
    if which in ("external", "extrapolated"):
        assume.append(f"{which} curve has no shard replicates: gamma error from the fit alone")
    return GammaFit(which, n, h, valid, sel, g_paper, g_diff, wreps[0], gp_reps, budget)


def _gamma_budget(ent, which, n, h, valid, err, sel, warn, assume):
    """γ's error parts: (per-window replicate exponents, raw-slope replicates, ErrorBudget).

    Every acceptable window is refitted on each leave-one-shard-out replicate (sampling noise of the
    window and of window differences) and on H_n + systematic (the curve systematic), with the
    weights of the main fit.
    """
    lo, hi = sel.window
    in_w = (n >= lo) & (n <= hi) & valid
    reps = jackknife_replicates(ent, "corrected_jackknife", n.size) if which == "corrected" else None
    if reps is not None and not np.all(np.isfinite(reps[:, in_w])):
        reps = None
    masks = [in_w] + [(n >= a) & (n <= b) & valid for a, b in sel.candidate_windows[1:]]

    def refit(mask, y):  # the window's exponent on another curve (a replicate, the shifted curve)
        return offset_exponent(n[mask], y, None if err is None else err[mask])

    wreps = [None if reps is None else np.array([refit(m, row[m]) for row in reps]) for m in masks]
    gp_reps = None
    if reps is not None and np.all(reps[:, in_w] > 0):
        gp_reps = ols_slopes(np.log(n[in_w]), np.log(reps[:, in_w]))
    sys_n = curve_errors(ent, ("systematic",), n) if which == "corrected" else None
    shifts = None
    if sys_n is not None and all(np.all(np.isfinite(sys_n[m])) for m in masks):
        # the projected bias is one-signed and smooth in n: propagate it as one shift of the curve
        e = np.asarray(sel.candidate_exponents, np.float64)
        shifts = np.array([refit(m, h[m] + sys_n[m]) for m in masks]) - e
        assume.append("gamma's curve systematic: the fit repeated on H_n + systematic (one correlated shift)")
    elif which == "corrected" and sys_n is not None:
        warn.append("entropy.systematic is not finite in gamma's window: its curve systematic is not known")
    jk = jackknife_stderr(wreps[0]) if wreps[0] is not None else math.nan
    stat, how = statistical_error(jk, sel.fit.stderr, larger=False)
    scale = 1.0
    if wreps[0] is not None and err is not None:
        dof = int(in_w.sum()) - 3
        if dof >= 1:  # the fit's residuals in units of the errors it was weighted with
            scale = max(1.0, math.sqrt(sel.fit.residual_rms**2 * int(in_w.sum()) / dof))
    curve_sys = abs(float(shifts[0])) if shifts is not None else 0.0
    window = window_part(sel, wreps, shifts)
    total = math.hypot(scale * math.hypot(stat, curve_sys), window)
    budget = ErrorBudget(stat, curve_sys, window, scale, total, how)
    return wreps, gp_reps, budget


def flat_within_noise(change: float, noise: float, confidence: float) -> tuple[bool, float]:
    """The flatness rule for ||C(t)|| and H_n: is the fitted change over the window at most
    z·sqrt(2)·noise (the difference of two points of typical error ``noise`` at ``confidence``)?
    Returns (flat, threshold)."""
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    threshold = z * math.sqrt(2.0) * noise
    return bool(math.isfinite(threshold) and change <= threshold), threshold


def check_gamma_determined(
    which: str,
    fit: PowerLawFit,
    n: np.ndarray,
    h: np.ndarray,
    err: np.ndarray | None,
    sampling: np.ndarray | None = None,
    systematic: np.ndarray | None = None,
    confidence: float = 0.9,
) -> None:
    """Refuse a γ the curve does not determine, with the reason and what to do.

    Three rules. (1) The fitted fall H(lo) - H(hi) over the window is within noise
    (:func:`flat_within_noise` with the median of ``err``, the per-n errors the fit is weighted with):
    a flat curve (an iid source) has no decay exponent. (2) The measured fall over the window's upper
    half in log n, from the first n at or above sqrt(lo·hi) (mid) to hi, is no more than what the
    curve's errors can make of a flat curve: the one-signed ``systematic`` error (a bias that lowers
    H_n more at larger n can fake a fall of up to ``systematic[hi]``) plus z·sqrt(sampling[mid]² +
    sampling[hi]²). H_n then stopped falling inside the window (a Markov chain beyond its order), and
    H_∞ + A n^-γ does not describe it, however well the first points pin a number. (3) The offset fit
    sits at a bound of its search range or has an unbounded profile interval
    (``PowerLawFit.undetermined``). ``n``, ``h`` and the error arrays are the window's points.
    """
    lo, hi = fit.window
    where = f"the {which} H_n over n = {lo:g}..{hi:g}"
    if err is not None and err.size >= 2 and np.isfinite(err).any():
        change = float(fit(lo) - fit(hi))
        flat, noise = flat_within_noise(change, float(np.nanmedian(err)), confidence)
        if flat:
            raise ValueError(
                f"gamma refused: {where} is flat within noise (fitted fall {change:.3g} nats against noise "
                f"{noise:.3g}), so it has no decay exponent (an iid source, or a Markov chain beyond its "
                f"order). Use a source whose H_n still falls with n, or {MODEL_CURVE}."
            )
    mid = int(np.searchsorted(n, math.sqrt(lo * hi) - 1e-9))
    if sampling is not None and mid < n.size - 1 and np.isfinite(sampling[[mid, -1]]).all():
        change = float(h[mid] - h[-1])
        fake = 0.0 if systematic is None or not np.isfinite(systematic[-1]) else float(systematic[-1])
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        noise = fake + z * math.hypot(sampling[mid], sampling[-1])
        if change <= noise:
            raise ValueError(
                f"gamma refused: {where} stops falling at n = {n[mid]:g}: from there to n = {hi:g} it falls "
                f"{change:.3g} nats, within what its errors make of a flat curve ({noise:.3g}: projected bias "
                f"{fake:.3g} and sampling noise), so it is not a power law with an offset over the window (e.g. a "
                f"Markov chain beyond its order). Use a source whose H_n still falls at the largest n, or "
                f"{MODEL_CURVE}."
            )
    if fit.undetermined:
        raise ValueError(
            f"gamma refused: {where} does not determine gamma: the fit H_inf + A n^-gamma gives "
            f"{fit.exponent:.3g}, but {fit.undetermined}, so the curve does not fall as one power law "
            "there (e.g. it drops and then stays flat, as a Markov chain beyond its order). Measure on more "
            f"tokens (more valid n) or use {MODEL_CURVE}."
        )


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
