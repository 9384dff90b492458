"""Power-law fits y ~ A x^(-exponent): the paper's log-log OLS, a fit with an offset, a fit of differences.

All exponents are reported as positive decay rates (β, γ, α), i.e. ``y = offset + prefactor * x**(-exponent)``.
Here: the result :class:`PowerLawFit`, :func:`fit_power_law` (checks and dispatch), the paper's fit and the fit
through a measured floor; the ``offset`` and ``differences`` fits are in :mod:`scaling.profile_fits`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, stats

from scaling._checks import as_float_array, check_confidence, check_curve, json_safe
from scaling.profile_fits import EXPONENT_BOUNDS, fit_profile

METHODS = ("paper", "offset", "differences", "floor")
PAPER_INTERVALS = ("bootstrap", "ols")


@dataclass(frozen=True, repr=False)
class PowerLawFit:
    """Result of :func:`fit_power_law`: ``y = offset + prefactor * x**(-exponent)``.

    Attributes
    ----------
    exponent : float
        Fitted decay exponent (positive for a decaying curve).
    exponent_interval : tuple of float
        Interval for the exponent at level `confidence` (bootstrap percentile, OLS t-interval or
        profile likelihood, see `interval_method`); ``inf`` where a profile interval is unbounded.
    prefactor : float
        Amplitude A.
    window : tuple of float
        Smallest and largest x actually used.
    n_points : int
        Number of points used (for ``differences``: curve points, i.e. differences + 1).
    method : str
        ``"paper"``, ``"offset"`` or ``"differences"``.
    goodness_of_fit : float
        Coefficient of determination R² in the space the fit minimises (log y for ``paper``, y for
        ``offset``, differences of y for ``differences``).
    offset : float or None
        Fitted asymptote (H_∞) for ``offset``; None otherwise.
    stderr : float
        Standard error of the exponent (bootstrap SD, OLS standard error or profile half-width / z).
    confidence : float
        Level of `exponent_interval`.
    interval_method : str
        How the interval was obtained.
    n_dropped : int
        Points outside the window (never silently vanish).
    residual_rms : float
        Root-mean-square residual in the fitted space.
    notes : tuple of str
        Human-readable caveats.
    undetermined : str
        Why the data do not determine the exponent (``offset``/``differences``: it sits at a bound of
        the search range, or its profile interval is unbounded there); empty when it is determined.
    """

    exponent: float
    exponent_interval: tuple[float, float]
    prefactor: float
    window: tuple[float, float]
    n_points: int
    method: str
    goodness_of_fit: float
    offset: float | None = None
    stderr: float = math.nan
    confidence: float = 0.9
    interval_method: str = ""
    n_dropped: int = 0
    residual_rms: float = math.nan
    notes: tuple[str, ...] = field(default_factory=tuple)
    undetermined: str = ""

    def __call__(self, x: Any) -> np.ndarray:
        """Evaluate the fitted law at `x`."""
        xa = np.asarray(x, dtype=np.float64)
        return (self.offset or 0.0) + self.prefactor * xa ** (-self.exponent)

    def __repr__(self) -> str:
        lo, hi = self.exponent_interval
        off = "" if self.offset is None else f", offset={self.offset:.4g}"
        return (
            f"PowerLawFit({self.method}: exponent={self.exponent:.4f} ± {self.stderr:.4f} "
            f"[{lo:.4f}, {hi:.4f}] @{self.confidence:.0%}, prefactor={self.prefactor:.4g}{off}, "
            f"window={self.window[0]:g}..{self.window[1]:g}, n_points={self.n_points}, "
            f"R²={self.goodness_of_fit:.4f})"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict (NaN/inf -> None)."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def _apply_window(x, y, sigma, window):
    """Restrict to window=(lo, hi) inclusive; return arrays and number dropped."""
    if window is None:
        return x, y, sigma, 0
    try:
        lo, hi = (float(w) for w in window)
    except (TypeError, ValueError):
        raise TypeError(f"window must be a pair (x_min, x_max) of numbers; got {window!r}.") from None
    if not lo <= hi:
        raise ValueError(f"window must satisfy x_min <= x_max; got {window!r}.")
    keep = (x >= lo) & (x <= hi)
    return x[keep], y[keep], None if sigma is None else sigma[keep], int((~keep).sum())


def _ols(lx, ly, w=None):
    """Weighted OLS ly = a + s lx; returns slope, intercept, residuals."""
    w = np.ones_like(lx) if w is None else w
    mx, my = np.average(lx, weights=w), np.average(ly, weights=w)
    sxx = np.sum(w * (lx - mx) ** 2)
    s = np.sum(w * (lx - mx) * (ly - my)) / sxx
    a = my - s * mx
    return s, a, ly - (a + s * lx)


def _r2(resid, target, w=None):
    w = np.ones_like(target) if w is None else w
    sst = np.sum(w * (target - np.average(target, weights=w)) ** 2)
    return float(1.0 - np.sum(w * resid**2) / sst) if sst > 0 else math.nan


def _fit_paper(x, y, sigma, confidence, interval, n_boot, seed):
    lx, ly = np.log(x), np.log(y)
    # Relative errors become absolute errors in log space.
    w = None if sigma is None else (y / sigma) ** 2
    s, a, resid = _ols(lx, ly, w)
    n = lx.size
    notes: list[str] = []
    if interval == "ols":
        if sigma is None:
            s2 = np.sum(resid**2) / (n - 2) if n > 2 else math.nan
            se = math.sqrt(s2 / np.sum((lx - lx.mean()) ** 2))
            q = stats.t.ppf(0.5 + confidence / 2, n - 2)
        else:
            se = math.sqrt(1.0 / np.sum(w * (lx - np.average(lx, weights=w)) ** 2))
            q = stats.norm.ppf(0.5 + confidence / 2)
        lo, hi = -s - q * se, -s + q * se
        how = "OLS t-interval" if sigma is None else "weighted least squares, known sigma"
    else:
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, n, size=(n_boot, n))
        bx, by = lx[idx], ly[idx]
        bw = np.ones_like(bx) if w is None else w[idx]
        mx = np.sum(bw * bx, axis=1) / bw.sum(axis=1)
        my = np.sum(bw * by, axis=1) / bw.sum(axis=1)
        sxx = np.sum(bw * (bx - mx[:, None]) ** 2, axis=1)
        ok = sxx > 1e-12 * max(1.0, float(np.sum((lx - lx.mean()) ** 2)))
        slopes = np.sum(bw * (bx - mx[:, None]) * (by - my[:, None]), axis=1)[ok] / sxx[ok]
        if ok.sum() < n_boot:
            notes.append(f"{n_boot - int(ok.sum())} degenerate bootstrap resamples skipped")
        se = float(np.std(-slopes, ddof=1))
        lo, hi = np.quantile(-slopes, [0.5 - confidence / 2, 0.5 + confidence / 2])
        how = f"bootstrap over fit points ({n_boot} resamples, as in the paper)"
        if n < 8:
            notes.append(f"bootstrap over only {n} points: interval unreliable")
    return {
        "exponent": float(-s),
        "exponent_interval": (float(lo), float(hi)),
        "prefactor": float(np.exp(a)),
        "goodness_of_fit": _r2(resid, ly, w),
        "stderr": float(se),
        "interval_method": how,
        "residual_rms": float(np.sqrt(np.mean(resid**2))),
        "notes": tuple(notes),
    }


def _fit_floor(x, y, floor, sigma, confidence, bounds):
    """log y = ½ log((A x^-β)² + f²): a power law seen through the measured noise floor f."""
    lx, ly = np.log(x), np.log(y)
    lf = np.full(x.size, -np.inf)
    lf[floor > 0] = np.log(floor[floor > 0])
    w = np.ones_like(y) if sigma is None else y / sigma

    def resid(p):
        return (0.5 * np.logaddexp(2 * (p[0] - p[1] * lx), 2 * lf) - ly) * w

    use = y > 2 * floor  # start from the OLS of the points well above the floor
    if use.sum() < 2:
        use = np.ones(x.size, dtype=bool)
    s0, a0, _ = _ols(lx[use], ly[use])
    b0 = float(np.clip(-s0, bounds[0] * 1.01, bounds[1] * 0.99))
    r = optimize.least_squares(resid, [a0, b0], bounds=([-np.inf, bounds[0]], [np.inf, bounds[1]]), x_scale="jac")
    n = x.size
    rss = float(np.sum(r.fun**2))
    jtj_inv = np.linalg.pinv(r.jac.T @ r.jac)
    if sigma is None:
        cov = jtj_inv * rss / max(n - 2, 1)
        q = stats.t.ppf(0.5 + confidence / 2, max(n - 2, 1))
        how = "Wald t-interval from the Jacobian (noise level from residuals)"
    else:
        cov, q = jtj_inv, stats.norm.ppf(0.5 + confidence / 2)
        how = "Wald interval from the Jacobian (known sigma)"
    se = math.sqrt(max(float(cov[1, 1]), 0.0))
    b = float(r.x[1])
    notes = []
    n_above = int(np.sum(y > 2 * floor))
    if n_above < 3:
        notes.append(f"only {n_above} points lie above twice the floor: exponent poorly determined")
    return {
        "exponent": b,
        "exponent_interval": (b - q * se, b + q * se),
        "prefactor": float(np.exp(r.x[0])),
        "goodness_of_fit": _r2(r.fun / w, ly),
        "stderr": se,
        "interval_method": how,
        "residual_rms": float(np.sqrt(np.mean((r.fun / w) ** 2))),
        "notes": tuple(notes),
    }


def fit_power_law(
    x: Any,
    y: Any,
    *,
    method: str = "paper",
    window: tuple[float, float] | None = None,
    sigma: Any = None,
    confidence: float = 0.9,
    interval: str = "bootstrap",
    n_boot: int = 2000,
    seed: int = 0,
    exponent_bounds: tuple[float, float] = EXPONENT_BOUNDS,
    offset_min: float = 0.0,
    floor: Any = None,
) -> PowerLawFit:
    """Fit ``y = offset + A x^(-exponent)`` over a window.

    Parameters
    ----------
    x, y : array_like
        The curve (e.g. lags and ‖C(t)‖, or n and H_n). Same length, finite; x > 0; y > 0 for
        ``paper``.
    method : {"paper", "offset", "differences", "floor"}, default "paper"
        ``paper``: OLS of log y on log x, exactly as Cagnetta et al. (2026) did. ``offset``: variable
        projection for y = H_∞ + A x^-γ (closed-form H_∞ ≥ `offset_min`, A ≥ 0 for each γ on a dense
        log grid, then bounded refinement) with a profile-likelihood interval. ``differences``:
        y_i − y_{i+1} = A (x_i^-γ − x_{i+1}^-γ), which needs no H_∞ (≈ Aγ n^(−γ−1) for unit steps).
        ``floor``: a power law plus the measured noise floor of raw ‖C(t)‖,
        log y = ½ log((A x^-β)² + floor²), so points near the floor need not be cut away.
    window : (float, float), optional
        Inclusive x range; points outside are dropped and counted in ``n_dropped``.
    sigma : array_like, optional
        Standard errors of y. Weights the fit; intervals then use the known noise level.
    confidence : float, default 0.9
        Level of the interval.
    interval : {"bootstrap", "ols"}, default "bootstrap"
        ``paper`` mode only: bootstrap over fit points (the paper's choice) or the OLS t-interval.
    n_boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the bootstrap generator.
    exponent_bounds : (float, float), default (1e-3, 5)
        Search range for ``offset`` / ``differences``.
    offset_min : float, default 0
        Lower bound on H_∞ in ``offset`` mode (an entropy is non-negative).
    floor : array_like, optional
        Measured noise floor at each x (e.g. ``floor_op``); required by ``floor`` mode.

    Returns
    -------
    PowerLawFit

    Raises
    ------
    ValueError
        Fewer than 3 points (4 for ``offset``/``differences``), mismatched lengths, NaN/inf,
        x ≤ 0, y ≤ 0 in ``paper`` mode, or an unknown method.

    Notes
    -----
    The paper's β = 0.88 ± 0.06 (TinyStories, 15 lags) is reproduced by ``method="paper"``; its ±
    is the bootstrap standard deviation, reported here as ``stderr``.

    Examples
    --------
    >>> import numpy as np
    >>> n = np.arange(1, 16)
    >>> fit = fit_power_law(n, 3.55 * n ** -0.325)
    >>> round(fit.exponent, 3)
    0.325
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if method == "paper" and interval not in PAPER_INTERVALS:
        raise ValueError(f"interval must be one of {PAPER_INTERVALS}; got {interval!r}.")
    confidence = check_confidence(confidence)
    lo_b, hi_b = (float(b) for b in exponent_bounds)
    if not 0 < lo_b < hi_b:
        raise ValueError(f"exponent_bounds must satisfy 0 < low < high; got {exponent_bounds!r}.")
    xa, ya = as_float_array(x, "x"), as_float_array(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length; got {xa.size} and {ya.size}.")
    sa = None if sigma is None else as_float_array(sigma, "sigma")
    if sa is not None and sa.shape != xa.shape:
        raise ValueError(f"sigma must have the same length as x; got {sa.size} and {xa.size}.")
    fa = None
    if method == "floor":
        if floor is None:
            raise ValueError("method='floor' needs the measured floor (floor=...); got None.")
        fa = as_float_array(floor, "floor")
        if fa.shape != xa.shape:
            raise ValueError(f"floor must have the same length as x; got {fa.size} and {xa.size}.")
        if window is not None:
            lo_w, hi_w = (float(v) for v in window)
            fa = fa[(xa >= lo_w) & (xa <= hi_w)]
    xa, ya, sa, n_dropped = _apply_window(xa, ya, sa, window)
    min_points = 4 if method in ("offset", "differences") else 3
    positive = method in ("paper", "floor")
    xa, ya, sa = check_curve(xa, ya, positive_y=positive, min_points=min_points, sigma=sa)
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    sa = None if sa is None else sa[order]
    if fa is not None:
        fa = fa[order]
        if not np.all(np.isfinite(fa) & (fa >= 0)):
            raise ValueError(f"floor must be finite and non-negative; got {fa[:5].tolist()}...")
    if method == "differences" and np.unique(xa).size != xa.size:
        raise ValueError("differences mode needs distinct x values; got repeated x.")
    if method == "paper":
        res = _fit_paper(xa, ya, sa, confidence, interval, int(n_boot), seed)
    elif method == "floor":
        res = _fit_floor(xa, ya, fa, sa, confidence, (lo_b, hi_b))
    else:
        res = fit_profile(xa, ya, sa, confidence, method, (lo_b, hi_b), float(offset_min))
    return PowerLawFit(
        window=(float(xa[0]), float(xa[-1])),
        n_points=int(xa.size),
        method=method,
        confidence=confidence,
        n_dropped=n_dropped,
        **res,
    )
