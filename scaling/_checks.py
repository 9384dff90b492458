"""Input validation shared by the scaling modules (private)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def as_float_array(values: Any, name: str) -> np.ndarray:
    """1-D float64 copy of `values`; ``None`` entries (JSON nulls) become NaN."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{name} must be a 1-D sequence of numbers; got a {type(values).__name__}.")
    if isinstance(values, (list, tuple)):
        values = [np.nan if v is None else v for v in values]
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name} must be a 1-D sequence of numbers; got {type(values).__name__} with non-numeric entries."
        ) from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got an array of shape {arr.shape}.")
    return arr


def check_curve(
    x: Any,
    y: Any,
    *,
    x_name: str = "x",
    y_name: str = "y",
    positive_y: bool = True,
    min_points: int = 3,
    sigma: Any = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate a curve for a power-law fit and return float64 arrays (x, y, sigma)."""
    xa = as_float_array(x, x_name)
    ya = as_float_array(y, y_name)
    if xa.shape != ya.shape:
        raise ValueError(f"{x_name} and {y_name} must have the same length; got {xa.size} and {ya.size}.")
    sa = None
    if sigma is not None:
        sa = as_float_array(sigma, "sigma")
        if sa.shape != xa.shape:
            raise ValueError(f"sigma must have the same length as {x_name}; got {sa.size} and {xa.size}.")
        if not np.all(np.isfinite(sa) & (sa > 0)):
            raise ValueError(f"sigma must be finite and positive; got {sa[~(np.isfinite(sa) & (sa > 0))][:3]}.")
    bad = ~np.isfinite(xa) | ~np.isfinite(ya)
    if bad.any():
        raise ValueError(
            f"{x_name} and {y_name} must be finite (no NaN or inf); got {int(bad.sum())} non-finite "
            f"point(s), first at index {int(np.flatnonzero(bad)[0])}. Select the usable points first "
            "(e.g. with the validity mask or the window argument)."
        )
    if np.any(xa <= 0):
        raise ValueError(f"{x_name} must be positive for a log-log fit; got {xa[xa <= 0][:3].tolist()}.")
    if positive_y and np.any(ya <= 0):
        raise ValueError(
            f"{y_name} must be positive for a log-log fit; got {ya[ya <= 0][:3].tolist()} "
            f"at {x_name} = {xa[ya <= 0][:3].tolist()}."
        )
    if xa.size < min_points:
        raise ValueError(f"a power-law fit needs at least {min_points} usable points; got {xa.size}.")
    if min_points >= 2 and np.unique(xa).size < 2:
        raise ValueError(f"{x_name} must take at least 2 distinct values; got {np.unique(xa)}.")
    return xa, ya, sa


def check_confidence(confidence: float) -> float:
    """Confidence level in (0, 1)."""
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise ValueError(f"confidence must be a number in (0, 1); got {confidence!r}.")
    return float(confidence)


def json_safe(value: Any) -> Any:
    """Convert numpy types, tuples and NaN/inf to JSON-safe Python values (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.ndarray):
        return [json_safe(v) for v in value.tolist()]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def get_field(obj: Any, name: str, default: Any = None) -> Any:
    """Field `name` of a dataclass-like object or a dict."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)
