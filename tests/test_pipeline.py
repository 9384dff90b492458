"""Tests of measure() (corpus_stats.pipeline) and of its summary (corpus_stats.report.summary)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

import corpus_stats as cs
from corpus_stats import pipeline, synthetic
from corpus_stats.report import summary as report_summary
from corpus_stats.report.measurement import Measurement
from corpus_stats.report.schema import validate_report
from corpus_stats.shards import Shards

LAGS = [1, 2, 3, 4, 6, 8, 16]


@pytest.fixture(scope="module")
def copy_measurement():
    corpus = synthetic.copy_process(200_000, vocab_size=16, rho=0.9, a=0.5, k_max=200, seed=3)
    return corpus, pipeline.measure(corpus, lags=LAGS, n_max=4, n_shards=8, seed=1)


def test_measure_synthetic_records_provenance_options_timings(copy_measurement):
    corpus, m = copy_measurement
    assert isinstance(m, Measurement)
    np.testing.assert_array_equal(m.correlations.lags, LAGS)
    assert m.entropy.n.tolist() == [0, 1, 2, 3, 4]
    prov = m.provenance
    assert prov["n_tokens"] == 200_000 and prov["vocab_size"] == 16
    assert prov["source"]["generator"] == "copy_process" and prov["source"]["expected_beta"] == 1.5
    assert m.options["seed"] == 1 and m.options["n_shards"] == 8 and m.options["lags"] == LAGS
    assert set(m.timings) >= {"tokenize", "correlations", "entropy", "prediction", "total"}
    validate_report(json.loads(m.to_json()))


def test_measured_correlations_match_exact_copy_process(copy_measurement):
    corpus, m = copy_measurement
    exact = corpus.exact_correlation(np.asarray(LAGS))["op"]
    # strong lags (signal/noise >= 5) agree with the closed form within a few standard errors
    strong = m.correlations.snr >= 5
    assert strong[:3].all()
    err = np.abs(m.correlations.op_debiased - exact)[strong]
    assert np.all(err <= 4 * m.correlations.op_stderr[strong] + 0.05 * exact[strong])


def test_prediction_summary_and_printed_summary(copy_measurement):
    _, m = copy_measurement
    pred = m.prediction
    assert pred is not None and "warnings" in pred
    # either alpha_D was predicted, or the failure is explained and beta is still reported
    if pred.get("error"):
        assert pred["warnings"][0].startswith("no alpha_D:")
    beta = pred["beta"]
    assert 0.5 < beta["value"] < 2.0 and beta["window"][0] >= 1
    text = report_summary.format_summary(m, files=["out/report.json", "out/entropy.csv"])
    assert "200,000 tokens, 100 documents" in text
    assert "beta      " in text and "(t = " in text
    assert text.splitlines()[-1] == "  wrote     out/report.json, entropy.csv"


def test_summarize_real_prediction_when_both_exponents_exist():
    """A hand-made measurement whose curves are clean power laws gives a full prediction summary."""
    from test_report import make_measurement

    m = make_measurement()
    summary = report_summary.run_prediction(m)
    assert "error" not in summary, summary.get("error")
    assert summary["alpha_D"]["value"] == pytest.approx(
        summary["gamma"]["value"] / (2 * summary["beta"]["value"]), rel=1e-6
    )
    assert len(summary["horizon"]["P"]) == len(summary["learning_curve"]["loss"]) > 3
    json.dumps(summary, allow_nan=False)
    assert "alpha_D=" in repr(m.with_prediction(summary))


def test_measure_token_stream_and_lazy_api():
    rng = np.random.default_rng(0)
    stream = cs.TokenStream.from_array(rng.integers(0, 8, 20_000), vocab_size=8, doc_offsets=np.arange(0, 20_001, 1000))
    m = cs.measure(stream, lags=[1, 2, 4], n_max=2, n_shards=4, predict=False)
    assert m.prediction is None and m.provenance["source"]["kind"] == "token-stream"
    assert cs.Measurement is Measurement and cs.measure is pipeline.measure
    assert callable(cs.correlation_curve) and callable(cs.entropy_curve)
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        cs.nope  # noqa: B018


def test_measure_rejects_bad_lags_with_clear_error():
    stream = cs.TokenStream.from_array(np.arange(100) % 5, vocab_size=5)
    with pytest.raises(ValueError, match="lag"):
        pipeline.measure(stream, lags=[1000], n_max=2)


@pytest.mark.parametrize(
    "bad, error, match",
    [
        ({"n_shards": 300}, ValueError, r"n_shards must be an integer in 1..255; got 300"),
        ({"n_shards": 0}, ValueError, r"n_shards must be an integer in 1..255; got 0"),
        ({"seed": -1}, ValueError, r"seed must be a non-negative integer; got -1"),
        ({"n_max": 200}, ValueError, r"n_max must be an integer in 1..128; got 200"),  # the Kneser-Ney limit
        ({"n_max": 5000}, ValueError, r"n_max must be an integer in 1..128; got 5000"),
        ({"lags": [0, 1]}, ValueError, r"lags must be positive integers smaller than the stream length"),
        ({"snr_threshold": 0}, ValueError, r"snr_threshold must be a finite positive number; got 0"),
        ({"snr_threshold": float("nan")}, ValueError, r"snr_threshold must be a finite positive number; got nan"),
        ({"within_documents": "yes"}, TypeError, r"within_documents must be True or False; got 'yes'"),
        ({"external": "no-such-file.csv"}, FileNotFoundError, r"no-such-file.csv"),
    ],
)
def test_measure_checks_every_parameter_before_counting(monkeypatch, bad, error, match):
    def never(*args, **kwargs):
        raise AssertionError("counting started before the parameters were checked")

    monkeypatch.setattr("corpus_stats.correlations.curve.correlation_curve", never)
    monkeypatch.setattr("corpus_stats.entropy.curve.entropy_curve", never)
    stream = cs.TokenStream.from_array(np.arange(2000) % 7, vocab_size=7, doc_offsets=np.arange(0, 2001, 100))
    with pytest.raises(error, match=match):
        pipeline.measure(stream, **{"lags": [1, 2], "n_max": 3, **bad})


def test_measure_builds_the_shards_once_for_both_curves(monkeypatch):
    from corpus_stats.correlations import curve as c_curve
    from corpus_stats.entropy import curve as e_curve

    seen = {}
    built = []
    real_shards = cs.TokenStream.shards

    def count_shards(self, n_shards=20):
        if not isinstance(n_shards, Shards):
            built.append(n_shards)
        return real_shards(self, n_shards)

    def spy(name, real):
        def wrapper(stream, *args, n_shards, **kwargs):
            seen[name] = n_shards
            return real(stream, *args, n_shards=n_shards, **kwargs)

        return wrapper

    monkeypatch.setattr(cs.TokenStream, "shards", count_shards)
    monkeypatch.setattr(c_curve, "correlation_curve", spy("c", c_curve.correlation_curve))
    monkeypatch.setattr(e_curve, "entropy_curve", spy("h", e_curve.entropy_curve))
    tokens = np.random.default_rng(0).integers(0, 7, 3000)
    stream = cs.TokenStream.from_array(tokens, vocab_size=7, doc_offsets=np.arange(0, 3001, 100))
    m = pipeline.measure(stream, lags=[1, 2], n_max=2, n_shards=6, predict=False)
    assert built == [6] and seen["c"] is seen["h"] and seen["c"].n_shards == 6
    assert m.correlations.options["n_shards"] == m.entropy.options["n_shards"] == 6


def test_snr_threshold_and_seed_policy_flow_into_the_prediction(copy_measurement):
    from scaling import SNR_THRESHOLD

    _, m = copy_measurement
    assert m.options["snr_threshold"] == SNR_THRESHOLD
    assert m.options["seed_policy"].startswith("numpy.random.SeedSequence(seed).spawn(")
    full = m.prediction.get("full")  # present when alpha_D was predicted
    assert full is None or full["options"]["snr_threshold"] == SNR_THRESHOLD
    assert (
        "signal/noise >= 1e+09"
        in report_summary.run_prediction(dataclasses.replace(m, options=dict(m.options, snr_threshold=1e9)))["error"]
    )


def test_exponent_alone_is_the_one_predict_chooses():
    """Without beta (threshold out of reach) the summary still gives gamma, by predict's own rule."""
    from test_report import make_measurement

    from scaling import choose_exponents

    m = make_measurement()
    joint = report_summary.run_prediction(m)
    strict = dataclasses.replace(m, options=dict(m.options, snr_threshold=1e9))
    alone = report_summary.run_prediction(strict)
    assert "signal/noise >= 1e+09" in alone["error"] and alone["beta"] == {}
    for key in ("value", "window", "n_points", "method", "H_inf", "curve", "interval"):
        assert alone["gamma"][key] == pytest.approx(joint["gamma"][key]), key
    choice = choose_exponents(strict, **report_summary.prediction_rules(strict))
    assert choice.beta is None and "signal/noise" in choice.beta_error
    assert alone["gamma"]["value"] == pytest.approx(choice.gamma.fit.exponent)
    assert "signal/noise < 1e+09 at every lag" in report_summary.format_summary(strict.with_prediction(alone))


