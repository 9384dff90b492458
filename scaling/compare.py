"""Checks against training runs: a measured learning curve against α_D, and the collapse of L_n(P)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scaling._checks import as_float_array, check_confidence, check_curve, json_safe
from scaling.fits import PowerLawFit, fit_power_law
from scaling.uncertainty import AlphaEstimate


@dataclass(frozen=True, repr=False)
class LearningCurveComparison:
    """Result of :func:`compare_learning_curve`.

    Attributes
    ----------
    predicted : AlphaEstimate
        The α_D prediction compared against.
    measured_paper : PowerLawFit
        Raw log-log slope of the lower envelope of loss against P over the first `first` points
        (the paper's way).
    measured_offset : PowerLawFit or None
        L = L_∞ + A·P^(−α) fit (None when fewer than 4 points).
    z_paper, z_offset : float
        (measured − predicted) / combined standard error.
    agrees : bool
        |z| ≤ `z_threshold` for the paper-way measurement.
    predicted_loss : numpy.ndarray or None
        The prediction's L(P) at the measured P (nats), when a full Prediction was given.
    n_envelope : int
        Points on the lower envelope (one per distinct P).
    notes : tuple of str
    """

    predicted: AlphaEstimate
    measured_paper: PowerLawFit
    measured_offset: PowerLawFit | None
    z_paper: float
    z_offset: float
    agrees: bool
    z_threshold: float
    predicted_loss: np.ndarray | None
    n_envelope: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """Human-readable lines."""
        p, m = self.predicted, self.measured_paper
        lines = [
            f"predicted alpha_D = {p.value:.4f} ± {p.stderr:.4f}",
            (
                f"measured (raw log-log slope, {m.n_points} points) = {m.exponent:.4f} ± {m.stderr:.4f}"
                f"  z = {self.z_paper:+.2f}"
            ),
        ]
        if self.measured_offset is not None:
            o = self.measured_offset
            lines.append(
                f"measured (with offset, L_inf = {o.offset:.3f}) = {o.exponent:.4f} ± {o.stderr:.4f}"
                f"  z = {self.z_offset:+.2f}"
            )
        lines.append(f"agreement (|z| <= {self.z_threshold:g}): {'yes' if self.agrees else 'no'}")
        lines += [f"note: {s}" for s in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"LearningCurveComparison(predicted={self.predicted.value:.4f} ± "
            f"{self.predicted.stderr:.4f}, measured={self.measured_paper.exponent:.4f} ± "
            f"{self.measured_paper.stderr:.4f}, z={self.z_paper:+.2f}, agrees={self.agrees})"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def _lower_envelope(P: np.ndarray, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum loss at each distinct P (over model sizes), sorted by P."""
    Pu = np.unique(P)
    return Pu, np.array([loss[P == p].min() for p in Pu])


def compare_learning_curve(
    prediction: Any,
    tokens: Any,
    loss: Any,
    *,
    first: int | None = None,
    confidence: float = 0.9,
    z_threshold: float = 2.0,
) -> LearningCurveComparison:
    """Fit a measured learning curve L(P) and compare its exponent with the predicted α_D.

    Parameters
    ----------
    prediction : Prediction or AlphaEstimate
        The prediction (a :class:`~scaling.prediction.Prediction` or just its α_D).
    tokens, loss : array_like
        Training-set sizes P and the measured test losses (nats). Several rows with the same P
        (different model sizes) are reduced to their lower envelope.
    first : int, optional
        Use only the first `first` envelope points (smallest P), as the paper did; default all.
    confidence : float, default 0.9
    z_threshold : float, default 2.0
        Agreement when |measured − predicted| ≤ z_threshold · combined stderr.

    Returns
    -------
    LearningCurveComparison

    Raises
    ------
    ValueError
        Fewer than 3 envelope points, non-positive P or loss, NaNs, mismatched lengths.

    Examples
    --------
    >>> from scaling import alpha_D
    >>> P = 2.0 ** np.arange(20, 28)
    >>> L = [4.926, 4.477, 4.071, 3.724, 3.354, 3.042, 2.826, 2.636]
    >>> c = compare_learning_curve(alpha_D(0.94, 0.265, beta_stderr=0.16, gamma_stderr=0.016), P, L)
    >>> round(c.measured_paper.exponent, 3), c.agrees
    (0.131, True)
    """
    confidence = check_confidence(confidence)
    alpha = getattr(prediction, "alpha_D", prediction)
    if not isinstance(alpha, AlphaEstimate):
        raise TypeError(
            "prediction must be a scaling Prediction or AlphaEstimate (see scaling.alpha_D); got "
            f"{type(prediction).__name__}."
        )
    P, L, _ = check_curve(tokens, loss, x_name="tokens", y_name="loss", min_points=1)
    Pe, Le = _lower_envelope(P, L)
    notes: list[str] = []
    if Pe.size < P.size:
        notes.append(f"{P.size} rows reduced to a lower envelope of {Pe.size} distinct P")
    if first is not None:
        if not (isinstance(first, (int, np.integer)) and first >= 3):
            raise ValueError(f"first must be an integer >= 3; got {first!r}.")
        if first < Pe.size:
            notes.append(f"using the first {first} of {Pe.size} envelope points")
        Pe, Le = Pe[:first], Le[:first]
    if Pe.size < 3:
        raise ValueError(f"a learning-curve fit needs at least 3 distinct P; got {Pe.size}.")
    m_paper = fit_power_law(Pe, Le, interval="ols", confidence=confidence)
    m_off = None
    if Pe.size >= 4:
        m_off = fit_power_law(Pe, Le, method="offset", confidence=confidence)
        notes.extend(f"offset fit: {s}" for s in m_off.notes)
    notes.append(
        "the raw slope ignores L_inf and is biased low when the loss is near its floor; "
        "the offset fit needs a curve long enough to see the bend"
    )

    def z(fit: PowerLawFit | None) -> float:
        if fit is None:
            return math.nan
        se = math.hypot(fit.stderr, alpha.stderr)
        return (fit.exponent - alpha.value) / se if se > 0 and math.isfinite(se) else math.nan

    z_p, z_o = z(m_paper), z(m_off)
    predicted_loss = None
    if hasattr(prediction, "horizon") and hasattr(prediction, "loss"):
        order = np.argsort(prediction.tokens)
        lp, ll = np.log(prediction.tokens[order]), prediction.loss[order]
        predicted_loss = np.interp(np.log(Pe), lp, ll, left=np.nan, right=np.nan)
    return LearningCurveComparison(
        alpha,
        m_paper,
        m_off,
        z_p,
        z_o,
        bool(abs(z_p) <= z_threshold),
        float(z_threshold),
        predicted_loss,
        int(Pe.size),
        tuple(notes),
    )


@dataclass(frozen=True, repr=False)
class Collapse:
    """Result of :func:`collapse`: rescaled coordinates and a collapse quality score.

    Attributes
    ----------
    n, x, y : numpy.ndarray
        Context position, P / n^(2β), (L_n − H_∞)·n^γ for every kept row.
    master : numpy.ndarray
        Polynomial coefficients (highest first) of the master curve log y(log x).
    rms_log_residual : float
        RMS of log y about the master curve (0 = perfect collapse).
    quality : float
        1 − var(residual)/var(log y): 1 for a perfect collapse.
    n_dropped : int
        Rows with L_n ≤ H_∞ (cannot be rescaled in log space).
    beta, gamma, H_inf : float
    """

    n: np.ndarray
    x: np.ndarray
    y: np.ndarray
    master: np.ndarray
    rms_log_residual: float
    quality: float
    n_dropped: int
    beta: float
    gamma: float
    H_inf: float

    def __repr__(self) -> str:
        return (
            f"Collapse({self.x.size} points over {np.unique(self.n).size} curves, "
            f"quality={self.quality:.4f}, rms_log_residual={self.rms_log_residual:.4f}, "
            f"dropped={self.n_dropped})"
        )

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def collapse(table: Any, beta: float, gamma: float, H_inf: float, *, degree: int = 3) -> Collapse:
    """Rescale n-gram losses L_n(P) onto one master curve and score the collapse.

    Parameters
    ----------
    table : dict or array_like
        Columns ``n``, ``tokens`` (P) and ``loss`` (a dict of arrays, or an array of shape (k, 3) in
        that order).
    beta, gamma, H_inf : float
        Exponents and asymptotic entropy.
    degree : int, default 3
        Degree of the polynomial master curve in log-log.

    Returns
    -------
    Collapse

    Notes
    -----
    (L_n − H_∞)·n^γ = ℓ(P / n^(2β)) (Cagnetta et al. 2026). The score fits one polynomial in
    log x to all log y and reports the residual spread.
    """
    if isinstance(table, dict):
        missing = [k for k in ("n", "tokens", "loss") if k not in table]
        if missing:
            raise ValueError(f"table must have columns n, tokens, loss; missing {missing}.")
        n, P, L = (as_float_array(table[k], k) for k in ("n", "tokens", "loss"))
    else:
        arr = np.asarray(table, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise ValueError(f"table array must have shape (k, 3) [n, tokens, loss]; got {arr.shape}.")
        n, P, L = arr[:, 0], arr[:, 1], arr[:, 2]
    if not (n.size == P.size == L.size):
        raise ValueError(f"n, tokens and loss must have the same length; got {n.size}, {P.size}, {L.size}.")
    if not np.all(np.isfinite(n) & np.isfinite(P) & np.isfinite(L)):
        raise ValueError("table must be finite (no NaN or inf).")
    if np.any(n <= 0) or np.any(P <= 0):
        raise ValueError(f"n and tokens must be positive; got min n = {n.min()}, min P = {P.min()}.")
    for name, v in (("beta", beta), ("gamma", gamma), ("H_inf", H_inf)):
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite; got {v!r}.")
    keep = L > H_inf
    n, P, L = n[keep], P[keep], L[keep]
    if n.size < degree + 2:
        raise ValueError(f"collapse needs at least {degree + 2} rows with loss > H_inf; got {n.size}.")
    x = P / n ** (2 * beta)
    y = (L - H_inf) * n**gamma
    lx, ly = np.log(x), np.log(y)
    coef = np.polyfit(lx, ly, degree)
    resid = ly - np.polyval(coef, lx)
    var = float(np.var(ly))
    return Collapse(
        n,
        x,
        y,
        coef,
        float(np.sqrt(np.mean(resid**2))),
        float(1 - np.var(resid) / var) if var > 0 else math.nan,
        int((~keep).sum()),
        float(beta),
        float(gamma),
        float(H_inf),
    )


__all__ = ["Collapse", "LearningCurveComparison", "collapse", "compare_learning_curve"]
