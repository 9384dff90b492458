"""H_n estimators against exact synthetic ground truth, validity mask, serialisation, external curves."""

import json

import numpy as np
import pytest
from conftest import CORPORA, PAPER_TOKENIZER, shared_file  # noqa: F401

from corpus_stats import synthetic
from corpus_stats.entropy.curve import EntropyCurve, entropy_curve, read_entropy_curve
from corpus_stats.stream import TokenStream


@pytest.fixture(scope="module")
def markov8():
    return synthetic.markov_chain(10**6, vocab_size=8, order=2, n_successors=3, seed=1)


def test_markov_corrected_matches_exact(markov8):
    curve = entropy_curve(markov8.stream, 6, upper=False)
    exact = markov8.exact_entropy(6)
    k = 2
    assert np.all(np.abs(curve.corrected[: k + 3] - exact[: k + 3]) < 0.02)
    assert curve.valid[: k + 3].all()
    # the jackknife error is a sane size: a few x 1e-4 nats at 1e6 tokens
    assert np.all((curve.stderr[: k + 3] > 1e-5) & (curve.stderr[: k + 3] < 0.01))
    assert curve.corrected_jackknife.shape == (20, 7)
    assert np.all(np.isnan(curve.upper))


def test_markov_sparse_v16_k3_chain():
    """Issue 4's second Markov case: V = 16, k = 3, three successors per context, 1e6 tokens."""
    corp = synthetic.markov_chain(10**6, vocab_size=16, order=3, n_successors=3, seed=1)
    curve = entropy_curve(corp.stream, 6)
    exact = corp.exact_entropy(6)
    k = 3
    assert np.all(np.abs(curve.corrected[: k + 3] - exact[: k + 3]) < 0.02)
    assert curve.valid[: k + 2].all()
    # n = 5 sits 0.0036 nats (6 jackknife s.e.) below the truth at 1e6 tokens: valid only with that
    # bias carried as a systematic error
    v = curve.valid
    assert np.all(np.abs(curve.corrected[v] - exact[v]) <= 2 * curve.total_error[v])
    assert not v[k + 2] or curve.systematic[k + 2] > exact[k + 2] - curve.corrected[k + 2]
    assert np.all(curve.upper >= exact - 0.02)
    # plug-in at n = 6 has fallen below the truth; the mask must reject it
    assert exact[6] - curve.plugin[6] > 0.05 and not curve.valid[6]


def test_markov_upper_bound_holds():
    corp = synthetic.markov_chain(3 * 10**5, vocab_size=8, order=2, n_successors=3, seed=2)
    curve = entropy_curve(corp.stream, 4)
    exact = corp.exact_entropy(4)
    assert np.all(curve.upper >= exact - 0.02)
    assert np.all(curve.upper[:3] <= exact[:3] + 0.05)  # and it is tight for n <= k on this chain


@pytest.mark.slow
def test_markov_upper_bound_holds_1e6(markov8):
    curve = entropy_curve(markov8.stream, 6)
    assert np.all(curve.upper >= markov8.exact_entropy(6) - 0.02)


def test_iid_zipf_mask_rejects_fake_decay():
    corp = synthetic.iid_zipf(10**6, vocab_size=5000, seed=3)
    curve = entropy_curve(corp.stream, 6, upper=False)
    h0 = corp.exact_entropy(6)[0]
    dropped = curve.plugin < curve.plugin[0] - 0.05
    assert dropped[1:].all()  # plug-in fakes a steep decay ...
    assert not np.any(curve.valid & dropped)  # ... which the mask rejects everywhere
    assert np.all(np.abs(curve.corrected[curve.valid] - h0) < 0.02)  # no spurious decay survives


def test_santa_fe_bracket_holds_where_valid():
    # many documents (500), so the 10% held-out side is not dominated by a few documents' hidden bits
    corp = synthetic.santa_fe(10**6, b=0.5, doc_length=2000, seed=4)
    curve = entropy_curve(corp.stream, 6, within_documents=True)
    exact = corp.exact_entropy(6)
    v = curve.valid
    assert v[0]
    assert np.all(curve.plugin[v] <= exact[v] + 2 * curve.stderr[v] + 1e-3)
    assert np.all(np.abs(curve.corrected[v] - exact[v]) <= 2 * curve.total_error[v])
    assert np.all(exact[v] <= curve.upper[v])
    # beyond the valid range the count-based estimates fall well below the truth
    assert curve.corrected[6] < exact[6] - 0.1 and not v[6]


