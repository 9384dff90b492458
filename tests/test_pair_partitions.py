"""C(t) under a memory limit: pair counts in left-token ranges equal the unpartitioned counts exactly."""

from __future__ import annotations

from dataclasses import astuple

import numpy as np
import pytest

import corpus_stats as cs
from corpus_stats.correlations.counts import PairCounter, ShardBlock
from corpus_stats.correlations.curve import PER_LAG_FIELDS
from corpus_stats.correlations.plan import pair_count_plan
from corpus_stats.execution import Execution, MemoryLimitError


def _stream(n=30_000, vocab=300, n_docs=40, seed=0):
    rng = np.random.default_rng(seed)
    tokens = (rng.zipf(1.3, n) - 1) % vocab
    tokens[1::2] = tokens[::2][: tokens[1::2].size]  # some correlation at lag 1
    offsets = np.unique(np.concatenate([[0, n], rng.integers(1, n, n_docs - 1)]))
    return cs.TokenStream.from_array(tokens, vocab_size=vocab, doc_offsets=offsets)


@pytest.mark.parametrize("within_documents", [False, True])
def test_counts_of_any_left_token_ranges_equal_the_unpartitioned_counts(within_documents):
    stream = _stream()
    starts = stream.shards(7).bounds
    whole = PairCounter(stream, within_documents, starts)
    v = stream.vocab_size
    for bounds in ([0, 1, v], [0, 1, 2, 150, v], [0, 40, 41, 299, v], np.arange(v + 1)):
        parts = PairCounter(stream, within_documents, starts, np.array(bounds))
        assert parts.n_partitions == len(bounds) - 1
        for lag in (1, 5, 700):
            a, b = whole.count(lag), parts.count(lag)
            for name in a.__dataclass_fields__:
                if name.startswith("sh_") or name == "recount":
                    continue  # several ranges keep no shard entries: they are counted again per range
                x, y = getattr(a, name), getattr(b, name)
                assert np.array_equal(x, y), (bounds[:4], lag, name)
            blocks = [ShardBlock(*(np.copy(x) for x in astuple(blk))) for blk in b.shard_blocks()]  # views reused
            assert [blk.row_lo for blk in blocks] == [0, *np.cumsum([blk.shptr.size - 1 for blk in blocks])[:-1]]
            for name in ("sh_entry", "sh_g", "sh_cnt"):
                joined = np.concatenate([getattr(blk, name) for blk in blocks])
                assert np.array_equal(getattr(a, name), joined), (bounds[:4], lag, name)


def test_bad_token_bounds_are_refused():
    stream = _stream(n=1_000)
    for bounds in ([0, 10], [1, 300], [0, 5, 5, 300]):
        with pytest.raises(ValueError, match="token_bounds must rise strictly"):
            PairCounter(stream, False, np.array([0, 1_000]), np.array(bounds))


def _same_curve(a, b):
    assert np.array_equal(a.n_pairs, b.n_pairs)
    for name in PER_LAG_FIELDS + ("op_jackknife", "fro_jackknife"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=0, equal_nan=True)


