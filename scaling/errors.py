"""What an exponent's total error is made of: :class:`ErrorBudget` and the window-choice part.

The parts are measured separately and add in quadrature (docs: "What the total error is made of"):
the sampling error (leave-one-shard-out jackknife), for γ on the corrected H_n the per-n systematic
errors propagated as one correlated shift of the curve, and the spread over acceptable windows beyond
what noise and that shift explain (:func:`window_spread`). :mod:`scaling.beta` and :mod:`scaling.gamma`
measure them with the helpers here that both use (leave-one-shard-out replicates and their exponents,
the sampling and window-choice parts).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from scaling._checks import get_field, json_safe
from scaling.uncertainty import jackknife_stderr
from scaling.windows import WindowSelection


@dataclass(frozen=True)
class ErrorBudget:
    """The parts of an exponent's total standard error, each measured on its own (1 s.e. each).

    ``total = sqrt((scale · statistical)² + (scale · curve_systematic)² + window²)``.

    Attributes
    ----------
    statistical : float
        Sampling error: the leave-one-shard-out jackknife of the window's exponent (β: or the fit's
        scatter about the law when larger); without replicates, the fit's own standard error.
    curve_systematic : float
        γ on the corrected H_n: how far γ moves when the curve is shifted by its per-n ``systematic``
        errors (the projected residual bias, one-signed and smooth in n, so one correlated shift,
        not independent noise per n). 0 where the curve has no systematic errors.
    window : float
        Half the range of the acceptable windows' exponents beyond the noise of their differences
        (:func:`window_spread`); 0 for a fallback window.
    scale : float
        Birge ratio sqrt(chi²/dof) >= 1 of the weighted γ fit when its points scatter more than
        their errors allow (1 otherwise, and for β and fits without replicates, whose standard error
        already holds the scatter).
    total : float
        The "±" of the exponent everywhere (summary, report, figures, α_D's interval).
    statistical_method : str
        Where ``statistical`` comes from.
    """

    statistical: float
    curve_systematic: float
    window: float
    scale: float
    total: float
    statistical_method: str

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})

    def describe(self) -> str:
        """One line: the parts and how they add up."""
        scale = f" x {self.scale:.2g} (scatter)" if self.scale > 1 else ""
        bias = f" (+) projected bias {self.curve_systematic:.3g}" if self.curve_systematic > 0 else ""
        return (
            f"{self.total:.3g} = [{self.statistical_method} {self.statistical:.3g}{bias}]{scale}"
            f" (+) window spread {self.window:.3g}"
        )


def window_spread(exponents: Any, determined: Any, noise: Any, shifts: Any = None) -> float:
    """Half the range of the acceptable windows' exponents beyond what noise and the curve systematic explain.

    Windows share points, so part of the difference between two windows' exponents is sampling
    noise that the statistical error already holds; with a one-signed curve systematic (γ on the
    corrected H_n, biased low by at most ``systematic``), part of it is the bias, which moves each
    window's exponent by a different amount. Only the rest is a window-choice systematic. Each
    difference ``d_w = e_w - e_0`` from the chosen window (index 0) is first moved towards 0 by up to
    its share of the systematic, ``Δ_w = shift_w - shift_0`` (the true difference lies between
    ``d_w`` and ``d_w + Δ_w``: the nearest point of that range to 0 is kept), then shrunk by its noise
    ``sign(d) sqrt(max(d² - noise_w², 0))``; the result is half the range of the shrunk differences
    (0 included). Windows whose fit does not determine the exponent (``determined`` false) take no part.

    Parameters
    ----------
    exponents : array_like
        The acceptable windows' exponents, the chosen window first.
    determined : array_like of bool
    noise : array_like
        Standard error of each difference ``e_w - e_0`` (sampling noise).
    shifts : array_like, optional
        Each window's exponent change when the curve is shifted by its systematic errors.

    Examples
    --------
    >>> round(window_spread([1.0, 1.1, 0.8], [True, True, True], [0.0, 0.0, 0.0]), 3)
    0.15
    >>> window_spread([1.0, 1.1, 0.8], [True, True, True], [0.0, 0.2, 0.3])
    0.0
    >>> round(window_spread([1.0, 0.4], [True, True], [0.0, 0.0], shifts=[0.1, 0.3]), 3)
    0.2
    """
    e = np.asarray(exponents, np.float64)
    d = e - e[0]
    if shifts is not None:
        sh = np.asarray(shifts, np.float64)
        far = d + (sh - sh[0])
        # the point of [d, d + Δ] nearest 0 (0 itself when the range straddles it)
        d = np.where(d * far <= 0, 0.0, np.where(np.abs(far) < np.abs(d), far, d))
    nz = np.nan_to_num(np.asarray(noise, np.float64), nan=0.0)
    keep = np.asarray(determined, bool) & np.isfinite(d)
    shrunk = np.sign(d[keep]) * np.sqrt(np.maximum(d[keep] ** 2 - nz[keep] ** 2, 0.0))
    return 0.5 * float(max(shrunk.max(initial=0.0), 0.0) - min(shrunk.min(initial=0.0), 0.0))


def jackknife_replicates(obj: Any, name: str, length: int) -> np.ndarray | None:
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


def ols_slopes(lx: np.ndarray, ly: np.ndarray) -> np.ndarray:
    """Decay exponents (−slope) of OLS of each row of ly on lx."""
    xc = lx - lx.mean()
    return -((ly - ly.mean(axis=-1, keepdims=True)) @ xc) / np.sum(xc**2)


def statistical_error(jk: float, fit_se: float, larger: bool) -> tuple[float, str]:
    """(sampling error, its source): the jackknife where replicates exist (the larger of it and the
    fit's own error when ``larger``), else the fit's own standard error."""
    if not math.isfinite(jk) or math.isinf(fit_se):
        return fit_se, "fit"
    if larger and math.isfinite(fit_se) and fit_se > jk:
        return fit_se, "fit scatter"
    return jk, "jackknife"


def window_part(sel: WindowSelection, wreps: list, shifts: np.ndarray | None) -> float:
    """The window-choice error of :func:`window_spread`, with the noise of each window's difference
    from the chosen one measured by the jackknife of the replicates' differences (else, for nested
    fits, Var(e_w - e_0) = Var(e_w) - Var(e_0)) and the windows' curve shifts."""
    e = np.asarray(sel.candidate_exponents, np.float64)
    if sel.fallback or e.size < 2:
        return 0.0
    ses = np.asarray(sel.candidate_stderrs, np.float64)
    det = np.asarray(sel.candidate_determined, bool)
    det = det if det.size == e.size else np.ones(e.size, dtype=bool)
    noise = np.zeros(e.size)
    for w in range(1, e.size):
        if wreps[0] is not None and wreps[w] is not None:
            var = jackknife_stderr(wreps[w] - wreps[0]) ** 2
        else:
            var = abs(ses[w] ** 2 - ses[0] ** 2) if ses.size == e.size else 0.0
        noise[w] = math.sqrt(var)
    return window_spread(e, det, noise, shifts)
