"""One-pass n-gram statistics (group refinement kernel) against a naive Counter over n-gram tuples."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import chao_wang_jost, counter_summary, ngram_counter

from corpus_stats._random import generator
from corpus_stats.entropy import ngram_statistics
from corpus_stats.entropy.estimators import chao_wang_jost_entropy as _chao_wang_jost
from corpus_stats.stream import TokenStream


def _check(stream, n_levels, within, n_shards=4, seed=0):
    """Every statistic of every variant (full, leave-one-shard-out, halves) equals the naive recount."""
    stats = ngram_statistics(stream, n_levels, within_documents=within, n_shards=n_shards, seed=seed)
    off = stream.doc_offsets
    G = stats.n_shards
    tb = stream.shards(n_shards).bounds
    shard_of = np.searchsorted(tb, np.arange(stream.n_tokens), side="right") - 1
    rng = generator(seed, "entropy_halves")  # the seed policy's own child
    half = np.zeros(G, bool)
    half[rng.permutation(G)[: G // 2]] = True
    variants = [None] + [lambda p, g=g: shard_of[p] != g for g in range(G)]
    variants += [lambda p: half[shard_of[p]], lambda p: not half[shard_of[p]]]
    plugin = stats.plugin_block_entropy()
    for v, keep in enumerate(variants):
        for n in range(1, n_levels + 1):
            c = ngram_counter(stream.tokens, off, n, within, keep)
            P, K, f1, f2, clnc, h = counter_summary(c)
            got = (stats.positions[v, n], stats.distinct[v, n], stats.f1[v, n], stats.f2[v, n])
            assert got == (P, K, f1, f2), (v, n)
            assert stats.sum_clnc[v, n] == pytest.approx(clnc, abs=1e-9)
            if P:
                assert plugin[v, n] == pytest.approx(h, abs=1e-12)
            if n < n_levels:  # prefixes: the first n tokens of every (n+1)-gram
                longer = ngram_counter(stream.tokens, off, n + 1, within, keep)
                prefix = Counter()
                for gram, k in longer.items():
                    prefix[gram[:n]] += k
                P, K, f1, f2, clnc, h = counter_summary(prefix)
                pre = stats.prefix
                got = (pre.positions[v, n], pre.distinct[v, n], pre.f1[v, n], pre.f2[v, n])
                assert got == (P, K, f1, f2), ("prefix", v, n)
                assert pre.sum_clnc[v, n] == pytest.approx(clnc, abs=1e-9)
    return stats


@pytest.mark.parametrize("within", [False, True])
def test_random_stream_with_documents_matches_counter(within):
    rng = np.random.default_rng(1)
    lengths = [0, 1, 5, 40, 3, 0, 70, 2, 60, 19]
    docs = [rng.integers(0, 4, k) for k in lengths]
    stream = TokenStream.from_documents(docs, vocab_size=4)
    _check(stream, 7, within, n_shards=5)


@pytest.mark.parametrize("within", [False, True])
def test_edge_cases(within):
    # a single repeated token: one n-gram per order, everything in one group
    _check(TokenStream.from_array(np.full(50, 3), vocab_size=4, doc_offsets=[0, 20, 50]), 6, within)
    # largest token id of a uint16 vocabulary, and uint8 streams
    big = np.array([65535, 0, 65535, 0, 65535, 1, 65535, 0], dtype=np.uint16)
    _check(TokenStream.from_array(big, vocab_size=65536, doc_offsets=[0, 3, 8]), 4, within)
    # a stream shorter than the largest n, one document (shards by position)
    s = _check(TokenStream.from_array(np.array([1, 2, 1]), vocab_size=3), 5, within)
    assert s.positions[0].tolist() == [3, 3, 2, 1, 0, 0]
    assert "equal token ranges" in s.shard_note


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 5), max_size=25), min_size=1, max_size=6),
    st.booleans(),
    st.integers(1, 6),
)
def test_property_matches_counter(docs, within, n_shards):
    stream = TokenStream.from_documents(docs, vocab_size=6)
    if stream.n_tokens == 0:
        return
    _check(stream, 5, within, n_shards=n_shards)


def test_block_counts_consistent_with_eos_documents():
    # eos after each document: within_documents n-grams include the trailing eos, never cross it
    s = TokenStream.from_documents([[2, 3, 1], [2, 3, 1]], vocab_size=4, eos_id=1)
    stats = ngram_statistics(s, 4, within_documents=True, n_shards=2)
    assert stats.positions[0, 1:].tolist() == [6, 4, 2, 0]
    assert stats.distinct[0, 1:].tolist() == [3, 2, 1, 0]


def test_chao_wang_jost_matches_literal_formula():
    rng = np.random.default_rng(2)
    for _ in range(20):
        counts = rng.zipf(1.6, size=rng.integers(2, 40))
        counts = counts[counts < 300]
        if counts.sum() < 2:
            continue
        c = np.asarray(counts, np.float64)
        from scipy.special import digamma

        got = _chao_wang_jost(
            np.array([c.sum()]),
            np.array([(c == 1).sum()]),
            np.array([(c == 2).sum()]),
            np.array([(c * digamma(c)).sum()]),
        )[0]
        assert got == pytest.approx(chao_wang_jost(counts), rel=1e-6, abs=1e-9)


def test_vocab_too_large_rejected():
    s = TokenStream.from_array(np.array([0, 1], dtype=np.uint32), vocab_size=(1 << 24) + 1)
    with pytest.raises(ValueError, match="vocab_size must be at most 2\\*\\*24"):
        ngram_statistics(s, 2)
