"""Grammar generators (RHM, Zipf, ambiguous, varying trees) and their exact C(t) and H_n."""

import itertools
import math

import numpy as np
import pytest

from corpus_stats import synthetic
from corpus_stats.synthetic import grammar_exact as ge
from corpus_stats.synthetic.grammars import build_grammar

# -- brute force: every derivation of a tiny grammar ----------------------------------------------


def _derivations(grammar, depth, x):
    """All (sentence, probability) of symbol x at depth, one per tree (nothing merged)."""
    if depth == grammar.n_levels:
        return [((x,), 1.0)]
    lev = grammar.levels[depth]
    out = []
    for r in range(lev.start[x], lev.start[x + 1]):
        kids = [_derivations(grammar, depth + 1, y) for y in lev.rhs[r, : lev.arity[r]]]
        for combo in itertools.product(*kids):
            out.append((sum((c[0] for c in combo), ()), lev.prob[r] * math.prod(c[1] for c in combo)))
    return out


def _trees(grammar):
    return [(s, grammar.root[x] * p) for x in range(grammar.v) for s, p in _derivations(grammar, 0, x)]


def _brute_pairs(grammar, t, within):
    trees = _trees(grammar)
    v = grammar.v
    counts = np.zeros((v, v))
    if within:
        for s, p in trees:
            for i in range(len(s) - t):
                counts[s[i], s[i + t]] += p
        return counts / counts.sum()
    k = 1 + math.ceil(t / min(len(s) for s, _ in trees))
    for seq in itertools.product(trees, repeat=k):
        s = sum((x[0] for x in seq), ())
        p = math.prod(x[1] for x in seq)
        for i in range(len(seq[0][0])):
            counts[s[i], s[i + t]] += p
    return counts / sum(len(s) * p for s, p in trees)


def _brute_block_probs(grammar, n):
    """Stationary n-block probabilities of the stream of trees, by enumerating tree sequences."""
    trees = _trees(grammar)
    k = 1 + math.ceil(n / min(len(s) for s, _ in trees))
    blocks = {}
    for seq in itertools.product(trees, repeat=k):
        s = sum((x[0] for x in seq), ())
        p = math.prod(x[1] for x in seq)
        for i in range(len(seq[0][0])):
            blocks[s[i : i + n]] = blocks.get(s[i : i + n], 0.0) + p
    mean = sum(len(s) * p for s, p in trees)
    return {b: q / mean for b, q in blocks.items()}


def _brute_blocks(grammar, n):
    q = np.array(list(_brute_block_probs(grammar, n).values()))
    return float(-(q * np.log(q)).sum())


TINY = {
    "fixed": dict(n_levels=2, v=3, rules=((2, 2, 1.0),)),
    "zipf": dict(n_levels=2, v=2, rules=((2, 2, 1.0),), a=0.7),
    "ambiguous": dict(n_levels=2, v=3, rules=((2, 2, 1.0),), ambiguity=0.5),
    "varying": dict(n_levels=2, v=2, rules=((2, 1, 0.6), (3, 1, 0.4))),
}


@pytest.mark.parametrize("name", list(TINY))
@pytest.mark.parametrize("within", [False, True])
def test_pair_distributions_match_brute_force(name, within):
    spec = dict(TINY[name])
    g = build_grammar(np.random.default_rng(4), spec.pop("n_levels"), spec.pop("v"), spec.pop("rules"), **spec)
    exact = ge.pair_distributions(g, 5, within_documents=within)
    for t in range(1, 6):
        if within and t >= g.max_length():
            continue
        np.testing.assert_allclose(exact[t], _brute_pairs(g, t, within), atol=1e-13, err_msg=f"{name} t={t}")
        assert exact[t].sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("name", ["fixed", "varying", "ambiguous"])
def test_block_entropies_match_brute_force(name):
    spec = dict(TINY[name])
    g = build_grammar(np.random.default_rng(4), spec.pop("n_levels"), spec.pop("v"), spec.pop("rules"), **spec)
    exact = ge.block_entropies(g, 5)
    for n in range(1, 6):
        assert exact[n - 1] == pytest.approx(_brute_blocks(g, n), abs=1e-12)
    h = ge.conditional_entropies(g, 4)
    assert np.all(np.diff(h) <= 1e-12)  # conditioning never raises the entropy


def test_ambiguity_merges_identical_sentences():
    g = build_grammar(np.random.default_rng(1), 1, 3, ((2, 2, 1.0),), ambiguity=0.5)
    sent = ge.sentence_distribution(g)
    assert len(sent) < len(_trees(g))  # a shared right-hand side is one sentence of two trees
    assert sum(sent.values()) == pytest.approx(1.0)


