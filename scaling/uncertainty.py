"""α_D = γ / (2β) with an interval: joint jackknife over document shards, or the paper's formula."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from scaling._checks import as_float_array, check_confidence, json_safe


@dataclass(frozen=True, repr=False)
class AlphaEstimate:
    """Predicted data-scaling exponent α_D = γ / (2β) with its uncertainty.

    Attributes
    ----------
    value : float
        γ / (2β).
    stderr : float
        Total standard error of α_D, the "±" everywhere (1 s.e.): the joint jackknife when available,
        plus the part of β's and γ's total errors that the jackknife does not hold (fit scatter,
        window spread), else the paper formula on the total errors.
    interval : tuple of float
        value ± z·stderr at level `confidence` (90% by default).
    paper_stderr : float
        Δα = √((Δγ/2β)² + (γΔβ/2β²)²), the paper's formula (independent errors), for comparison.
    method : str
        ``"joint jackknife"`` or ``"independent (paper formula)"``.
    beta, gamma, beta_stderr, gamma_stderr : float
        The exponents and their total standard errors.
    jackknife_stderr : float
        The joint jackknife's share of ``stderr`` (NaN without replicates).
    covariance : float
        Cov(β, γ) from the joint jackknife (0 when independent errors are assumed).
    n_replicates : int
        Number of leave-one-shard-out replicates used (0 if none).
    confidence : float
    notes : tuple of str
    """

    value: float
    stderr: float
    interval: tuple[float, float]
    paper_stderr: float
    method: str
    beta: float
    gamma: float
    beta_stderr: float
    gamma_stderr: float
    covariance: float = 0.0
    n_replicates: int = 0
    jackknife_stderr: float = math.nan
    confidence: float = 0.9
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        return (
            f"AlphaEstimate(alpha_D={self.value:.4f} ± {self.stderr:.4f} "
            f"[{self.interval[0]:.4f}, {self.interval[1]:.4f}] @{self.confidence:.0%} ({self.method}); "
            f"paper formula ± {self.paper_stderr:.4f}; beta={self.beta:.4f}, gamma={self.gamma:.4f})"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def format_estimate(
    value: float, stderr: float = math.nan, interval: Any = None, confidence: float = 0.9, digits: int = 3
) -> str:
    """The one spelling of an estimate with its errors (summaries, report text, figure titles).

    ``'0.88 ± 0.06 [90%: 0.78..0.98]'``: "±" is 1 standard error of the **total** error (sampling,
    curve systematic, window spread), the bracket the interval at ``confidence`` (value ± z·stderr).
    A missing (NaN/None) stderr or interval is left out; 'n/a' when the value is missing.

    Examples
    --------
    >>> format_estimate(0.88, 0.06, (0.78, 0.98))
    '0.88 ± 0.06 [90%: 0.78..0.98]'
    """
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:.{digits}g}"
    if stderr is not None and not math.isnan(stderr):
        text += f" ± {stderr:.2g}"
    if interval is not None and None not in interval and not any(math.isnan(v) for v in interval):
        text += f" [{confidence:.0%}: {interval[0]:.{digits}g}..{interval[1]:.{digits}g}]"
    return text


def paper_alpha_error(beta: float, gamma: float, beta_stderr: float, gamma_stderr: float) -> float:
    """The paper's Δα = √((Δγ/2β)² + (γΔβ/2β²)²) (independent, first-order errors)."""
    return math.sqrt((gamma_stderr / (2 * beta)) ** 2 + (gamma * beta_stderr / (2 * beta**2)) ** 2)


def jackknife_stderr(replicates: Any) -> Any:
    """Grouped leave-one-out jackknife standard error √((G−1)/G · Σ_g (θ_g − θ̄)²), NaN when G < 2.

    ``replicates`` holds the G leave-one-shard-out values along its first axis: a 1-D sequence gives
    a float, a (G, L) array the L standard errors (one per column, e.g. per lag or per n).
    """
    r = as_float_array(replicates, "replicates") if np.ndim(replicates) <= 1 else np.asarray(replicates, np.float64)
    g = r.shape[0]
    if g < 2:
        se = np.full(r.shape[1:], np.nan)
    else:
        se = np.sqrt((g - 1) / g * np.sum((r - r.mean(axis=0)) ** 2, axis=0))
    return float(se) if r.ndim == 1 else se