def test_single_document_and_stream_modes():
    rng = np.random.default_rng(5)
    s = TokenStream.from_array(rng.integers(0, 3, 5000), vocab_size=3)
    curve = entropy_curve(s, 3)
    assert "equal token ranges" in curve.options["notes"][0]
    assert any("split by position" in note for note in curve.options["notes"])  # held-out split
    assert np.all(curve.upper >= np.log(3) - 0.01)
    assert curve.corrected[:3] == pytest.approx(np.log(3), abs=0.01)
    assert curve.options["ngrams"]["positions"][:5] == [5000, 5000, 4999, 4998, 4997]
    docs = TokenStream.from_array(s.tokens, vocab_size=3, doc_offsets=np.arange(0, 5001, 10))
    within = entropy_curve(docs, 3, within_documents=True, upper=False)
    assert within.options["ngrams"]["positions"][4] == 500 * 7


def test_within_documents_conditional_entropy_of_one_sample():
    # short documents: H_n = H(n+1) - H(prefixes of those (n+1)-grams), never negative, equal to the
    # naive conditional plug-in entropy of the (n+1)-gram sample
    from collections import Counter

    rng = np.random.default_rng(9)
    s = TokenStream.from_array(rng.integers(0, 50, 3000), vocab_size=50, doc_offsets=np.arange(0, 3001, 3))
    curve = entropy_curve(s, 4, within_documents=True, upper=False)
    assert np.all(curve.plugin[:3] >= 0) and np.all(np.isnan(curve.plugin[3:]))
    grams = Counter(tuple(s.tokens[p : p + 3]) for p in range(0, 3000, 3))
    ctx = Counter()
    for g, k in grams.items():
        ctx[g[:2]] += k
    naive = -sum(k / 1000 * np.log(k / ctx[g[:2]]) for g, k in grams.items())
    assert curve.plugin[2] == pytest.approx(naive, abs=1e-12)
    assert not curve.valid[3:].any()


def test_round_trip_json():
    corp = synthetic.markov_chain(20_000, vocab_size=8, order=2, n_successors=3, seed=6)
    curve = entropy_curve(corp.stream, 4, upper=False)
    d = json.loads(json.dumps(curve.to_dict()))
    back = EntropyCurve.from_dict(d)
    for name in ("n", "plugin", "corrected", "upper", "stderr", "valid", "corrected_jackknife"):
        np.testing.assert_array_equal(getattr(back, name), getattr(curve, name))
    assert back.external is None and back.options == d["options"]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"n_max": 0}, ValueError, "n_max must be an integer in 1..254; got 0"),
        ({"n_max": 1000}, ValueError, "n_max must be an integer in 1..254; got 1000"),
        ({"n_max": 2.5}, TypeError, "n_max must be an int; got float"),
        ({"n_max": 10}, ValueError, r"n_max must be smaller than the number of tokens \(6\); got 10"),
        ({"n_shards": 0, "n_max": 2}, ValueError, "n_shards must be an integer in 1..255; got 0"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    s = TokenStream.from_array(np.arange(6), vocab_size=6)
    with pytest.raises(exc, match=match):
        entropy_curve(s, **{"upper": False, **kwargs})


def test_bad_stream_type():
    with pytest.raises(TypeError, match="stream must be a TokenStream; got list"):
        entropy_curve([1, 2, 3])


# -- external curves ------------------------------------------------------------------------------


def test_read_csv_json_and_bits(tmp_path):
    f = tmp_path / "ln.csv"
    f.write_text("# model losses\nn,loss,stderr\n2,2.5,0.01\n1,3.0,0.02\n")
    c = read_entropy_curve(f)
    assert c.n.tolist() == [1, 2] and c.loss.tolist() == [3.0, 2.5] and c.stderr.tolist() == [0.02, 0.01]
    g = tmp_path / "ln_bits.csv"
    g.write_text("0,2\n1,1\n")
    b = read_entropy_curve(g, units="bits")
    assert b.loss == pytest.approx([2 * np.log(2), np.log(2)]) and np.isnan(b.stderr).all()
    j = tmp_path / "ln.json"
    j.write_text(json.dumps({"n": [1, 2, 3], "loss": [3.5, 2.8, 2.5]}))
    assert read_entropy_curve(j).loss.tolist() == [3.5, 2.8, 2.5]
    r = tmp_path / "records.json"
    r.write_text(json.dumps([{"n": 1, "loss": 3.5, "stderr": 0.1}, {"n": 0, "loss": 5.0}]))
    assert read_entropy_curve(r).n.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("n,loss\n1,3.0\n2,nan\n", r"ln\.csv, line 3: loss must be a finite non-negative number; got 'nan'"),
        ("n,loss\n1,-3.0\n", r"line 2: loss must be a finite non-negative number; got '-3.0'"),
        ("1,3.0\n1.5,2.0\n", r"line 2: n must be a non-negative integer; got '1.5'"),
        ("1,3.0\n1,2.0\n", r"line 2: n=1 repeats .*line 1"),
        ("a,b\n1,2\n", r"line 1: header must name columns 'n' and 'loss'"),
        ("1\n", r"line 1: expected columns n, loss\[, stderr\]; got 1 field"),
        ("n,loss\n1,abc\n", r"line 2: loss must be a number; got 'abc'"),
        ("# nothing\n", r"no \(n, loss\) rows found"),
    ],
)
def test_malformed_csv(tmp_path, text, match):
    f = tmp_path / "ln.csv"
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        read_entropy_curve(f)


