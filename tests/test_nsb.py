"""NSB entropy: one count vector against an independent quadrature and ndd; per-context H_n on exact sources."""

import warnings

import numpy as np
import pytest
from scipy import integrate, optimize, special

from corpus_stats import synthetic
from corpus_stats.entropy import _kernels_nsb as _k
from corpus_stats.entropy.curve import SIZE_FRACTIONS, entropy_curve
from corpus_stats.entropy.ngrams import ngram_statistics
from corpus_stats.entropy.nsb import context_entropy, nsb_entropy
from corpus_stats.stream import TokenStream


def _reference_nsb(counts, K):
    """NSB by scipy.integrate.quad over x = ln a, written from the paper's formulas (not the kernel's)."""
    c = np.asarray(counts, dtype=float)
    c = c[c > 0]
    N = c.sum()

    def log_post(x):  # ln [p(a) p(counts | a)] + x  (the Jacobian of a = e^x)
        a = np.exp(x)
        prior = K * special.polygamma(1, K * a + 1) - special.polygamma(1, a + 1)
        ev = special.gammaln(K * a) - special.gammaln(N + K * a) + np.sum(special.gammaln(c + a) - special.gammaln(a))
        return np.log(prior) + ev + x

    def mean_h(x):  # E[H | counts, a]: each bin's posterior share, empty bins included
        a = np.exp(x)
        A = N + K * a
        s = np.sum((c + a) * special.digamma(c + a + 1)) + (K - c.size) * a * special.digamma(a + 1)
        return special.digamma(A + 1) - s / A

    grid = np.linspace(-30, 16, 921)
    i = int(np.argmax([log_post(x) for x in grid]))
    peak = optimize.minimize_scalar(lambda x: -log_post(x), bounds=(grid[max(i - 1, 0)], grid[min(i + 1, 920)]),
                                    method="bounded", options={"xatol": 1e-12})  # fmt: skip
    top = -peak.fun

    def integral(f):
        with warnings.catch_warnings():  # quad's round-off note at 1e-12: its error estimate is pessimistic
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            return sum(
                integrate.quad(lambda x: np.exp(log_post(x) - top) * f(x), lo, hi, limit=400, epsabs=0, epsrel=1e-12)[0]
                for lo, hi in ((-30, peak.x), (peak.x, 16))
            )

    return integral(mean_h) / integral(lambda x: 1.0)


def _dirichlet_counts(rng, n, k, alpha):
    return rng.multinomial(n, rng.dirichlet([alpha] * k))


@pytest.mark.parametrize(
    "n, k, alpha",
    [(10, 2, 1.0), (20, 4, 10.0), (200, 50_000, 0.01), (1000, 10, 0.1), (10**6, 10_000, 0.1), (10**6, 3, 100.0)],
)
def test_nsb_matches_quadrature(n, k, alpha):
    counts = _dirichlet_counts(np.random.default_rng(n + k), n, k, alpha)
    assert nsb_entropy(counts) == pytest.approx(_reference_nsb(counts, k), rel=1e-8, abs=1e-10)


@pytest.mark.parametrize("counts, K", [([1], 20_000), ([100_000], 2), ([1, 1], 2), ([5, 5, 5, 5], 4), ([1] * 50, 50)])
def test_nsb_edge_shapes(counts, K):
    """One symbol seen once (the prior's mean), all mass in one bin, perfectly even counts."""
    assert nsb_entropy(counts, K) == pytest.approx(_reference_nsb(counts, K), rel=1e-8, abs=1e-10)
    assert 0.0 <= nsb_entropy(counts, K) <= np.log(K)


# ndd (PyPI, S. Marsili) publishes its own outputs in tests/data.json, made by tests/make_test_ref.py from
# counts numpy.random.seed(123); multinomial(n, dirichlet([alpha] * k)); ndd.entropy(counts, k=k).
# Its NSB uses adaptive quadrature to epsrel 1e-3 over +-4 posterior s.d. of ln a, so it is compared to 1%;
# the fixed-concentration (Wolpert-Wolf, a = 1) value is a closed form and must agree to rounding.
NDD = {  # (n, k, alpha): (ndd NSB, ndd Wolpert-Wolf a = 1)
    (10, 10, 1.0): (1.8576267767601182, 1.912739657143753),
    (10, 1000, 0.1): (5.571009604062449, 6.4855152524515205),
    (100, 10, 0.1): (0.25514172615924235, 0.6011200937107528),
    (100, 100, 0.1): (2.5539643808852026, 3.7628320751425974),
    (100, 1000, 0.1): (5.125307781685516, 6.471947721484215),
    (1000, 10, 1.0): (1.95136657435214, 1.949135726780936),
    (1000, 100, 0.01): (0.1632957891012417, 0.811279671402807),
    (1000, 1000, 1.0): (6.508187998709567, 6.489902429007178),
}


