"""Argument rules shared by every stage, so one kind of mistake always reads the same."""

from __future__ import annotations

import numpy as np


def check_int(name: str, value: object, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int, checked: an integer (not a bool) in ``minimum..maximum``.

    Raises TypeError naming ``name`` and the type for a non-integer, ValueError naming the range for an
    integer outside it.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__} {value!r}.")
    value = int(value)
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"at least {minimum:,}" if maximum is None else f"in {minimum:,}..{maximum:,}"
        raise ValueError(f"{name} must be an integer {bound}; got {value}.")
    return value
