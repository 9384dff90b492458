"""Progress reporting on stderr with an estimate of the time left (silent unless enabled)."""

from __future__ import annotations

import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def _fmt_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """A one-line progress bar on stderr: ``label [#####.....] 5/10  12s left``.

    Parameters
    ----------
    label : str
        What is being done ("correlations", "entropy", "tokenize").
    total : int or None
        Number of steps, if known.
    enabled : bool, default False
        Print nothing when False, so library calls are silent by default.
    """

    def __init__(self, label: str, total: int | None = None, enabled: bool = False) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self._start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, steps: int = 1, note: str = "") -> None:
        """Advance by ``steps`` and redraw at most ten times a second."""
        self.done += steps
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self._last_draw < 0.1 and (self.total is None or self.done < self.total):
            return
        self._last_draw = now
        elapsed = now - self._start
        if self.total:
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(20 * frac) + "." * (20 - int(20 * frac))
            left = elapsed / frac - elapsed if frac > 0 else float("nan")
            eta = f"  {_fmt_seconds(left)} left" if frac > 0 and frac < 1 else ""
            line = f"{self.label} [{bar}] {self.done}/{self.total}{eta} {note}"
        else:
            line = f"{self.label} {self.done:,} {_fmt_seconds(elapsed)} {note}"
        sys.stderr.write("\r" + line[:120].ljust(80))
        sys.stderr.flush()

    def close(self) -> None:
        """Finish the line (with the total time taken)."""
        if self.enabled:
            took = _fmt_seconds(time.perf_counter() - self._start)
            sys.stderr.write(f"\r{self.label}: done in {took}".ljust(80) + "\n")
            sys.stderr.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(iterable: Iterable[T], label: str, total: int | None = None, enabled: bool = False) -> Iterator[T]:
    """Iterate with a :class:`Progress` bar."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(label, total, enabled) as bar:
        for item in iterable:
            yield item
            bar.update()
