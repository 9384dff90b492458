"""Held-out interpolated modified Kneser-Ney upper bound (corpus_stats.entropy.kneser_ney)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import CORPORA, PAPER_TOKENIZER, shared_file  # noqa: F401
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import NaiveKneserNey, naive_kn_discounts

from corpus_stats import synthetic
from corpus_stats.entropy.heldout import heldout_documents
from corpus_stats.entropy.kneser_ney import (
    KneserNeyResult,
    kn_scores,
    kneser_ney_upper_bound,
    modified_kn_discounts,
)
from corpus_stats.stream import TokenStream


def _random_stream(rng, n_tokens, vocab_size, n_docs, skew=1.5):
    """Zipf-ish tokens (so counts of 1, 2, 3, 4+ all occur) cut into n_docs random documents."""
    p = 1.0 / np.arange(1, vocab_size + 1) ** skew
    tokens = rng.choice(vocab_size, size=n_tokens, p=p / p.sum())
    cuts = np.sort(rng.choice(np.arange(1, n_tokens), size=n_docs - 1, replace=False)) if n_docs > 1 else []
    return TokenStream.from_array(tokens, vocab_size, np.r_[0, cuts, n_tokens])


def _segments(tokens, offsets, within):
    tokens = np.asarray(tokens).tolist()
    if not within:
        return [tokens]
    return [tokens[a:b] for a, b in itertools.pairwise(offsets)]


def _check_against_reference(stream, n_max, within, heldout_fraction=0.3, seed=0):
    result = kneser_ney_upper_bound(
        stream, n_max, heldout_fraction=heldout_fraction, within_documents=within, seed=seed
    )
    (tr_tok, tr_off), (he_tok, he_off), _ = heldout_documents(stream, heldout_fraction, 1_000_000, seed)
    ref = NaiveKneserNey(_segments(tr_tok, tr_off, within), stream.vocab_size, n_max)
    held = _segments(he_tok, he_off, within)
    for n in range(n_max + 1):
        ce, count = ref.cross_entropy(held, n)
        assert result.n_positions[n] == count
        if count:
            assert result.cross_entropy[n] == pytest.approx(ce, rel=1e-10, abs=1e-12)
        else:
            assert np.isnan(result.cross_entropy[n])
    return result


@pytest.mark.parametrize("within", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_equals_naive_reference(within, seed):
    rng = np.random.default_rng(seed)
    stream = _random_stream(rng, 400, vocab_size=6 + 4 * seed, n_docs=12)
    _check_against_reference(stream, n_max=4, within=within, seed=seed)


@settings(max_examples=25, deadline=None)
@given(
    data=st.lists(st.integers(0, 4), min_size=12, max_size=120),
    n_docs=st.integers(1, 6),
    n_max=st.integers(0, 4),
    within=st.booleans(),
)
def test_property_equals_reference(data, n_docs, n_max, within):
    tokens = np.array(data)
    n_docs = min(n_docs, tokens.size // 2)
    cuts = np.linspace(0, tokens.size, n_docs + 1).astype(np.int64)
    stream = TokenStream.from_array(tokens, 5, cuts)
    if stream.n_tokens < 2 * (n_max + 2):
        return
    try:
        _check_against_reference(stream, n_max, within)
    except ValueError as exc:  # every held-out document duplicates a training one
        assert "duplicates a training document" in str(exc)


def _probabilities(train, vocab_size, n_max, contexts):
    """P_n(w | h) for every w, n = len(h), from the fast code: held-out documents h + [w]."""
    held_docs = [list(h) + [w] for h in contexts for w in range(vocab_size)]
    he_off = np.r_[0, np.cumsum([len(d) for d in held_docs])]
    he_tok = np.concatenate(held_docs).astype(np.uint32)
    tr_off = np.array([0, train.size])
    out = kn_scores(train, tr_off, he_tok, he_off, vocab_size, n_max, True, keep_logp=True)
    ends = he_off[1:] - 1
    return [np.exp(out["logp"][len(h), ends[i * vocab_size : (i + 1) * vocab_size]]) for i, h in enumerate(contexts)]


def test_probabilities_sum_to_one_and_match_reference():
    rng = np.random.default_rng(7)
    vocab_size, n_max = 7, 3
    train = _random_stream(rng, 600, vocab_size, 1).tokens.astype(np.uint32)
    seen = [train[i : i + 2].tolist() for i in rng.integers(0, 590, 4)]
    contexts = [[], [0], [6], [6, 6, 6]] + seen + [rng.integers(0, vocab_size, n).tolist() for n in (1, 2, 3, 3)]
    probs = _probabilities(train, vocab_size, n_max, contexts)
    ref = NaiveKneserNey([train.tolist()], vocab_size, n_max)
    for h, p in zip(contexts, probs):
        assert p.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.all(p > 0)
        expected = [ref.prob(len(h), h, w) for w in range(vocab_size)]
        np.testing.assert_allclose(p, expected, rtol=1e-12)


def test_discounts_match_reference_and_are_clipped():
    rng = np.random.default_rng(3)
    for coc in rng.integers(0, 50, size=(200, 4)).tolist() + [
        [0, 0, 0, 0],
        [5, 0, 0, 0],
        [1, 100, 1, 0],
        [0, 0, 3, 1],
        [0, 4, 0, 2],
    ]:
        d = modified_kn_discounts(*coc)
        np.testing.assert_allclose(d, naive_kn_discounts(*coc), rtol=1e-14)
        assert np.all(d >= 0.01) and np.all(d <= [1, 2, 3])


def test_deterministic_stream_and_single_document_note():
    stream = TokenStream.from_array(np.tile([0, 1, 2, 3], 50), vocab_size=4)
    r = kneser_ney_upper_bound(stream, 3)
    assert r.cross_entropy[0] == pytest.approx(np.log(4), abs=0.01)
    assert np.all(r.cross_entropy[1:] < 0.05)
    assert any("single-document corpus: split by position" in note for note in r.notes)
    assert r.n_train_tokens + r.n_heldout_tokens == 200
    assert r.n_positions.tolist() == [20, 19, 18, 17]


def test_single_repeated_token_and_largest_id():
    vocab_size = 131_072
    stream = TokenStream.from_array(np.full(300, vocab_size - 1), vocab_size)
    r = kneser_ney_upper_bound(stream, 5)
    assert np.all(r.cross_entropy < 0.01)
    assert np.all(np.isfinite(r.cross_entropy))


def test_duplicate_heldout_documents_are_removed():
    rng = np.random.default_rng(5)
    docs = [rng.integers(0, 20, 30).tolist() for _ in range(10)]
    stream = TokenStream.from_documents(docs * 2 + [rng.integers(0, 20, 30).tolist()], 20)
    r = kneser_ney_upper_bound(stream, 2, heldout_fraction=0.5, seed=1)
    assert any("duplicate a training document" in note for note in r.notes)
    (_, _), (he_tok, he_off), _ = heldout_documents(stream, 0.5, 1_000_000, 1)
    held = {tuple(he_tok[a:b].tolist()) for a, b in itertools.pairwise(he_off)}
    (tr_tok, tr_off), _, _ = heldout_documents(stream, 0.5, 1_000_000, 1)
    train = {tuple(tr_tok[a:b].tolist()) for a, b in itertools.pairwise(tr_off)}
    assert held and not held & train


def test_all_heldout_duplicates_is_an_error():
    stream = TokenStream.from_documents([[1, 2, 3, 4, 5, 6]] * 10, 8)
    with pytest.raises(ValueError, match="every held-out document duplicates a training document"):
        kneser_ney_upper_bound(stream, 2)


def test_heldout_tokens_cap_and_short_documents():
    rng = np.random.default_rng(11)
    stream = _random_stream(rng, 5000, 10, 200)
    r = kneser_ney_upper_bound(stream, 128, heldout_tokens=300, within_documents=True, heldout_fraction=0.5)
    assert r.n_heldout_tokens == 300
    assert r.n_positions[0] == 300
    assert np.isnan(r.cross_entropy[-1]) and any("cross_entropy is NaN" in note for note in r.notes)


def test_to_dict_round_trip():
    rng = np.random.default_rng(2)
    r = kneser_ney_upper_bound(_random_stream(rng, 3000, 12, 30), 3)
    back = KneserNeyResult.from_dict(r.to_dict())
    np.testing.assert_array_equal(back.cross_entropy, r.cross_entropy)
    np.testing.assert_array_equal(back.stderr, r.stderr)
    assert back.notes == r.notes and back.options == r.options and back.n_heldout_tokens == r.n_heldout_tokens


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_max": -1}, ValueError, r"n_max must be an integer in 0\.\.128; got -1"),
        ({"n_max": 1000}, ValueError, r"n_max must be an integer in 0\.\.128; got 1000"),
        ({"n_max": 2.5}, TypeError, r"n_max must be an int; got float"),
        ({"n_max": 2, "heldout_fraction": 0.0}, ValueError, r"strictly between 0 and 1; got 0\.0"),
        ({"n_max": 2, "heldout_fraction": 1}, ValueError, r"strictly between 0 and 1; got 1"),
        (
            {"n_max": 2, "heldout_tokens": 0},
            ValueError,
            r"heldout_tokens must be an integer at least 1; got 0",
        ),
        ({"n_max": 20}, ValueError, r"at least 2 \* \(n_max \+ 2\) = 44 tokens .*; got 30"),
    ],
)
def test_bad_input(kwargs, error, match):
    stream = TokenStream.from_array(np.arange(30) % 7, 7, np.arange(0, 31, 10))
    with pytest.raises(error, match=match):
        kneser_ney_upper_bound(stream, **kwargs)


def test_not_a_stream():
    with pytest.raises(TypeError, match="stream must be a TokenStream .*; got ndarray"):
        kneser_ney_upper_bound(np.arange(100), 2)


def _markov_check(n_tokens, vocab_size, order, n_successors, n_max, seed):
    corpus = synthetic.markov_chain(n_tokens, vocab_size=vocab_size, order=order, n_successors=n_successors, seed=seed)
    exact = corpus.exact_entropy(n_max)
    upper = kneser_ney_upper_bound(corpus.stream, n_max).cross_entropy
    assert np.all(upper >= exact - 0.02), (upper - exact).round(4)
    return upper - exact


def test_markov_upper_bound_fast():
    gap = _markov_check(200_000, 8, 2, 3, 6, seed=1)
    assert gap[0] < 0.02 and gap[2] < 0.03  # close to exact where the counts are ample


@pytest.mark.slow
@pytest.mark.parametrize(("vocab_size", "order", "n_successors"), [(8, 2, 3), (16, 3, 3)])
def test_markov_upper_bound_1e6(vocab_size, order, n_successors):
    gap = _markov_check(1_000_000, vocab_size, order, n_successors, 10, seed=1)
    assert gap[0] < 0.005


def _tinystories_stream():
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(shared_file("tokenizers/tinystories-bpe8192/tokenizer.json")))
    lines = []
    for name in ("tinystories-train-head.txt", "tinystories-valid-head.txt"):
        text = shared_file(f"corpora/{name}").read_text(encoding="utf-8")
        lines += [line for line in text.splitlines() if line.strip()]
    docs = [enc.ids + [1] for enc in tok.encode_batch(lines)]  # <eos> = 1 after every document
    return TokenStream.from_documents(docs, tok.get_vocab_size(), eos_id=1)


def test_tinystories_heads_bracket_shape():
    stream = _tinystories_stream()
    r = kneser_ney_upper_bound(stream, 8)
    ce = r.cross_entropy
    # a single-discount prototype (the project design notes) gives 5.91, 3.98, 3.64, 3.60, 3.61 on these heads
    assert ce[0] == pytest.approx(5.91, abs=0.1)
    assert 3.5 < ce[1] < 4.1 and np.all(np.diff(ce[:4]) < 0)
    assert np.all(ce[2:] < 3.8)  # modified KN does no worse than the single-discount prototype


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.integers(0, 3), min_size=1, max_size=60),
    cut=st.integers(0, 60),
    depth=st.integers(1, 9),
)
def test_suffix_order_sorts_capped_prefixes(data, cut, depth):
    from corpus_stats.entropy.kneser_ney import _suffix_order

    tokens = np.array(data, dtype=np.uint32)
    n = tokens.size
    cut = min(cut, n)
    lim = np.r_[cut - np.arange(cut), (n - cut) - np.arange(n - cut)]  # two segments
    sa = _suffix_order(tokens, lim, depth)
    prefixes = [tuple(tokens[p : p + min(lim[p], depth)].tolist()) for p in sa]
    assert sorted(sa.tolist()) == list(range(n))
    assert prefixes == sorted(prefixes)


def test_monotone_bound_on_iid_text():
    rng = np.random.default_rng(4)
    stream = _random_stream(rng, 50_000, 300, 50, skew=1.0)
    r = kneser_ney_upper_bound(stream, 4)
    assert r.cross_entropy[2] > r.cross_entropy[0]  # more context only adds estimation noise here
    np.testing.assert_array_equal(r.monotone_bound, np.minimum.accumulate(r.cross_entropy))
    assert np.all(r.monotone_bound == r.cross_entropy[0])


def test_progress_goes_to_stderr_only_when_enabled(capsys):
    stream = TokenStream.from_array(np.arange(400) % 11, 11, np.arange(0, 401, 40))
    kneser_ney_upper_bound(stream, 3)
    assert capsys.readouterr().err == ""
    kneser_ney_upper_bound(stream, 3, progress=True)
    captured = capsys.readouterr()
    assert "kneser-ney" in captured.err and captured.out == ""


@pytest.mark.parametrize("n_docs", [1, 400])
def test_stderr_matches_iid_formula_on_iid_tokens(n_docs):
    rng = np.random.default_rng(8)
    stream = _random_stream(rng, 200_000, 50, n_docs, skew=1.0)
    (tr_tok, tr_off), (he_tok, he_off), _ = heldout_documents(stream, 0.1, 1_000_000, 0)
    out = kn_scores(tr_tok, tr_off, he_tok, he_off, 50, 1, False, keep_logp=True)
    for n in (0, 1):
        lp = out["logp"][n][~np.isnan(out["logp"][n])]
        iid = lp.std() / np.sqrt(lp.size)  # tokens are independent, so blocks add nothing
        assert out["stderr"][n] == pytest.approx(iid, rel=0.4)
        assert out["cross_entropy"][n] == pytest.approx(-lp.mean(), rel=1e-12)


@pytest.mark.bench
def test_bench_1e7_tokens_n_max_32():
    corpus = synthetic.markov_chain(10_000_000, vocab_size=16, order=3, n_successors=6, n_documents=1000, seed=1)
    r = kneser_ney_upper_bound(corpus.stream, 32)
    timings = r.options["timings"]
    print(f"\nKneser-Ney upper bound, 1e7 tokens, n_max=32: {timings}")
    assert timings["total_s"] < 180  # "well under a few minutes on 2 cores"


def test_santa_fe_upper_bound_within_documents():
    corpus = synthetic.santa_fe(300_000, b=0.5, doc_length=1000, seed=0)
    exact = corpus.exact_entropy(6)  # holds for contexts inside one document
    r = kneser_ney_upper_bound(corpus.stream, 6, within_documents=True)
    # per-document bits make held-out documents the unit of noise: stderr is over documents
    assert np.all(r.cross_entropy >= exact - 3 * r.stderr), (r.cross_entropy - exact).round(3)
    assert np.all(r.stderr > 0.002)


def test_size_curve_nested_training_same_heldout():
    from corpus_stats import synthetic
    from corpus_stats.entropy.kneser_ney_sizes import kneser_ney_size_curve

    corp = synthetic.markov_chain(50_000, vocab_size=8, order=2, n_successors=3, seed=3)
    curve = kneser_ney_size_curve(corp.stream, 3, (0.25, 0.5))
    full = kneser_ney_upper_bound(corp.stream, 3)
    assert curve.fractions.tolist() == [0.25, 0.5, 1.0]
    np.testing.assert_array_equal(curve.cross_entropy[-1], full.cross_entropy)
    assert np.all(np.diff(curve.n_train_tokens) > 0) and curve.n_train_tokens[-1] == full.n_train_tokens
    # more training data, lower held-out cross-entropy (n = 2, the chain's order)
    assert np.all(np.diff(curve.cross_entropy[:, 2]) < 0)
    with pytest.raises(ValueError, match="fractions must be increasing"):
        kneser_ney_size_curve(corp.stream, 3, (0.5, 0.25))
