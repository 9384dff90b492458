"""CLI tests of `corpus-stats measure`, `plot` and `demo` (CliRunner, small inputs, fast options)."""

from __future__ import annotations

import json
import math
import re
import time

import pytest
from click.testing import CliRunner
from conftest import shared_file

from corpus_stats import synthetic
from corpus_stats.cli import cli
from corpus_stats.report.schema import REPORT_SCHEMA, validate_report

FAST = ["--lags", "1,2,3,4,6,8,16", "--n-max", "4", "--shards", "6", "--quiet"]


@pytest.fixture(scope="module")
def synthetic_text(tmp_path_factory):
    """A copy-process corpus written as text (ids as words, one document per line)."""
    corpus = synthetic.copy_process(60_000, vocab_size=16, rho=0.9, a=0.5, k_max=100, n_documents=60, seed=2)
    return synthetic.write_corpus(corpus, tmp_path_factory.mktemp("synth"))


def _measure(args, **kw):
    return CliRunner().invoke(cli, ["measure", *args], catch_exceptions=False, **kw)


def test_measure_synthetic_writes_valid_report_and_summary(synthetic_text, tmp_path):
    out = tmp_path / "out"
    res = _measure([str(synthetic_text), "-t", "bpe:260", "--doc-split", "line", "--out", str(out), *FAST])
    assert res.exit_code == 0, res.output
    assert "60,060 tokens, 60 documents" in res.output  # 60k ids + one eos per document
    assert "beta " in res.output and "wrote" in res.output
    doc = json.loads((out / "report.json").read_text())
    validate_report(doc)
    assert doc["provenance"]["tokenizer"]["spec"] == "bpe:260"
    assert doc["provenance"]["sources"][0]["sha256"]
    assert doc["options"]["n_max"] == 4 and doc["options"]["seed"] == 0
    assert (out / "correlations.csv").read_text().count("\n") == 1 + 7
    # never overwrite silently
    res = CliRunner().invoke(cli, ["measure", str(synthetic_text), "--out", str(out), *FAST])
    assert res.exit_code == 1 and "already exists" in res.output and "--force" in res.output
    assert "Traceback" not in res.output


def test_measure_tiny_shakespeare_json_validates_against_schema(tmp_path):
    path = shared_file("corpora/tiny-shakespeare.txt")
    res = CliRunner().invoke(
        cli,
        [
            "measure",
            str(path),
            "-t",
            "chars",
            "--doc-split",
            "blank-line",
            "--max-tokens",
            "60000",
            "--out",
            str(tmp_path / "ts"),
            "--json",
            *FAST,
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)  # exactly one JSON document on stdout
    validate_report(doc)
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, REPORT_SCHEMA)
    assert doc["provenance"]["n_tokens"] == 60_000
    assert doc["correlations"]["lags"] == [1, 2, 3, 4, 6, 8, 16]
    assert json.loads((tmp_path / "ts" / "report.json").read_text()) == doc


