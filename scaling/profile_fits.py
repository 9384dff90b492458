"""The ``offset`` and ``differences`` fits of :func:`scaling.fits.fit_power_law`, by profile likelihood.

``offset``: y = c + A x^(-exponent) with c >= ``offset_min`` and A >= 0; ``differences``: the differences
y_i - y_(i+1) = A (x_i^(-exponent) - x_(i+1)^(-exponent)), which need no offset. For each exponent on a dense
log grid over :data:`EXPONENT_BOUNDS` the linear parameters are solved in closed form (variable projection),
then the minimum is refined by a bounded search. The interval is where the profile RSS crosses its F-test or
chi-squared threshold; for ``differences`` a sandwich Wald interval, since neighbouring differences share a
point and their errors are correlated. :func:`offset_exponent` is the ``offset`` exponent alone, for the many
refits of jackknife replicates and shifted curves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, stats

#: Search range of the exponent in ``offset`` and ``differences`` fits; an exponent at either end is
#: not determined by the curve (``PowerLawFit.undetermined``).
EXPONENT_BOUNDS = (1e-3, 5.0)


def _profile_offset(g, x, y, w, offset_min):
    """Profile RSS over exponents g (array) for y = c + A x^-g, c >= offset_min, A >= 0."""
    u = x[None, :] ** (-g[:, None])
    sw = w.sum()
    mu = (u * w).sum(1) / sw
    my = float((y * w).sum() / sw)
    cov = ((u - mu[:, None]) * (y - my) * w).sum(1)
    var = ((u - mu[:, None]) ** 2 * w).sum(1)
    A = np.where(var > 0, cov / np.where(var > 0, var, 1.0), 0.0)
    c = my - A * mu
    # Constraint c >= offset_min active: refit A alone with c fixed at the bound.
    act = c < offset_min
    if act.any():
        ya = y - offset_min
        A_act = (u[act] * ya * w).sum(1) / (u[act] ** 2 * w).sum(1)
        A = A.copy()
        A[act] = A_act
        c = np.where(act, offset_min, c)
    neg = A < 0
    if neg.any():  # an increasing curve: best feasible is the flat line
        A = np.where(neg, 0.0, A)
        c = np.where(neg, max(my, offset_min), c)
    rss = (((c[:, None] + A[:, None] * u) - y) ** 2 * w).sum(1)
    return rss, A, c


def _profile_diff(g, x, d, w):
    """Profile RSS for differences d_i = A (x_i^-g - x_{i+1}^-g), A >= 0."""
    v = x[None, :-1] ** (-g[:, None]) - x[None, 1:] ** (-g[:, None])
    A = np.maximum((v * d * w).sum(1) / (v**2 * w).sum(1), 0.0)
    rss = (((A[:, None] * v) - d) ** 2 * w).sum(1)
    return rss, A, np.zeros_like(A)


def _sandwich_interval(x, d, w, sigma, g, A, confidence):
    """Wald interval for the differences fit with the MA(1) covariance of differenced noise.

    Neighbouring differences share a point, so their errors are correlated (covariance D S Dᵀ with D
    the difference operator); a plain profile interval would over-cover. Sandwich covariance of
    the weighted least-squares estimate, noise level from the residuals when sigma is unknown.
    """
    n = x.size
    D = np.zeros((n - 1, n))
    D[np.arange(n - 1), np.arange(n - 1)] = 1.0
    D[np.arange(n - 1), np.arange(1, n)] = -1.0
    u0, u1 = x[:-1] ** (-g), x[1:] ** (-g)
    J = np.column_stack([u0 - u1, A * (-np.log(x[:-1]) * u0 + np.log(x[1:]) * u1)])
    W = np.diag(w)
    bread = np.linalg.pinv(J.T @ W @ J)
    if sigma is None:
        cov_d = D @ D.T
        H = J @ bread @ J.T @ W
        M = np.eye(n - 1) - H
        r = d - A * (u0 - u1)
        scale = float(r @ W @ r) / float(np.trace(W @ M @ cov_d @ M.T))
        cov_d = scale * cov_d
        q = stats.t.ppf(0.5 + confidence / 2, max(n - 1 - 2, 1))
        how = "sandwich Wald interval (correlated differences, noise level from residuals)"
    else:
        cov_d = D @ np.diag(sigma**2) @ D.T
        q = stats.norm.ppf(0.5 + confidence / 2)
        how = "sandwich Wald interval (correlated differences, known sigma)"
    cov = bread @ J.T @ W @ cov_d @ W @ J @ bread
    se = math.sqrt(max(float(cov[1, 1]), 0.0))
    return g - q * se, g + q * se, how, se


def _profile_interval(prof, g_hat, rss_hat, threshold, bounds, grid):
    """Crossings of the profile RSS with `threshold` on each side of g_hat."""
    rss_grid = prof(grid)[0]
    f = lambda g: float(prof(np.array([g]))[0][0]) - threshold
    ends = []
    for side in (-1, 1):
        sel = grid < g_hat if side < 0 else grid > g_hat
        gs, rs = grid[sel], rss_grid[sel]
        if side < 0:
            gs, rs = gs[::-1], rs[::-1]
        above = np.flatnonzero(rs > threshold)
        if above.size == 0:
            ends.append(bounds[0] if side < 0 else math.inf)
            continue
        g_out = gs[above[0]]
        g_in = gs[above[0] - 1] if above[0] > 0 else g_hat
        ends.append(float(optimize.brentq(f, min(g_in, g_out), max(g_in, g_out), xtol=1e-7)))
    return ends[0], ends[1]


def _profile_minimum(prof, bounds):
    """(exponent, grid index of the coarse minimum, grid): dense log grid, then bounded refinement."""
    grid = np.geomspace(bounds[0], bounds[1], 801)
    rss = prof(grid)[0]
    k = int(np.argmin(rss))
    lo_b, hi_b = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    res = optimize.minimize_scalar(
        lambda g: float(prof(np.array([g]))[0][0]),
        bounds=(lo_b, hi_b),
        method="bounded",
        options={"xatol": 1e-9},
    )
    return (float(res.x) if res.fun <= rss[k] else float(grid[k])), k, grid


def offset_exponent(x: Any, y: Any, sigma: Any = None, offset_min: float = 0.0) -> float:
    """The exponent of :func:`fit_power_law` ``method="offset"`` alone (no interval): for the many
    refits of jackknife replicates and shifted curves, on arrays already checked (finite, sorted x)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    w = np.ones(x.size) if sigma is None else 1.0 / np.asarray(sigma, np.float64) ** 2
    return _profile_minimum(lambda g: _profile_offset(g, x, y, w, offset_min), EXPONENT_BOUNDS)[0]