def alpha_D(
    beta: float,
    gamma: float,
    *,
    beta_stderr: float = math.nan,
    gamma_stderr: float = math.nan,
    beta_replicates: Any = None,
    gamma_replicates: Any = None,
    confidence: float = 0.9,
) -> AlphaEstimate:
    """Predicted data-scaling exponent α_D = γ / (2β) with an interval.

    Parameters
    ----------
    beta, gamma : float
        Decay exponents of ‖C(t)‖ and of H_n − H_∞ (both positive).
    beta_stderr, gamma_stderr : float, optional
        Their total standard errors (sampling, fit and window choice together).
    beta_replicates, gamma_replicates : array_like, optional
        Leave-one-shard-out replicates of β and γ computed on the **same** G document shards
        (replicate g of both leaves out shard g). When both are given with equal length, α_D's error
        is the jackknife over α_g = γ_g / (2β_g), which keeps the covariance of β and γ, plus (in
        quadrature, as independent) the part of each total error beyond its own jackknife error.
    confidence : float, default 0.9

    Returns
    -------
    AlphaEstimate

    Raises
    ------
    ValueError
        β ≤ 0 or non-finite, γ non-finite; β or γ consistent with 0 (its interval at `confidence`,
        exponent ± z·stderr, reaches 0): α_D is then not determined and is refused.

    Notes
    -----
    Cagnetta et al. (2026): L(P) − L_∞ ∝ P^(−α_D), α_D = γ/(2β);
    Δα = √((Δγ/2β)² + (γΔβ/2β²)²) when errors are independent.

    Examples
    --------
    >>> a = alpha_D(0.88, 0.325, beta_stderr=0.06, gamma_stderr=0.003)
    >>> round(a.value, 3), round(a.paper_stderr, 3)
    (0.185, 0.013)
    """
    confidence = check_confidence(confidence)
    beta, gamma = float(beta), float(gamma)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a finite positive exponent; got {beta!r}.")
    if not math.isfinite(gamma):
        raise ValueError(f"gamma must be finite; got {gamma!r}.")
    z = stats.norm.ppf(0.5 + confidence / 2)
    for name, v, e, what in (
        ("beta", beta, float(beta_stderr), "||C(t)||"),
        ("gamma", gamma, float(gamma_stderr), "H_n"),
    ):
        if v <= 0 or (not math.isnan(e) and v - z * e <= 0):  # e = inf: an unbounded interval
            raise ValueError(
                f"alpha_D refused: {name} = {v:.4g} ± {e:.2g} (1 s.e.) is consistent with 0 at "
                f"{confidence:.0%} ({what} does not decay measurably), so gamma/(2 beta) is not determined. "
                "Measure on more tokens or check the curve."
            )
    value = gamma / (2 * beta)
    notes: list[str] = []
    paper_se = paper_alpha_error(beta, gamma, float(beta_stderr), float(gamma_stderr))
    jk_se = math.nan
    se, cov, g_used = paper_se, 0.0, 0
    method = "independent (paper formula)"
    bse, gse = float(beta_stderr), float(gamma_stderr)
    if beta_replicates is not None and gamma_replicates is not None:
        br = as_float_array(beta_replicates, "beta_replicates")
        gr = as_float_array(gamma_replicates, "gamma_replicates")
        if br.size != gr.size:
            notes.append(
                f"beta and gamma replicates come from different shardings ({br.size} vs {gr.size}); "
                "errors treated as independent"
            )
        else:
            ok = np.isfinite(br) & np.isfinite(gr) & (br > 0)
            if ok.sum() < br.size:
                notes.append(f"{int(br.size - ok.sum())} non-finite replicate(s) ignored")
            if ok.sum() >= 3:
                br, gr = br[ok], gr[ok]
                g_used = int(br.size)
                f = (g_used - 1) / g_used
                jk_se = jackknife_stderr(gr / (2 * br))
                jk_b, jk_g = jackknife_stderr(br), jackknife_stderr(gr)
                cov = float(f * np.sum((br - br.mean()) * (gr - gr.mean())))
                # what the jackknife does not hold (fit scatter, window spread), as independent errors
                # an unbounded (infinite) total error stays infinite; only a missing one adds nothing
                extra_b = 0.0 if math.isnan(bse) else max(bse**2 - jk_b**2, 0.0)
                extra_g = 0.0 if math.isnan(gse) else max(gse**2 - jk_g**2, 0.0)
                se = math.sqrt(jk_se**2 + extra_g / (2 * beta) ** 2 + extra_b * (gamma / (2 * beta**2)) ** 2)
                bse = math.sqrt(jk_b**2 + extra_b)
                gse = math.sqrt(jk_g**2 + extra_g)
                method = "joint jackknife"
            else:
                notes.append("fewer than 3 usable replicates; errors treated as independent")
    elif beta_replicates is not None or gamma_replicates is not None:
        notes.append("replicates given for only one exponent; errors treated as independent")
    if method != "joint jackknife" and not math.isfinite(paper_se):
        notes.append("no standard errors given: alpha_D has no interval")
    return AlphaEstimate(
        value=value,
        stderr=float(se),
        interval=(value - z * se, value + z * se),
        paper_stderr=paper_se,
        method=method,
        beta=beta,
        gamma=gamma,
        beta_stderr=bse,
        gamma_stderr=gse,
        covariance=cov,
        n_replicates=g_used,
        jackknife_stderr=float(jk_se),
        confidence=confidence,
        notes=tuple(notes),
    )