@pytest.mark.parametrize("within_documents", [False, True])
def test_partitioned_correlation_curve_equals_the_unpartitioned_one(within_documents):
    stream = _stream()
    kw = dict(within_documents=within_documents, n_shards=6, seed=2)
    lags = [1, 2, 8, 64]
    whole = cs.correlation_curve(stream, lags, **kw)
    unlimited = pair_count_plan(stream, within_documents, Execution.unlimited(), n_shards=6)
    minimum, everything = unlimited.min_bytes, unlimited.peak_bytes
    n_parts = []
    for extra in (0, (everything - minimum) // 3, 10**9):
        c = cs.correlation_curve(stream, lags, **kw, execution=Execution.create(memory_limit=minimum + extra))
        n_parts.append(c.options["pair_count_partitions"]["n_partitions"])
        _same_curve(whole, c)
    assert n_parts[0] > n_parts[1] > 1 and n_parts[2] == 1  # several range counts, down to one


def _measure_partitioned(stream, fast, limit):
    whole = cs.measure(stream, **fast)
    m = cs.measure(stream, memory_limit=limit, **fast)
    assert m.correlations.options["pair_count_partitions"]["n_partitions"] > 1
    _same_curve(whole.correlations, m.correlations)


def test_measure_passes_its_memory_limit_to_c_of_t(monkeypatch):
    from corpus_stats.entropy import kneser_ney

    # below ~10^6 tokens the Kneser-Ney bound needs more than C(t) unpartitioned: make it cheap here
    monkeypatch.setattr(kneser_ney, "BYTES_PER_TOKEN", 1)
    stream = _stream(n=40_000, vocab=200)
    fast = dict(lags=[1, 2, 4], n_max=2, n_shards=4, predict=False)
    minimum = pair_count_plan(stream, False, Execution.unlimited(), n_shards=4).min_bytes
    _measure_partitioned(stream, fast, minimum)
    with pytest.raises(MemoryLimitError, match=r"pair counts of C\(t\) needs .* at least"):
        cs.measure(stream, memory_limit=minimum - 1, **fast)


@pytest.mark.parametrize("within_documents", [False, True])
def test_the_counter_holds_what_the_plan_plans_for_its_largest_range(within_documents):
    """One pool for whichever range is counted: the largest range sets it, not the largest positions
    of one range plus the largest slots of another (one lag of 10^9 tokens
    planned at 8.0 GB peaked at 8.9 GB before)."""
    stream = _stream(n=200_000)
    shards = stream.shards(7)
    whole = pair_count_plan(stream, within_documents, Execution.unlimited(), shards)
    for limit in (None, whole.peak_bytes - whole.items.max() // 3):
        plan = whole if limit is None else pair_count_plan(stream, within_documents, Execution(limit, None), shards)
        assert plan.n_partitions == (1 if limit is None else 2)
        bounds = None if limit is None else plan.bounds
        counter = PairCounter(stream, within_documents, shards.bounds, bounds)
        assert counter.working_set_bytes == plan.items.max()


@pytest.mark.slow
def test_measure_partitions_c_of_t_where_the_other_statistics_fit():
    from corpus_stats.entropy import kneser_ney

    rng = np.random.default_rng(1)
    n, v = 5_000_000, 1_000
    tokens = rng.integers(0, v, n)
    stream = cs.TokenStream.from_array(tokens, vocab_size=v, doc_offsets=np.linspace(0, n, 201).astype(int))
    # the Kneser-Ney bound (10^6 held-out tokens) and H_n fit where C(t) must be partitioned
    whole = pair_count_plan(stream, False, Execution.unlimited(), n_shards=4)
    limit = (whole.min_bytes + whole.peak_bytes) // 2
    kneser_ney.train_token_cap(stream, limit)  # raises if the bound does not fit
    _measure_partitioned(stream, dict(lags=[1, 3], n_max=1, n_shards=4, predict=False), limit)


@pytest.mark.parametrize("within_documents", [False, True])
def test_frequent_tokens_need_one_slot_per_shard_and_column_not_per_position(within_documents):
    """With V = 3 and 2 shards a row never needs more than 6 counting slots, however often its token
    occurs; the counts (corpus and per shard) still equal a direct count."""
    rng = np.random.default_rng(3)
    n, v = 5_000, 3
    stream = cs.TokenStream.from_array(rng.integers(0, v, n), vocab_size=v, doc_offsets=[0, 1_700, 3_100, n])
    starts = np.array([0, 2_500, n])
    for bounds in (None, np.array([0, 1, v])):
        counter = PairCounter(stream, within_documents, starts, bounds)
        assert counter.slotptr[-1] == 2 * v * v  # not n
        lc = counter.count(2)
        blocks = [ShardBlock(*(np.copy(x) for x in astuple(blk))) for blk in lc.shard_blocks()]
        tokens = stream.tokens
        left = np.arange(n - 2)
        if within_documents:
            doc = np.searchsorted(stream.doc_offsets, np.arange(n), side="right")
            left = left[doc[left] == doc[left + 2]]
        for g in range(2):
            mine = left[(left >= starts[g]) & (left < starts[g + 1])]
            direct = np.zeros((v, v), np.int64)
            np.add.at(direct, (tokens[mine], tokens[mine + 2]), 1)
            counted = np.zeros((v, v), np.int64)
            for blk in blocks:
                sel = blk.sh_g == g
                e = blk.sh_entry[sel]
                np.add.at(counted, (lc.act_rows[lc.entry_row[e]], lc.act_cols[lc.cols[e]]), blk.sh_cnt[sel])
            assert np.array_equal(counted, direct)


def _shard_entries(lc):
    """(entry, shard, count) of every shard entry of a lag, joined over its blocks."""
    blocks = [ShardBlock(*(np.copy(x) for x in astuple(blk))) for blk in lc.shard_blocks()]  # views reused
    return [np.concatenate([getattr(blk, name) for blk in blocks]) for name in ("sh_entry", "sh_g", "sh_cnt")]


def _partitioned_equals_whole(stream, bounds, after_init=None):
    starts = stream.shards(5).bounds
    whole, parts = PairCounter(stream, False, starts), PairCounter(stream, False, starts, bounds)
    if after_init is not None:
        after_init()
    for lag in (1, 9):
        a, b = whole.count(lag), parts.count(lag)
        assert all(np.array_equal(getattr(a, x), getattr(b, x)) for x in ("indptr", "cols", "counts", "left_g"))
        assert all(np.array_equal(x, y) for x, y in zip(_shard_entries(a), _shard_entries(b), strict=True))
    return parts


def test_grouped_positions_are_read_back_from_a_temporary_file():
    stream = _stream()
    parts = _partitioned_equals_whole(stream, np.array([0, 3, 40, stream.vocab_size]))
    assert parts._positions is not None


@pytest.mark.parametrize("failure", ["no room", "disk full while writing"])
def test_without_room_for_the_temporary_file_positions_are_gathered_again(monkeypatch, failure):
    import errno
    from collections import namedtuple

    from corpus_stats.correlations import spill

    if failure == "no room":
        monkeypatch.setattr(spill.shutil, "disk_usage", lambda _: namedtuple("U", "free")(0))
    else:

        def full(*_):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(spill.os, "pwrite", full)
    parts = _partitioned_equals_whole(_stream(), np.array([0, 3, 40, 300]))
    assert parts._positions is None


def test_shard_entries_are_read_back_not_counted_again(monkeypatch):
    stream = _stream()
    starts = stream.shards(5).bounds
    whole = PairCounter(stream, False, starts)
    parts = PairCounter(stream, False, starts, np.array([0, 3, 40, stream.vocab_size]))
    counted = []
    count_range = parts._count_range
    monkeypatch.setattr(parts, "_count_range", lambda *a: counted.append(a[0]) or count_range(*a))
    expected = _shard_entries(whole.count(9))
    for shard_entries, n_counts in ((True, 3), (False, 6)):
        counted.clear()
        got = _shard_entries(parts.count(9, shard_entries=shard_entries))
        assert all(np.array_equal(x, y) for x, y in zip(expected, got, strict=True))
        assert len(counted) == n_counts  # set aside: each range counted once; else again when asked


def test_shard_entries_are_counted_again_when_the_disk_fills_after_the_positions(monkeypatch):
    import errno

    from corpus_stats.correlations import spill

    def full(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    parts = _partitioned_equals_whole(
        _stream(), np.array([0, 3, 40, 300]), after_init=lambda: monkeypatch.setattr(spill.os, "pwrite", full)
    )
    assert parts._positions is not None  # the positions were written before the disk filled


def test_temporary_file_transfers_resume_after_short_reads_and_writes(monkeypatch):
    """One system call moves less than 2 GiB: the cache loops until every byte has moved."""
    import os

    from corpus_stats.correlations import spill

    def short(call):
        return lambda fd, data, offset: call(fd, data[:3] if isinstance(data, memoryview) else [data[0][:3]], offset)

    monkeypatch.setattr(spill.os, "pwrite", short(os.pwrite))
    monkeypatch.setattr(spill.os, "preadv", short(os.preadv))
    cache = spill.SpillFile(1000)
    a, b = np.arange(50, dtype=np.int32), np.arange(7, dtype=np.int32) * 3
    cache.put("x", a, b)
    cache.put("empty", np.zeros(0, np.int32))
    out = np.zeros_like(a), np.zeros_like(b)
    cache.get("x", *out)
    assert np.array_equal(out[0], a) and np.array_equal(out[1], b)
    cache.close()
