"""`corpus-stats predict` and `corpus-stats compare` on a saved report with planted curves."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from test_scaling_predict import planted

from corpus_stats.cli import cli


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    from corpus_stats.correlations.curve import CorrelationCurve
    from corpus_stats.entropy.curve import EntropyCurve
    from corpus_stats.report.measurement import Measurement

    d = planted(seed=2)
    c = dict(d["correlations"])
    for k, v in (
        ("fro", "op"),
        ("floor_fro", "floor_op"),
        ("fro_debiased", "op_debiased"),
        ("fro_jackknife", "op_jackknife"),
    ):
        c[k] = c[v]
    c["op_stderr"] = c["fro_stderr"] = (0.02 * np.asarray(c["op"])).tolist()
    m = Measurement(
        CorrelationCurve.from_dict(c),
        EntropyCurve.from_dict(d["entropy"]),
        provenance={"source": {"generator": "planted"}},
    )
    out = tmp_path_factory.mktemp("report")
    m.save(out)
    return out


def test_predict_text_and_json(report_dir):
    runner = CliRunner()
    res = runner.invoke(cli, ["predict", str(report_dir / "report.json"), "-P", "1e6", "-P", "1e9"])
    assert res.exit_code == 0, res.output
    assert "alpha_D =" in res.output and "1e+09" in res.output
    res = runner.invoke(cli, ["predict", str(report_dir), "--json", "--tokens", "1e8"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)  # exactly one JSON document
    assert doc["alpha_D"]["method"] == "joint jackknife"
    assert doc["tokens"] == [1e8] and abs(doc["beta"]["fit"]["exponent"] - 0.9) < 0.05


def test_compare_learning_curve_csv(report_dir, tmp_path):
    P = np.geomspace(1e6, 1e8, 6)
    csv = tmp_path / "lc.csv"
    csv.write_text("tokens,loss\n" + "".join(f"{p},{2 + 5 * p**-0.2}\n" for p in P))
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(csv), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["n_envelope"] == 6 and doc["measured_offset"]["exponent"] == pytest.approx(0.2, abs=0.02)
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(csv)])
    assert res.exit_code == 0 and "predicted alpha_D" in res.output


def test_cli_errors_are_one_line(report_dir, tmp_path):
    bad = tmp_path / "lc.csv"
    bad.write_text("tokens,loss\n1e6,3.0\n2e6,2.9\n")
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(bad)])
    assert (
        res.exit_code == 1 and "a learning curve needs at least 3 rows (points) to fit an exponent; got 2" in res.output
    )
    assert "Traceback" not in res.output
    bad.write_text("tokens,loss\n1e6,3.0\n1e6,2.9\n1e6,2.8\n")  # 3 rows, one P
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(bad)])
    assert res.exit_code == 1 and "at least 3 distinct P; got 1" in res.output
    res = CliRunner().invoke(cli, ["predict", str(report_dir), "--snr-threshold", "1e9"])
    assert res.exit_code == 1 and "signal/noise >= 1e+09" in res.output


GOOD = "tokens,loss\n1e6,3.0\n2e6,2.9\n4e6,2.8\n"


@pytest.mark.parametrize(
    "content, line, reason",
    [
        ("tokens,loss\n1e6,3.0\n2e6,2.9,7\n4e6,2.8\n", 3, "3 cells where the header has 2"),  # ragged
        ("tokens,loss\n1e6,3.0\n2e6\n4e6,2.8\n", 3, "1 cells where the header has 2"),
        ("tokens,loss\n1e6,3.0\n2e6,-2.9\n4e6,2.8\n", 3, "loss must be a positive number; got '-2.9'"),
        ("tokens,loss\n1e6,3.0\n2e6,2.9\n-4e6,2.8\n", 4, "tokens must be a positive number; got '-4e6'"),
        ("tokens,loss\n1e6,3.0\n2e6,nan\n4e6,2.8\n", 3, "loss must be a positive number; got 'nan'"),
        ("tokens,loss\n1e6,3.0\n2e6,\n4e6,2.8\n", 3, "loss must be a positive number; got ''"),
        ("tokens,loss\n1e6,3.0\n2e6,abc\n4e6,2.8\n", 3, "loss must be a positive number; got 'abc'"),
        ("steps,loss\n1,3.0\n", 1, "needs the header columns tokens \\(or P\\) and loss"),
    ],
)
def test_malformed_learning_curve_names_file_line_and_reason(report_dir, tmp_path, content, line, reason):
    lc = tmp_path / "lc.csv"
    lc.write_text(content)
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(lc)])
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {lc}, line {line}: "), res.output
    assert re.search(reason, lines[0]), lines[0]
    assert "argument" not in lines[0]  # speaks of the file, not of API arguments


def test_binary_learning_curve_is_one_line(report_dir, tmp_path):
    lc = tmp_path / "lc.csv"
    lc.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    res = CliRunner().invoke(cli, ["compare", str(report_dir), str(lc)])
    assert res.exit_code == 1 and res.output.startswith(f"Error: {lc} is not a text CSV file"), res.output
    lc.write_text(GOOD)
    assert CliRunner().invoke(cli, ["compare", str(report_dir), str(lc)]).exit_code == 0


def test_predict_names_file_and_field_of_an_inconsistent_value(report_dir, tmp_path):
    doc = json.loads((report_dir / "report.json").read_text())
    doc["correlations"]["op_debiased"][2] = -5.0  # signal/noise stays high: inconsistent
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps(doc))
    res = CliRunner().invoke(cli, ["predict", str(bad)])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert str(bad) in res.output and r"correlations.op_debiased[2] (lag 3) is -5" in res.output
