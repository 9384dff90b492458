"""The parts of an exponent's total error (scaling.ErrorBudget) and the refusal of undetermined gamma."""

import math

import numpy as np
import pytest

from scaling import choose_exponents, fit_power_law, window_spread
from scaling.gamma import check_gamma_determined, fit_gamma

G = 20


def entropy(h, stderr=0.002, systematic=None, seed=0, n_valid=12):
    """A report-like entropy dict for the curve h (n = 0..len-1) with G shard replicates of noise stderr."""
    rng = np.random.default_rng(seed)
    n = np.arange(h.size)
    # leave-one-shard-out replicates scatter by stderr / sqrt(G - 1) around the curve
    reps = h + rng.normal(0, stderr / math.sqrt(G - 1), (G, h.size))
    d = {
        "n": n.tolist(),
        "corrected": h.tolist(),
        "stderr": [stderr] * h.size,
        "valid": (n <= n_valid).tolist(),
        "corrected_jackknife": reps.tolist(),
    }
    if systematic is not None:
        d["systematic"] = np.asarray(systematic, float).tolist()
    return d


def test_window_spread_takes_out_the_noise_of_window_differences():
    assert window_spread([1.0, 1.2, 0.9], [True] * 3, [0.0] * 3) == pytest.approx(0.15)
    # a difference of 0.2 with noise 0.12 keeps sqrt(0.2² - 0.12²) = 0.16 of it
    assert window_spread([1.0, 1.2], [True, True], [0.0, 0.12]) == pytest.approx(0.08)
    # differences within noise and undetermined windows count for nothing
    assert window_spread([1.0, 1.05, 0.1], [True, True, False], [0.0, 0.1, 0.0]) == 0.0


def test_curve_systematic_is_the_shift_of_gamma_by_the_projected_bias():
    """A curve biased low by exactly its systematic errors: the curve part is the whole error of gamma."""
    n = np.arange(13.0)
    true = 1.5 + 2.0 * np.maximum(n, 1) ** -0.4
    true[0] = 4.5
    bias = 0.004 * np.maximum(n, 1) ** 0.7  # grows with n, like an undersampled n-gram estimate
    g = fit_gamma(entropy(true - bias, systematic=bias), 5, 0.6, 0.9, [], [])
    sel, budget = g.selection, g.budget
    lo, hi = sel.window
    w = (n >= lo) & (n <= hi)
    sigma = np.hypot(0.002, bias[w])
    exact = fit_power_law(n[w], true[w], method="offset", sigma=sigma).exponent
    assert budget.curve_systematic == pytest.approx(abs(sel.fit.exponent - exact), rel=1e-3)
    assert abs(sel.fit.exponent - exact) > 2 * budget.statistical  # the jackknife alone would not cover
    assert budget.total == pytest.approx(
        math.hypot(budget.scale * math.hypot(budget.statistical, budget.curve_systematic), budget.window)
    )
    assert budget.statistical_method == "jackknife"
    assert "projected bias" in budget.describe()


def test_noise_free_power_law_has_no_window_part_and_a_jackknife_error():
    n = np.arange(13.0)
    h = 1.5 + 2.0 * np.maximum(n, 1) ** -0.4
    h[0] = 4.5
    rng = np.random.default_rng(3)
    noisy = h + rng.normal(0, 0.002, h.size)
    g = fit_gamma(entropy(noisy, seed=4), 5, 0.6, 0.9, [], [])
    assert len(g.selection.candidate_windows) > 3
    # window differences of one noisy power law are noise, mostly taken out
    assert g.budget.window < g.selection.systematic
    assert g.budget.curve_systematic == 0.0  # no systematic errors given
    assert abs(g.selection.fit.exponent - 0.4) < 3 * g.budget.total


def test_flat_curve_is_refused_with_the_reason():
    rng = np.random.default_rng(1)
    h = 2.0 + rng.normal(0, 0.002, 13)  # iid source: H_n flat from n = 0
    with pytest.raises(ValueError, match=r"gamma refused: the corrected H_n over n = 1..12 is flat within noise"):
        fit_gamma(entropy(h), 5, 0.6, 0.9, [], [])
    choice = choose_exponents({"entropy": entropy(h)})
    assert choice.gamma is None and "iid source, or a Markov chain beyond its order" in choice.gamma_error