@pytest.mark.slow
def test_demo_recovers_known_answers():
    from corpus_stats.validation.demo import format_demo, run_demo

    results = run_demo()
    rows = {r.quantity.split(" (")[0]: r for res in results for r in res["rows"]}
    # every exponent row is a like-for-like comparison that agrees at the default size
    for name in ("beta", "gamma", "alpha_D = gamma/(2 beta)"):
        assert rows[name].verdict.startswith("agrees"), rows[name]
        lo, hi = rows[name].interval
        assert lo <= rows[name].truth <= hi
    # H_n within its total error wherever it is called valid (n = 1..6 here), not only at small n
    for k in ("H_1", "H_2", "H_4", "H_6", "‖C(1)‖_op"):
        assert rows[k].verdict.startswith("agrees"), rows[k]
    text = format_demo(results)
    assert "copy process" in text and "two different corpora" in text
    assert "cannot be determined from counts at this size" in text  # the asymptotic gamma


def _hand_made(prediction, n_documents=100, n_tokens=100_000, **entropy_extra):
    """A Measurement from test_report's clean curves, with chosen provenance and entropy fields."""
    from test_report import correlation_fields, entropy_fields, real_or_fake

    rng = np.random.default_rng(21)
    f = entropy_fields(rng, n_max=8)
    f.update(entropy_extra)
    corr = real_or_fake("correlations", "CorrelationCurve", correlation_fields(rng))
    ent = real_or_fake("entropy", "EntropyCurve", f)
    prov = {"n_tokens": n_tokens, "n_documents": n_documents, "tokenizer": "bpe:8192"}
    return Measurement(corr, ent, prov, {}, {}, prediction)


