"""Scale: measuring saved streams, partitioned (bounded-memory) counting, the execution planner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import corpus_stats as cs
from corpus_stats import synthetic
from corpus_stats.cli import cli

FAST = dict(lags=[1, 2, 4], n_max=3, n_shards=4, predict=False)


def _same_curves(a, b):
    """Two measurements agree exactly on every reported curve."""
    for name in ("op", "fro", "n_pairs"):
        np.testing.assert_array_equal(getattr(a.correlations, name), getattr(b.correlations, name))
    for name in ("plugin", "corrected", "upper"):
        np.testing.assert_array_equal(getattr(a.entropy, name), getattr(b.entropy, name))


# -- measure a saved TokenStream directory ---------------------------------------------------------


def test_measure_accepts_saved_stream_directory(tmp_path):
    rng = np.random.default_rng(0)
    stream = cs.TokenStream.from_array(
        rng.integers(0, 8, 20_000), vocab_size=8, doc_offsets=np.arange(0, 20_001, 1000), provenance={"tokenizer": "t"}
    )
    path = stream.save(tmp_path / "s")
    m = cs.measure(str(path), **FAST)
    assert m.provenance["source"] == {"kind": "token-stream", "path": str(path), "tokenizer": "t"}
    assert m.provenance["n_tokens"] == 20_000
    _same_curves(m, cs.measure(stream, **FAST))


def test_measure_accepts_synth_stream_directory_and_records_generator(tmp_path):
    corpus = synthetic.copy_process(20_000, vocab_size=16, n_documents=10, seed=1)
    synthetic.write_corpus(corpus, tmp_path / "syn", fmt="stream")
    m = cs.measure(tmp_path / "syn", **FAST)  # the synth directory itself: its stream/ is used
    src = m.provenance["source"]
    assert src["kind"] == "synthetic" and src["generator"] == corpus.kind and src["expected_beta"] == corpus.expected_beta
    _same_curves(m, cs.measure(corpus, **FAST))


def test_cli_tokenize_then_measure_stream(tmp_path):
    text = tmp_path / "c.txt"
    rng = np.random.default_rng(1)
    text.write_text("\n".join(" ".join(map(str, rng.integers(0, 30, 200))) for _ in range(50)))
    runner = CliRunner()
    res = runner.invoke(cli, ["tokenize", str(text), "-t", "chars", "--no-cache", "--quiet", "-o", str(tmp_path / "s")])
    assert res.exit_code == 0, res.output
    args = ["--lags", "1,2", "--n-max", "2", "--shards", "4", "--quiet", "--json"]
    res = runner.invoke(cli, ["measure", str(tmp_path / "s"), "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["provenance"]["source"]["kind"] == "token-stream"
    assert doc["provenance"]["tokenizer"]["spec"] == "chars"
    assert doc["provenance"]["n_tokens"] == cs.TokenStream.load(tmp_path / "s").n_tokens


# -- partitions and memory limits --------------------------------------------------------------------


from corpus_stats.entropy.ngrams import BYTES_PER_POSITION, ngram_plan, ngram_statistics  # noqa: E402
from corpus_stats.execution import Execution, MemoryLimitError, parse_memory, plan_token_ranges  # noqa: E402

INT_FIELDS = ("positions", "distinct", "f1", "f2")
FLOAT_FIELDS = ("sum_clnc", "sum_cpsi")


def _zipf_stream(n=60_000, vocab=40, n_docs=30, seed=0):
    rng = np.random.default_rng(seed)
    tokens = (rng.zipf(1.4, n) - 1) % vocab
    return cs.TokenStream.from_array(tokens, vocab_size=vocab, doc_offsets=np.linspace(0, n, n_docs + 1).astype(int))


def _assert_same_stats(a, b):
    for x, y in ((a, b), (a.prefix, b.prefix)):
        for f in INT_FIELDS:
            np.testing.assert_array_equal(getattr(x, f), getattr(y, f), err_msg=f)
        for f in FLOAT_FIELDS:
            np.testing.assert_allclose(getattr(x, f), getattr(y, f), rtol=1e-9, atol=0, err_msg=f)


def test_parse_memory():
    assert parse_memory("8GB") == 8 * 10**9 and parse_memory("1GiB") == 2**30 and parse_memory("3e9") == 3 * 10**9
    assert parse_memory(" 512 mb ") == 512 * 10**6 and parse_memory(None) > 0
    with pytest.raises(ValueError, match="must look like '8GB'"):
        parse_memory("lots")
    with pytest.raises(TypeError, match="memory_limit"):
        parse_memory([8])


def test_plan_token_ranges_fits_and_refuses_below_the_smallest_partition():
    items = np.array([5, 0, 3, 9, 1, 1, 4])
    plan = plan_token_ranges(items, bytes_per_item=10, fixed_bytes=7, memory_limit=107, what="x")
    assert plan.bounds[0] == 0 and plan.bounds[-1] == items.size and plan.items.sum() == items.sum()
    assert np.all(plan.items * 10 + 7 <= 107) and plan.peak_bytes <= 107 and plan.min_bytes == 97
    assert plan.n_partitions == 3  # greedy: [5,0,3] [9] [1,1,4]
    one = plan_token_ranges(items, bytes_per_item=10, fixed_bytes=7, memory_limit=10**6, what="x")
    assert one.n_partitions == 1
    split = plan_token_ranges(items, bytes_per_item=10, fixed_bytes=7, memory_limit=10**6, what="x", min_partitions=3)
    assert split.n_partitions >= 3
    with pytest.raises(MemoryLimitError, match=r"at least 97 B"):
        plan_token_ranges(items, bytes_per_item=10, fixed_bytes=7, memory_limit=96, what="x")


@pytest.mark.parametrize("within_documents", [False, True])
def test_partitioned_ngram_statistics_equal_the_unpartitioned_run(within_documents):
    stream = _zipf_stream()
    kw = dict(within_documents=within_documents, n_shards=6, seed=3, size_fractions=(0.25, 0.5))
    whole = ngram_statistics(stream, 6, **kw)
    assert whole.partitions["n_partitions"] == 1
    minimum = ngram_plan(stream, within_documents, Execution.unlimited()).min_bytes
    counts = np.bincount(stream.tokens, minlength=stream.vocab_size)
    for extra in (0, 3 * BYTES_PER_POSITION * counts.max() // 2, 10**9):
        ex = Execution.create(memory_limit=minimum + extra)
        parts = ngram_statistics(stream, 6, **kw, execution=ex)
        _assert_same_stats(whole, parts)
    tight = ngram_statistics(stream, 6, **kw, execution=Execution.create(memory_limit=minimum))
    assert tight.partitions["n_partitions"] > 3  # the tightest limit really did split the vocabulary


def test_memory_limit_below_smallest_partition_fails_before_any_counting(monkeypatch):
    import corpus_stats.correlations.curve as ccurve

    def never(*a, **k):
        raise AssertionError("counted before checking the memory limit")

    monkeypatch.setattr(ccurve, "correlation_curve", never)
    stream = _zipf_stream()
    with pytest.raises(MemoryLimitError, match=r"smallest partition of the n-gram statistics \(H_n\) needs .* at least"):
        cs.measure(stream, memory_limit="100kB", **FAST)


def test_entropy_curve_partitioned_equals_unpartitioned_and_caps_kneser_ney():
    from corpus_stats.entropy import kneser_ney

    stream = _zipf_stream(n=40_000)
    a = cs.entropy_curve(stream, 3, n_shards=4, heldout_tokens=2_000)
    minimum = ngram_plan(stream, False, Execution.unlimited()).min_bytes
    b = cs.entropy_curve(stream, 3, n_shards=4, heldout_tokens=2_000, execution=Execution.create(memory_limit=minimum))
    assert b.options["partitions"]["n_partitions"] > 1
    for name in ("plugin", "corrected", "stderr"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
    # Kneser-Ney under a limit trains on a random subset of the training documents that fits
    cap = kneser_ney.train_token_cap(stream, 2 * 40_000 + 20_000 * kneser_ney.BYTES_PER_TOKEN, 2_000)
    assert cap == 18_000
    r = kneser_ney.kneser_ney_upper_bound(stream, 2, heldout_tokens=2_000, max_train_tokens=cap)
    assert r.n_train_tokens <= cap and any("max_train_tokens" in n for n in r.notes)
    full = kneser_ney.kneser_ney_upper_bound(stream, 2, heldout_tokens=2_000)
    assert full.n_train_tokens > cap and full.n_heldout_tokens == r.n_heldout_tokens
    with pytest.raises(MemoryLimitError, match="Kneser-Ney .* at least"):
        kneser_ney.train_token_cap(stream, 100_000, 2_000)
