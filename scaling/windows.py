"""Fit windows chosen by a stated rule, and detection of broken (two-segment) power laws."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scaling._checks import as_float_array, check_curve, json_safe
from scaling.fits import PowerLawFit, fit_power_law


@dataclass(frozen=True, repr=False)
class BreakFit:
    """Result of :func:`detect_break`: one power law against two joined at a break.

    Attributes
    ----------
    broken : bool
        True when two segments win by the criterion (ΔBIC < −`threshold`).
    break_x : float
        Break location (NaN when no break could be tested).
    delta_bic : float
        BIC(two segments) − BIC(one); negative favours a break.
    single : PowerLawFit
        Paper-mode OLS fit of all points.
    segments : tuple of PowerLawFit
        OLS fits of the points up to and from the break (empty when none could be tested).
    threshold : float
        ΔBIC margin required to call a break.
    notes : tuple of str
    """

    broken: bool
    break_x: float
    delta_bic: float
    single: PowerLawFit
    segments: tuple[PowerLawFit, ...] = ()
    threshold: float = 6.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exponents(self) -> tuple[float, ...]:
        """Exponents of the segments (or of the single law when not broken)."""
        if self.broken:
            return tuple(s.exponent for s in self.segments)
        return (self.single.exponent,)

    def __repr__(self) -> str:
        if self.broken:
            e = ", ".join(f"{v:.3f}" for v in self.exponents)
            return f"BreakFit(broken at x={self.break_x:g}, exponents=({e}), ΔBIC={self.delta_bic:.1f})"
        return f"BreakFit(no break, exponent={self.single.exponent:.3f}, ΔBIC={self.delta_bic:.1f})"

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["exponents"] = self.exponents
        return json_safe(d)


def _hinge_rss(lx, ly, candidates):
    """RSS of continuous two-slope fits in log space, one per candidate break (vectorised)."""
    h = np.maximum(lx[None, :] - candidates[:, None], 0.0)  # (K, n)
    X = np.stack([np.ones_like(h), np.broadcast_to(lx, h.shape), h], axis=2)  # (K, n, 3)
    XtX = np.einsum("kni,knj->kij", X, X)
    Xty = np.einsum("kni,n->ki", X, ly)
    ok = np.abs(np.linalg.det(XtX)) > 1e-12
    beta = np.zeros((candidates.size, 3))
    beta[ok] = np.linalg.solve(XtX[ok], Xty[ok][..., None])[..., 0]
    rss = np.sum((np.einsum("kni,ki->kn", X, beta) - ly[None, :]) ** 2, axis=1)
    rss[~ok] = np.inf
    return rss


def _break_stats(lx, ly, min_points):
    """(delta_bic, break location in log x) for sorted log data; NaN when untestable."""
    n = lx.size
    if n < 2 * min_points - 1 or n < 5:
        return math.nan, math.nan
    # Break at a data point k (shared by both segments) or midway to the next one.
    ks = np.arange(min_points - 1, n - min_points + 1)
    cands = np.concatenate([lx[ks], 0.5 * (lx[ks[:-1]] + lx[ks[:-1] + 1])])
    rss2 = _hinge_rss(lx, ly, cands)
    j = int(np.argmin(rss2))
    mx = lx.mean()
    s = np.sum((lx - mx) * (ly - ly.mean())) / np.sum((lx - mx) ** 2)
    rss1 = float(np.sum((ly - ly.mean() - s * (lx - mx)) ** 2))
    floor = 1e-12 * max(float(np.sum((ly - ly.mean()) ** 2)), 1e-300)
    # Gaussian BIC with unknown variance: parameters (a, s, var) against (a, s1, s2, break, var).
    bic1 = n * math.log(max(rss1, floor) / n) + 3 * math.log(n)
    bic2 = n * math.log(max(float(rss2[j]), floor) / n) + 5 * math.log(n)
    return bic2 - bic1, float(cands[j])


def detect_break(x: Any, y: Any, *, min_points: int = 3, threshold: float = 6.0, confidence: float = 0.9) -> BreakFit:
    """Compare one power law against two joined at a break, by BIC.

    Parameters
    ----------
    x, y : array_like
        Positive curve values (log-log fit).
    min_points : int, default 3
        Minimum points on each side of the break (the break point counts for both).
    threshold : float, default 6.0
        A break is reported when BIC(two) < BIC(one) − threshold ("strong evidence"; with the
        search over break points this keeps false breaks on a clean power law at ≤ 5% for 8+ points
        with Gaussian log noise, ≈ 2% for 15).
    confidence : float, default 0.9
        Level of the segment fits' OLS intervals.

    Returns
    -------
    BreakFit

    Notes
    -----
    The two-segment model is continuous in log-log space (a hinge); the break is searched at every
    data point and midpoint leaving `min_points` on each side. BIC = n ln(RSS/n) + k ln n with k = 3
    (one segment) or 5 (two segments and the break location).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.geomspace(1, 1000, 25)
    >>> y = np.where(t < 30, t ** -1.0, 30 ** -1.0 * (t / 30) ** -0.3)
    >>> fit = detect_break(t, y)
    >>> fit.broken, 25 < fit.break_x < 40
    (True, True)
    """
    if not (isinstance(min_points, (int, np.integer)) and min_points >= 2):
        raise ValueError(f"min_points must be an integer >= 2; got {min_points!r}.")
    xa, ya, _ = check_curve(x, y)
    order = np.argsort(xa, kind="stable")
    xa, ya = xa[order], ya[order]
    single = fit_power_law(xa, ya, interval="ols", confidence=confidence)
    dbic, lb = _break_stats(np.log(xa), np.log(ya), min_points)
    if math.isnan(dbic):
        note = f"too few points ({xa.size}) to test a break with {min_points} per segment"
        return BreakFit(False, math.nan, math.nan, single, (), threshold, (note,))
    bx = float(np.exp(lb))
    tol = 1e-9 * bx
    segs = tuple(
        fit_power_law(xa[m], ya[m], interval="ols", confidence=confidence)
        for m in (xa <= bx + tol, xa >= bx - tol)
        if m.sum() >= 3
    )
    return BreakFit(bool(dbic < -threshold), bx, float(dbic), single, segs, threshold)


@dataclass(frozen=True, repr=False)
class WindowSelection:
    """Result of :func:`select_window`.

    Attributes
    ----------
    fit : PowerLawFit
        Fit over the chosen window.
    window : tuple of float
        Chosen x range.
    rule : str
        The stated selection rule, with its parameters.
    candidate_windows : tuple of (float, float)
        All acceptable windows.
    candidate_exponents : numpy.ndarray
        Exponent of each acceptable window (same fit method); the chosen window first.
    systematic : float
        Half the range of the determined windows' exponents, noise included (the window-choice error
        before the noise of window-to-window differences is taken out; see
        :func:`scaling.errors.window_spread`).
    fallback : bool
        True when no window satisfied the rule and all usable points were fitted instead.
    breaks : BreakFit or None
        Break test over all usable points.
    notes : tuple of str
    candidate_stderrs : numpy.ndarray
        Each acceptable window's own fit standard error (OLS for the non-chosen ``paper`` windows).
    candidate_determined : numpy.ndarray of bool
        False for a window whose fit does not determine the exponent (at a bound of the search range
        or an unbounded profile interval): it takes no part in the spread.
    """

    fit: PowerLawFit
    window: tuple[float, float]
    rule: str
    candidate_windows: tuple[tuple[float, float], ...]
    candidate_exponents: np.ndarray
    systematic: float
    fallback: bool = False
    breaks: BreakFit | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    candidate_stderrs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    candidate_determined: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def __repr__(self) -> str:
        return (
            f"WindowSelection(window={self.window[0]:g}..{self.window[1]:g}, "
            f"exponent={self.fit.exponent:.4f} ± {self.fit.stderr:.4f} (stat) "
            f"± {self.systematic:.4f} (window), {len(self.candidate_windows)} acceptable windows"
            f"{', FALLBACK' if self.fallback else ''})"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def select_window(
    x: Any,
    y: Any,
    *,
    valid: Any = None,
    method: str = "paper",
    min_points: int = 5,
    min_decades: float = 0.6,
    break_threshold: float = 6.0,
    sigma: Any = None,
    confidence: float = 0.9,
    **fit_options: Any,
) -> WindowSelection:
    """Choose the fit window by a stated rule and report the window systematic.

    Rule: among contiguous runs of usable points (``valid`` true, finite, y > 0 for log fits), take
    every window of consecutive points with at least `min_points` points spanning at least
    `min_decades` decades of x in which a single power law is accepted (no break with ΔBIC <
    −`break_threshold`); choose the one with the most points (ties: widest span, then smallest x).
    The spread of the exponent over all acceptable windows is the systematic error.

    Parameters
    ----------
    x, y : array_like
        The curve. Unusable points may be NaN if `valid` excludes them.
    valid : array_like of bool, optional
        Usability mask (signal/noise ≥ threshold for C; the validity mask for H).
    method : str, default "paper"
        Fit method for each window (see :func:`fit_power_law`).
    min_points : int, default 5
    min_decades : float, default 0.6
    break_threshold : float, default 6.0
    sigma : array_like, optional
        Standard errors passed to the fits.
    confidence : float, default 0.9
    **fit_options
        Passed to :func:`fit_power_law` (e.g. ``interval="ols"``).

    Returns
    -------
    WindowSelection

    Raises
    ------
    ValueError
        Fewer than 3 usable points (4 for offset/differences), mismatched lengths.
    """
    xa, ya = as_float_array(x, "x"), as_float_array(y, "y")
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length; got {xa.size} and {ya.size}.")
    ok = np.isfinite(xa) & np.isfinite(ya) & (xa > 0)
    if method == "paper":
        ok &= ya > 0
    if valid is not None:
        va = np.asarray(valid, dtype=bool)
        if va.shape != xa.shape:
            raise ValueError(f"valid must have the same length as x; got {va.size} and {xa.size}.")
        ok &= va
    sa = None if sigma is None else as_float_array(sigma, "sigma")
    if sa is not None:
        if sa.shape != xa.shape:
            raise ValueError(f"sigma must have the same length as x; got {sa.size} and {xa.size}.")
        ok &= np.isfinite(sa) & (sa > 0)
    order = np.argsort(xa, kind="stable")
    xa, ya, ok = xa[order], ya[order], ok[order]
    sa = None if sa is None else sa[order]
    need = 3 if method == "paper" else 4
    if ok.sum() < need:
        raise ValueError(
            f"window selection needs at least {need} usable points (valid, finite, positive); "
            f"got {int(ok.sum())} of {xa.size}."
        )
    rule = (
        f"longest run of consecutive usable points with >= {min_points} points and >= "
        f"{min_decades:g} decades where one power law is accepted (BIC margin {break_threshold:g}); "
        "ties: widest, then earliest"
    )
    # Contiguous runs of usable points.
    idx = np.flatnonzero(ok)
    runs = np.split(idx, np.flatnonzero(np.diff(idx) > 1) + 1)
    cands = []
    for run in runs:
        lx_run, ly_run = np.log(xa[run]), np.log(np.abs(ya[run]) + (ya[run] == 0))
        m = run.size
        for i in range(m):
            for j in range(i + max(min_points, need) - 1, m):
                if np.log10(xa[run[j]] / xa[run[i]]) < min_decades:
                    continue
                if method == "paper":
                    dbic, _ = _break_stats(lx_run[i : j + 1], ly_run[i : j + 1], 3)
                    if not math.isnan(dbic) and dbic < -break_threshold:
                        continue
                cands.append((j - i + 1, np.log10(xa[run[j]] / xa[run[i]]), -xa[run[i]], run[i : j + 1]))
    notes: list[str] = []
    fit_kw = dict(method=method, confidence=confidence, **fit_options)
    usable = np.flatnonzero(ok)
    breaks = (
        detect_break(xa[usable], ya[usable], threshold=break_threshold)
        if method == "paper" and usable.size >= 5
        else None
    )
    if not cands:
        fit = fit_power_law(xa[usable], ya[usable], sigma=None if sa is None else sa[usable], **fit_kw)
        notes.append(
            f"no window satisfies the rule ({usable.size} usable points spanning "
            f"{np.log10(xa[usable][-1] / xa[usable][0]):.2f} decades); fitted all usable points"
        )
        return WindowSelection(
            fit,
            fit.window,
            rule,
            (),
            np.array([fit.exponent]),
            math.nan,
            True,
            breaks,
            tuple(notes),
            np.array([fit.stderr]),
            np.array([not fit.undetermined]),
        )
    cands.sort(key=lambda c: (c[0], c[1], c[2]), reverse=True)
    exps, wins, ses, det = [], [], [], []
    best = None
    for c in cands:
        sel = c[3]
        kw = fit_kw if best is None or method != "paper" else {**fit_kw, "interval": "ols"}
        f = fit_power_law(xa[sel], ya[sel], sigma=None if sa is None else sa[sel], **kw)
        best = best or f  # only the exponent and error of the other windows are needed
        exps.append(f.exponent)
        wins.append(f.window)
        ses.append(f.stderr)
        det.append(not f.undetermined)
    exps_a, det_a = np.array(exps), np.array(det)
    if (~det_a[1:]).any():
        notes.append(
            f"{int((~det_a[1:]).sum())} acceptable window(s) whose fit does not determine the exponent "
            "take no part in the window spread"
        )
    e = exps_a[det_a] if det_a.any() else exps_a[:1]
    systematic = 0.5 * float(e.max() - e.min())
    return WindowSelection(
        best, best.window, rule, tuple(wins), exps_a, systematic, False, breaks, tuple(notes), np.array(ses), det_a
    )
