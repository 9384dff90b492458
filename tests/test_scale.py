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
