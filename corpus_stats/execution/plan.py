"""Partition plans: consecutive token-id ranges whose working sets fit a memory limit.

A statistic that can be split by the first (left) token of what it counts describes one partition's
cost as ``fixed_bytes + bytes_per_item * items``, where ``items`` are the stream positions whose
token falls in the range. :func:`plan_token_ranges` cuts the vocabulary greedily into the fewest
consecutive ranges that fit, and refuses, before any counting, a limit below what the largest single
token needs (the smallest possible partition).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_stats.execution.memory import format_bytes

TOKEN_COUNT_CHUNK = 1 << 24  # tokens per bincount chunk (bounded temporary: 8 bytes per token of a chunk)
# what a measuring process holds besides the statistics' working sets: the interpreter, numpy, scipy,
# numba and the compiled kernels (~0.25 GB measured after a small measure()) and the chunked
# temporaries of the sequential scans (8 bytes per token of a TOKEN_COUNT_CHUNK); every plan's fixed part
PROCESS_BYTES = 300 * 10**6 + 8 * TOKEN_COUNT_CHUNK


class MemoryLimitError(ValueError):
    """The memory limit is below what the smallest partition of a statistic needs."""


@dataclass(frozen=True)
class RangePlan:
    """Consecutive token-id ranges, each counted in one task.

    Attributes
    ----------
    bounds : numpy.ndarray
        int64, length K + 1, from 0 to the vocabulary size: range k is ids ``bounds[k] .. bounds[k+1]-1``.
    items : numpy.ndarray
        int64, items (positions) per range.
    peak_bytes : int
        Estimated working set of the largest range (fixed part included).
    min_bytes : int
        The smallest limit any plan could meet: the fixed part plus the largest single token's items.
    memory_limit : int
        The limit planned for.
    what : str
        Which statistic the plan is for.
    """

    bounds: np.ndarray
    items: np.ndarray
    peak_bytes: int
    min_bytes: int
    memory_limit: int
    what: str

    @property
    def n_partitions(self) -> int:
        return int(self.bounds.size - 1)

    def ranges(self) -> list[tuple[int, int]]:
        """``(lo, hi)`` per partition, in the fixed merge order."""
        return [(int(a), int(b)) for a, b in zip(self.bounds[:-1], self.bounds[1:])]

    def describe(self) -> dict:
        """JSON-safe summary (for a measurement's options)."""
        return {
            "what": self.what,
            "n_partitions": self.n_partitions,
            "peak_bytes": int(self.peak_bytes),
            "min_bytes": int(self.min_bytes),
            "memory_limit": int(self.memory_limit),
        }


def token_counts(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """Occurrences of every id (int64), in chunks so a memory-mapped stream is read once, sequentially."""
    counts = np.zeros(vocab_size, np.int64)
    for start in range(0, tokens.size, TOKEN_COUNT_CHUNK):
        counts += np.bincount(tokens[start : start + TOKEN_COUNT_CHUNK], minlength=vocab_size)
    return counts


def plan_token_ranges(
    items: np.ndarray,
    *,
    bytes_per_item: float,
    fixed_bytes: int,
    memory_limit: int,
    what: str,
    min_partitions: int = 1,
    unit: str = "positions",
) -> RangePlan:
    """Fewest consecutive id ranges whose working set ``fixed_bytes + bytes_per_item * items`` fits.

    Parameters
    ----------
    items : numpy.ndarray
        Items per token id (e.g. positions tracked when that id comes first).
    bytes_per_item : float
        Working-set bytes per item of a partition.
    fixed_bytes : int
        Bytes every partition needs whatever its size (memory-mapped stream pages, per-id tables).
    memory_limit : int
        Bytes available.
    what : str
        Name of the statistic, for the error message.
    min_partitions : int, default 1
        Split further, balancing items, until there are at least this many ranges (e.g. one per
        worker); results never depend on the split.
    unit : str, default "positions"
        What an item is, for the error message; ``"bytes"`` when ``items`` are each token's bytes
        (``bytes_per_item`` 1).

    Raises
    ------
    MemoryLimitError
        When ``memory_limit`` is below ``fixed_bytes + bytes_per_item * max(items)``.
    """
    items = np.asarray(items, dtype=np.int64)
    largest = int(items.max(initial=0))
    min_bytes = int(fixed_bytes + bytes_per_item * largest)
    if memory_limit < min_bytes:
        need = (
            f"{format_bytes(largest)} for the most frequent token"
            if unit == "bytes"
            else f"{largest:,} {unit} of the most frequent token x {bytes_per_item:g} bytes"
        )
        raise MemoryLimitError(
            f"memory_limit {format_bytes(memory_limit)} is below the {format_bytes(min_bytes)} that the "
            f"smallest partition of the {what} needs ({need} + {format_bytes(fixed_bytes)} fixed); raise the "
            f"memory limit to at least {format_bytes(min_bytes)}."
        )
    budget = max(int((memory_limit - fixed_bytes) // bytes_per_item), largest, 1)
    total = int(items.sum())
    budget = min(budget, max(-(-total // max(min_partitions, 1)), largest, 1))
    bounds = [0]
    run = 0
    for v, c in enumerate(items.tolist()):
        if run and run + c > budget:
            bounds.append(v)
            run = 0
        run += c
    bounds.append(items.size)
    bounds = np.asarray(bounds, dtype=np.int64)
    per_range = np.add.reduceat(items, bounds[:-1]) if items.size else np.zeros(1, np.int64)
    peak = int(fixed_bytes + bytes_per_item * int(per_range.max(initial=0)))
    return RangePlan(bounds, per_range.astype(np.int64), peak, min_bytes, int(memory_limit), what)