# -- the generators -------------------------------------------------------------------------------


def _old_random_hierarchy(n_levels, v, m, s, n_documents, seed):
    """The RHM sampler before the grammar module (kept verbatim as the reference stream)."""
    rng = np.random.default_rng(seed)
    powers = v ** np.arange(s - 1, -1, -1)
    rules = []
    for _ in range(n_levels):
        codes = rng.choice(v**s, size=m * v, replace=False)
        rules.append(((codes[:, None] // powers[None, :]) % v).reshape(v, m, s))
    symbols = rng.integers(0, v, size=(n_documents, 1))
    for level_rules in rules:
        choice = rng.integers(0, m, size=symbols.shape)
        symbols = level_rules[symbols, choice].reshape(n_documents, -1)
    return symbols.ravel()


@pytest.mark.parametrize("kw", [dict(n_levels=3, v=16, m=4, s=2), dict(n_levels=2, v=5, m=25, s=3)])
def test_rhm_is_the_special_case(kw):
    old = _old_random_hierarchy(**kw, n_documents=40, seed=7)
    assert np.array_equal(synthetic.random_hierarchy(**kw, n_documents=40, seed=7).stream.tokens, old)
    assert np.array_equal(synthetic.zipf_hierarchy(**kw, a=None, n_documents=40, seed=7).stream.tokens, old)
    amb = synthetic.ambiguous_hierarchy(**kw, ambiguity=0.0, n_documents=40, seed=7)
    assert np.array_equal(amb.stream.tokens, old)


def test_varying_tree_lengths_and_rule_usage():
    c = synthetic.varying_tree_hierarchy(n_levels=3, v=8, m2=3, m3=2, p2=0.3, n_documents=4000, seed=2)
    lengths = np.diff(c.stream.doc_offsets)
    assert lengths.min() >= 8 and lengths.max() <= 27
    assert lengths.mean() == pytest.approx((3 - 0.3) ** 3, rel=0.02)
    assert ge.mean_length(c._model["grammar"]) == pytest.approx((3 - 0.3) ** 3)


def test_sampled_pairs_converge_to_the_exact_distribution():
    c = synthetic.zipf_hierarchy(n_levels=3, v=4, m=3, s=2, a=1.0, n_documents=60_000, seed=3)
    tok = np.asarray(c.stream.tokens)
    exact = ge.pair_distributions(c._model["grammar"], 5)
    for t in (1, 3, 5):
        emp = np.bincount(tok[:-t] * 4 + tok[t:], minlength=16).reshape(4, 4) / (tok.size - t)
        assert np.abs(emp - exact[t]).max() < 4e-3  # ~5 sigma of 4.8e5 pairs


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: synthetic.zipf_hierarchy(v=4, m=5, s=2), r"unambiguous grammar needs 20 distinct .* v\*\*2 = 16"),
        (lambda: synthetic.random_hierarchy(v=4, m=5, s=2), r"unambiguous grammar needs 20 distinct"),
        (lambda: synthetic.ambiguous_hierarchy(v=4, m=4, ambiguity=0.9), r"need 4 different right-hand sides"),
        (lambda: synthetic.varying_tree_hierarchy(m2=0, p2=0.5), r"m2 = 0 needs p2 = 0"),
        (lambda: synthetic.zipf_hierarchy(a=-0.5), r"a must lie in \[0, 10\); got -0.5"),
        (lambda: synthetic.varying_tree_hierarchy(p2=1.5), r"p2 must lie in \[0, 1\]; got 1.5"),
    ],
)
def test_bad_parameters_name_the_rule_and_value(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_make_and_describe_carry_exact_curves():
    c = synthetic.make("varying_tree_hierarchy", 5000, seed=1, n_levels=2, v=4, m2=2, m3=2)
    d = synthetic.describe(c, n_max=3, lags=[1, 2, 4, 16])
    assert d["kind"] == "varying_tree_hierarchy" and d["n_tokens"] >= 5000
    assert all(x is not None and x > 0 for x in d["exact_correlation_op"])
    assert len(d["exact_entropy_nats"]) == 4


def test_intractable_grammars_say_none():
    c = synthetic.random_hierarchy(n_levels=6, v=32, m=8, s=2, n_documents=2, seed=0)
    assert c.exact_entropy(3) is None  # 8**63 trees: no enumeration
