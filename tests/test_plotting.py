"""Tests of corpus_stats.plotting on hand-made measurements (no estimators needed)."""

from __future__ import annotations

import numpy as np
import pytest
from test_report import make_measurement

from corpus_stats.plotting import (
    plot_correlations,
    plot_entropy,
    plot_learning_curve,
    plot_prediction,
    plot_report,
)

P = np.geomspace(1e6, 1e10, 12)
PREDICTION = {
    "alpha_D": {"value": 0.2, "interval": [0.17, 0.23]},
    "beta": {"value": 0.9, "interval": [0.85, 0.95], "window": [1, 64], "prefactor": 0.02},
    "gamma": {"value": 0.4, "interval": [0.3, 0.6], "window": [1, 4], "prefactor": 3.0, "H_inf": 2.0},
    "horizon": {"P": P.tolist(), "t_star": (P ** 0.55 / 1e3).tolist()},
    "learning_curve": {"P": P.tolist(), "loss": (2 + 3 * (P ** 0.55 / 1e3) ** -0.4).tolist(),
                       "extrapolated": [bool(x > 1e8) for x in P]},
    "warnings": [],
}


def _texts(fig):
    ax = fig.axes[0]
    return ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()]


def test_correlation_figure_has_fit_numbers_floor_and_log_axes():
    fig = plot_correlations(make_measurement(prediction=PREDICTION))
    title, legend = _texts(fig)
    assert "β = 0.9 ± 0.05" in title
    assert any("noise floor" in t for t in legend) and any("fit window t = 1..64" in t for t in legend)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "lag t" in ax.get_xlabel()


def test_entropy_figure_shows_bracket_valid_range_and_h_inf():
    fig = plot_entropy(make_measurement(prediction=PREDICTION))
    title, legend = _texts(fig)
    assert "γ = 0.4 [0.3, 0.6]" in title and "H_∞ = 2" in title  # asymmetric interval
    for label in ("plug-in", "bias-corrected", "Kneser-Ney upper bound", "external L_n",
                  "valid n = 1..4"):
        assert any(label in t for t in legend), label


def test_figures_without_prediction_or_external_still_draw():
    m = make_measurement(external=False)
    _, legend = _texts(plot_entropy(m))
    assert not any("external" in t for t in legend)
    title, _ = _texts(plot_correlations(m))
    assert "β =" not in title
    with pytest.raises(ValueError, match="no prediction of L\\(P\\) or t\\*\\(P\\)"):
        plot_prediction(m)


def test_prediction_and_learning_curve_figures():
    m = make_measurement(prediction=PREDICTION)
    fig = plot_prediction(m)
    assert len(fig.axes) == 2 and "α_D = 0.2 ± 0.03" in fig.axes[0].get_title()
    fig = plot_learning_curve(m, P[:4], 2.2 + 3 * (P[:4] ** 0.55 / 1e3) ** -0.4)
    assert any("slope α_D" in t for t in _texts(fig)[1])
    with pytest.raises(ValueError, match="as many losses as token counts .*got 4 token counts and 3"):
        plot_learning_curve(m, P[:4], [1, 2, 3])


def test_missing_curve_is_a_clear_error():
    m = make_measurement()
    from corpus_stats.report import Measurement

    empty = Measurement(None, None, {}, {}, {})
    with pytest.raises(ValueError, match="no correlation curve"):
        plot_correlations(empty)
    with pytest.raises(ValueError, match="no entropy curve"):
        plot_entropy(empty)
    assert m.entropy is not None


def test_plot_report_writes_nonempty_png_and_svg(tmp_path):
    m = make_measurement(prediction=PREDICTION)
    files = plot_report(m, tmp_path / "figs", learning_curve=(P[:4], 2.5 - 0.1 * np.arange(4)))
    names = sorted(p.name for p in files)
    assert names == sorted(f"{n}.{e}" for n in ("correlations", "entropy", "prediction",
                                                "learning_curve") for e in ("png", "svg"))
    for path in files:
        head = path.read_bytes()[:8]
        assert path.stat().st_size > 5_000
        assert head.startswith(b"\x89PNG") if path.suffix == ".png" else b"<?xml" in head
    with pytest.raises(ValueError, match="formats must be among png, svg, pdf; got \\['jpg'\\]"):
        plot_report(m, tmp_path, formats=["jpg"])


def test_plot_report_selects_figures_and_overlays_exact_curves(tmp_path):
    m = make_measurement(prediction=PREDICTION)
    n_lags, n_n = len(m.correlations.lags), len(m.entropy.n)
    files = plot_report(m, tmp_path, formats=("png",), figures=("entropy", "correlations"),
                        exact={"correlations": np.ones(n_lags) * 1e-3, "entropy": np.ones(n_n)})
    assert sorted(p.name for p in files) == ["correlations.png", "entropy.png"]
    with pytest.raises(ValueError, match="figures must be among .*; got \\['heatmap'\\]"):
        plot_report(m, tmp_path, figures=["heatmap"])
    with pytest.raises(ValueError, match="exact must have one value per lag"):
        plot_report(m, tmp_path, figures=["correlations"], exact={"correlations": [1.0]})