def test_malformed_json_and_units(tmp_path):
    f = tmp_path / "ln.json"
    f.write_text('{"n": [1, 2],\n "loss": [1.0, null]}')
    with pytest.raises(ValueError, match=r"ln\.json, entry 1: loss must be a number; got None"):
        read_entropy_curve(f)
    f.write_text('{"n": [1,\n 2')
    with pytest.raises(ValueError, match=r"ln\.json, line 2: not valid JSON"):
        read_entropy_curve(f)
    with pytest.raises(ValueError, match="units must be 'nats' or 'bits'; got 'bytes'"):
        read_entropy_curve(f, units="bytes")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_entropy_curve(tmp_path / "absent.csv")


def test_external_curve_aligned(tmp_path):
    f = tmp_path / "ln.csv"
    f.write_text("n,loss\n1,3.55\n2,2.83\n9,1.0\n")
    s = TokenStream.from_array(np.random.default_rng(7).integers(0, 4, 2000), vocab_size=4)
    curve = entropy_curve(s, 3, upper=False, external=f)
    assert np.isnan(curve.external[0]) and curve.external[1:3].tolist() == [3.55, 2.83]
    assert np.isnan(curve.external[3]) and curve.options["external_points_beyond_n_max"] == 1
    back = EntropyCurve.from_dict(json.loads(json.dumps(curve.to_dict())))
    np.testing.assert_array_equal(back.external, curve.external)


# -- TinyStories heads (paper tokenizer) ---------------------------------------------------------


@pytest.mark.slow
def test_tinystories_heads_paper_bracket(capsys):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(shared_file("tokenizers/tinystories-bpe8192/tokenizer.json")))
    lines = []
    for name in ("tinystories-valid-head.txt", "tinystories-train-head.txt"):
        lines += [x for x in shared_file(f"corpora/{name}").read_text().splitlines() if x.strip()]
    docs = [e.ids + [1] for e in tok.encode_batch(lines)]
    stream = TokenStream.from_documents(docs, vocab_size=8192, eos_id=1)
    curve = entropy_curve(stream, 8)
    paper = np.r_[np.nan, 3.55 * np.arange(1, 9) ** -0.325]
    with capsys.disabled():
        print(f"\nTinyStories heads: {stream.n_tokens:,} tokens")
        print(" n  plugin  corrected  upper   valid  paper")
        for n in range(9):
            print(
                f"{n:2d}  {curve.plugin[n]:6.3f}  {curve.corrected[n]:6.3f}    {curve.upper[n]:6.3f}  "
                f"{bool(curve.valid[n])!s:5}  {paper[n]:.3f}"
            )
    assert curve.plugin[1:5] == pytest.approx([3.35, 1.92, 0.91, 0.41], abs=0.15)
    assert np.all(curve.plugin[1:] <= paper[1:]) and np.all(paper[1:5] <= curve.upper[1:5])