def fit_profile(x, y, sigma, confidence, method, bounds, offset_min):
    n = x.size
    notes: list[str] = []
    if method == "offset":
        w = np.ones(n) if sigma is None else 1.0 / sigma**2
        prof = lambda g: _profile_offset(g, x, y, w, offset_min)
        target, n_obs, n_par = y, n, 3
    else:
        d = y[:-1] - y[1:]
        w = np.ones(n - 1) if sigma is None else 1.0 / (sigma[:-1] ** 2 + sigma[1:] ** 2)
        prof = lambda g: _profile_diff(g, x, d, w)
        target, n_obs, n_par = d, n - 1, 2
    g_hat, k, grid = _profile_minimum(prof, bounds)
    rss_hat, A, c = (float(v[0]) for v in prof(np.array([g_hat])))
    undetermined = ""
    if k in (0, grid.size - 1):
        notes.append(f"exponent at the search bound {bounds}; the curve is not a power law here")
        side = "lower" if k == 0 else "upper"
        undetermined = f"it sits at the {side} bound of the search range {bounds[0]:g}..{bounds[1]:g}"
    dof = n_obs - n_par
    if sigma is None:
        if dof < 1:
            raise ValueError(
                f"the {method} fit needs at least {n_par + 1 + (method == 'differences')} points "
                f"for an interval; got {n}."
            )
        threshold = rss_hat * (1 + stats.f.ppf(confidence, 1, dof) / dof)
        how = "profile likelihood (F test, noise level from residuals)"
    else:
        # errors that understate the scatter (chi²/dof > 1) are scaled up by the Birge ratio
        birge2 = max(1.0, rss_hat / dof) if dof >= 1 else 1.0
        threshold = rss_hat + birge2 * stats.chi2.ppf(confidence, 1)
        how = "profile likelihood (chi-squared, known sigma" + (", scaled by chi²/dof)" if birge2 > 1 else ")")
    if method == "differences":
        lo, hi, how, se_d = _sandwich_interval(x, d, w, sigma, g_hat, A, confidence)
    else:
        lo, hi = _profile_interval(prof, g_hat, rss_hat, threshold, bounds, grid)
    if not math.isfinite(hi) or lo <= bounds[0]:
        notes.append("profile interval unbounded within the search range: exponent poorly determined")
        undetermined = undetermined or (
            f"its {confidence:.0%} profile interval is unbounded within the search range {bounds[0]:g}..{bounds[1]:g}"
        )
    z = stats.norm.ppf(0.5 + confidence / 2)
    se = (hi - lo) / (2 * z) if math.isfinite(hi) else math.inf
    if method == "differences":
        se = se_d
    if method == "offset" and c <= offset_min + 1e-12 * max(1.0, abs(y).max()):
        notes.append(f"offset at its lower bound {offset_min:g} (H_inf >= {offset_min:g} enforced)")
    resid_rms = math.sqrt(rss_hat / w.sum()) if sigma is None else math.sqrt(rss_hat / n_obs)
    sst = float(np.sum(w * (target - np.average(target, weights=w)) ** 2))
    return {
        "exponent": g_hat,
        "exponent_interval": (float(lo), float(hi)),
        "prefactor": A,
        "goodness_of_fit": float(1 - rss_hat / sst) if sst > 0 else math.nan,
        "offset": c if method == "offset" else None,
        "stderr": float(se),
        "interval_method": how,
        "residual_rms": resid_rms,
        "notes": tuple(notes),
        "undetermined": undetermined,
    }
