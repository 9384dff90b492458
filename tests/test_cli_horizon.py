"""`corpus-stats horizon`: files written, summary, and one-line errors for bad input."""

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpus_stats import synthetic
from corpus_stats.cli import cli

LAGS = "1,2,3,4,8,16"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A copy process saved as a token stream (read without re-tokenizing)."""
    root = tmp_path_factory.mktemp("horizon")
    corpus = synthetic.copy_process(60_000, vocab_size=20, rho=0.8, a=0.3, k_max=200, n_documents=32, seed=2)
    synthetic.write_corpus(corpus, root / "copy", fmt="stream")
    return root / "copy", corpus


def test_horizon_writes_json_csv_summary_and_figure(saved, tmp_path):
    path, corpus = saved
    out = tmp_path / "out"
    res = CliRunner().invoke(cli, ["horizon", str(path), "--lags", LAGS, "--halvings", "2", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {"horizon.json", "horizon.csv", "horizon.txt", "horizon.png"}
    doc = json.loads((out / "horizon.json").read_text())
    assert doc["corpus"]["n_tokens"] == corpus.stream.n_tokens and doc["options"]["n_halvings"] == 2
    assert doc["lags"] == [1, 2, 3, 4, 8, 16] and len(doc["tokens"]) == 3 and doc["norm"] == "op"
    # the same numbers as the library call on the same stream
    from corpus_stats.correlations.horizon import horizon_curve

    h = horizon_curve(corpus.stream, [1, 2, 3, 4, 8, 16], n_halvings=2)
    np.testing.assert_allclose(np.array(doc["op_debiased"], dtype=float), h.op_debiased, rtol=1e-12)
    np.testing.assert_allclose(np.array(doc["predicted"], dtype=float), h.predicted, rtol=1e-12)
    with (out / "horizon.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 6 and rows[0]["lag"] == "1" and float(rows[-1]["tokens"]) == pytest.approx(h.tokens[-1])
    assert float(rows[0]["op_debiased"]) == pytest.approx(h.op_debiased[0, 0], rel=1e-7)
    summary = (out / "horizon.txt").read_text()
    assert summary.strip() in res.output and "measured t*" in summary and "predicted" in summary
    assert h.beta > 0 and f"beta = {h.beta:.3g}" in summary


def test_horizon_json_flag_and_refusal_to_overwrite(saved, tmp_path):
    path, _ = saved
    args = [
        "horizon",
        str(path),
        "--lags",
        LAGS,
        "--halvings",
        "1",
        "--no-plot",
        "--norm",
        "fro",
        "--out",
        str(tmp_path),
    ]
    first = CliRunner().invoke(cli, [*args, "--json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["norm"] == "fro" and not (tmp_path / "horizon.png").exists()
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 1 and "already exists; pass --force" in again.output
    assert CliRunner().invoke(cli, [*args, "--force"]).exit_code == 0


@pytest.mark.parametrize(
    "extra, match",
    [
        (
            ["--halvings", "6"],
            r"6 halvings leave halves of .* tokens .* at least 1,000 tokens .* use at most 4 halvings",
        ),
        (["--halvings", "2", "--lags", "1,10000"], r"more than the largest lag \(10000\); use at most 1 halving or"),
        (["--halvings", "2", "--lags", "1,a"], r"lag"),
    ],
)
def test_bad_input_is_one_line(saved, tmp_path, extra, match):
    path, _ = saved
    res = CliRunner().invoke(cli, ["horizon", str(path), "--out", str(tmp_path / "x"), *extra])
    assert res.exit_code == 1, res.output
    assert res.output.startswith("Error:") and res.output.count("\n") == 1, res.output
    assert "Traceback" not in res.output
    import re

    assert re.search(match, res.output), res.output
    assert not (tmp_path / "x" / "horizon.json").exists()


def test_halvings_outside_the_range_is_a_usage_error(saved, tmp_path):
    res = CliRunner().invoke(cli, ["horizon", str(saved[0]), "--halvings", "11", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "Invalid value for '--halvings': 11 is not in the range 1<=x<=10" in res.output


def test_text_corpus_too_short_for_the_halvings(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("a b c d e f g h\n" * 40)
    res = CliRunner().invoke(cli, ["horizon", str(text), "-t", "chars", "--no-cache", "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and res.output.count("\n") == 1 and "halvings" in res.output, res.output
