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
    assert (
        src["kind"] == "synthetic" and src["generator"] == corpus.kind and src["expected_beta"] == corpus.expected_beta
    )
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
from corpus_stats.execution import (  # noqa: E402
    PROCESS_BYTES,
    Execution,
    MemoryLimitError,
    parse_memory,
    plan_token_ranges,
)

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
    with pytest.raises(
        MemoryLimitError, match=r"smallest partition of the n-gram statistics \(H_n\) needs .* at least"
    ):
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
    limit = PROCESS_BYTES + stream.tokens.nbytes + 20_000 * kneser_ney.BYTES_PER_TOKEN
    cap = kneser_ney.train_token_cap(stream, limit, 2_000)
    assert cap == 18_000  # what the process and the stream's pages hold is set aside
    r = kneser_ney.kneser_ney_upper_bound(stream, 2, heldout_tokens=2_000, max_train_tokens=cap)
    assert r.n_train_tokens <= cap and any("max_train_tokens" in n for n in r.notes)
    full = kneser_ney.kneser_ney_upper_bound(stream, 2, heldout_tokens=2_000)
    assert full.n_train_tokens > cap and full.n_heldout_tokens == r.n_heldout_tokens
    with pytest.raises(MemoryLimitError, match="Kneser-Ney .* at least"):
        kneser_ney.train_token_cap(stream, 100_000, 2_000)


# -- Dask ---------------------------------------------------------------------------------------------


def _saved(stream, tmp_path):
    return cs.TokenStream.load(stream.save(tmp_path / "stream"))


def test_dask_local_cluster_of_two_processes_equals_serial(tmp_path):
    pytest.importorskip("distributed")
    import os

    stream = _saved(_zipf_stream(n=80_000, vocab=60), tmp_path)
    kw = dict(n_shards=6, seed=1, size_fractions=(0.25, 0.5))
    serial = ngram_statistics(stream, 5, **kw)
    serial_m = cs.measure(str(tmp_path / "stream"), **FAST)
    with Execution.create(memory_limit="2GB", scheduler="local:2") as ex:
        client = ex.executor.client
        # measure() end to end on the cluster, given as a distributed.Client (left open for the caller)
        dask_m = cs.measure(str(tmp_path / "stream"), scheduler=client, **FAST)
        assert dask_m.options["execution"]["n_workers"] == 2
        for name in ("plugin", "corrected", "upper", "stderr"):
            np.testing.assert_allclose(getattr(dask_m.entropy, name), getattr(serial_m.entropy, name), rtol=1e-9)
        np.testing.assert_array_equal(dask_m.correlations.op, serial_m.correlations.op)
        assert set(client.run(lambda: os.environ.get("NUMBA_NUM_THREADS")).values()) == {"1"}
        assert len(set(client.run(os.getpid).values())) == 2  # two worker processes
        dask = ngram_statistics(stream, 5, **kw, execution=ex)
        # an in-memory stream is saved to a temporary directory the local workers read
        memory = ngram_statistics(
            cs.TokenStream.from_array(np.asarray(stream.tokens), 60, stream.doc_offsets), 5, **kw, execution=ex
        )
    _assert_same_stats(serial, dask)
    _assert_same_stats(serial, memory)
    assert dask.partitions["n_partitions"] >= 4 and dask.partitions["scheduler"].startswith("tcp://")


@pytest.mark.slow
def test_dask_worker_killed_mid_run_leaves_the_result_unchanged(tmp_path):
    pytest.importorskip("distributed")
    import os
    import signal
    import time

    from corpus_stats.execution import DaskExecutor
    from corpus_stats.execution.executors import local_cluster_client

    class KillOneWorker(DaskExecutor):
        """Submits the partitions, then SIGKILLs a worker process that holds some of them."""

        def map(self, func, jobs):
            futures = self.client.map(func, *zip(*jobs), pure=False)
            pids = self.client.run(os.getpid)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                busy = [w for w, keys in self.client.processing().items() if keys and w in pids]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    self.killed = pids[busy[0]]
                    break
                time.sleep(0.01)
            return self.client.gather(futures)

    stream = _saved(_zipf_stream(n=400_000, vocab=200), tmp_path)
    serial = ngram_statistics(stream, 8, n_shards=6)
    executor = KillOneWorker(local_cluster_client(2), owns_cluster=True, local=True)
    with Execution(parse_memory("2GB"), executor) as ex:
        dask = ngram_statistics(stream, 8, n_shards=6, execution=ex)
        assert executor.killed not in ex.executor.client.run(os.getpid).values()
    _assert_same_stats(serial, dask)


