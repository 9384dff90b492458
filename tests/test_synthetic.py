"""Synthetic generators: their empirical statistics converge to the exact values they report."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_stats import synthetic as S
from corpus_stats.synthetic import covariance_norms
from corpus_stats.synthetic.common import _zipf_probs
from corpus_stats.synthetic.exact import _copy_c

# -- slow, obviously-correct references ----------------------------------------------------------


def empirical_c(tokens, vocab_size, t, doc_offsets=None):
    """Dense V x V lagged covariance with the pair sample's own marginals (Cagnetta et al. 2026)."""
    x = np.asarray(tokens, dtype=np.int64)
    left, right = x[:-t], x[t:]
    if doc_offsets is not None:  # keep pairs inside one document
        doc = np.searchsorted(doc_offsets, np.arange(x.size), side="right") - 1
        keep = doc[:-t] == doc[t:]
        left, right = left[keep], right[keep]
    joint = np.bincount(left * vocab_size + right, minlength=vocab_size**2).reshape(vocab_size, -1)
    joint = joint / joint.sum()
    c = joint - np.outer(joint.sum(1), joint.sum(0))
    return np.linalg.svd(c, compute_uv=False)[0], np.linalg.norm(c)


def plugin_block_entropy(tokens, vocab_size, m, doc_offsets=None):
    """Miller-Madow-corrected plug-in entropy (nats) of m-grams, optionally inside documents."""
    if m == 0:
        return 0.0
    x = np.asarray(tokens, dtype=np.int64)
    n = x.size - m + 1
    code = np.zeros(n, dtype=np.int64)
    for j in range(m):
        code = code * vocab_size + x[j : j + n]
    if doc_offsets is not None:
        doc = np.searchsorted(doc_offsets, np.arange(x.size), side="right") - 1
        code = code[doc[:n] == doc[m - 1 :]]
    _, counts = np.unique(code, return_counts=True)
    p = counts / counts.sum()
    return float(-(p * np.log(p)).sum()) + (counts.size - 1) / (2 * counts.sum())


def plugin_h(tokens, vocab_size, n, doc_offsets=None):
    return plugin_block_entropy(tokens, vocab_size, n + 1, doc_offsets) - plugin_block_entropy(
        tokens, vocab_size, n, doc_offsets
    )


# -- exact quantities ----------------------------------------------------------------------------


@pytest.mark.parametrize("size,exponent", [(2, 1.0), (50, 0.7), (500, 1.0), (300, 2.0)])
def test_covariance_norms_match_dense_eigvalsh(size, exponent):
    p = _zipf_probs(size, exponent)
    d = np.diag(p) - np.outer(p, p)
    op, fro = covariance_norms(p)
    assert op == pytest.approx(np.linalg.eigvalsh(d)[-1], rel=1e-12)
    assert fro == pytest.approx(np.linalg.norm(d), rel=1e-12)


def test_covariance_norms_with_tied_top_probabilities():
    p = np.full(10, 0.1)
    assert covariance_norms(p)[0] == pytest.approx(0.1)


def test_copy_c_matches_brute_force_over_k():
    rho, q = 0.3, _zipf_probs(20, 1.5)
    k_prob = np.concatenate([[1 - rho], rho * q])  # P(K = 0..20)
    for t in (1, 5, 19, 20, 21):
        brute = sum(k_prob[k] * k_prob[k + t] for k in range(21) if k + t <= 20)
        assert _copy_c(np.array([t]), rho, q)[0] == pytest.approx(brute, rel=1e-12, abs=1e-300)


def test_santa_fe_entropy_formula_limits():
    c = S.santa_fe(1000, b=0.5, n_keys=10, doc_length=100, seed=0)
    h = c.exact_entropy(2000)
    p = c._model["p"]
    assert h[0] == pytest.approx(-(p * np.log(p)).sum() + math.log(2))
    assert np.all(np.diff(h) < 0)
    assert h[-1] == pytest.approx(-(p * np.log(p)).sum(), abs=1e-6)


# -- empirical convergence (seeded, small) -------------------------------------------------------


def test_iid_zipf_is_uncorrelated_and_has_flat_entropy():
    c = S.iid_zipf(200_000, vocab_size=30, exponent=1.0, seed=1)
    h = c.exact_entropy(3)
    assert np.all(h == h[0])
    assert plugin_h(c.stream.tokens, 30, 0) == pytest.approx(h[0], abs=0.01)
    op, _ = empirical_c(c.stream.tokens, 30, 3)
    # pure noise: op norm at the floor ~ 1.2 sqrt(p_max / P)
    assert op < 3 * 1.2 * math.sqrt(c._model["p"].max() / c.stream.n_tokens)
    assert np.all(c.exact_correlation([1, 5])["op"] == 0)


def test_markov_entropy_and_correlation_converge():
    c = S.markov_chain(400_000, vocab_size=4, order=2, n_successors=2, seed=3)
    h = c.exact_entropy(4)
    assert h[2] == h[3] == h[4]
    tok = c.stream.tokens
    for n in range(4):
        assert plugin_h(tok, 4, n) == pytest.approx(h[n], abs=0.01), n
    exact = c.exact_correlation([1, 2, 6])
    for i, t in enumerate([1, 2, 6]):
        op, fro = empirical_c(tok, 4, t)
        assert op == pytest.approx(exact["op"][i], abs=5e-3)
        assert fro == pytest.approx(exact["fro"][i], abs=5e-3)
    assert exact["op"][2] < exact["op"][0]


def test_markov_stationary_distribution_matches_block_frequencies():
    c = S.markov_chain(300_000, vocab_size=3, order=2, n_successors=2, seed=5)
    tok = c.stream.tokens.astype(np.int64)
    codes = tok[:-1] * 3 + tok[1:]
    freq = np.bincount(codes, minlength=9) / codes.size
    assert np.max(np.abs(freq - c._model["pi"])) < 0.01


