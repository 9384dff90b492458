"""Corpus-size extrapolation of H_n: fit H_n(N) = H_n(inf) -/+ B N^(-delta) on nested sub-corpora.

Count-based estimates of H_n move with the corpus size N: the bias-corrected counts rise towards the
true value as n-grams become better sampled, the held-out Kneser–Ney cross-entropy falls towards it.
Measuring both on sub-corpora of N/16 .. N and fitting each with a power law in N whose exponent delta
is free (heavy-tailed counts make the bias decay slower than 1/N) gives two estimates of the limit
H_n(inf), one from each side. Where they agree within their uncertainties the limit is trusted (the
rule is stated on the documentation's entropy page). This module fits the size curves and applies that
rule (:func:`extrapolate_sides`); :func:`corpus_stats.entropy_curve` counts the sub-corpora.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from corpus_stats._io import finite_or_none, json_safe

__all__ = [
    "AGREE_Z",
    "DELTA_FALLBACK",
    "DELTA_GRID",
    "MAX_STDERR",
    "FiniteSizeFit",
    "ResidualBias",
    "corrected_size_curve",
    "extrapolate_sides",
    "fit_finite_size",
    "residual_bias",
]

#: Exponents delta tried (a profile over this grid; outside it the fit is not trusted).
DELTA_GRID = np.geomspace(0.1, 2.0, 241)
#: Two extrapolations agree when |H_lo - H_up| <= AGREE_Z * sqrt(se_lo^2 + se_up^2).
AGREE_Z = 2.0
#: ... and the combined limit is usable only when its standard error is at most this (nats).
MAX_STDERR = 0.05
#: Bias exponent assumed when the size curve cannot be fitted (only the halves were counted): a
#: slow decay, so the projected bias shift / (2^delta - 1) is about 4.3 times the halving shift.
DELTA_FALLBACK = 0.3


@dataclass(frozen=True)
class FiniteSizeFit:
    """Fit of y(N) = limit + direction * B * (N / N_max)^(-delta), B >= 0, at one n.

    Attributes
    ----------
    limit, stderr : float
        Extrapolated N -> infinity value and its standard error (NaN when not fittable).
    delta : float
        Best exponent on :data:`DELTA_GRID` (NaN when the data show no trend in the expected
        direction: then ``limit`` is the weighted mean and B = 0).
    amplitude : float
        B, the finite-size correction at the largest N (same units as y).
    chi2 : float
        Weighted residual sum of squares at the best delta.
    n_points : int
        Sizes used (finite values).
    """

    limit: float
    stderr: float
    delta: float
    amplitude: float
    chi2: float
    n_points: int


def _wls(x, y, w, sign):
    """Weighted LS of y = a + c x_d with sign * c >= 0 for every row x_d of ``x`` (grid, points).

    Returns arrays a, se(a), c, chi2 over the rows.
    """
    sw = w.sum()
    mean = (w * y).sum() / sw
    xm = (x * w).sum(axis=1) / sw
    dx = x - xm[:, None]
    sxx = (w * dx**2).sum(axis=1)
    good = sxx > 1e-300
    c = np.where(good, (w * dx * (y - mean)).sum(axis=1) / np.where(good, sxx, 1.0), 0.0)
    flat = sign * c < 0  # the trend runs the wrong way: the constrained optimum is flat
    c = np.where(flat, 0.0, c)
    a = mean - c * xm
    var_a = np.where(flat | ~good, 1.0 / sw, 1.0 / sw + xm**2 / np.where(good, sxx, 1.0))
    chi2 = (w * (y - a[:, None] - c[:, None] * x) ** 2).sum(axis=1)
    return a, np.sqrt(var_a), c, chi2


def fit_finite_size(sizes, values, stderr, direction: int) -> FiniteSizeFit:
    """Extrapolate one estimate to infinite corpus size with a free power-law exponent.

    Parameters
    ----------
    sizes : array_like
        Corpus sizes N_s (tokens), positive.
    values, stderr : array_like
        Estimates at those sizes and their standard errors (non-finite entries are dropped; zero or
        missing errors are replaced by the smallest positive one, or 1e-4 nats).
    direction : {+1, -1}
        +1 when the estimate rises with N (bias-corrected counts, biased low), -1 when it falls
        (held-out cross-entropy, biased high).

    Returns
    -------
    FiniteSizeFit

    Notes
    -----
    Model: ``y(N) = H + c x`` with ``x = (N / N_max)^(-delta)`` and ``direction * c <= 0``. For each
    delta on :data:`DELTA_GRID` (H, c) follow from weighted least squares in closed form (variable
    projection); the best delta minimises chi². Errors are scaled by ``s = sqrt(max(1, chi²_min /
    dof))`` (dof = points - 3, at least 1) when the model fits worse than the errors say. The
    interval of H is the union of ``H(delta) ± s se(delta)`` over every delta with
    ``chi²(delta) <= chi²_min + s²`` (profile), so a poorly determined exponent widens it; ``stderr``
    is its half-width. Fewer than 2 points give NaN; with 2 points delta is not determined and the
    interval spans the whole grid.

    Examples
    --------
    >>> N = np.array([1e5, 2e5, 4e5, 8e5])
    >>> y = 2.0 - 3.0 * N ** -0.5
    >>> fit = fit_finite_size(N, y, np.full(4, 1e-4), +1)
    >>> round(fit.limit, 3), round(fit.delta, 2)
    (2.0, 0.5)
    """
    if direction not in (1, -1):
        raise ValueError(f"direction must be +1 (rising with N) or -1 (falling); got {direction!r}.")
    N = np.asarray(sizes, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    se = np.asarray(stderr, dtype=np.float64)
    if not (N.shape == y.shape == se.shape):
        raise ValueError(f"sizes, values and stderr must have equal shapes; got {N.shape}, {y.shape}, {se.shape}.")
    keep = np.isfinite(N) & (N > 0) & np.isfinite(y)
    N, y, se = N[keep], y[keep], se[keep]
    nan = FiniteSizeFit(math.nan, math.nan, math.nan, math.nan, math.nan, int(N.size))
    if N.size < 2 or np.unique(N).size < 2:
        return nan
    pos = se[np.isfinite(se) & (se > 0)]
    floor = pos.min() if pos.size else 1e-4
    se = np.where(np.isfinite(se) & (se > 0), se, floor)
    w = 1.0 / se**2
    sign = -direction  # c = -direction * B
    rel = N / N.max()
    a, se_a, c, chi2 = _wls(rel[None, :] ** (-DELTA_GRID[:, None]), y, w, sign)
    best = int(np.argmin(chi2))
    dof = max(N.size - 3, 1)
    s2 = max(1.0, chi2[best] / dof)
    s = math.sqrt(s2)
    ok = chi2 <= chi2[best] + s2
    ok[1:] |= ok[:-1]  # one grid step either side: the grid must not make the interval too short
    ok[:-1] |= ok[1:]
    lo = np.min(a[ok] - s * se_a[ok])
    hi = np.max(a[ok] + s * se_a[ok])
    return FiniteSizeFit(
        limit=float(a[best]),
        stderr=float(max((hi - lo) / 2, s * se_a[best])),
        delta=math.nan if c[best] == 0.0 else float(DELTA_GRID[best]),
        amplitude=float(abs(c[best])),
        chi2=float(chi2[best]),
        n_points=int(N.size),
    )


def combine(lower: FiniteSizeFit, upper: FiniteSizeFit | None) -> tuple[float, float, bool]:
    """Combine the two sides: (value, stderr, agree).

    ``agree`` iff both limits are finite, ``|H_lo - H_up| <= AGREE_Z sqrt(se_lo² + se_up²)`` and the
    combined standard error is at most :data:`MAX_STDERR`. The value is then the inverse-variance
    mean, with stderr ``max(1 / sqrt(sum w), |H_lo - H_up| / 2)``; otherwise the lower side's limit
    and stderr are returned (the counts' own extrapolation), with ``agree = False``.
    """
    if upper is None or not (math.isfinite(upper.limit) and math.isfinite(upper.stderr)):
        return lower.limit, lower.stderr, False
    if not (math.isfinite(lower.limit) and math.isfinite(lower.stderr)):
        return upper.limit, upper.stderr, False
    w_lo, w_up = 1.0 / max(lower.stderr, 1e-9) ** 2, 1.0 / max(upper.stderr, 1e-9) ** 2
    gap = abs(lower.limit - upper.limit)
    value = (w_lo * lower.limit + w_up * upper.limit) / (w_lo + w_up)
    se = max(1.0 / math.sqrt(w_lo + w_up), gap / 2)
    agree = gap <= AGREE_Z * math.hypot(lower.stderr, upper.stderr) and se <= MAX_STDERR
    if not agree:
        return lower.limit, lower.stderr, False
    return value, se, True


@dataclass(frozen=True)
class ResidualBias:
    """Projected finite-size bias of an estimate at the full corpus size (see :func:`residual_bias`).

    Attributes
    ----------
    bias : float
        Projected bias ``H_n(inf) - value`` (>= 0 for an estimate that rises with N), nats.
    stderr : float
        Uncertainty of that projection beyond the estimate's own sampling error.
    systematic : float
        ``bias + stderr``: the systematic error to carry beside the sampling error (a one-sigma upper
        bound on the residual bias).
    method : str
        ``"size curve"`` (power-law fit over the sub-corpus sizes) or ``"halving shift"`` (fallback).
    determined : bool
        True when the size curve fixes the bias exponent delta (inside :data:`DELTA_GRID`, not at its
        slow end): only then is a projected bias larger than the sampling error worth trusting.
    """

    bias: float
    stderr: float
    systematic: float
    method: str
    determined: bool = False


def residual_bias(fit: FiniteSizeFit, value: float, stderr: float, shift: float = math.nan) -> ResidualBias:
    """Project the residual bias of ``value`` (the full-corpus estimate) from its size curve.

    Parameters
    ----------
    fit : FiniteSizeFit
        :func:`fit_finite_size` of the estimate over the sub-corpus sizes, the full corpus included,
        with ``direction=+1`` (an estimate biased low that rises with N).
    value, stderr : float
        The full-corpus estimate and its sampling standard error.
    shift : float, optional
        ``mean(half-corpus estimates) - value``, used only when ``fit`` has no limit.

    Returns
    -------
    ResidualBias

    Notes
    -----
    With ``y(N) = H - B (N / N_full)^-delta`` the residual bias at the full size is ``H - y(N_full)``,
    estimated as ``limit - value`` (clipped at 0). Its uncertainty is the limit's (profile over delta,
    so an undetermined exponent widens it) with the full-corpus sampling error taken out:
    ``sqrt(max(se_limit^2 - se^2, 0))``. Without a fit the halving shift is projected with
    :data:`DELTA_FALLBACK`: ``bias = |shift| / (2^delta - 1)``, its own uncertainty taken equal to it.
    The halving shift alone understates the bias by ``1 / (2^delta - 1)`` (3-4 times for delta = 0.3-0.4
    on heavy-tailed sources), which is why validity must not rest on it.

    Examples
    --------
    >>> N = np.array([1e5, 2e5, 4e5, 8e5])
    >>> y = 2.0 - 0.1 * (N / 8e5) ** -0.5
    >>> rb = residual_bias(fit_finite_size(N, y, np.full(4, 1e-4), +1), y[-1], 1e-4)
    >>> round(rb.bias, 3)
    0.1
    """
    value, stderr = float(value), float(stderr)
    if math.isfinite(fit.limit) and math.isfinite(fit.stderr) and math.isfinite(value):
        bias = max(fit.limit - value, 0.0)
        se = math.sqrt(max(fit.stderr**2 - (stderr if math.isfinite(stderr) else 0.0) ** 2, 0.0))
        determined = math.isfinite(fit.delta) and fit.delta > DELTA_GRID[1]
        return ResidualBias(bias, se, bias + se, "size curve", determined)
    if math.isfinite(shift):
        bias = abs(shift) / (2.0**DELTA_FALLBACK - 1.0)
        return ResidualBias(bias, bias, 2.0 * bias, "halving shift")
    return ResidualBias(math.nan, math.nan, math.nan, "none")


def corrected_size_curve(stats, corr: np.ndarray, se: np.ndarray) -> tuple:
    """(sizes, values, stderr) of ``corrected`` on the sub-corpora of about N/16 .. N/2 and N.

    Values are averaged over the disjoint blocks of each size; errors are
    max(spread / sqrt(blocks), full-corpus stderr) (never more precise than the full corpus).
    """
    n_cols = corr.shape[1]
    sizes, means, errs = [], [], []
    for first, b, _ in stats.size_blocks:
        rows = corr[first : first + b]
        sizes.append(float(stats.positions[first : first + b, 1].mean()))
        with warnings.catch_warnings():  # all-NaN columns (no n-grams that long) stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            means.append(np.nanmean(rows, axis=0) if b else np.full(n_cols, np.nan))
            spread = np.nanstd(rows, axis=0, ddof=1) / np.sqrt(b) if b >= 2 else np.full(n_cols, np.nan)
        errs.append(np.fmax(spread, se))
    sizes.append(float(stats.positions[0, 1]))
    means.append(corr[0])
    errs.append(se)
    return np.array(sizes), np.array(means), np.array(errs)


def _falling_prefix(ce: np.ndarray) -> np.ndarray:
    """Mask of the leading n where the raw cross-entropy still falls strictly with n."""
    ok = np.isfinite(ce)
    ok[1:] &= np.diff(ce) < 0
    return np.logical_and.accumulate(ok)


def extrapolate_sides(lower_fits, lower_curve, valid, kn_curve, n_max: int) -> tuple:
    """Size extrapolation of both sides and the rule that trusts it (see
    :func:`corpus_stats.entropy_curve`, Notes): (value, stderr, valid, detail for the report)."""
    lo_N, lo_y, lo_se = lower_curve
    have_up = kn_curve is not None
    if have_up:
        up_N = kn_curve.n_train_tokens.astype(np.float64)
        # raw per-n cross-entropies: the running minimum at n is a bound reached at a smaller n, whose
        # size limit is a limit of H_m (m < n), not of H_n
        up_y = np.asarray(kn_curve.cross_entropy, dtype=np.float64)
        up_se = kn_curve.stderr
        up_use = _falling_prefix(up_y[-1])
    value = np.full(n_max + 1, np.nan)
    stderr = np.full(n_max + 1, np.nan)
    agree = np.zeros(n_max + 1, dtype=bool)
    fits = []
    for n in range(n_max + 1):
        lo = lower_fits[n]
        up = fit_finite_size(up_N, up_y[:, n], up_se[:, n], -1) if have_up and up_use[n] else None
        value[n], stderr[n], agree[n] = combine(lo, up)
        fits.append({"lower": _fit_dict(lo), "upper": None if up is None else _fit_dict(up)})
    ok = (valid | agree) & np.isfinite(value) if have_up else valid & np.isfinite(value)
    detail = {
        "lower_sizes": lo_N.tolist(),
        "lower_values": json_safe(lo_y),
        "lower_stderr": json_safe(lo_se),
        "upper_sizes": up_N.tolist() if have_up else None,
        "upper_values": json_safe(up_y) if have_up else None,
        "upper_used": up_use.tolist() if have_up else None,
        "agree": agree.tolist(),
        "fits": fits,
        "agree_z": AGREE_Z,
        "max_stderr": MAX_STDERR,
        "rule": "valid where corrected is valid, or where the extrapolated corrected and upper curves "
        "agree within AGREE_Z combined stderr and the combined stderr <= MAX_STDERR; the upper side is "
        "the raw per-n Kneser-Ney cross-entropy, used only while it still falls with n at the full "
        "size; prefix of n",
    }
    return value, stderr, np.logical_and.accumulate(ok), detail


def _fit_dict(f) -> dict:
    return {
        k: None if finite_or_none(v) is None else round(float(v), 6)
        for k, v in (
            ("limit", f.limit),
            ("stderr", f.stderr),
            ("delta", f.delta),
            ("amplitude", f.amplitude),
            ("chi2", f.chi2),
        )
    }