@pytest.mark.slow
def test_unreachable_scheduler_fails_clearly_within_seconds():
    pytest.importorskip("distributed")
    import time

    import distributed  # noqa: F401  (import time is not connection time)

    start = time.monotonic()
    with pytest.raises(ValueError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:1 within"):
        Execution.create(scheduler="tcp://127.0.0.1:1")
    assert time.monotonic() - start < 15


def test_remote_scheduler_needs_a_saved_stream_and_bad_schedulers_fail_clearly():
    from corpus_stats.execution import DaskExecutor

    remote = DaskExecutor(client=None, local=False)
    with pytest.raises(ValueError, match="save it first"):
        remote.stream_ref(_zipf_stream())
    with pytest.raises(ValueError, match="local:N"):
        Execution.create(scheduler="local:zero")
    with pytest.raises(TypeError, match="distributed.Client"):
        Execution.create(scheduler=3)


# -- tokenization of very long documents ------------------------------------------------------------


def _word_bpe(tmp_path):
    """A small BPE (Whitespace pre-tokenizer, no normalizer) saved as tokenizer.json."""
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from tokenizers.pre_tokenizers import Whitespace
    from tokenizers.trainers import BpeTrainer

    rng = np.random.default_rng(4)
    words = ["".join(rng.choice(list("abcdefghij"), rng.integers(1, 8))) for _ in range(300)]
    hf = Tokenizer(BPE(unk_token="[UNK]"))
    hf.pre_tokenizer = Whitespace()
    hf.train_from_iterator([" ".join(words)] * 20, BpeTrainer(vocab_size=300, special_tokens=["[UNK]", "<eos>"]))
    path = tmp_path / "tokenizer.json"
    hf.save(str(path))
    return path, words


def _long_line(words, n_words, seed=5):
    rng = np.random.default_rng(seed)
    return " ".join(np.asarray(words)[rng.integers(0, len(words), n_words)].tolist())


def test_a_long_single_line_is_encoded_in_bounded_groups_with_unchanged_ids(tmp_path):
    import dataclasses

    from corpus_stats.text import tokenizers as T

    path, words = _word_bpe(tmp_path)
    tok = T.load_tokenizer(str(path))
    assert tok.info["splittable"]
    line = _long_line(words, 500_000)  # ~2.5 MB, no newline
    seen = []

    class Recording:
        def __init__(self, hf):
            self.hf = hf

        def encode_batch_fast(self, pieces, add_special_tokens):
            seen.append(sum(map(len, pieces)))
            return self.hf.encode_batch_fast(pieces, add_special_tokens=add_special_tokens)

    recording = dataclasses.replace(tok, hf=Recording(tok.hf))
    ids, lengths = recording.encode_batch([line, "ab cd", line[:1000]])
    whole = [tok.hf.encode(t, add_special_tokens=False).ids for t in (line, "ab cd", line[:1000])]
    np.testing.assert_array_equal(ids, np.concatenate(whole))
    assert lengths.tolist() == [len(w) for w in whole]
    assert len(seen) > 1 and max(seen) <= T._BATCH_CHARS + T._PIECE_CHARS


@pytest.mark.slow
def test_tokenizing_a_long_single_line_needs_bounded_memory(tmp_path):
    """Peak RSS of tokenizing one 20 MB line (no newline) in a fresh process grows far less than the
    ~350 bytes per token a whole-document encoding costs (~1.4 GB here)."""
    import subprocess
    import sys

    path, words = _word_bpe(tmp_path)
    corpus = tmp_path / "line.txt"
    corpus.write_text(_long_line(words, 4_000_000))  # ~20 MB, one line
    script = (
        "import resource, sys; import corpus_stats as cs; from corpus_stats.text import tokenizers;"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        f"s = cs.tokenize([{str(corpus)!r}], {str(path)!r}, use_cache=False);"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "print(s.n_tokens, (after - before) * 1024)"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.split()
    n_tokens, grew = int(out[0]), int(out[1])
    assert n_tokens > 3_000_000
    assert grew < 60 * n_tokens  # bounded: the ids (8 bytes per token), the text and one group's Encodings
