"""Progress bars on stderr with an estimate of the time left (tqdm; silent unless enabled).

Library calls are silent by default (``enabled=False``); the command line enables the bars when stderr is
a terminal or ``--progress`` is given, so stdout (``--json``) and logs stay clean.
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

from tqdm import tqdm

T = TypeVar("T")


class Progress:
    """A one-line progress bar on stderr: ``label:  50%|█████     | 5/10 [00:06<00:06, note]``.

    Parameters
    ----------
    label : str
        What is being done ("correlations", "entropy", "tokenize").
    total : int or None
        Number of steps, if known (otherwise a counter with the elapsed time is shown).
    enabled : bool, default False
        Print nothing when False, so library calls are silent by default.
    """

    def __init__(self, label: str, total: int | None = None, enabled: bool = False) -> None:
        self.label, self.total, self.enabled = label, total, enabled
        self.done = 0
        self._bar = tqdm(
            total=total,
            desc=label,
            disable=not enabled,
            file=sys.stderr,
            mininterval=0.1,
            dynamic_ncols=True,
            leave=True,
        )

    def update(self, steps: int = 1, note: str = "") -> None:
        """Advance by ``steps``; ``note`` says what was just done (shown after the bar)."""
        self.done += steps
        if not self.enabled:
            return
        if note:
            self._bar.set_postfix_str(note, refresh=False)
        self._bar.update(steps)

    def close(self) -> None:
        """Finish the line (the bar stays, with the total time taken)."""
        self._bar.close()

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
