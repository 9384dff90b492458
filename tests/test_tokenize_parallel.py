"""Tokenization in parallel parts (files, parquet/jsonl shards, hf: dataset shards) concatenated into one stream."""

from __future__ import annotations

import json

import numpy as np
import pytest

import corpus_stats as cs
from corpus_stats.execution import SerialExecutor
from corpus_stats.stream_writer import TokenStreamWriter
from corpus_stats.text import hub, parallel, sources
from corpus_stats.text.sources import read_corpus
from corpus_stats.text.tokenizers import load_tokenizer


def _words(seed=0):
    rng = np.random.default_rng(seed)
    return rng, ["".join(rng.choice(list("abcdefgh"), rng.integers(1, 7))) for _ in range(200)]


def _text_files(directory, n_files=7, seed=0):
    """Files of unequal size (1..40 documents each, separated by <|endoftext|>)."""
    rng, words = _words(seed)
    directory.mkdir()
    for i in range(n_files):
        docs = [" ".join(rng.choice(words, rng.integers(1, 300))) for _ in range(rng.integers(1, 40))]
        (directory / f"f{i:02d}.txt").write_text("<|endoftext|>".join(docs))
    return directory


def _record_files(directory, kind, n_files=5, seed=1):
    """jsonl or parquet files of records {"text": ..., "id": ...}."""
    rng, words = _words(seed)
    directory.mkdir()
    for i in range(n_files):
        texts = [" ".join(rng.choice(words, rng.integers(0, 200))) for _ in range(rng.integers(1, 30))]
        if kind == "jsonl":
            lines = [json.dumps({"text": t, "id": j}) for j, t in enumerate(texts)]
            (directory / f"r{i}.jsonl").write_text("\n".join(lines) + "\n")
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.table({"text": texts, "id": list(range(len(texts)))}), directory / f"r{i}.parquet")
    return directory


def _same_stream(a, b):
    assert a.vocab_size == b.vocab_size and a.eos_id == b.eos_id and a.tokens.dtype == b.tokens.dtype
    np.testing.assert_array_equal(a.doc_offsets, b.doc_offsets)
    assert a.tokens.tobytes() == b.tokens.tobytes()


def _in_parts(corpus, tok, n_parts, tmp_path, executor=None):
    """Tokenize ``corpus`` in parts with an in-process executor, as the workers would."""
    shards = parallel.plan_shards(corpus, n_parts)
    with TokenStreamWriter(tmp_path / "parts-stream", tok.vocab_size, tok.eos_id) as writer:
        info = parallel.encode_parts_into(writer, shards, tok, executor or SerialExecutor(), False)
        assert (writer.tmp_dir / "parts").exists() is False  # removed once concatenated
        stream = writer.close({})
    return stream, shards, info


def test_shards_hold_the_corpus_documents_in_order_and_are_balanced_by_bytes(tmp_path):
    corpus = read_corpus(_text_files(tmp_path / "txt", n_files=12))
    shards = parallel.plan_shards(corpus, 4)
    assert 3 <= len(shards) <= 5
    assert [s for shard in shards for s in shard.sources] == list(corpus.sources)
    assert [d for shard in shards for d in shard] == list(corpus)
    assert sum(shard.total_bytes for shard in shards) == corpus.total_bytes


@pytest.mark.parametrize("kind", ["txt", "jsonl", "parquet"])
def test_parts_concatenate_to_the_single_process_stream(tmp_path, monkeypatch, kind):
    monkeypatch.setattr(parallel, "APPEND_CHUNK", 500)  # several appends per part
    inputs = _text_files(tmp_path / kind) if kind == "txt" else _record_files(tmp_path / kind, kind)
    corpus = read_corpus(inputs, glob=f"*.{kind}")
    tok = load_tokenizer("bpe:300", corpus)
    whole = cs.tokenize(corpus, "bpe:300", use_cache=False)
    stream, shards, info = _in_parts(corpus.hashed(use_cache=False), tok, 3, tmp_path)
    assert len(shards) >= 3 and info["parts"] == len(shards)
    _same_stream(stream, whole)


