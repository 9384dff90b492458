"""Execution layer: partition plans under a memory limit, and executors that decide where partitions run.

Curves describe *what* to count per partition and how to merge (by addition, in a fixed order); an
:class:`Execution` says how much memory a partition may use and where it runs (this process or a Dask
cluster). Nothing in a curve module knows whether it runs on Dask.

Examples
--------
>>> from corpus_stats.execution import Execution
>>> ex = Execution.create(memory_limit="2GB")
>>> ex.memory_limit, ex.executor.name
(2000000000, 'serial')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpus_stats.execution.executors import DaskExecutor, SerialExecutor, StreamRef, get_executor
from corpus_stats.execution.memory import DEFAULT_RAM_FRACTION, default_memory_limit, format_bytes, parse_memory
from corpus_stats.execution.plan import PROCESS_BYTES, MemoryLimitError, RangePlan, plan_token_ranges, token_counts

UNLIMITED = 2**62  # a memory limit no plan reaches: one partition

__all__ = [
    "PROCESS_BYTES",
    "DEFAULT_RAM_FRACTION",
    "DaskExecutor",
    "Execution",
    "MemoryLimitError",
    "RangePlan",
    "SerialExecutor",
    "StreamRef",
    "default_memory_limit",
    "format_bytes",
    "get_executor",
    "parse_memory",
    "plan_token_ranges",
    "token_counts",
]


@dataclass(frozen=True)
class Execution:
    """How much memory one partition may use, and where partitions run.

    Attributes
    ----------
    memory_limit : int
        Bytes a partition's working set (the memory-mapped stream's pages included) may use.
    executor : SerialExecutor or DaskExecutor
        Runs the partition tasks.
    """

    memory_limit: int
    executor: Any

    @classmethod
    def create(cls, memory_limit: str | int | None = None, scheduler: Any = None) -> Execution:
        """From a size (``"8GB"``; None: ``DEFAULT_RAM_FRACTION`` of RAM) and a scheduler (see
        :func:`~corpus_stats.execution.executors.get_executor`)."""
        return cls(parse_memory(memory_limit), get_executor(scheduler))

    @classmethod
    def unlimited(cls) -> Execution:
        """No memory limit (one partition), in this process: what a curve does when called alone."""
        return cls(UNLIMITED, SerialExecutor())

    def close(self) -> None:
        """Release the executor (a LocalCluster started for this run is shut down)."""
        self.executor.close()

    def __enter__(self) -> Execution:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> dict:
        return {"memory_limit": int(self.memory_limit), **self.executor.describe()}