def test_summary_shows_extrapolated_range_and_gamma_curve():
    n = np.arange(9)
    gamma = {"value": 0.4, "stderr": 0.05, "window": [1, 7], "H_inf": 2.0, "curve": "extrapolated"}
    m = _hand_made(
        {"beta": {"value": 0.9}, "gamma": gamma, "alpha_D": {"value": 0.22}, "warnings": []},
        extrapolated=np.where(n >= 1, 3.0, np.nan),
        extrapolated_stderr=np.full(9, 0.01),
        extrapolated_valid=n <= 7,
    )
    text = report_summary.format_summary(m)
    assert "valid n = 1..4 (size-extrapolated: n = 1..7)" in text
    assert "fitted on the extrapolated H_n" in text
    assert "to do" not in text  # both exponents measured: no advice
    # no extension beyond `valid`: nothing extra said
    m = _hand_made(
        {"beta": {"value": 0.9}, "gamma": dict(gamma, curve="corrected"), "warnings": []},
        extrapolated=np.full(9, 3.0),
        extrapolated_stderr=np.full(9, 0.01),
        extrapolated_valid=n <= 4,
    )
    text = report_summary.format_summary(m)
    assert "size-extrapolated" not in text and "fitted on the corrected H_n" in text


def test_advice_for_too_few_tokens():
    failed = {"error": "x", "warnings": ["no alpha_D: x"], "beta": {}, "gamma": {}}
    # many documents, beta measured but gamma not (valid only to n = 1): e^(H_2+H_3+H_4) more tokens
    m = _hand_made(dict(failed, beta={"value": 0.9}), valid=np.arange(9) <= 1)
    h = np.asarray(m.entropy.corrected)
    line = report_summary.small_corpus_advice(m)
    assert line.startswith(
        f"no gamma (100,000 tokens now): H_n valid to n = 4 needs roughly {np.exp(h[2:5].sum()):.1g}x more tokens"
    )
    assert "--entropy-curve" in line and "beta:" not in line
    # beta missing with signal below the threshold: (5 / third-best snr)^2 more tokens
    corr_snr = np.sort(np.asarray(m.correlations.snr))[::-1]
    m = _hand_made(dict(failed, gamma={"value": 0.3}))
    m = dataclasses.replace(m, options={"snr_threshold": 2 * corr_snr[2]})  # the threshold it was measured with
    line = report_summary.small_corpus_advice(m)
    assert line == "no beta (100,000 tokens now): about 4.0x more tokens (signal/noise grows like √tokens)"
    assert report_summary.small_corpus_advice(m.with_prediction(None)) is None


