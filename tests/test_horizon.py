"""Horizon measured at nested sample sizes from one counting pass (corpus_stats.correlations.horizon)."""

import numpy as np
import pytest

from corpus_stats import synthetic
from corpus_stats.correlations.horizon import horizon_curve

LAGS = [1, 2, 4, 8, 16, 32, 64]


@pytest.fixture(scope="module")
def copy_stream():
    return synthetic.copy_process(400_000, vocab_size=40, rho=0.5, a=0.5, k_max=200, n_documents=64, seed=1).stream


@pytest.fixture(scope="module")
def full_curve(copy_stream):
    from corpus_stats.correlations.curve import correlation_curve

    return correlation_curve(copy_stream, LAGS)


def _direct(tokens, bounds, lo, hi, mid, t, v):
    """Split-half op and fro of shards [lo, mid) vs [mid, hi), by dense numpy from the tokens."""
    out = []
    for a, b in ((lo, mid), (mid, hi)):
        i = np.arange(bounds[a], min(bounds[b], tokens.size - t))
        j = np.bincount(tokens[i] * v + tokens[i + t], minlength=v * v).reshape(v, v).astype(float)
        p = j.sum()
        out.append(j / p - np.outer(j.sum(1) / p, j.sum(0) / p))
    ca, cb = out
    lam = np.linalg.eigvalsh(0.5 * (ca.T @ cb + cb.T @ ca))[-1]
    inner = float((ca * cb).sum())
    return np.sign(lam) * np.sqrt(abs(lam)), np.sign(inner) * np.sqrt(abs(inner))


def test_nested_split_half_values_equal_a_direct_computation(copy_stream, full_curve):
    lags = LAGS
    h = horizon_curve(copy_stream, lags, n_halvings=2, curve=full_curve)
    tok = np.asarray(copy_stream.tokens).astype(np.int64)
    bounds = copy_stream.shards(8).bounds
    for k, g in enumerate([8, 4, 2]):
        for li, t in enumerate(lags):
            op, fro = _direct(tok, bounds, 0, g, g // 2, t, copy_stream.vocab_size)
            assert h.op_debiased[k, li] == pytest.approx(op, rel=1e-9, abs=1e-12)
            assert h.fro_debiased[k, li] == pytest.approx(fro, rel=1e-9, abs=1e-12)
    assert h.tokens[0] == pytest.approx(copy_stream.n_tokens - 1)
    assert np.allclose(h.tokens[1:] / h.tokens[:-1], 0.5, rtol=0.05)


@pytest.mark.parametrize("norm", ["op", "fro"])
def test_horizons_grow_with_the_sample_and_follow_the_law(copy_stream, full_curve, norm):
    h = horizon_curve(copy_stream, LAGS, n_halvings=2, norm=norm, curve=full_curve)
    assert np.all(np.diff(h.noise) > 0)  # noise rises as P falls
    assert h.beta > 0.8 and 0 < h.prefactor
    # predicted t*(P) = (A sqrt(P)/c)^(1/beta): each halving divides it by 2^(1/(2 beta))
    ratio = h.predicted[:-1] / h.predicted[1:]
    expect = (h.tokens[:-1] / h.tokens[1:]) ** (1 / (2 * h.beta))
    np.testing.assert_allclose(ratio, expect, rtol=1e-9)
    measured = np.nan_to_num(h.measured, nan=np.inf)
    assert np.all(np.diff(measured) <= 0)  # a smaller sample never sees further
    d = h.to_dict()
    assert d["norm"] == norm and len(d["op_debiased"]) == 3
    again = type(h).from_dict(d)
    np.testing.assert_array_equal(again.lags, h.lags)


def test_too_many_halvings_is_a_clear_error():
    st = synthetic.copy_process(5_000, vocab_size=20, n_documents=4, seed=0).stream
    short = synthetic.copy_process(1_000, vocab_size=20, n_documents=4, seed=0).stream
    # more nested halves than tokens: no shard rule can give them
    with pytest.raises(
        ValueError,
        match=r"needs 2\*\*\(n_halvings \+ 1\) = 2048 shards, but this corpus gives 1000; use fewer halvings",
    ):
        horizon_curve(short, [1, 2], n_halvings=10)
    with pytest.raises(ValueError, match="norm must be 'op' or 'fro'"):
        horizon_curve(st, [1, 2], n_halvings=1, norm="spectral")


def test_report_section_round_trips_and_the_figure_is_written(copy_stream, full_curve, tmp_path):
    from corpus_stats.report.horizon_plot import save_horizon_figure
    from corpus_stats.report.measurement import Measurement, load_measurement

    h = horizon_curve(copy_stream, LAGS, n_halvings=2, curve=full_curve)
    old = Measurement(full_curve)
    assert "horizon" not in old.to_dict()  # reports without it are unchanged
    m = old.with_horizon(h)
    path = m.save_json(tmp_path / "report.json")
    back = load_measurement(path)
    assert back.horizon["measured"] == m.to_dict()["horizon"]["measured"]
    assert back.with_prediction({"x": 1}).horizon is back.horizon
    fig = save_horizon_figure(back.horizon, tmp_path / "horizon.png")
    assert fig.stat().st_size > 10_000
