"""Jackknife shards: the groups of a stream that the statistics of one measurement leave out in turn.

The jackknife's policy lives here, apart from the stream's layout: how many groups a measurement uses
(:data:`DEFAULT_SHARDS`), how many the n-gram counts can hold (:data:`MAX_SHARDS`), the rule for a
requested number (:func:`check_shard_count`) and how a stream is cut into groups
(:func:`document_shards`, reached as :meth:`TokenStream.shards <corpus_stats.stream.TokenStream.shards>`).
C(t) and H_n take the same groups, so that their errors can be combined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpus_stats._checks import check_int

DEFAULT_SHARDS = 20  # jackknife shards of a measurement
MAX_SHARDS = 255  # the n-gram counts keep per-shard tables in every thread


def check_shard_count(n_shards: object, maximum: int | None = MAX_SHARDS) -> int:
    """The one rule for a requested number of shards: an integer in 1..``maximum`` (the jackknife's
    MAX_SHARDS; None for pair counts alone, e.g. the horizon's nested samples)."""
    return check_int("n_shards", n_shards, 1, maximum)


@dataclass(frozen=True, eq=False)
class Shards:
    """Jackknife groups of a stream: ``G`` contiguous token ranges (see
    :meth:`TokenStream.shards <corpus_stats.stream.TokenStream.shards>`).

    Attributes
    ----------
    bounds : numpy.ndarray
        int64 token offsets of length ``G + 1``; shard ``g`` is tokens ``bounds[g] .. bounds[g + 1] - 1``.
    requested : int
        The number of shards asked for (``G`` may be smaller: fewer documents than shards).
    whole_documents : bool
        True when every shard holds whole documents; False for the block jackknife of a stream with
        fewer documents than shards requested (equal token ranges).
    n_documents : int
        Documents in the stream.
    """

    bounds: np.ndarray
    requested: int
    whole_documents: bool
    n_documents: int

    @property
    def n_shards(self) -> int:
        """G, the number of shards (jackknife replicates)."""
        return int(self.bounds.size - 1)

    @property
    def note(self) -> str | None:
        """Why the shards are token ranges rather than documents (the one wording every statistic and the
        summary report), or None when they hold whole documents."""
        if self.whole_documents:
            return None
        docs = f"{self.n_documents:,} document{'' if self.n_documents == 1 else 's'}"
        return (
            f"{docs}, fewer than the {self.requested} shards: the jackknife shards are "
            f"{self.n_shards} equal token ranges (block jackknife)"
        )


def document_shards(
    doc_offsets: np.ndarray, n_shards: int | Shards = DEFAULT_SHARDS, *, max_shards: int | None = MAX_SHARDS
) -> Shards:
    """The shards of a stream with these document offsets (int64, ``[0, ..., n_tokens]``).

    The rule that :meth:`TokenStream.shards <corpus_stats.stream.TokenStream.shards>` states and
    every statistic reaches through it: whole documents in roughly equal token counts, or equal token
    ranges (a block jackknife) when there are fewer documents than shards.
    """
    n_tokens = int(doc_offsets[-1])
    if isinstance(n_shards, Shards):
        if int(n_shards.bounds[-1]) != n_tokens:
            raise ValueError(
                f"these shards cover {int(n_shards.bounds[-1]):,} tokens but the stream holds {n_tokens:,}; "
                "build them with this stream's shards()."
            )
        return n_shards
    n_shards = check_shard_count(n_shards, max_shards)
    n_docs = int(doc_offsets.size - 1)
    targets = np.linspace(0, n_tokens, min(n_shards, max(n_docs, 1)) + 1)
    docs = np.searchsorted(doc_offsets, targets[1:-1], side="left")
    docs = np.unique(np.clip(np.concatenate([[0], docs, [n_docs]]), 0, n_docs)).astype(np.int64)
    whole_documents = n_docs >= n_shards or n_tokens < 2
    if whole_documents:
        bounds = doc_offsets[docs]
    else:
        g = min(n_shards, n_tokens)
        bounds = np.linspace(0, n_tokens, g + 1).round().astype(np.int64)
    return Shards(np.asarray(bounds, dtype=np.int64), n_shards, whole_documents, n_docs)