def test_plot_command_writes_nonempty_pngs(synthetic_text, tmp_path):
    out = tmp_path / "m"
    assert (
        _measure([str(synthetic_text), "-t", "bpe:260", "--doc-split", "line", "--out", str(out), *FAST]).exit_code == 0
    )
    res = CliRunner().invoke(cli, ["plot", str(out / "report.json"), "--format", "png"])
    assert res.exit_code == 0, res.output
    pngs = sorted(out.glob("*.png"))
    assert {p.stem for p in pngs} >= {"correlations", "entropy"}
    assert all(p.stat().st_size > 5_000 and p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    res = CliRunner().invoke(cli, ["plot", str(tmp_path)])
    assert res.exit_code == 1 and "no report at" in res.output


def test_interrupt_leaves_no_report_and_rerun_reuses_cached_tokens(synthetic_text, tmp_path, monkeypatch):
    import corpus_stats.entropy.curve

    out = tmp_path / "int"
    args = [str(synthetic_text), "-t", "bpe:260", "--doc-split", "line", "--out", str(out), *FAST]

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as mp:
        mp.setattr(corpus_stats.entropy.curve, "entropy_curve", interrupted)
        res = CliRunner().invoke(cli, ["measure", *args])
    assert res.exit_code == 130 and "Interrupted." in res.output
    assert not (out / "report.json").exists() and not list(out.glob(".*tmp")) if out.exists() else True
    res = _measure([*args, "--json"])
    assert res.exit_code == 0
    assert json.loads(res.stdout)["provenance"]["cache"]["hit"] is True  # tokens came from the cache


def test_measure_bad_input_is_one_line_error(tmp_path):
    res = CliRunner().invoke(cli, ["measure", str(tmp_path / "missing.txt"), "--out", str(tmp_path)])
    assert res.exit_code == 1 and res.output.startswith("Error:") and "Traceback" not in res.output
    res = CliRunner().invoke(cli, ["measure", str(tmp_path / "x.txt"), "--lags", "0,1"])
    assert res.exit_code in (1, 2) and "Traceback" not in res.output


def test_demo_quick(tmp_path):
    args = ["demo", "--tokens", "100000", "--out", str(tmp_path), "--quiet"]
    res = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "copy process" in res.output and "Santa Fe" in res.output and "exact" in res.output
    assert "verdict" in res.output and "Traceback" not in res.output
    assert (tmp_path / "copy_process" / "report.json").is_file()
    assert (tmp_path / "santa_fe" / "entropy.png").stat().st_size > 5_000
    # H_n is judged against its total error (jackknife ⊕ projected bias), as the gamma fit uses it
    ent = json.loads((tmp_path / "santa_fe" / "report.json").read_text())["entropy"]
    total = math.hypot(ent["stderr"][1], ent["systematic"][1])
    assert total > ent["stderr"][1]
    assert f"± {total:.1g}" in next(line for line in res.output.splitlines() if "H_1 (nats)" in line)
    # a second run (e.g. right after the set-up command ran the demo) replaces its own earlier output
    first = json.loads((tmp_path / "copy_process" / "report.json").read_text())["created"]
    time.sleep(1.1)  # `created` has one-second resolution
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "copy_process" / "report.json").read_text())["created"] != first


def test_demo_leaves_reports_it_did_not_write(tmp_path):
    from test_report import make_measurement

    foreign = make_measurement().save(tmp_path / "santa_fe")
    before = foreign.read_bytes()
    args = ["demo", "--tokens", "10000", "--out", str(tmp_path), "--quiet"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1 and "not written by the demo" in res.output and "--force" in res.output
    assert foreign.read_bytes() == before and not (tmp_path / "copy_process").exists()  # refused before measuring


def test_plot_collapse_option_writes_png_and_reports_bad_tables(tmp_path):
    import numpy as np
    from test_plotting import _paper_prediction, collapse_table
    from test_report import make_measurement

    make_measurement(prediction=_paper_prediction()).save(tmp_path / "m")
    t = collapse_table(np.random.default_rng(3))
    table = tmp_path / "ln.csv"
    table.write_text(
        "n,tokens,loss\n"
        + "".join(f"{int(n)},{p:g},{float(loss)!r}\n" for n, p, loss in zip(t["n"], t["tokens"], t["loss"]))
    )
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "m"), "--format", "png", "--collapse", str(table)])
    assert res.exit_code == 0, res.output
    png = tmp_path / "m" / "collapse.png"
    assert png.stat().st_size > 5_000 and png.read_bytes()[:4] == b"\x89PNG"
    bad = tmp_path / "bad.csv"
    bad.write_text("n,tokens,loss\n1,1e6,3.0\n2,1e6,x\n")
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "m"), "--collapse", str(bad)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    expected = f"Error: {bad}, line 3: loss must be a finite number; got 'x'."
    assert res.output.strip().splitlines() == [expected]
    # measure reads the table before measuring: a bad one fails at once
    res = _measure([str(table), "--collapse", str(bad), "--out", str(tmp_path / "x")])
    assert res.exit_code == 1 and "line 3" in res.output and not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "bad, message",
    [
        (["--shards", "300"], "n_shards must be an integer in 1..255; got 300"),
        (["--snr-threshold", "0"], "snr_threshold must be a finite positive number; got 0.0"),
        (["--n-max", "200"], "n_max must be an integer in 1..128; got 200"),
    ],
)
def test_measure_checks_options_before_counting(tmp_path, bad, message):
    corpus = tmp_path / "c.txt"
    corpus.write_text("the cat sat on the mat\n" * 40)
    res = _measure([str(corpus), "-t", "chars", "--no-cache", "--out", str(tmp_path / "out"), "--quiet", *bad])
    assert res.exit_code == 1 and message in res.output
    assert "Traceback" not in res.output and not (tmp_path / "out" / "report.json").exists()