def test_copy_process_correlation_converges():
    c = S.copy_process(1_000_000, vocab_size=20, rho=0.5, a=0.5, k_max=100, seed=2)
    exact = c.exact_correlation([1, 2, 4, 200])
    assert exact["op"][3] == 0
    floor = 1.2 * math.sqrt(c._model["p"].max() / c.stream.n_tokens)
    for i, t in enumerate([1, 2, 4]):
        op, fro = empirical_c(c.stream.tokens, 20, t)
        assert op == pytest.approx(exact["op"][i], abs=3 * floor)
        assert fro == pytest.approx(exact["fro"][i], abs=6 * floor)
    assert c.expected_beta == 1.5


def test_copy_process_exact_curve_slope_tends_to_one_plus_a():
    c = S.copy_process(1000, a=0.5, k_max=100_000, seed=0)
    op = c.exact_correlation([1000, 4000])["op"]
    slope = -math.log(op[1] / op[0]) / math.log(4)
    assert slope == pytest.approx(1.5, abs=0.05)


def test_santa_fe_entropy_and_correlation_converge_within_documents():
    c = S.santa_fe(400_000, b=0.5, n_keys=12, doc_length=2000, seed=4)
    h = c.exact_entropy(3)
    off = c.stream.doc_offsets
    for n in range(3):
        assert plugin_h(c.stream.tokens, 24, n, off) == pytest.approx(h[n], abs=0.01), n
    for within in (True, False):
        exact = c.exact_correlation([1, 50, 1999, 2000], within_documents=within)
        for i, t in enumerate([1, 50]):
            op, fro = empirical_c(c.stream.tokens, 24, t, off if within else None)
            assert op == pytest.approx(exact["op"][i], rel=0.05)
            assert fro == pytest.approx(exact["fro"][i], rel=0.05)
        if within:
            assert np.isnan(exact["op"][3])
        else:
            assert exact["op"][3] == 0


def test_random_hierarchy_trees_follow_the_grammar():
    c = S.random_hierarchy(n_levels=2, v=8, m=3, s=2, n_documents=500, seed=0)
    assert c.stream.n_tokens == 2000 and c.stream.n_documents == 500
    assert c.expected_beta == pytest.approx(math.log(3) / math.log(2))
    bottom = c._model["grammar"].levels[-1].rhs  # every (symbol, rule) -> pair of leaves
    allowed = {tuple(r) for r in bottom}
    leaves = c.stream.tokens.reshape(-1, 2)
    assert all(tuple(pair) in allowed for pair in leaves[:200])
    assert len(allowed) == 8 * 3  # unambiguous: distinct right-hand sides


def test_generators_are_seeded_and_fast_enough():
    a = S.copy_process(50_000, seed=7).stream.tokens
    b = S.copy_process(50_000, seed=7).stream.tokens
    c = S.copy_process(50_000, seed=8).stream.tokens
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    for kind, make in S.KINDS.items():
        corpus = make(n_documents=10, seed=1) if kind in S.GRAMMAR_KINDS else make(20_000, seed=1)
        assert corpus.kind == kind and corpus.stream.eos_id is None
        assert corpus.stream.provenance["kind"] == kind


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: S.iid_zipf(0), ValueError, "n_tokens must be an integer at least 1; got 0"),
        (lambda: S.iid_zipf(10.5), TypeError, "n_tokens must be an int; got float"),
        (lambda: S.copy_process(100, rho=1.0), ValueError, r"rho must lie in \(0, 1\); got 1.0"),
        (lambda: S.santa_fe(100, b=1.5), ValueError, r"b must lie in \(0, 1\); got 1.5"),
        (lambda: S.markov_chain(100, vocab_size=4, n_successors=5), ValueError, "n_successors"),
        (lambda: S.markov_chain(100, vocab_size=64, order=4), ValueError, "at most 2\\*\\*20"),
        (lambda: S.random_hierarchy(v=4, m=5, s=2), ValueError, "needs 20 distinct right-hand sides"),
        (lambda: S.iid_zipf(1000).exact_correlation([0, 1]), ValueError, "positive integers"),
    ],
)
def test_invalid_parameters_are_rejected(call, error, match):
    with pytest.raises(error, match=match):
        call()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-6, 1.0), min_size=2, max_size=60))
def test_covariance_norms_property(weights):
    p = np.asarray(weights) / np.sum(weights)
    d = np.diag(p) - np.outer(p, p)
    op, fro = covariance_norms(p)
    assert op == pytest.approx(np.linalg.eigvalsh(d)[-1], rel=1e-9, abs=1e-15)
    assert fro == pytest.approx(np.linalg.norm(d), rel=1e-9, abs=1e-15)


@pytest.mark.slow
def test_large_copy_process_matches_exact_curve_up_to_the_noise():
    c = S.copy_process(5_000_000, vocab_size=50, rho=0.6, a=0.5, k_max=500, seed=11)
    lags = [1, 2, 4, 8, 16, 32]
    exact = c.exact_correlation(lags)
    floor = 1.2 * math.sqrt(c._model["p"].max() / c.stream.n_tokens)
    for i, t in enumerate(lags):
        op, _ = empirical_c(c.stream.tokens, 50, t)
        assert abs(op - exact["op"][i]) < 3 * floor, t


@pytest.mark.slow
def test_large_order3_markov_entropy_matches_enumeration():
    c = S.markov_chain(3_000_000, vocab_size=5, order=3, n_successors=3, seed=12)
    h = c.exact_entropy(5)
    for n in range(5):
        assert plugin_h(c.stream.tokens, 5, n) == pytest.approx(h[n], abs=3e-3), n