def _local_parquet_dataset(directory):
    import datasets

    files = sorted(str(p) for p in directory.glob("*.parquet"))
    return lambda src, opt: datasets.load_dataset("parquet", data_files=files, split="train", streaming=True)


def test_an_hf_dataset_is_read_in_its_own_shards_in_order(tmp_path, monkeypatch):
    """A streamed hf: dataset's shards are its data files; read in turn they give the whole dataset."""
    import datasets

    monkeypatch.setattr(hub, "_load_hf", _local_parquet_dataset(_record_files(tmp_path / "pq", "parquet")))
    corpus = read_corpus("hf:someone/dataset")
    shards = parallel.plan_shards(corpus, 2)
    assert [s.hf_shard for s in shards] == [(i, 5) for i in range(5)]
    assert [d for shard in shards for d in shard] == list(corpus)
    tok = load_tokenizer("bytes")
    _same_stream(_in_parts(corpus, tok, 2, tmp_path)[0], cs.tokenize(corpus, "bytes", use_cache=False))
    # a local (offline) copy has no shards of its own: contiguous pieces, one per wanted part
    table = datasets.Dataset.from_dict({"text": [f"document {i}" for i in range(10)]})
    monkeypatch.setattr(hub, "_load_hf", lambda src, opt: table)
    shards = parallel.plan_shards(read_corpus("hf:someone/dataset"), 4)
    assert [s.hf_shard for s in shards] == [(i, 4) for i in range(4)]
    assert [d for shard in shards for d in shard] == table["text"]


def test_prefix_options_and_in_memory_corpora_are_tokenized_in_this_process(tmp_path):
    class FakeDask:
        name, n_workers = "dask", 2

    files = read_corpus(_text_files(tmp_path / "txt"))
    assert len(parallel.parallel_shards(files, FakeDask(), None)) > 1
    assert parallel.parallel_shards(files, FakeDask(), 1000) == []
    assert parallel.parallel_shards(read_corpus(tmp_path / "txt", max_documents=3), FakeDask(), None) == []
    assert parallel.parallel_shards(sources.Corpus.from_texts(["a", "b"]), FakeDask(), None) == []
    assert parallel.parallel_shards(files, SerialExecutor(), None) == []


def test_workers_that_cannot_see_the_inputs_or_the_parts_fail_clearly(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"cannot read the input .*missing.txt; every Dask worker"):
        parallel._check_worker_access(str(tmp_path), [str(tmp_path / "missing.txt")])
    with pytest.raises(PermissionError, match=r"cannot write the tokenized parts to .*nowhere.*--cache-dir"):
        parallel._check_worker_access(str(tmp_path / "nowhere"), [])


def test_a_part_that_differs_from_its_report_is_refused(tmp_path):
    corpus = read_corpus(_text_files(tmp_path / "txt"))
    tok = load_tokenizer("bytes")
    part = tmp_path / "parts"
    part.mkdir()
    with TokenStreamWriter(tmp_path / "s", tok.vocab_size, tok.eos_id) as writer:
        (part / "tokenizer.pickle").write_bytes(__import__("pickle").dumps(tok))
        n_tokens, n_docs = parallel.tokenize_part(str(part), 0, parallel.plan_shards(corpus, 1)[0])
        with pytest.raises(ValueError, match="does not match what its worker reported"):
            parallel.append_part(writer, part / parallel.part_name(0), n_tokens + 1, n_docs)
        writer.abort()


# -- a real LocalCluster of worker processes ------------------------------------------------------------


