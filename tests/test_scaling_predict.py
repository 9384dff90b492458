"""scaling.predict / alpha_D / horizon / compare_learning_curve / collapse on planted curves."""

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from scaling import (
    alpha_D,
    collapse,
    compare_learning_curve,
    horizon,
    predict,
)

BETA, GAMMA, H_INF, N_PAIRS = 0.9, 0.4, 1.5, 1e7


def planted(seed=0, G=20, n_valid=12, external=False):
    """A report.json-like dict with ||C|| = 0.02 t^-0.9 and H_n = 1.5 + 2 n^-0.4 plus noise.

    Shard replicates share one random effect per shard in both curves (as leave-one-shard-out
    replicates of one sample do), so beta and gamma replicates are correlated.
    """
    rng = np.random.default_rng(seed)
    lags = np.unique(np.r_[np.round(np.geomspace(1, 1024, 25)), [1, 2, 3, 4, 6, 8, 12, 16, 24, 32]])
    true = 0.02 * lags**-BETA
    floor = 0.34 / np.sqrt(N_PAIRS) * np.ones(lags.size)
    shard = rng.normal(0, 1, G)
    op_j = true * np.exp(0.003 * shard[:, None] * np.log(lags) + rng.normal(0, 0.003, (G, lags.size)))
    deb = true * np.exp(rng.normal(0, 0.02, lags.size))
    n = np.arange(33)
    h = H_INF + 2.0 * np.maximum(n, 1) ** -GAMMA + rng.normal(0, 0.002, n.size)
    h[0] = H_INF + 3.0
    cj = h + 0.002 * shard[:, None] * np.maximum(n, 1) ** -0.2 + rng.normal(0, 0.0005, (G, n.size))
    corr = {
        "lags": lags.astype(int).tolist(),
        "n_pairs": [int(N_PAIRS)] * lags.size,
        "op": np.hypot(deb, floor).tolist(),
        "floor_op": floor.tolist(),
        "op_debiased": deb.tolist(),
        "snr": (deb / floor).tolist(),
        "op_jackknife": op_j.tolist(),
    }
    ent = {
        "n": n.tolist(),
        "plugin": h.tolist(),
        "corrected": h.tolist(),
        "upper": [None] * n.size,
        "stderr": [0.002] * n.size,
        "valid": (n <= n_valid).tolist(),
        "corrected_jackknife": cj.tolist(),
        "external": None,
        "external_stderr": None,
    }
    if external:
        ext = [None] + (3.0 * np.arange(1, 16) ** -0.3).tolist() + [None] * (n.size - 16)
        ent["external"] = ext
    return {"correlations": corr, "entropy": ent}


def test_predict_recovers_planted_exponents_with_joint_jackknife():
    p = predict(planted(), tokens=[1e6, 1e8, 1e10])
    b, g = p.beta.fit, p.gamma.fit
    assert b.exponent == pytest.approx(BETA, abs=0.05)
    assert g.exponent == pytest.approx(GAMMA, abs=0.05)
    assert p.H_inf == pytest.approx(H_INF, abs=0.05)
    assert p.gamma_curve == "corrected" and g.window == (1.0, 12.0)
    a = p.alpha_D
    assert a.method == "joint jackknife" and a.n_replicates == 20
    assert a.value == pytest.approx(GAMMA / (2 * BETA), abs=0.03)
    assert a.covariance != 0 and np.isfinite(a.paper_stderr)
    # the raw slope ignores H_inf: the paper-compatible alpha is much lower, and we say so
    assert p.alpha_D_paper.value < a.value - 0.05
    assert any("ignoring H_inf matters" in w for w in p.warnings)
    assert any("n = 1..12 (12 points)" in s for s in p.assumptions)
    assert p.floor_constant == pytest.approx(0.34) and "calibrated" in p.floor_constant_source
    assert p.beta_floor is not None and p.beta_floor.exponent == pytest.approx(BETA, abs=0.1)


