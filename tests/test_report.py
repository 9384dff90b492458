"""Tests of corpus_stats.report: the Measurement, its JSON schema (report.schema), CSV files and atomic writes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pytest

from corpus_stats._io import json_safe
from corpus_stats.report.loss_tables import read_collapse_table
from corpus_stats.report.measurement import Measurement, entropy_csv, load_measurement
from corpus_stats.report.schema import REPORT_SCHEMA, SCHEMA_VERSION, validate_report

# -- hand-made curves (the shared interface's fields), independent of the estimators ----------


@dataclass(frozen=True)
class FakeCurve:
    """Stand-in with the fields and to_dict() of CorrelationCurve / EntropyCurve."""

    fields: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    def to_dict(self):
        return json_safe(self.fields)


def correlation_fields(rng, n_lags=8, n_shards=4):
    lags = np.unique(np.geomspace(1, 256, n_lags).astype(np.int64))
    op = 0.02 * lags**-0.9
    floor = np.full(lags.size, 3e-4)
    jk = op[None, :] * (1 + 0.01 * rng.standard_normal((n_shards, lags.size)))
    deb = np.where(op > 2 * floor, op, np.nan)
    return dict(
        lags=lags,
        n_pairs=np.full(lags.size, 100_000 - lags),
        op=op,
        fro=3 * op,
        floor_op=floor,
        floor_fro=3 * floor,
        op_debiased=deb,
        fro_debiased=3 * deb,
        snr=op / floor,
        op_stderr=0.05 * op,
        fro_stderr=0.05 * op,
        op_debiased_stderr=0.06 * op,
        op_jackknife=jk,
        fro_jackknife=3 * jk,
        options={"seed": 0},
    )


def entropy_fields(rng, n_max=6, n_shards=4, external=True):
    n = np.arange(n_max + 1, dtype=np.int64)
    h = 2.0 + 3.0 * np.maximum(n, 1) ** -0.4
    h[0] = 6.0
    ext = np.where(n >= 1, h + 0.1, np.nan)
    return dict(
        n=n,
        plugin=h - 0.05 * n**2,
        corrected=h,
        upper=h + 0.3,
        stderr=np.full(n.size, 0.02),
        valid=n <= 4,
        corrected_jackknife=h[None, :] + 0.01 * rng.standard_normal((n_shards, n.size)),
        external=ext if external else None,
        external_stderr=None,
        options={"n_max": n_max},
    )


def real_or_fake(module, cls_name, fields):
    """The real curve class when its module has landed and accepts the fields, else a fake."""
    try:
        mod = __import__(f"corpus_stats.{module}", fromlist=[cls_name])
        return getattr(mod, cls_name).from_dict(json_safe(fields))
    except (ImportError, AttributeError, TypeError, KeyError, ValueError):
        return FakeCurve(fields)


def make_measurement(seed=0, prediction=None, **kw):
    rng = np.random.default_rng(seed)
    corr = real_or_fake("correlations", "CorrelationCurve", correlation_fields(rng))
    ent = real_or_fake("entropy", "EntropyCurve", entropy_fields(rng, **kw))
    prov = {"n_tokens": 100_000, "tokenizer": "bpe:8192", "inputs": [{"path": "x.txt", "sha256": "ab"}]}
    return Measurement(corr, ent, prov, {"seed": 0, "n_max": 6}, {"total": 1.5}, prediction)


# -- tests ------------------------------------------------------------------------------------


def test_to_dict_is_strict_json_and_validates():
    doc = make_measurement().to_dict()
    text = json.dumps(doc, allow_nan=False)  # NaN became null
    assert doc["schema_version"] == SCHEMA_VERSION
    validate_report(json.loads(text))
    assert doc["correlations"]["op_debiased"].count(None) > 0


def test_report_validates_against_json_schema():
    jsonschema = pytest.importorskip("jsonschema")
    doc = json.loads(make_measurement().to_json())
    jsonschema.validate(doc, REPORT_SCHEMA)


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.update(schema="other"), "schema must be 'corpus-stats/report'"),
        (lambda d: d.update(schema_version=99), "schema_version must be 1 .*got 99"),
        (lambda d: d.pop("timings"), "lacks the required field.*timings"),
        (lambda d: d["correlations"]["op"].pop(), "correlations.op must have 8 values .*got 7"),
        (lambda d: d["entropy"]["valid"].__setitem__(0, 1), r"entropy.valid\[0\] must be boolean"),
        (lambda d: d["correlations"]["op_jackknife"][0].pop(), r"op_jackknife\[0\] must have 8"),
        (lambda d: d["correlations"]["lags"].__setitem__(0, 0), r"lags\[0\] must be >= 1; got 0"),
    ],
)
def test_validate_report_names_the_broken_rule(mutate, match):
    doc = json.loads(make_measurement().to_json())
    mutate(doc)
    with pytest.raises(ValueError, match=match):
        validate_report(doc)


def test_validate_report_rejects_non_object():
    with pytest.raises(ValueError, match="must be a JSON object; got list"):
        validate_report([])


def test_save_writes_json_and_csv_and_refuses_overwrite(tmp_path):
    m = make_measurement(prediction={"alpha_D": {"value": 0.2}, "warnings": []})
    report = m.save(tmp_path / "out")
    assert report.name == "report.json"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["correlations.csv", "entropy.csv", "report.json"]
    with pytest.raises(FileExistsError, match="already exists; .*--force"):
        m.save(tmp_path / "out")
    m.save(tmp_path / "out", force=True)
    # CSV: header plus one row per lag / per n; NaN as empty cell, booleans as true/false
    corr_rows = (tmp_path / "out" / "correlations.csv").read_text().splitlines()
    assert corr_rows[0].startswith("lag,n_pairs,op,fro,floor_op")
    assert len(corr_rows) == 1 + len(m.correlations.lags)
    ent_rows = (tmp_path / "out" / "entropy.csv").read_text().splitlines()
    assert ent_rows[0] == (
        "n,plugin,corrected,upper,stderr,valid,external,external_stderr,"
        "extrapolated,extrapolated_stderr,extrapolated_valid,systematic"
    )
    assert ent_rows[1].split(",")[5] == "true" and ent_rows[1].split(",")[6] == ""
    assert ent_rows[2].split(",")[8:11] == ["", "", ""]  # not extrapolated: blank cells
    assert not list((tmp_path / "out").glob(".*tmp"))  # no temporary files left behind


def test_json_round_trip_keeps_values(tmp_path):
    m = make_measurement(prediction={"alpha_D": {"value": 0.2, "interval": [0.1, 0.3]}})
    path = m.save_json(tmp_path / "r.json")
    doc = json.loads(path.read_text())
    assert doc["prediction"]["alpha_D"]["interval"] == [0.1, 0.3]
    np.testing.assert_allclose(doc["correlations"]["op"], np.asarray(m.correlations.op))
    assert doc["provenance"]["inputs"][0]["sha256"] == "ab"


def test_load_measurement_round_trip_with_real_curves(tmp_path):
    pytest.importorskip("corpus_stats.correlations.curve")
    pytest.importorskip("corpus_stats.entropy.curve")
    m = make_measurement()
    if isinstance(m.correlations, FakeCurve) or isinstance(m.entropy, FakeCurve):
        pytest.skip("curve classes do not accept the hand-made fields yet")
    m.save(tmp_path)
    back = load_measurement(tmp_path)
    np.testing.assert_allclose(back.correlations.op, m.correlations.op)
    np.testing.assert_array_equal(back.entropy.valid, m.entropy.valid)
    assert back.options == m.options and back.timings == m.timings
    assert back.to_dict()["correlations"] == m.to_dict()["correlations"]


def test_load_measurement_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no report at .*run `corpus-stats measure`"):
        load_measurement(tmp_path)
    (tmp_path / "report.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a JSON report"):
        load_measurement(tmp_path)
    (tmp_path / "report.json").write_text(json.dumps({"schema": "corpus-stats/report", "schema_version": 0}))
    with pytest.raises(ValueError, match="schema_version must be 1"):
        load_measurement(tmp_path / "report.json")


def test_measurement_type_checks_and_repr():
    with pytest.raises(TypeError, match="Measurement.options must be a dict; got list"):
        Measurement(None, None, {}, [], {})
    m = make_measurement(prediction={"alpha_D": {"value": 0.2}})
    text = repr(m)
    assert "100,000 tokens" in text and "bpe:8192" in text and "H_n for n=0..6 (5 valid)" in text


def test_entropy_csv_holds_extrapolated_columns():
    rng = np.random.default_rng(11)
    f = entropy_fields(rng, n_max=4)
    f.update(extrapolated=f["corrected"] - 0.01, extrapolated_stderr=np.full(5, 0.03), extrapolated_valid=f["n"] <= 3)
    rows = [r.split(",") for r in entropy_csv(real_or_fake("entropy", "EntropyCurve", f)).splitlines()]
    assert rows[0][8:] == ["extrapolated", "extrapolated_stderr", "extrapolated_valid", "systematic"]
    assert float(rows[2][8]) == pytest.approx(f["corrected"][1] - 0.01)
    assert [r[10] for r in rows[1:]] == ["true"] * 4 + ["false"]


def test_read_collapse_table(tmp_path):
    path = tmp_path / "ln.csv"
    path.write_text("n,P,loss,model\n1,1e6,3.5,a\n2,1e6,3.1,a\n")
    table = read_collapse_table(path)
    assert table["n"].tolist() == [1.0, 2.0] and table["tokens"].tolist() == [1e6, 1e6]
    assert table["loss"].dtype == np.float64


@pytest.mark.parametrize(
    "text, match",
    [
        ("n,loss\n1,3.0\n", r"needs the header columns n, tokens \(or P\) and loss; got \['n', 'loss'\]"),
        ("n,tokens,loss\n1,1e6,3.0\n2,1e6,abc\n", r"ln.csv, line 3: loss must be a finite number; got 'abc'"),
        ("n,tokens,loss\n0,1e6,3.0\n", r"line 2: n must be a positive number; got '0'"),
        ("n,tokens,loss\n1,,3.0\n", r"line 2: tokens must be a positive number; got ''"),
        ("n,tokens,loss\n", r"at least one row after the header; got none"),
        ("", r"needs the header columns .*; got \[\]"),
    ],
)
def test_read_collapse_table_errors_name_file_and_line(tmp_path, text, match):
    path = tmp_path / "ln.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_collapse_table(path)


def test_correlations_csv_columns_are_the_curve_fields():
    """One list of per-lag fields, the curve's own: the CSV header and the schema follow it."""
    from corpus_stats.correlations.curve import OPTIONAL_FIELDS, PER_LAG_FIELDS, CorrelationCurve
    from corpus_stats.report.measurement import correlations_csv
    from corpus_stats.report.schema import report_schema

    lags = np.array([1, 2])
    per_lag = {name: np.array([0.5, np.nan]) for name in PER_LAG_FIELDS}
    curve = CorrelationCurve(lags, lags * 10, **per_lag, op_jackknife=np.zeros((0, 2)), fro_jackknife=np.zeros((0, 2)))
    header, first, second = correlations_csv(curve).splitlines()
    assert header.split(",") == ["lag", "n_pairs", *PER_LAG_FIELDS]
    assert first.split(",")[2:] == ["0.5"] * len(PER_LAG_FIELDS) and second.split(",")[2:] == [""] * len(PER_LAG_FIELDS)
    schema = report_schema()["properties"]["correlations"]
    assert set(PER_LAG_FIELDS) - set(OPTIONAL_FIELDS) <= set(schema["required"])
    assert set(OPTIONAL_FIELDS) <= set(schema["properties"]) - set(schema["required"])


def test_report_module_imports_no_numba():
    import subprocess
    import sys

    code = "import sys, corpus_stats.report; assert 'numba' not in sys.modules, 'numba imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
