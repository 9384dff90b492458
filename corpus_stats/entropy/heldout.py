"""The held-out document split: training and held-out documents, disjoint and deduplicated.

A model's cross-entropy on text it was not trained on bounds the entropy rate from above only if the
held-out text is really fresh, so the split holds out whole documents and removes held-out copies of
training documents. The Kneser-Ney upper bound (:mod:`corpus_stats.entropy.kneser_ney`) and the
language-model curves (:mod:`corpus_stats.lm.evaluate`) share it, so both are scored on the same text.
"""

from __future__ import annotations

import numpy as np

from corpus_stats._random import generator
from corpus_stats.entropy._kernels_heldout import _document_hashes
from corpus_stats.stream import TokenStream

__all__ = ["heldout_documents"]


def heldout_documents(
    stream: TokenStream, heldout_fraction: float, heldout_tokens: int, seed: int, max_train_tokens: int | None = None
):
    """Split a stream into training and held-out documents (disjoint, held-out duplicates removed).

    The split of the Kneser-Ney upper bound (:mod:`corpus_stats.entropy.kneser_ney`), also used by
    :func:`corpus_stats.lm.lm_curve` and :func:`corpus_stats.lm.train_lm`, so that a language model is
    scored on the same held-out text.

    Parameters
    ----------
    stream : TokenStream
        The corpus.
    heldout_fraction : float
        Fraction of the non-empty documents held out, in (0, 1) (the caller checks it).
    heldout_tokens : int
        The held-out text is cut after this many tokens.
    seed : int
        Seed of the split (the ``heldout_split`` and ``training_cap`` uses of :mod:`corpus_stats._random`).
    max_train_tokens : int, optional
        Keep a random subset of the training documents with at most this many tokens (at least one
        document); of a single document, its last ``max_train_tokens`` training tokens. Default: all.

    Returns
    -------
    train, held : tuple of numpy.ndarray
        ``(tokens, doc_offsets)`` of the training and the held-out documents, each in corpus order.
    notes : list of str
        What the caller should know (position split, removed duplicates, truncation).

    Raises
    ------
    ValueError
        Every held-out document duplicates a training document.

    Notes
    -----
    Documents are shuffled with ``seed``; ``round(heldout_fraction * D)`` of the D non-empty ones (at
    least one, at most D - 1) are held out; held-out documents identical to a training document are
    removed (hash, then exact comparison); a random subset of the rest, about ``heldout_tokens`` long,
    is kept in corpus order and cut at ``heldout_tokens``. A single-document corpus is split by
    position (the last ``heldout_fraction`` of it is held out) and a note says so.
    """
    notes = []
    offsets = stream.doc_offsets
    lengths = np.diff(offsets)
    nonempty = np.flatnonzero(lengths > 0)
    rng = generator(seed, "heldout_split")
    if nonempty.size < 2:
        cut = round(stream.n_tokens * (1 - heldout_fraction))
        cut = min(max(cut, 1), stream.n_tokens - 1)
        notes.append(
            f"single-document corpus: split by position, training on tokens 0..{cut - 1} and holding "
            f"out tokens {cut}..{stream.n_tokens - 1}."
        )
        first = 0 if max_train_tokens is None else max(cut - max_train_tokens, 0)
        if first:
            notes.append(f"trained on the last {cut - first:,} of the {cut:,} training tokens (max_train_tokens).")
        train = (np.asarray(stream.tokens[first:cut]), np.array([0, cut - first], np.int64))
        held = (np.asarray(stream.tokens[cut:]), np.array([0, stream.n_tokens - cut], np.int64))
    else:
        n_held = min(max(round(heldout_fraction * nonempty.size), 1), nonempty.size - 1)
        perm = rng.permutation(nonempty)
        held_docs, train_docs = perm[:n_held], np.sort(perm[n_held:])
        train_docs = _cap_training(train_docs, lengths, max_train_tokens, seed, notes)
        train_s = stream.select_documents(train_docs)
        held_docs = _drop_duplicates(stream, held_docs, train_s, notes)
        if held_docs.size == 0:
            raise ValueError(
                "every held-out document duplicates a training document, so there is nothing to score; "
                f"got {n_held} held-out documents, all duplicates."
            )
        # a random subset of the held-out documents, about heldout_tokens long, in corpus order
        keep = np.searchsorted(np.cumsum(lengths[held_docs]), heldout_tokens) + 1
        if keep < held_docs.size:
            notes.append(
                f"scored {keep:,} of {held_docs.size:,} held-out documents (heldout_tokens={heldout_tokens:,})."
            )
        held_s = stream.select_documents(np.sort(held_docs[:keep]))
        train = (train_s.tokens, train_s.doc_offsets)
        held = (held_s.tokens, held_s.doc_offsets)
    h_tok, h_off = held
    if h_tok.size > heldout_tokens:
        h_tok = h_tok[:heldout_tokens]
        h_off = np.append(h_off[h_off < heldout_tokens], heldout_tokens).astype(np.int64)
    return train, (h_tok, h_off), notes


def _cap_training(train_docs, lengths, max_train_tokens, seed, notes) -> np.ndarray:
    """A random subset of the training documents with at most ``max_train_tokens`` tokens (at least one
    document), in corpus order; all of them when they fit. A model trained on less text is still scored
    on fresh text, so its cross-entropy is still an upper bound on H_n, only a looser one."""
    total = int(lengths[train_docs].sum())
    if max_train_tokens is None or total <= max_train_tokens:
        return train_docs
    order = generator(seed, "training_cap").permutation(train_docs)
    k = max(int(np.searchsorted(np.cumsum(lengths[order]), max_train_tokens, side="right")), 1)
    kept = np.sort(order[:k])
    notes.append(
        f"trained on {int(lengths[kept].sum()):,} of {total:,} training tokens ({kept.size:,} random documents; "
        "max_train_tokens): the bound is looser than with all of them, never invalid."
    )
    return kept


def _drop_duplicates(stream, held_docs, train_s, notes) -> np.ndarray:
    """Held-out document indices that are not exact copies of a training document."""
    tok = np.ascontiguousarray(stream.tokens)
    all_hash = _document_hashes(tok, stream.doc_offsets)
    train_tok = np.ascontiguousarray(train_s.tokens)
    train_hash = _document_hashes(train_tok, train_s.doc_offsets)
    suspect = np.isin(all_hash[held_docs], train_hash)
    drop = np.zeros(held_docs.size, dtype=bool)
    if suspect.any():  # confirm each hash match token by token
        by_hash: dict[int, list[int]] = {}
        for i, h in enumerate(train_hash.tolist()):
            by_hash.setdefault(h, []).append(i)
        for q in np.flatnonzero(suspect):
            doc = stream.document(int(held_docs[q]))
            drop[q] = any(np.array_equal(doc, train_s.document(i)) for i in by_hash[int(all_hash[held_docs[q]])])
    if drop.any():
        notes.append(f"removed {int(drop.sum()):,} held-out documents that duplicate a training document.")
    return held_docs[~drop]