def test_predict_horizon_and_loss_curve():
    p = predict(planted(), tokens=[1e4, 1e6, 1e8, 1e10])
    t = p.horizon.t_star
    # t* ∝ P^(1/2β) where both come from the law
    assert t[3] / t[2] == pytest.approx(100 ** (1 / (2 * p.beta.fit.exponent)), rel=1e-6)
    assert np.all(np.diff(t) > 0) and np.all(np.diff(p.loss) < 0)
    assert np.all(p.loss > p.H_inf)
    # P = 1e4 puts c/sqrt(P) inside the trusted measured curve; 1e10 lies far beyond it
    assert not p.horizon.extrapolated[0] and p.horizon.extrapolated[3] and p.loss_extrapolated[3]
    assert any("extrapolated" in w for w in p.warnings)
    assert any("fast learning" in s for s in p.assumptions)
    text = p.summary()
    assert "alpha_D =" in text and "(extrapolated)" in text
    d = json.loads(json.dumps(p.to_dict()))
    assert d["alpha_D"]["method"] == "joint jackknife" and len(d["tokens"]) == 4


def test_predict_accepts_objects_like_measurement():
    d = planted(seed=1)
    m = SimpleNamespace(
        correlations=SimpleNamespace(**{k: np.asarray(v) for k, v in d["correlations"].items()}),
        entropy=SimpleNamespace(
            **{k: (None if v is None else np.asarray(v, dtype=float)) for k, v in d["entropy"].items()}
        ),
    )
    m.entropy.valid = np.asarray(d["entropy"]["valid"])
    p_obj, p_dict = predict(m), predict(d)
    assert p_obj.alpha_D.value == pytest.approx(p_dict.alpha_D.value, rel=1e-12)


def test_predict_warns_when_gamma_rests_on_few_points():
    p = predict(planted(n_valid=6))
    assert any("H_n usable only for n = 1..6: gamma rests on 6 points" in w for w in p.warnings)


def test_predict_without_replicates_falls_back_and_says_so():
    d = planted()
    del d["correlations"]["op_jackknife"]
    p = predict(d)
    assert p.alpha_D.method == "independent (paper formula)"
    assert any("independent beta and gamma errors" in w for w in p.warnings)


def test_predict_uses_external_curve_when_given():
    p = predict(planted(external=True))
    assert p.gamma_curve == "external"
    assert p.gamma.fit.exponent == pytest.approx(0.3, abs=1e-3)
    assert any("external curve" in s for s in p.assumptions)


def test_predict_clear_errors():
    d = planted()
    with pytest.raises(ValueError, match="needs both measured curves; .*no entropy"):
        predict({"correlations": d["correlations"], "entropy": None})
    with pytest.raises(ValueError, match="at least 3 lags with signal/noise >= 1e\\+06"):
        predict(d, snr_threshold=1e6)
    few = planted(n_valid=2)
    with pytest.raises(ValueError, match="gamma needs at least 4 valid H_n points .*has 2"):
        predict(few)
    with pytest.raises(ValueError, match="floor_constant must be finite and positive; got -1"):
        predict(d, floor_constant=-1)


def test_alpha_D_joint_jackknife_keeps_covariance():
    rng = np.random.default_rng(4)
    b = 0.9 + 0.05 * rng.normal(size=20)
    # gamma moves with beta: alpha = gamma/2beta is constant across replicates
    a = alpha_D(0.9, 0.36, beta_stderr=0.2, gamma_stderr=0.08, beta_replicates=b, gamma_replicates=0.4 * b)
    assert a.stderr == pytest.approx(0.0, abs=1e-12) and a.paper_stderr > 0.01
    assert a.covariance > 0
    mixed = alpha_D(0.9, 0.36, beta_stderr=0.05, gamma_stderr=0.01, beta_replicates=b, gamma_replicates=b[:10])
    assert mixed.method == "independent (paper formula)" and "different shardings" in mixed.notes[0]
    with pytest.raises(ValueError, match="beta must be a finite positive exponent; got -0.5"):
        alpha_D(-0.5, 0.3)