@pytest.mark.parametrize("case", sorted(NDD))
def test_nsb_matches_ndd_reference(case):
    n, k, alpha = case
    np.random.seed(123)  # ndd's legacy generator, to rebuild its inputs exactly
    counts = np.random.multinomial(n, np.random.dirichlet([alpha] * k))
    nz = counts[counts > 0]
    zs, ms = (a.astype(float) for a in np.unique(nz, return_counts=True))
    ref_nsb, ref_ww = NDD[case]
    assert _k.posterior_mean_entropy(1.0, float(k), float(n), zs, ms) == pytest.approx(ref_ww, rel=1e-10)
    assert nsb_entropy(counts, k) == pytest.approx(ref_nsb, rel=1e-2)


def test_nsb_entropy_rejects_bad_input():
    with pytest.raises(ValueError, match="non-negative integers"):
        nsb_entropy([1.5, 2])
    with pytest.raises(ValueError, match="alphabet_size"):
        nsb_entropy([1, 2, 3], alphabet_size=2)


@pytest.mark.parametrize("within", [True, False])
def test_plugin_per_context_equals_block_differences(within):
    """The variant bookkeeping (jackknife by difference, halves, size blocks) reproduces ngram_statistics."""
    made = synthetic.make("santa_fe", 60_000, seed=2, b=0.5, n_keys=500, doc_length=1500)
    st = ngram_statistics(made.stream, 6, within_documents=within, n_shards=20, seed=3, size_fractions=SIZE_FRACTIONS)
    plug = st.plugin_block_entropy()[:, 1:] - st.prefix.plugin_block_entropy()[:, :-1]
    ce = context_entropy(made.stream, 5, estimator="plugin", within_documents=within, seed=3,
                         size_fractions=SIZE_FRACTIONS)  # fmt: skip
    assert np.array_equal(ce.positions, st.prefix.positions[:, :-1])
    np.testing.assert_allclose(ce.values, plug, rtol=0, atol=1e-11)


def test_nsb_context_sums_do_not_depend_on_token_labels():
    """Histograms are grouped by a hash of the count multiset: relabelling tokens changes nothing."""
    made = synthetic.make("markov_chain", 40_000, seed=4, order=2, vocab_size=12, n_successors=3)
    s = made.stream
    perm = np.random.default_rng(0).permutation(s.vocab_size)
    relabelled = TokenStream.from_array(perm[np.asarray(s.tokens)], vocab_size=s.vocab_size, doc_offsets=s.doc_offsets)
    a = context_entropy(s, 4, size_fractions=SIZE_FRACTIONS).values
    b = context_entropy(relabelled, 4, size_fractions=SIZE_FRACTIONS).values
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_nsb_context_matches_direct_sum():
    """H_1 of the full corpus: count-weighted NSB of each context's next-token counts, done by hand."""
    rng = np.random.default_rng(5)
    tok = rng.integers(0, 6, 3000) ** 2 % 7
    s = TokenStream.from_array(tok, vocab_size=7, doc_offsets=np.array([0, 3000]))
    K = np.unique(tok).size
    pairs = np.zeros((7, 7), int)
    np.add.at(pairs, (tok[:-1], tok[1:]), 1)
    direct = sum(row.sum() * nsb_entropy(row, K) for row in pairs if row.sum()) / pairs.sum()
    ce = context_entropy(s, 1)
    assert ce.values[0, 1] == pytest.approx(direct, rel=1e-10)
    assert ce.values[0, 0] == pytest.approx(nsb_entropy(np.bincount(tok, minlength=7), K), rel=1e-10)


def test_nsb_curve_on_markov_chain():
    """Where contexts are well sampled (n <= order) NSB sits on the exact H_n within its jackknife error."""
    made = synthetic.make("markov_chain", 200_000, seed=1, order=2, vocab_size=8, n_successors=3)
    curve = entropy_curve(made.stream, 4, upper=False, estimator="nsb")
    exact = made.exact_entropy(4)
    assert curve.options["corrected_estimator"] == "nsb"
    z = np.abs(curve.corrected - exact) / curve.stderr
    assert np.all(z[:3] < 3), z
    assert np.all(np.abs(curve.corrected[:3] - exact[:3]) < 0.01)
    v = curve.valid
    assert np.all(np.abs(curve.corrected - exact)[v] <= 2 * curve.total_error[v])
    with pytest.raises(ValueError, match="estimator must be one of"):
        entropy_curve(made.stream, 2, upper=False, estimator="pym")


@pytest.mark.slow
def test_nsb_valid_points_cover_where_its_bias_turns_high():
    """Santa Fe b = 0.3, 1e6 tokens: NSB's bias changes sign with n; projected one way only, n = 4 was
    marked valid 3.2 total errors above exact. Projected both ways, every valid point covers."""
    made = synthetic.make("santa_fe", 10**6, seed=2, b=0.3, n_keys=10_000, doc_length=10_000)
    curve = entropy_curve(made.stream, 8, within_documents=True, upper=False, seed=2, estimator="nsb")
    exact = made.exact_entropy(8)
    v = curve.valid
    assert np.all(np.abs(curve.corrected - exact)[v] <= 2 * curve.total_error[v])
