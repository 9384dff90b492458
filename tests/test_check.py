"""`corpus-stats check`: reference cases load, exact values match formulas, perturbations fail."""

import copy
import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner

from corpus_stats.cli import cli
from corpus_stats.stream import TokenStream
from corpus_stats.validation import cases, check

FAST = ["synthetic-copy", "synthetic-iid"]


def rows_of(report, status):
    return [r for r in report.results if r.status == status]


@pytest.mark.parametrize("name", cases.available_cases())
def test_every_case_is_documented_and_complete(name):
    case = cases.load_case(name)
    assert case["guards"] and case["source"]
    for c in case["checks"]:
        assert ("expected" in c) or ("min" in c or "max" in c), c
        assert c.get("expected") is not None or "min" in c or c["quantity"].startswith("prediction"), c
        assert "reason" in c or "expected_from" in c, c
    if "files" in case["corpus"]:
        assert all(len(f["sha256"]) == 64 for f in case["corpus"]["files"])
        assert len(case["tokenizer"]["sha256"]) == 64


@pytest.mark.parametrize(
    "name",
    [
        # a Monte Carlo reference of many windows is recomputed in seconds, not milliseconds
        pytest.param(n, marks=pytest.mark.slow) if "reference_samples" in cases.load_case(n) else n
        for n in cases.available_cases()
        if n.startswith("synthetic-")
    ],
)
def test_exact_expected_values_equal_the_formulas(name):
    case = cases.load_case(name)
    assert case["kind"] == "exact"
    fresh = cases.exact_expected(copy.deepcopy(case))
    for old, new in zip(case["checks"], fresh["checks"]):
        if old.get("expected") is not None:
            assert new["expected"] == pytest.approx(old["expected"], rel=1e-5, abs=1e-12)  # 6 digits
            assert new.get("expected_stderr") == old.get("expected_stderr")


@pytest.mark.slow  # .ci/run runs `corpus-stats check` (every case) right after the default test run
def test_synthetic_and_paper_cases_pass():
    report = check.run_checks(FAST + ["paper-tinystories-fits"])
    assert report.ok, report.table()
    # the only rows not compared are H_n points the validity mask rejects, and they say so
    skipped = rows_of(report, "skip")
    assert all(r.quantity.startswith("entropy.corrected") and "is not valid" in r.reason for r in skipped)
    assert report.counts()["pass"] + len(skipped) == len(report.results)
    assert report.counts()["pass"] >= 15


def _drop_pair_marginals(monkeypatch):
    """Perturb the estimator: C = J/P without subtracting the pair sample's marginals."""
    from corpus_stats.correlations import curve as correlations

    original = correlations._lag_statistics

    def no_marginals(lc, *args, **kwargs):
        zero = dataclasses.replace(
            lc,
            left=np.zeros_like(lc.left),
            right=np.zeros_like(lc.right),
            left_g=np.zeros_like(lc.left_g),
            right_g=np.zeros_like(lc.right_g),
        )
        return original(zero, *args, **kwargs)

    monkeypatch.setattr(correlations, "_lag_statistics", no_marginals)


def test_check_fails_when_the_pair_marginal_correction_is_dropped(monkeypatch):
    _drop_pair_marginals(monkeypatch)
    report = check.run_checks(["synthetic-copy"])
    assert not report.ok
    failed = {r.quantity for r in rows_of(report, "fail")}
    assert "correlations.op_debiased[lag=1]" in failed


def test_check_fails_when_the_correlation_curve_is_biased(monkeypatch):
    from corpus_stats.correlations import curve as correlations

    original = correlations.correlation_curve

    def biased(*args, **kwargs):
        curve = original(*args, **kwargs)
        return dataclasses.replace(curve, op_debiased=curve.op_debiased * 1.3)

    monkeypatch.setattr(correlations, "correlation_curve", biased)
    assert not check.run_checks(["synthetic-copy"]).ok


def _trust_every_n(monkeypatch):
    """Perturb the estimator: every n of H_n declared valid."""
    from corpus_stats.entropy import curve as entropy

    original = entropy.entropy_curve

    def trusting(*args, **kwargs):
        curve = original(*args, **kwargs)
        return dataclasses.replace(curve, valid=np.ones_like(curve.valid))

    monkeypatch.setattr(entropy, "entropy_curve", trusting)


def test_absent_corpora_are_skipped_with_a_reason_never_passed(tmp_path):
    report = check.run_checks(["tinystories-heads-paper-tokenizer"], shared=tmp_path)
    assert report.ok and report.counts()["pass"] == 0
    skipped = rows_of(report, "skip")
    assert skipped and all("tinystories-train-head.txt" in r.reason and "absent" in r.reason for r in skipped)


def test_a_changed_corpus_is_an_error_not_a_silent_pass(tmp_path):
    case = cases.load_case("tinystories-heads-paper-tokenizer")
    for rel in [f["path"] for f in case["corpus"]["files"]] + [case["tokenizer"]["path"]]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("not the corpus\n")
    with pytest.raises(ValueError, match="has sha256 .* a different corpus"):
        check.run_checks(["tinystories-heads-paper-tokenizer"], shared=tmp_path)


