"""`corpus-stats measure --spectrum K`: the spectrum of C(t) at the measured lags, on the measured stream."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpus_stats import synthetic
from corpus_stats.cli import cli
from corpus_stats.correlations.spectrum import check_k, spectrum
from corpus_stats.stream import TokenStream

FAST = ["--lags", "1,2,4", "--n-max", "3", "--shards", "4", "--quiet"]


@pytest.fixture(scope="module")
def saved_stream(tmp_path_factory):
    """A Markov chain saved as a token stream (V = 24): measured as it is, never tokenized."""
    corpus = synthetic.markov_chain(30_000, vocab_size=24, n_documents=30, seed=3)
    path = tmp_path_factory.mktemp("m") / "stream"
    corpus.stream.save(path)
    return path


def _measure(args):
    return CliRunner().invoke(cli, ["measure", *args])


def test_measure_spectrum_writes_the_spectrum_of_the_measured_stream_at_its_lags(saved_stream, tmp_path):
    out = tmp_path / "o"
    res = _measure([str(saved_stream), *FAST, "--spectrum", "5", "--plot", "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert sum(line.startswith("  spectrum  top 5 singular values at 3 lags") for line in lines) == 1
    assert all(name in lines[-1] for name in ("report.json", "spectrum.json", "spectrum.csv", "spectrum.png"))
    report = json.loads((out / "report.json").read_text())
    got = json.loads((out / "spectrum.json").read_text())
    assert got["lags"] == report["correlations"]["lags"] == [1, 2, 4]
    # the same numbers as the spectrum command's function on the same stream, seed and options
    want = spectrum(TokenStream.load(saved_stream), [1, 2, 4], 5, seed=0).to_dict()
    np.testing.assert_allclose(got["singular_values"], want["singular_values"], rtol=1e-12)
    np.testing.assert_allclose(got["noise"], want["noise"], rtol=1e-12)
    assert got["n_above"] == want["n_above"]
    assert (out / "spectrum.csv").read_text().count("\n") == 1 + 3 * 5
    assert (out / "spectrum.png").stat().st_size > 0


def test_measure_spectrum_bad_k_fails_before_counting(saved_stream, tmp_path):
    out = tmp_path / "o"
    res = _measure([str(saved_stream), *FAST, "--spectrum", "0", "--out", str(out)])
    assert res.exit_code == 1 and "'--spectrum': 0 is not in the range x>=1" in res.output
    res = _measure([str(saved_stream), *FAST, "--spectrum", "24", "--out", str(out)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.strip().splitlines()[-1] == (
        "Error: --spectrum: k must be smaller than the vocabulary size V = 24 (C(t) is V x V); got 24."
    )
    assert not out.exists()  # nothing measured, nothing written
    out.mkdir()
    (out / "spectrum.json").write_text("{}")
    res = _measure([str(saved_stream), *FAST, "--spectrum", "4", "--out", str(out)])
    assert res.exit_code == 1 and "spectrum.json already exists" in res.output and "--force" in res.output
    assert not (out / "report.json").exists() and (out / "spectrum.json").read_text() == "{}"


def test_check_k_owns_the_rule():
    assert check_k(np.int64(3), 4) == 3
    for k, match in ((0, "positive integer; got 0"), (True, "positive integer"), (4, "smaller than .* V = 4")):
        with pytest.raises(ValueError, match=match):
            check_k(k, 4)
