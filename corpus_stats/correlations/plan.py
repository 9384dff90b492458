"""The memory plan of C(t): left-token ranges whose pair counts fit a memory limit."""

from __future__ import annotations

import numpy as np

from corpus_stats.correlations.counts import BYTES_PER_ENTRY, BYTES_PER_POSITION, BYTES_PER_SLOT, slots_per_row
from corpus_stats.correlations.lag_statistics import RITZ_K
from corpus_stats.correlations.lanczos import MAX_STEPS
from corpus_stats.execution import PROCESS_BYTES, RangePlan, plan_token_ranges, token_counts
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream


def pair_count_plan(
    stream: TokenStream, within_documents: bool, execution, n_shards: int | Shards = DEFAULT_SHARDS
) -> RangePlan:
    """Left-token ranges for :class:`PairCounter` whose working sets fit ``execution.memory_limit``.

    A range holds its positions (``BYTES_PER_POSITION`` each, 4 more within documents: the room to
    each document's end) and its counting slots with their shard entries (``BYTES_PER_SLOT`` each;
    a token needs one per position but never more than one per (shard, column) pair). Every range
    also needs the stream's pages and the shuffled copy of the floor (``itemsize`` bytes per token
    each; one of the two at a time for a memory-mapped stream), one lag's compacted entries
    (``BYTES_PER_ENTRY`` each; a row has at most one per position and one per token seen, so a lag has at most
    sum_a min(count_a, V_seen) <= V_seen^2 of them whatever the corpus size) and per-token tables of
    the shards and the Lanczos vectors.

    Raises
    ------
    corpus_stats.execution.MemoryLimitError
        The limit is below what the most frequent token's range needs (named in the message).
    """
    n = stream.n_tokens
    v = stream.vocab_size
    counts = token_counts(np.asarray(stream.tokens), v)
    seen = int(np.count_nonzero(counts))
    g_n = stream.shards(n_shards).n_shards
    per_position = BYTES_PER_POSITION + (4 if within_documents else 0)
    token_bytes = per_position * counts + BYTES_PER_SLOT * np.minimum(counts, slots_per_row(g_n, v))
    tables = 8 * v * (g_n * (4 + RITZ_K) + 2 * (MAX_STEPS + 1))
    max_entries = int(np.minimum(counts, seen).sum())  # a row has at most one per position and per column
    # the stream's pages and the floor's shuffled copy; a memory-mapped stream's pages are released as
    # the copy is made (TokenStream.shuffled), so the two are never resident at once
    copies = 1 if stream.memory_mapped else 2
    fixed = PROCESS_BYTES + copies * stream.tokens.dtype.itemsize * n + BYTES_PER_ENTRY * max_entries + tables
    return plan_token_ranges(
        token_bytes,
        bytes_per_item=1,
        fixed_bytes=int(fixed),
        memory_limit=execution.memory_limit,
        what="pair counts of C(t)",
        unit="bytes",
    )
