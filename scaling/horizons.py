"""Prediction horizon t*(P) and predicted loss L(P) = H_{t*(P)}."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from scaling._checks import as_float_array, json_safe

#: Operator-norm floor constant c in ‖C‖_floor ≈ c/√P measured on TinyStories (V = 8192: 0.30–0.38).
DEFAULT_FLOOR_CONSTANT = 0.34


@dataclass(frozen=True, repr=False)
class Horizon:
    """Result of :func:`horizon`.

    Attributes
    ----------
    tokens : numpy.ndarray
        Training-set sizes P.
    t_star : numpy.ndarray
        Horizon t*(P): the lag where ‖C(t)‖ falls to `floor_constant`/√P.
    threshold : numpy.ndarray
        The noise level c/√P at each P.
    extrapolated : numpy.ndarray of bool
        True where t* comes from the fitted power law beyond the trusted measured lags.
    floor_constant : float
    notes : tuple of str
    """

    tokens: np.ndarray
    t_star: np.ndarray
    threshold: np.ndarray
    extrapolated: np.ndarray
    floor_constant: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __repr__(self) -> str:
        rows = ", ".join(
            f"P={p:.3g}: t*={t:.3g}{'*' if e else ''}" for p, t, e in zip(self.tokens, self.t_star, self.extrapolated)
        )
        return f"Horizon(c={self.floor_constant:.3g}; {rows}; * = extrapolated)"

    def to_dict(self) -> dict:
        """JSON-safe dict."""
        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})


def horizon(
    tokens: Any,
    *,
    beta: float,
    prefactor: float,
    floor_constant: float = DEFAULT_FLOOR_CONSTANT,
    lags: Any = None,
    norms: Any = None,
) -> Horizon:
    """Horizon t*(P) where the correlation strength meets the sampling noise of P tokens.

    Parameters
    ----------
    tokens : array_like
        Training-set sizes P (> 0).
    beta, prefactor : float
        Fitted law ‖C(t)‖ = prefactor · t^(−β).
    floor_constant : float, default 0.34
        c in the noise level c/√P (operator norm; 0.30–0.38 measured on TinyStories, V = 8192).
    lags, norms : array_like, optional
        Trusted measured curve (e.g. debiased ‖C‖ at lags with signal/noise ≥ threshold). Where
        c/√P falls inside it, t* is interpolated in log-log from it; otherwise the fitted law is used
        and the point is flagged as extrapolated.

    Returns
    -------
    Horizon

    Notes
    -----
    ‖C(t*)‖ = c/√P gives t*(P) = (A√P / c)^(1/β) ∝ P^(1/(2β)) (Cagnetta et al. 2026).

    Examples
    --------
    >>> h = horizon([1e8], beta=0.88, prefactor=0.02)
    >>> round(float(h.t_star[0]))
    1404
    """
    P = as_float_array(tokens, "tokens")
    if P.size == 0 or not np.all(np.isfinite(P) & (P > 0)):
        raise ValueError(f"tokens must be a non-empty list of positive numbers; got {P.tolist()}.")
    if not (math.isfinite(beta) and beta > 0 and math.isfinite(prefactor) and prefactor > 0):
        raise ValueError(f"beta and prefactor must be finite and positive; got beta={beta!r}, prefactor={prefactor!r}.")
    if not (math.isfinite(floor_constant) and floor_constant > 0):
        raise ValueError(f"floor_constant must be finite and positive; got {floor_constant!r}.")
    thr = floor_constant / np.sqrt(P)
    t_law = (prefactor / thr) ** (1.0 / beta)
    t_star, extra = t_law.copy(), np.ones(P.size, dtype=bool)
    notes: list[str] = []
    if lags is not None and norms is not None:
        la, na = as_float_array(lags, "lags"), as_float_array(norms, "norms")
        if la.shape != na.shape:
            raise ValueError(f"lags and norms must have the same length; got {la.size} and {na.size}.")
        ok = np.isfinite(la) & np.isfinite(na) & (la > 0) & (na > 0)
        la, na = la[ok], na[ok]
        order = np.argsort(la)
        la, na = la[order], na[order]
        for i, th in enumerate(thr):
            below = np.flatnonzero(na < th)
            if la.size < 2 or below.size == 0 or below[0] == 0:
                continue  # threshold outside the measured curve: keep the fitted law
            k = below[0]
            f = (np.log(na[k - 1]) - np.log(th)) / (np.log(na[k - 1]) - np.log(na[k]))
            t_star[i] = float(np.exp(np.log(la[k - 1]) + f * (np.log(la[k]) - np.log(la[k - 1]))))
            extra[i] = False
        notes.append("t* interpolated from the measured curve where c/sqrt(P) lies within it")
    if extra.any():
        notes.append(f"{int(extra.sum())} of {P.size} horizons from the fitted power law (extrapolated)")
    return Horizon(P, t_star, thr, extra, float(floor_constant), tuple(notes))
