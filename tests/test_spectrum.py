"""Spectrum of C(t): exact top-k against a dense SVD, noise edge, bulk fit, loading tokens, CLI."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpus_stats import TokenStream
from corpus_stats import synthetic as S
from corpus_stats.cli import cli
from corpus_stats.correlations.counts import PairCounter
from corpus_stats.correlations.spectrum import spectrum


def _dense_spectrum(stream, lag):
    lc = PairCounter(stream, False, np.array([0, stream.n_tokens])).count(lag)
    p = lc.n_pairs
    c = lc.csr().toarray() / p - np.outer(lc.left / p, lc.right / p)
    return np.linalg.svd(c, compute_uv=False)


def test_top_k_is_exact_against_dense_svd_matrix_free():
    # V = 300 > 192: the matrix-free path (svds on the numba products), checked against LAPACK
    stream = S.copy_process(60_000, vocab_size=300, seed=1).stream
    sp = spectrum(stream, [1, 5], k=12)
    for i, t in enumerate((1, 5)):
        dense = _dense_spectrum(stream, t)[:12]
        assert np.allclose(sp.singular_values[i], dense, rtol=1e-7, atol=1e-12 * dense[0])
        stable = sp.fro[i] ** 2 / dense[0] ** 2
        assert np.isclose(sp.stable_rank[i], stable, rtol=1e-9)
    assert "svds" in sp.options["method"] and len(sp.options["products"]) == 2


def test_iid_tokens_stay_at_the_noise_edge_and_structure_stands_above():
    iid = spectrum(S.iid_zipf(50_000, vocab_size=64, seed=2).stream, [1, 2], k=8)
    assert np.all(iid.n_above <= 2)
    ratio = iid.singular_values[:, 0] / iid.noise_edge
    assert np.all((ratio > 0.8) & (ratio < 1.25))
    markov = spectrum(S.markov_chain(50_000, vocab_size=64, seed=2).stream, [1], k=8)
    assert markov.n_above[0] >= 4


def test_loading_tokens_name_the_planted_pair():
    rng = np.random.default_rng(3)
    tokens = rng.integers(0, 50, 40_000)
    follows = np.flatnonzero(tokens[:-1] == 7)
    tokens[follows + 1] = 42  # 7 is always followed by 42
    sp = spectrum(TokenStream.from_array(tokens, vocab_size=50), [1], k=4, n_tokens_shown=3)
    top = sp.top_tokens[0][0]
    assert top["left"]["positive"][0][0] == "7" and top["right"]["positive"][0][0] == "42"
    assert sp.n_above[0] >= 1


def test_bulk_fit_recovers_a_planted_decay():
    from corpus_stats.correlations.spectrum import _bulk_fit

    s = 3.0 * np.arange(1, 41, dtype=float) ** -0.7
    nu, r2, lo, hi = _bulk_fit(s, 30)
    assert np.isclose(nu, 0.7) and np.isclose(r2, 1.0) and (lo, hi) == (4, 30)
    assert np.isnan(_bulk_fit(s, 6)[0])


def test_outputs_and_bad_input(tmp_path):
    stream = S.iid_zipf(5_000, vocab_size=20, seed=1).stream
    sp = spectrum(stream, [1, 3], k=5)
    d = json.loads(json.dumps(sp.to_dict()))
    assert d["lags"] == [1, 3] and len(d["singular_values"][0]) == 5
    assert sp.to_csv().count("\n") == 1 + 2 * 5
    with pytest.raises(ValueError, match="k must be a positive integer; got 0"):
        spectrum(stream, [1], k=0)
    with pytest.raises(ValueError, match="smaller than the stream length"):
        spectrum(stream, [10**6], k=3)


def test_cli_spectrum_writes_json_csv_and_figure(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["synth", "markov_chain", "--tokens", "20000", "-p", "vocab_size=32", "-o", str(tmp_path / "m")]
    )
    assert res.exit_code == 0, res.output
    args = ["spectrum", str(tmp_path / "m" / "corpus.txt"), "-t", "chars", "--no-cache", "--lags", "1,2,4"]
    res = runner.invoke(cli, args + ["-k", "6", "--out", str(tmp_path / "o"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["lags"] == [1, 2, 4]
    for name in ("spectrum.json", "spectrum.csv", "spectrum.png"):
        assert (tmp_path / "o" / name).is_file()
    res = runner.invoke(cli, args + ["-k", "6", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and "pass --force" in res.output
