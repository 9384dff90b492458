"""Memory limits: parsing ``"8GB"``-style sizes and the default limit (a fraction of the machine's RAM)."""

from __future__ import annotations

import os
import re

import numpy as np

DEFAULT_RAM_FRACTION = 0.5  # default memory_limit: this fraction of the machine's physical RAM

_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_UNITS.update({"ki": 2**10, "mi": 2**20, "gi": 2**30, "ti": 2**40})


def physical_memory() -> int:
    """Bytes of physical RAM of this machine."""
    return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def default_memory_limit() -> int:
    """``DEFAULT_RAM_FRACTION`` of the physical RAM, in bytes."""
    return int(DEFAULT_RAM_FRACTION * physical_memory())


def parse_memory(value: str | int | float | None) -> int:
    """Bytes from ``"8GB"``, ``"512MiB"``, ``"3e9"`` or a number of bytes; None gives the default.

    Decimal units (kB, MB, GB, TB) are powers of 1000, binary ones (KiB, MiB, GiB, TiB) powers of 1024.

    Examples
    --------
    >>> parse_memory("8GB"), parse_memory("1.5GiB"), parse_memory(1000)
    (8000000000, 1610612736, 1000)
    """
    if value is None:
        return default_memory_limit()
    if isinstance(value, bool):
        raise TypeError(f"memory_limit must be a size like '8GB' or a number of bytes; got {value!r}.")
    if isinstance(value, (int, float, np.integer, np.floating)):
        number, unit = float(value), ""
    elif isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]i?)?b?\s*", value.lower())
        if not match:
            raise ValueError(f"memory_limit must look like '8GB', '512MiB' or a number of bytes; got {value!r}.")
        number, unit = float(match.group(1)), match.group(2) or ""
    else:
        raise TypeError(f"memory_limit must be a size like '8GB' or a number of bytes; got {type(value).__name__}.")
    size = int(number * _UNITS[unit])
    if size <= 0:
        raise ValueError(f"memory_limit must be positive; got {value!r}.")
    return size


def format_bytes(n: float) -> str:
    """'1.2 GB', '340 MB': decimal units, three significant digits."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"
