"""Held-out Kneser–Ney cross-entropy against the training size: the upper side of the size extrapolation.

Models of :mod:`corpus_stats.entropy.kneser_ney` are trained on nested fractions of the training split
and scored on the same held-out text, so the curves differ only by the training data; their limit as the
training size grows is fitted by :func:`corpus_stats.entropy.extrapolation.extrapolate_sides`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_stats._random import generator
from corpus_stats.entropy.heldout import heldout_documents
from corpus_stats.entropy.kneser_ney import KneserNeyResult, check_arguments, kn_scores, kneser_ney_upper_bound
from corpus_stats.progress import Progress
from corpus_stats.stream import TokenStream

__all__ = ["KneserNeySizeCurve", "kneser_ney_size_curve"]


@dataclass(frozen=True, eq=False)
class KneserNeySizeCurve:
    """Held-out Kneser-Ney cross-entropies of models trained on nested fractions of the training split.

    Attributes
    ----------
    fractions : numpy.ndarray
        Requested fractions of the training tokens (increasing, the last 1.0).
    n_train_tokens : numpy.ndarray
        Training tokens actually used per fraction (whole documents; int64).
    cross_entropy, stderr : numpy.ndarray
        (n_fractions, n_max + 1) held-out cross-entropy (nats) and its held-out-block standard error.
    full : KneserNeyResult
        The result at fraction 1, identical to :func:`kneser_ney_upper_bound` with the same arguments.
    """

    fractions: np.ndarray
    n_train_tokens: np.ndarray
    cross_entropy: np.ndarray
    stderr: np.ndarray
    full: KneserNeyResult


def _nested_train(tr_tok, tr_off, fractions, seed):
    """(tokens, offsets) of nested training subsets: a random document order cut at each fraction."""
    lengths = np.diff(tr_off)
    out = []
    if np.count_nonzero(lengths) < 2:  # one training document: nested prefixes by position
        for f in fractions:
            cut = max(round(f * tr_tok.size), 1)
            out.append((tr_tok[:cut], np.array([0, cut], np.int64)))
        return out
    order = generator(seed, "nested_training").permutation(lengths.size)
    cum = np.cumsum(lengths[order])
    for f in fractions:
        k = min(int(np.searchsorted(cum, f * cum[-1] - 0.5)) + 1, lengths.size)
        docs = np.sort(order[:k])
        parts = [tr_tok[tr_off[d] : tr_off[d + 1]] for d in docs]
        off = np.concatenate(([0], np.cumsum(lengths[docs]))).astype(np.int64)
        out.append((np.concatenate(parts) if parts else tr_tok[:0], off))
    return out


def kneser_ney_size_curve(
    stream: TokenStream,
    n_max: int,
    fractions=(1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0),
    *,
    heldout_fraction: float = 0.1,
    heldout_tokens: int = 1_000_000,
    within_documents: bool = False,
    seed: int = 0,
    progress: bool = False,
    max_train_tokens: int | None = None,
) -> KneserNeySizeCurve:
    """Held-out Kneser-Ney cross-entropy as a function of the training size (for extrapolation).

    The split is the one of :func:`kneser_ney_upper_bound` (same arguments, same held-out tokens);
    models are trained on nested subsets of the training documents (a random order seeded by
    ``seed``, cut where the cumulative tokens reach each fraction), so every size is scored on the
    same held-out text and the curves differ only by the training data.

    Parameters
    ----------
    stream, n_max, heldout_fraction, heldout_tokens, within_documents, seed, progress, max_train_tokens
        As in :func:`kneser_ney_upper_bound` (the fractions are of the possibly capped training set).
    fractions : sequence of float, default (1/16, 1/8, 1/4, 1/2, 1)
        Fractions of the training tokens, in (0, 1], increasing; 1 is appended if missing.

    Returns
    -------
    KneserNeySizeCurve

    Raises
    ------
    ValueError
        As :func:`kneser_ney_upper_bound`, or fractions outside (0, 1] / not increasing.

    Notes
    -----
    Time is about (sum of fractions) times that of one :func:`kneser_ney_upper_bound` call
    (1.94x for the default fractions).
    """
    check_arguments(stream, n_max, heldout_fraction, heldout_tokens, max_train_tokens)
    fr = np.asarray(fractions, dtype=np.float64).ravel()
    if fr.size == 0 or not np.all((fr > 0) & (fr <= 1)) or np.any(np.diff(fr) <= 0):
        raise ValueError(f"fractions must be increasing numbers in (0, 1]; got {list(fractions)!r}.")
    if fr[-1] != 1.0:
        fr = np.append(fr, 1.0)
    full = kneser_ney_upper_bound(
        stream,
        n_max,
        heldout_fraction=heldout_fraction,
        heldout_tokens=heldout_tokens,
        within_documents=within_documents,
        seed=seed,
        progress=progress,
        max_train_tokens=max_train_tokens,
    )
    (tr_tok, tr_off), (he_tok, he_off), _ = heldout_documents(
        stream, float(heldout_fraction), int(heldout_tokens), seed, max_train_tokens
    )
    S, depth = fr.size, int(n_max) + 1
    ce, se = np.full((S, depth), np.nan), np.full((S, depth), np.nan)
    n_train = np.zeros(S, np.int64)
    ce[-1], se[-1], n_train[-1] = full.cross_entropy, full.stderr, full.n_train_tokens
    subsets = _nested_train(np.asarray(tr_tok), np.asarray(tr_off), fr[:-1], seed)
    with Progress("kneser-ney sizes", total=len(subsets), enabled=progress) as bar:
        for i, (tok, off) in enumerate(subsets):
            n_train[i] = tok.size
            if tok.size == 0:
                continue
            sc = kn_scores(tok, off, he_tok, he_off, int(stream.vocab_size), int(n_max), within_documents)
            ce[i], se[i] = sc["cross_entropy"], sc["stderr"]
            bar.update(note=f"{n_train[i]:,} training tokens")
    return KneserNeySizeCurve(fractions=fr, n_train_tokens=n_train, cross_entropy=ce, stderr=se, full=full)