def test_measure_snr_threshold_reaches_the_report(synthetic_text, tmp_path):
    out = tmp_path / "out"
    args = [str(synthetic_text), "-t", "bpe:260", "--doc-split", "line", "--out", str(out), *FAST]
    res = _measure([*args, "--snr-threshold", "2.5", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["options"]["snr_threshold"] == 2.5
    assert (doc["prediction"].get("full") or {}).get("options", {}).get("snr_threshold", 2.5) == 2.5


def _no_measuring(monkeypatch):
    """Make any measurement fail loudly: the output check must come first."""
    import corpus_stats.pipeline

    def boom(*args, **kwargs):
        raise AssertionError("measured before checking --out")

    monkeypatch.setattr(corpus_stats.pipeline, "measure", boom)


def _unwritable_dir(tmp_path):
    """A real unwritable directory: read-only permissions, or for root (whom chmod does not stop) sysfs,
    where nobody may create files; None when neither stops this user."""
    import os
    import stat
    import tempfile
    from pathlib import Path

    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if not os.access(ro, os.W_OK):
        return ro
    ro.chmod(stat.S_IRWXU)
    try:
        fd, tmp = tempfile.mkstemp(dir="/sys")
    except OSError:
        return Path("/sys")
    os.close(fd)
    os.unlink(tmp)
    return None


@pytest.mark.parametrize("where", ["read-only directory", "parent is a file"])
def test_unwritable_out_fails_in_words_before_measuring(synthetic_text, tmp_path, monkeypatch, where):
    _no_measuring(monkeypatch)
    if where == "read-only directory":
        ro = _unwritable_dir(tmp_path)
        if ro is None:
            pytest.skip("this user writes everywhere (root without a read-only sysfs); the file case still runs")
        out, match = (
            ro / "report",
            r"Error: cannot write to --out .*/report: .* is not writable \(Permission denied\)",
        )
    else:
        (tmp_path / "afile").write_text("x")
        out, match = tmp_path / "afile" / "out", r"Error: cannot write to --out .*afile/out: .*afile is a file"
    res = CliRunner().invoke(cli, ["measure", str(synthetic_text), "--out", str(out), *FAST])
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1 and re.search(match, res.output), res.output
    assert "Errno" not in res.output


def test_unwritable_plot_and_tokenize_outputs_fail_in_words(tmp_path):
    (tmp_path / "afile").write_text("x")
    (tmp_path / "a.txt").write_text("abc")
    res = CliRunner().invoke(
        cli, ["tokenize", str(tmp_path / "a.txt"), "-t", "bytes", "--no-cache", "-o", str(tmp_path / "afile" / "s")]
    )
    assert res.exit_code == 1 and "cannot write to --output" in res.output and "is a file" in res.output
    (tmp_path / "report.json").write_text("{}")  # never read: the output check comes first
    res = CliRunner().invoke(cli, ["plot", str(tmp_path / "report.json"), "--out", str(tmp_path / "afile" / "f")])
    assert res.exit_code == 1 and "cannot write to --out" in res.output and "is a file" in res.output