def test_curve_that_drops_and_stays_flat_is_refused():
    """An order-2 Markov chain: H_1 > H_2 = H_3 = ...: the offset fit runs to its upper bound, and the
    curve stops falling inside the window."""
    rng = np.random.default_rng(2)
    n = np.arange(13.0)
    h = np.r_[3.0, 2.0, 1.2, np.full(10, 1.2)] + rng.normal(0, 0.001, 13)
    with pytest.raises(ValueError, match=r"gamma refused: the corrected H_n over n = 1..12 stops falling at n = 4"):
        fit_gamma(entropy(h, stderr=0.001), 5, 0.6, 0.9, [], [])
    # the bound rule on its own (no errors to test flatness with)
    fit = fit_power_law(n[1:], h[1:], method="offset", sigma=np.full(12, 0.001))
    assert fit.undetermined and fit.exponent == pytest.approx(5.0)
    with pytest.raises(ValueError, match=r"does not determine gamma: .* upper bound of the search range 0.001..5"):
        check_gamma_determined("corrected", fit, n[1:], h[1:], None)


def test_a_wide_fallback_beta_shows_up_in_alpha_D():
    """As on tiny-Shakespeare: beta's window rule falls back to a few scattered lags; alpha_D's interval
    must carry that width, not only the joint jackknife's."""
    rng = np.random.default_rng(6)
    lags = np.array([1.0, 2.0, 3.0, 4.0])  # fewer than min_points: the rule falls back to all lags
    shard = rng.normal(0, 1, G)
    deb = 0.02 * lags**-0.9 * np.exp(rng.normal(0, 0.15, lags.size))
    floor = np.full(lags.size, 1e-5)
    corr = {
        "lags": lags.tolist(),
        "op": np.hypot(deb, floor).tolist(),
        "op_debiased": deb.tolist(),
        "floor_op": floor.tolist(),
        "snr": (deb / floor).tolist(),
        "op_jackknife": (deb * np.exp(0.003 * shard[:, None] + rng.normal(0, 0.002, (G, lags.size)))).tolist(),
    }
    n = np.arange(13.0)
    h = 1.5 + 2.0 * np.maximum(n, 1) ** -0.4
    h[0] = 4.5
    from scaling import predict

    pred = predict({"correlations": corr, "entropy": entropy(h + rng.normal(0, 0.002, 13))}, tokens=[1e6])
    b, a = pred.beta_error_budget, pred.alpha_D
    assert pred.beta.fallback and any("no window satisfied the rule" in w for w in pred.warnings)
    assert b.statistical_method == "fit scatter" and a.beta_stderr == pytest.approx(b.total)
    # beta's jackknife is tiny here: alpha_D's error is at least what beta's total error alone implies
    assert b.total > 3 * a.jackknife_stderr * 2 * a.beta**2 / a.gamma
    assert a.stderr >= 0.95 * a.gamma / (2 * a.beta**2) * b.total


def test_window_part_is_the_true_curves_own_window_dependence():
    """H_1 off the law (as Santa Fe's first step) and a bias growing with n: the windows differ on the
    data by bias and by the curve itself; the window part keeps only the curve's own spread."""
    n = np.arange(13.0)
    true = 1.5 + 2.0 * np.maximum(n, 1) ** -0.4
    true[0], true[1] = 4.5, true[1] + 0.3
    bias = 0.004 * np.maximum(n, 1) ** 0.7
    g = fit_gamma(entropy(true - bias, stderr=1e-4, systematic=bias), 5, 0.6, 0.9, [], [])
    sel = g.selection
    sigma = np.hypot(1e-4, bias)
    own = [
        fit_power_law(n[m], true[m], method="offset", sigma=sigma[m]).exponent
        for m in ((n >= a) & (n <= b) for a, b in sel.candidate_windows)
    ]
    assert 0.5 * (max(own) - min(own)) > 0.05  # the windows really disagree on this curve
    assert g.budget.window == pytest.approx(0.5 * (max(own) - min(own)), rel=0.05, abs=0.005)
    assert g.budget.window < sel.systematic  # the raw spread holds the bias too


def test_curve_that_stops_falling_inside_the_window_is_refused():
    """An order-3 Markov chain at 10^7 tokens: H_1 > H_2 > H_3 = H_4 = ... The offset fit is bounded
    (the first three points pin a number, scattered ~300 times their errors); the tail rule refuses it."""
    rng = np.random.default_rng(8)
    h = np.r_[3.2, 2.6, 1.9, 1.3, np.full(9, 1.3)] + rng.normal(0, 1e-4, 13)
    with pytest.raises(ValueError, match=r"gamma refused: the corrected H_n over n = 1..12 stops falling at n = 4"):
        fit_gamma(entropy(h, stderr=1e-4), 5, 0.6, 0.9, [], [])