def test_horizon_law_and_measured_interpolation():
    h = horizon([1e8], beta=1.0, prefactor=0.01, floor_constant=0.5)
    assert h.t_star[0] == pytest.approx(0.01 / (0.5 / 1e4))
    lags = np.array([1.0, 10.0, 100.0])
    h2 = horizon([1e4], beta=1.0, prefactor=0.01, floor_constant=0.5, lags=lags, norms=[1e-2, 1e-3, 1e-4])
    assert h2.t_star[0] == pytest.approx(2.0) and not h2.extrapolated[0]
    with pytest.raises(ValueError, match="tokens must be a non-empty list of positive numbers"):
        horizon([0], beta=1.0, prefactor=1.0)


def test_compare_with_full_prediction_and_envelope():
    p = predict(planted(), tokens=np.geomspace(1e5, 1e9, 9))
    P = np.repeat(np.geomspace(1e6, 1e8, 5), 2)
    L = 2.0 + 5 * P**-0.2 + np.tile([0.0, 0.1], 5)  # two model sizes per P
    c = compare_learning_curve(p, P, L)
    assert c.n_envelope == 5 and any("lower envelope" in s for s in c.notes)
    assert c.predicted_loss is not None and np.all(np.isfinite(c.predicted_loss))
    json.dumps(c.to_dict())
    with pytest.raises(TypeError, match="Prediction or AlphaEstimate"):
        compare_learning_curve(0.2, P, L)
    with pytest.raises(ValueError, match="at least 3 distinct P; got 2"):
        compare_learning_curve(p, [1e6, 1e6, 1e7], [3.0, 2.9, 2.5])
    with pytest.raises(ValueError, match="same length"):
        compare_learning_curve(p, [1e6, 1e7, 1e8], [3.0, 2.9])


def test_collapse_scores_right_exponents_best():
    n = np.repeat(np.arange(1, 6), 8).astype(float)
    P = np.tile(2.0 ** np.arange(10, 26, 2), 5)
    L = H_INF + n**-GAMMA * 3 * (1 + P / n ** (2 * BETA) / 100) ** -0.3
    good = collapse({"n": n, "tokens": P, "loss": L}, BETA, GAMMA, H_INF)
    bad = collapse(np.column_stack([n, P, L]), 0.5, 0.1, H_INF)
    assert good.rms_log_residual < 0.02 and good.quality > 0.999
    assert bad.rms_log_residual > 2 * good.rms_log_residual
    json.dumps(good.to_dict())
    with pytest.raises(ValueError, match="missing \\['loss'\\]"):
        collapse({"n": n, "tokens": P}, BETA, GAMMA, H_INF)
    with pytest.raises(ValueError, match="at least 5 rows with loss > H_inf; got 0"):
        collapse({"n": n, "tokens": P, "loss": L}, BETA, GAMMA, 100.0)