def test_local_cluster_tokenizes_files_and_jsonl_shards_into_the_single_process_stream(tmp_path):
    pytest.importorskip("distributed")
    import os

    from corpus_stats.execution import Execution
    from corpus_stats.pipeline import _to_stream

    txt = _text_files(tmp_path / "txt", n_files=9)
    records = _record_files(tmp_path / "jsonl", "jsonl")
    cache_dir = tmp_path / "cache"
    serial_txt = cs.tokenize(str(txt), "bpe:300", use_cache=False)
    serial_records = cs.tokenize(str(records), "bytes", glob="*.jsonl", use_cache=False)
    with Execution.create(scheduler="local:2") as ex:
        pids = set(ex.executor.client.run(os.getpid).values())
        # measure's path: the run's executor tokenizes on its workers
        stream, _ = _to_stream([str(txt)], "bpe:300", progress=False, scheduler=ex.executor, cache_dir=cache_dir)
        parts = stream.provenance["tokenized_in_parts"]
        assert parts["parts"] >= 4 and parts["n_workers"] == 2 and parts["scheduler"].startswith("tcp://")
        _same_stream(stream, serial_txt)
        # a distributed.Client given by the caller (left open), a directory of jsonl shards
        client = ex.executor.client
        dask_records = cs.tokenize(str(records), "bytes", glob="*.jsonl", scheduler=client, cache_dir=cache_dir)
        assert dask_records.provenance["tokenized_in_parts"]["parts"] == 5
        _same_stream(dask_records, serial_records)
        assert len(pids) == 2 and os.getpid() not in pids
        assert set(client.run(os.getpid).values()) == pids  # the Client was not closed
    again = cs.tokenize(str(txt), "bpe:300", cache_dir=cache_dir)  # the same cache entry, no cluster needed
    assert again.provenance["cache"]["hit"]
    assert [p.name for p in (cache_dir / "streams").iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_cli_tokenize_a_parquet_directory_on_a_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    from click.testing import CliRunner

    from corpus_stats.cli import cli

    pq = _record_files(tmp_path / "pq", "parquet", n_files=6)
    args = ["tokenize", str(pq), "--glob", "*.parquet", "-t", "bytes", "--quiet", "--json"]
    res = CliRunner().invoke(cli, [*args, "--cache-dir", str(tmp_path / "c"), "--scheduler", "local:2"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["cache"]["hit"] is False
    stream = cs.TokenStream.load(json.loads(res.output)["cache"]["path"])
    assert stream.provenance["tokenized_in_parts"]["parts"] == 6
    _same_stream(stream, cs.tokenize(str(pq), "bytes", glob="*.parquet", use_cache=False))


@pytest.mark.slow
def test_a_worker_killed_while_tokenizing_leaves_the_stream_unchanged(tmp_path):
    pytest.importorskip("distributed")
    import os
    import signal
    import time

    from corpus_stats.execution import DaskExecutor
    from corpus_stats.execution.executors import local_cluster_client

    class KillOneWorker(DaskExecutor):
        """Submits the parts, then SIGKILLs a worker process that holds some of them."""

        killed = None

        def map(self, func, jobs):
            futures = self.client.map(func, *zip(*jobs), pure=False)
            pids = self.client.run(os.getpid)
            deadline = time.monotonic() + 30
            while self.killed is None and time.monotonic() < deadline:
                busy = [w for w, keys in self.client.processing().items() if keys and w in pids]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    self.killed = pids[busy[0]]
                time.sleep(0.01)
            return self.client.gather(futures)

    txt = _text_files(tmp_path / "txt", n_files=16, seed=3)
    serial = cs.tokenize(str(txt), "bpe:300", use_cache=False)
    executor = KillOneWorker(local_cluster_client(2), owns_cluster=True, local=True)
    try:
        stream = cs.tokenize(str(txt), "bpe:300", cache_dir=tmp_path / "cache", scheduler=executor)
        assert executor.killed is not None and executor.killed not in executor.client.run(os.getpid).values()
    finally:
        executor.close()
    _same_stream(stream, serial)
    assert [p.name for p in (tmp_path / "cache" / "streams").iterdir() if p.name.startswith(".")] == []
