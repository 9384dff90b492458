"""Monte Carlo H_n of grammars beyond enumeration: exact window probabilities, agreement, the method rule."""

import json
import math

import numpy as np
import pytest
from test_grammars import TINY, _brute_block_probs

from corpus_stats import synthetic
from corpus_stats.synthetic import grammar_exact as ge
from corpus_stats.synthetic import grammar_mc as gm
from corpus_stats.synthetic.grammars import build_grammar


def _tiny(name):
    spec = dict(TINY[name])
    return build_grammar(np.random.default_rng(4), spec.pop("n_levels"), spec.pop("v"), spec.pop("rules"), **spec)


@pytest.mark.parametrize("name", list(TINY))
def test_window_probabilities_equal_the_enumerated_blocks(name):
    g = _tiny(name)
    n = 5
    full = _brute_block_probs(g, n)
    windows = np.array(list(full))
    logq = gm.window_log_probabilities(g, windows)
    for k in range(1, n + 1):
        sub = _brute_block_probs(g, k)
        expect = np.array([math.log(sub[tuple(w[:k])]) for w in windows])
        np.testing.assert_allclose(logq[:, k - 1], expect, atol=1e-12, err_msg=f"{name} k={k}")


def test_sampled_windows_follow_the_stationary_distribution():
    g = _tiny("varying")  # trees of 4..9 tokens: the length-biased start matters
    windows = gm.sample_windows(np.random.default_rng(0), g, 40_000, 3)
    exact = _brute_block_probs(g, 3)
    keys, counts = np.unique(windows, axis=0, return_counts=True)
    freq = dict(zip(map(tuple, keys.tolist()), counts / counts.sum()))
    assert set(freq) <= set(exact)
    for b, p in exact.items():
        assert freq.get(b, 0.0) == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / 40_000) + 1e-4)


@pytest.mark.parametrize(
    "kind, params",
    [
        ("zipf_hierarchy", dict(n_levels=3, v=4, m=2, s=2, a=1.0)),
        ("ambiguous_hierarchy", dict(n_levels=3, v=4, m=2, s=2, ambiguity=0.25)),
        ("varying_tree_hierarchy", dict(n_levels=2, v=4, m2=2, m3=2, p2=0.5)),
    ],
)
def test_monte_carlo_agrees_with_enumeration_within_its_error(kind, params):
    g = synthetic.make(kind, 10, seed=0, **params)._model["grammar"]
    exact = ge.conditional_entropies(g, 6)
    mc = gm.monte_carlo_entropies(g, 6, n_samples=4000, seed=1)
    assert mc.method == "monte_carlo" and mc.n_samples == 4000
    assert mc.values[:2] == pytest.approx(exact[:2], abs=1e-12) and np.all(mc.stderr[:2] == 0)  # exact
    z = (mc.values[2:] - exact[2:]) / mc.stderr[2:]
    assert np.all(mc.stderr[2:] > 0) and np.all(mc.stderr[2:] < 0.03)
    assert np.all(np.abs(z) < 3), z


def test_the_method_rule_enumeration_then_monte_carlo_then_none():
    small = synthetic.zipf_hierarchy(n_levels=2, v=4, m=2, s=2, a=1.0, n_documents=1, seed=0)
    ref = small.reference_entropy(4)
    assert ref.method == "enumeration" and np.all(ref.stderr == 0)
    np.testing.assert_array_equal(ref.values, small.exact_entropy(4))

    big = synthetic.zipf_hierarchy(n_levels=3, v=16, m=4, s=2, a=0.5, n_documents=1, seed=0)
    assert big.exact_entropy(3) is None  # beyond enumeration
    ref = big.reference_entropy(3, n_samples=500)
    assert ref.method == "monte_carlo" and ref.n_samples == 500 and np.all(ref.stderr[2:] > 0)
    assert np.all(np.diff(ref.values) < 3 * ref.stderr[1:] + 1e-12)  # H_n does not rise (within error)

    huge = synthetic.random_hierarchy(n_levels=12, v=4, m=2, s=3, n_documents=1, seed=0)
    assert gm.monte_carlo_tokens(huge._model["grammar"], 8) > gm.MAX_MC_TOKENS
    assert huge.reference_entropy(8) is None


def test_partial_enumeration_is_completed_by_monte_carlo(monkeypatch):
    monkeypatch.setattr(ge, "MAX_BLOCKS", 300)  # the enumeration stops after a few n
    g = synthetic.zipf_hierarchy(n_levels=3, v=4, m=2, s=2, a=1.0, n_documents=1, seed=0)._model["grammar"]
    ref = gm.reference_entropies(g, 6, n_samples=2000, seed=0)
    assert ref.method == "enumeration+monte_carlo"
    done = ref.stderr == 0
    assert done[0] and not done[-1] and np.all(np.diff(done.astype(int)) <= 0)


def test_describe_marks_monte_carlo_values_with_their_error(monkeypatch):
    monkeypatch.setattr(gm, "MC_SAMPLES", 300)
    c = synthetic.zipf_hierarchy(n_levels=3, v=16, m=4, s=2, a=0.5, n_documents=2, seed=0)
    d = json.loads(json.dumps(synthetic.describe(c, n_max=4, lags=[1, 2])))
    assert d["exact_entropy_method"] == "monte_carlo" and d["exact_entropy_samples"] == 300
    assert len(d["exact_entropy_stderr"]) == 5 and d["exact_entropy_stderr"][3] > 0
    exact = synthetic.describe(synthetic.iid_zipf(1000, vocab_size=8), n_max=2, lags=[1])
    assert exact["exact_entropy_method"] == "exact" and exact["exact_entropy_stderr"] == [0.0, 0.0, 0.0]


def test_check_compares_within_the_reference_error():
    from corpus_stats.validation.check import REFERENCE_Z, judge

    row = {"quantity": "entropy.corrected", "n": 2, "expected": 1.0, "abs": 0.01, "expected_stderr": 0.01}
    limit = math.hypot(0.01, REFERENCE_Z * 0.01)
    assert judge(row, 1.0 + 0.99 * limit)[0] == "pass"
    assert judge(row, 1.0 - 1.01 * limit)[0] == "fail"
    assert "s.e. of the reference" in judge(row, 1.0)[1]
    assert judge({**row, "expected_stderr": 0.0}, 1.02)[0] == "fail"  # no error: the plain tolerance


def test_the_stated_error_is_the_seed_to_seed_spread():
    g = _tiny("ambiguous")
    exact = ge.conditional_entropies(g, 5)
    z = []
    for seed in range(24):
        mc = gm.monte_carlo_entropies(g, 5, n_samples=600, seed=100 + seed)
        z.append((mc.values[2:] - exact[2:]) / mc.stderr[2:])
    z = np.asarray(z)
    assert np.all(np.abs(z.mean(axis=0)) < 3 / math.sqrt(24))  # unbiased (control variate included)
    assert np.all((z.std(axis=0) > 0.6) & (z.std(axis=0) < 1.5))  # the s.e. is the spread