def _baseline_case(tmp_path, expected):
    case = {
        "schema_version": 1,
        "name": "tmp-baseline",
        "kind": "baseline",
        "guards": "test",
        "source": "test",
        "corpus": {"synthetic": "markov_chain", "n_tokens": 20000, "seed": 1, "params": {}},
        "tokenizer": None,
        "measure": {"correlations": {"lags": [1, 2], "n_shards": 2}, "entropy": None},
        "checks": [
            {
                "quantity": "correlations.op",
                "lag": 1,
                "expected": expected,
                "rel": 0.01,
                "reason": "baseline",
            }
        ],
    }
    (tmp_path / "tmp-baseline.json").write_text(json.dumps(case))
    return case


def test_update_rewrites_baselines_and_reports_the_diff(tmp_path):
    _baseline_case(tmp_path, 123.0)
    report = check.run_checks(reference_dir=tmp_path)
    assert not report.ok
    updated = check.run_checks(reference_dir=tmp_path, update=True)
    assert updated.ok and len(updated.updates) == 1
    assert "correlations.op[lag=1]: 123 ->" in updated.updates[0]
    assert check.run_checks(reference_dir=tmp_path).ok
    assert check.run_checks(reference_dir=tmp_path, update=True).updates == ()


def test_unknown_case_and_bad_schema_are_user_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown reference case 'nope'; available: .*synthetic-copy"):
        cases.load_case("nope")
    (tmp_path / "bad.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ValueError, match="schema_version 99; expected 1"):
        cases.load_case("bad", tmp_path)


def test_cli_check_json_and_exit_codes(monkeypatch):
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", "synthetic-iid", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout)
    assert doc["ok"] and doc["counts"]["fail"] == 0 and doc["results"][0]["case"] == "synthetic-iid"
    bad = runner.invoke(cli, ["check", "nope"])
    assert bad.exit_code == 1 and "unknown reference case 'nope'" in bad.output
    assert "Traceback" not in bad.output
    # the validity mask dropped: the check fails (exit 1) and names the quantities
    _trust_every_n(monkeypatch)
    failing = runner.invoke(cli, ["check", "synthetic-iid", "--json"])
    assert failing.exit_code == 1
    failed = {r["quantity"] for r in json.loads(failing.stdout)["results"] if r["status"] == "fail"}
    assert {"entropy.valid[n=2]", "entropy.corrected[n=2]"} <= failed


def test_cli_synth_text_round_trips_and_stream_loads(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "synth",
            "copy_process",
            "--tokens",
            "5000",
            "--seed",
            "3",
            "-p",
            "vocab_size=50",
            "-o",
            str(tmp_path / "t"),
        ],
    )
    assert res.exit_code == 0, res.output
    lines = (tmp_path / "t" / "corpus.txt").read_text().splitlines()
    ids = np.array([int(x) for line in lines for x in line.split()])
    from corpus_stats.synthetic import copy_process

    expected = copy_process(5000, vocab_size=50, seed=3).stream
    assert len(lines) == expected.n_documents and np.array_equal(ids, expected.tokens)
    meta = json.loads((tmp_path / "t" / "synthetic.json").read_text())
    assert meta["expected_beta"] == 1.5 and len(meta["exact_correlation_op"]) == 15
    res = runner.invoke(
        cli,
        ["synth", "santa_fe", "--tokens", "3000", "--format", "stream", "-o", str(tmp_path / "s")],
    )
    assert res.exit_code == 0, res.output
    assert TokenStream.load(tmp_path / "s" / "stream").n_tokens == 3000


@pytest.mark.parametrize(
    "args,match",
    [
        (["santa_fe", "-p", "b=2"], r"Error: b must lie in \(0, 1\); got 2.0."),
        (["iid_zipf", "-p", "oops"], "--param must look like NAME=VALUE; got 'oops'"),
        (["iid_zipf", "-p", "seedling=1"], "iid_zipf does not take that parameter"),
    ],
)
def test_cli_synth_errors_are_one_line(tmp_path, args, match):
    res = CliRunner().invoke(cli, ["synth", *args, "--tokens", "1000", "-o", str(tmp_path / "x")])
    assert res.exit_code == 1
    assert res.output.count("\n") == 1
    import re

    assert re.search(match, res.output)


def test_cli_synth_kinds_match_the_generators():
    """The CLI lists the kinds itself (no synthetic import at start-up); keep it in sync."""
    from corpus_stats.cli import cli as group
    from corpus_stats.synthetic import KINDS

    kind = next(p for p in group.commands["synth"].params if p.name == "kind")
    assert list(kind.type.choices) == list(KINDS)


def test_a_row_that_compares_nothing_is_a_skip_never_a_pass():
    c = {"quantity": "prediction.beta.value", "expected": 1.0, "abs": 0.1}
    assert check.judge(c, None, "no prediction: too few lags")[0] == "skip"
    assert check.judge({**c, "expected": None}, None)[0] == "skip"
    assert check.judge({**c, "min": 0.5}, None, "no prediction: too few lags")[0] == "skip"
    assert check.judge(c, None)[0] == "fail" and check.judge(c, 1.05)[0] == "pass"
    masked = {"quantity": "entropy.corrected", "n": 3, "expected": 2.0, "abs": 0.01, "if_valid": True}
    status, _, why = check.judge(masked, 1.5, "not compared: n = 3 is not valid (the estimator makes no claim there)")
    assert status == "skip" and "not valid" in why