def test_scaling_imports_neither_corpus_stats_nor_numba():
    code = (
        "import sys, scaling; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('corpus_stats', 'numba')]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _with_extrapolated(d, n_corrected_valid, n_extrap_valid):
    ent = d["entropy"]
    n = np.asarray(ent["n"])
    ent["valid"] = (n <= n_corrected_valid).tolist()
    x = H_INF + 2.0 * np.maximum(n, 1) ** -GAMMA
    x[0] = H_INF + 3.0
    ent["extrapolated"] = x.tolist()
    ent["extrapolated_stderr"] = [0.01] * n.size
    ent["extrapolated_valid"] = (n <= n_extrap_valid).tolist()
    return d


def test_gamma_curve_rule_falls_back_to_extrapolated():
    # corrected valid only at n = 0..2 (2 points at n >= 1): the extrapolated curve is used
    p = predict(_with_extrapolated(planted(), 2, 10))
    assert p.gamma_curve == "extrapolated"
    assert p.gamma.fit.exponent == pytest.approx(GAMMA, abs=0.02)
    assert any("model of the finite-size bias" in w for w in p.warnings)
    assert any("size-extrapolated" in s for s in p.assumptions)
    # enough corrected points: corrected wins even when an extrapolated curve is present
    assert predict(_with_extrapolated(planted(), 8, 10)).gamma_curve == "corrected"
    # an external curve wins over both
    assert predict(_with_extrapolated(planted(external=True), 2, 10)).gamma_curve == "external"


def test_gamma_curve_rule_no_curve_is_a_clear_error():
    with pytest.raises(ValueError, match="corrected curve has 2 and the size-extrapolated curve 3"):
        predict(_with_extrapolated(planted(), 2, 3))
    d = planted()
    d["entropy"]["valid"] = (np.arange(33) <= 2).tolist()  # an old report: no extrapolated fields
    with pytest.raises(ValueError, match="no size-extrapolated curve was measured"):
        predict(d)
    d = _with_extrapolated(planted(), 2, 10)
    d["entropy"]["extrapolated_valid"] = [True] * 5
    with pytest.raises(ValueError, match="extrapolated_valid must have 33 entries; got 5"):
        predict(d)


def test_predict_rejects_nan_or_negative_norm_above_the_noise():
    d = planted()
    d["correlations"]["op_debiased"][2] = -5.0  # snr stays high
    with pytest.raises(ValueError, match=r"correlations.op_debiased\[2\] \(lag 3\) is -5 while its signal/noise"):
        predict(d)
    d = planted()
    d["correlations"]["op_debiased"][2] = None  # JSON null, NaN snr: dropped, but never silently
    d["correlations"]["snr"][2] = None
    pred = predict(d)
    assert any("op_debiased is not a number at 1 lag(s) where op is finite (t = 3)" in w for w in pred.warnings)


def test_predict_refuses_flat_correlations():
    """||C|| constant over the lags at signal/noise ~ 300: beta ~ 0, no alpha_D (was 5640)."""
    rng = np.random.default_rng(7)
    d = planted()
    c = d["correlations"]
    k = len(c["lags"])
    deb = 0.01 * np.exp(rng.normal(0, 1e-3, k))
    c["op_debiased"] = deb.tolist()
    c["op"] = deb.tolist()
    c["snr"] = (deb / np.asarray(c["floor_op"])).tolist()
    c["op_stderr"] = (0.003 * deb).tolist()
    c["op_jackknife"] = (deb * np.exp(rng.normal(0, 1e-3, (20, k)))).tolist()
    with pytest.raises(ValueError, match="alpha_D refused: .*(consistent with 0|flat within noise)"):
        predict(d)


def test_predict_refuses_increasing_external_curve():
    d = planted(external=True)
    ext = d["entropy"]["external"]
    d["entropy"]["external"] = [None] + [3.0 + 0.01 * i for i in range(1, 16)] + ext[16:]
    with pytest.raises(ValueError, match="entropy.external does not decrease with n over n = 1..15"):
        predict(d)


def test_alpha_D_refuses_exponent_consistent_with_zero_and_adds_systematics():
    with pytest.raises(ValueError, match=r"alpha_D refused: gamma = 0.01 ± 0.02 \(1 s.e.\) is consistent with 0"):
        alpha_D(0.9, 0.01, beta_stderr=0.05, gamma_stderr=0.02)
    rng = np.random.default_rng(5)
    b = 0.9 + 0.01 * rng.normal(size=20)
    g = 0.4 + 0.002 * rng.normal(size=20)
    stat = alpha_D(0.9, 0.4, beta_replicates=b, gamma_replicates=g)
    # a wide beta (window spread, fallback fit) must widen alpha_D's interval, not vanish in the jackknife
    wide = alpha_D(0.9, 0.4, beta_stderr=0.3, gamma_stderr=0.0, beta_replicates=b, gamma_replicates=g)
    assert wide.stderr == pytest.approx(
        np.hypot(stat.stderr, 0.4 / (2 * 0.9**2) * np.sqrt(0.3**2 - 0.01**2 * 19)), rel=0.05
    )
    assert wide.beta_stderr == pytest.approx(0.3) and wide.jackknife_stderr == pytest.approx(stat.stderr)
    # an exponent whose profile interval is unbounded is not determined: no alpha_D
    with pytest.raises(ValueError, match="alpha_D refused: gamma"):
        alpha_D(0.9, 0.4, beta_stderr=0.01, gamma_stderr=float("inf"), beta_replicates=b, gamma_replicates=g)