def test_cli_units_bits_and_bad_curve(tmp_path):
    from click.testing import CliRunner

    from corpus_stats.cli import cli

    rng = np.random.default_rng(8)
    text = "\n\n".join("".join(rng.choice(list("abcd "), 400)) for _ in range(30))
    (tmp_path / "c.txt").write_text(text)
    (tmp_path / "ln.csv").write_text("n,loss\n1,2.0\n2,1.5\n")
    base = [
        "measure",
        str(tmp_path / "c.txt"),
        "-t",
        "chars",
        "--lags",
        "1,2",
        "--n-max",
        "3",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--doc-split",
        "blank-line",
    ]
    res = CliRunner().invoke(
        cli,
        base
        + ["--entropy-curve", str(tmp_path / "ln.csv"), "--units", "bits", "--out", str(tmp_path / "out"), "--json"],
    )
    assert res.exit_code == 0, res.output
    ent = json.loads(res.stdout)["entropy"]
    assert ent["external"][1:3] == pytest.approx([2.0 * np.log(2), 1.5 * np.log(2)])
    (tmp_path / "bad.csv").write_text("n,loss\n1,-2\n")
    res = CliRunner().invoke(
        cli, base + ["--entropy-curve", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "out2")]
    )
    assert res.exit_code == 1 and "bad.csv, line 2: loss must be a finite non-negative number" in res.output


# -- corpus-size extrapolation --------------------------------------------------------------------


def test_fit_finite_size_recovers_planted_limit():
    from corpus_stats.entropy.extrapolation import fit_finite_size

    rng = np.random.default_rng(11)
    N = np.array([1e5, 2e5, 4e5, 8e5, 1.6e6])
    for direction, delta in ((+1, 0.3), (-1, 0.7)):
        y = 3.0 - direction * 0.5 * (N / N[-1]) ** -delta + rng.normal(0, 1e-3, N.size)
        fit = fit_finite_size(N, y, np.full(N.size, 1e-3), direction)
        assert abs(fit.limit - 3.0) < 3 * fit.stderr and fit.stderr < 0.05
        assert abs(fit.delta - delta) < 0.1
    flat = fit_finite_size(N, np.full(5, 2.0), np.full(5, 1e-3), +1)
    assert flat.limit == pytest.approx(2.0) and np.isnan(flat.delta) and flat.amplitude == 0
    # a trend the wrong way (falling while it should rise) is not extrapolated
    wrong = fit_finite_size(N, 2.0 + 0.1 * (N / N[-1]) ** -0.5, np.full(5, 1e-3), +1)
    assert np.isnan(wrong.delta) and wrong.amplitude == 0
    assert np.isnan(fit_finite_size(N[:1], [1.0], [0.1], +1).limit)
    with pytest.raises(ValueError, match="direction must be"):
        fit_finite_size(N, N, N, 0)


def test_extrapolation_markov_matches_exact():
    corp = synthetic.markov_chain(2 * 10**5, vocab_size=8, order=2, n_successors=3, seed=1)
    curve = entropy_curve(corp.stream, 6)
    exact = corp.exact_entropy(6)
    k = 2
    assert curve.extrapolated_valid[: k + 3].all()
    assert np.all(np.abs(curve.extrapolated[: k + 3] - exact[: k + 3]) < 0.02)
    ex = curve.options["extrapolation"]
    assert len(ex["lower_sizes"]) == 5 and len(ex["upper_sizes"]) == 5
    assert ex["lower_sizes"][-1] == corp.stream.n_tokens
    # upper is the running minimum of the raw Kneser-Ney values
    raw = np.array(curve.options["upper_raw"], dtype=float)
    assert np.array_equal(curve.upper, np.fmin.accumulate(raw))


def test_extrapolation_iid_no_fake_decay():
    corp = synthetic.iid_zipf(2 * 10**5, vocab_size=5000, seed=3)
    curve = entropy_curve(corp.stream, 6)
    h0 = corp.exact_entropy(6)[0]
    assert curve.plugin[1] < h0 - 0.5  # the counts fake a decay ...
    v = curve.extrapolated_valid
    assert v[0]
    assert np.all(np.abs(curve.extrapolated[v] - h0) < 0.05)  # ... that the extrapolation rejects


