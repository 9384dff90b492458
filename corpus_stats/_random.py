"""The seed policy: one integer seed derives every random generator of a measurement.

``numpy.random.SeedSequence(seed).spawn(len(STREAMS))`` gives one independent child per named use
below; a use always takes its own child, whatever else runs, so the shuffle of the noise floor does
not change when (say) the Kneser-Ney split is skipped, and two curves measured with the same seed
draw the same numbers as inside :func:`corpus_stats.measure`. The order of :data:`STREAMS` is part of
the results: append new uses at the end, never reorder.
"""

from __future__ import annotations

import numpy as np

#: Named uses of randomness, in spawn order.
STREAMS = (
    "floor_shuffle",  # the globally shuffled stream of the C(t) noise floor
    "entropy_halves",  # which shards form the halves (and size blocks) of the H_n subsample test
    "heldout_split",  # which documents the Kneser-Ney bound holds out
    "nested_training",  # the order of training documents for the Kneser-Ney size curve
    "lanczos_start",  # start vectors of the Lanczos solvers when no warm start exists
    "bootstrap",  # resamples of the paper-style bootstrap fits (scaling)
    "training_cap",  # which training documents the Kneser-Ney bound keeps under max_train_tokens
)


def check_seed(seed: object) -> int:
    """The rule for a seed: a non-negative integer (what ``SeedSequence`` accepts)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    return int(seed)


def seed_sequence(seed: int, use: str) -> np.random.SeedSequence:
    """The child of ``SeedSequence(seed)`` that belongs to ``use`` (one of :data:`STREAMS`)."""
    return np.random.SeedSequence(check_seed(seed)).spawn(len(STREAMS))[STREAMS.index(use)]


def generator(seed: int, use: str) -> np.random.Generator:
    """A fresh generator for ``use``, derived from ``seed`` by the policy above."""
    return np.random.default_rng(seed_sequence(seed, use))


def integer_seed(seed: int, use: str) -> int:
    """A plain integer seed for ``use``, for code that takes an int (``scaling``, which never imports
    corpus_stats, seeds ``default_rng`` with it)."""
    return int(seed_sequence(seed, use).generate_state(1, np.uint32)[0])