def test_summary_title_shortens_many_sources():
    m = _hand_made({"beta": {"value": 0.9}, "gamma": {}, "warnings": []})
    sources = [{"name": f"books/b{i}.txt"} for i in range(28)]
    m = dataclasses.replace(m, provenance=dict(m.provenance, sources=sources))
    title = report_summary.format_summary(m).splitlines()[0]
    assert title.endswith("books/b0.txt, books/b1.txt, ... (26 more files)")


@pytest.mark.parametrize("n_docs", [1, 3])
def test_fewer_documents_than_shards_use_token_blocks_and_say_so(n_docs):
    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 6, 3_000) for _ in range(n_docs)]
    stream = cs.TokenStream.from_documents(docs, vocab_size=6)
    m = pipeline.measure(stream, lags=[1, 2, 4], n_max=2, n_shards=8, predict=False)
    # a block jackknife over 8 equal token ranges, not n_docs document replicates
    assert m.correlations.op_jackknife.shape[0] == 8 and m.entropy.corrected_jackknife.shape[0] == 8
    note = f"{n_docs} document{'s' if n_docs > 1 else ''}, fewer than the 8 shards: the jackknife shards are 8"
    assert f"note      {note} equal token ranges (block jackknife)" in report_summary.format_summary(m)
    doc = json.loads(m.to_json())  # and in report.json, for both statistics
    assert doc["correlations"]["options"]["shard_note"].startswith(note)
    assert any(n.startswith(note) for n in doc["correlations"]["options"]["notes"])
    assert any(n.startswith(note) for n in doc["entropy"]["options"]["notes"])
    enough = pipeline.measure(stream, lags=[1, 2], n_max=2, n_shards=n_docs, predict=False)
    assert "note      " not in report_summary.format_summary(enough)


def test_advice_with_too_few_lags_names_the_signal_it_has():
    # lags 1 and N-1: t = 1 has signal/noise 7.7, t = N-1 none (a single pair): not "no signal"
    failed = {"error": "x", "warnings": [], "beta": {}, "gamma": {"value": 0.3}}
    m = _hand_made(failed)
    corr = dataclasses.replace(m.correlations, lags=np.array([1, 99_999]), snr=np.array([7.7, np.nan]))
    m = Measurement(corr, m.entropy, m.provenance, {}, {}, failed)
    line = report_summary.small_corpus_advice(m)
    assert "no signal" not in line
    assert "only 1 lag of this run has a signal (best: 7.7 at t = 1); measure more lags (--lags" in line
    weak = Measurement(dataclasses.replace(corr, snr=np.array([2.5, 1.0])), m.entropy, m.provenance, {}, {}, failed)
    assert "only 2 lags of this run have a signal (best: 2.5 at t = 1)" in report_summary.small_corpus_advice(weak)
    assert "and about 4.0x more tokens" in report_summary.small_corpus_advice(weak)
    none = Measurement(dataclasses.replace(corr, snr=np.array([np.nan, -1.0])), m.entropy, m.provenance, {}, {}, failed)
    assert "shows no signal" in report_summary.small_corpus_advice(none)