def test_extrapolation_santa_fe_interval_holds_exact():
    corp = synthetic.santa_fe(3 * 10**5, b=0.5, doc_length=2000, seed=4)
    curve = entropy_curve(corp.stream, 6, within_documents=True)
    exact = corp.exact_entropy(6)
    v = curve.extrapolated_valid
    # the table is shown only when an assertion fails (a quiet run prints nothing)
    table = "\nSanta Fe 3e5: n, exact, corrected, upper, extrapolated ± se, valid, extrapolated_valid\n" + "\n".join(
        f"  {n} {exact[n]:.3f} {curve.corrected[n]:.3f} {curve.upper[n]:.3f} "
        f"{curve.extrapolated[n]:.3f} ± {curve.extrapolated_stderr[n]:.3f} {bool(curve.valid[n])} {bool(v[n])}"
        for n in range(7)
    )
    # the extrapolation reaches beyond the corrected curve's valid range ...
    assert v.sum() > curve.valid.sum(), table
    # ... and the exact curve lies inside its 2-sigma interval there
    assert np.all(np.abs(curve.extrapolated[v] - exact[v]) <= 2 * curve.extrapolated_stderr[v]), table


def test_extrapolation_off_and_old_dicts():
    corp = synthetic.markov_chain(20_000, vocab_size=4, order=1, n_successors=2, seed=0)
    off = entropy_curve(corp.stream, 3, extrapolate=False)
    assert off.extrapolated is None and off.extrapolated_valid is None
    assert "extrapolation" not in off.options and off.extrapolated_range is None
    d = off.to_dict()
    for key in ("extrapolated", "extrapolated_stderr", "extrapolated_valid"):
        d.pop(key)  # a report written before these fields existed
    assert EntropyCurve.from_dict(d).extrapolated is None
    on = entropy_curve(corp.stream, 3, upper=False, extrapolate=True)
    # without the upper bound nothing checks the extrapolation: its mask is the validity mask
    assert np.array_equal(on.extrapolated_valid, on.valid)
    back = EntropyCurve.from_dict(json.loads(json.dumps(on.to_dict())))
    assert np.array_equal(back.extrapolated_valid, on.extrapolated_valid)
    np.testing.assert_allclose(back.extrapolated, on.extrapolated)
    np.testing.assert_allclose(back.extrapolated_stderr, on.extrapolated_stderr)


def test_residual_bias_projects_the_size_curve_not_the_halving_shift():
    from corpus_stats.entropy.extrapolation import DELTA_FALLBACK, fit_finite_size, residual_bias

    N = 1e6 * np.array([1 / 16, 1 / 8, 1 / 4, 1 / 2, 1])
    y = 1.2 - 0.03 * (N / N[-1]) ** -0.35  # bias 0.03 at full size; halving shift only 0.008
    rb = residual_bias(fit_finite_size(N, y, np.full(5, 1e-4), +1), y[-1], 1e-4)
    assert rb.bias == pytest.approx(0.03, abs=1e-3) and rb.method == "size curve"
    assert rb.systematic >= rb.bias and y[-1] - y[-2] < rb.bias / 3
    fallback = residual_bias(fit_finite_size(N[-1:], y[-1:], [1e-4], +1), y[-1], 1e-4, shift=-0.008)
    assert fallback.method == "halving shift"
    assert fallback.bias == pytest.approx(0.008 / (2**DELTA_FALLBACK - 1))


def test_santa_fe_valid_points_are_within_their_total_error():
    """Issue 12: b = 0.3 at 1e6 tokens had n <= 10 'valid' while n = 10 sat 33 s.e. below exact."""
    corp = synthetic.santa_fe(10**6, b=0.3, n_keys=10_000, doc_length=10_000, seed=1)
    # seed 1: the size blocks of seed 0 leave the bias exponent at n = 0 undetermined (projected bias
    # 0.20 ± 0.12 nats), which marks every n invalid -- conservative; docs/entropy.md states the spread
    curve = entropy_curve(corp.stream, 10, within_documents=True, upper=False, seed=1)
    exact = corp.exact_entropy(10)
    v = curve.valid
    assert v[0] and not v[10]
    assert np.all(np.abs(curve.corrected[v] - exact[v]) <= 2 * curve.total_error[v])
    assert np.all(curve.systematic[v] >= 0) and np.all(np.isfinite(curve.systematic))
    # beyond the valid range the projected bias is what makes the point invalid
    bias = np.array(curve.options["bias"]["projected"])
    assert np.all(bias[~v & (curve.n <= 8)] > 2 * curve.stderr[~v & (curve.n <= 8)])
    back = type(curve).from_dict(curve.to_dict())
    np.testing.assert_allclose(back.systematic, curve.systematic)
