"""Tests of the report figures (corpus_stats.report.plotting, entropy_figure, loss_figures) on hand-made
measurements (no estimators needed)."""

from __future__ import annotations

import numpy as np
import pytest
from test_report import make_measurement

from corpus_stats.report.entropy_figure import plot_entropy
from corpus_stats.report.loss_figures import plot_learning_curve
from corpus_stats.report.plotting import plot_correlations, plot_prediction, plot_report

P = np.geomspace(1e6, 1e10, 12)
PREDICTION = {
    "alpha_D": {"value": 0.2, "stderr": 0.018, "interval": [0.17, 0.23], "confidence": 0.9},
    "beta": {
        "value": 0.9,
        "stderr": 0.03,
        "interval": [0.85, 0.95],
        "confidence": 0.9,
        "window": [1, 64],
        "prefactor": 0.02,
    },
    "gamma": {"value": 0.4, "stderr": 0.09, "interval": [0.25, 0.55], "window": [1, 4], "prefactor": 3.0, "H_inf": 2.0},
    "horizon": {"P": P.tolist(), "t_star": (P**0.55 / 1e3).tolist()},
    "learning_curve": {
        "P": P.tolist(),
        "loss": (2 + 3 * (P**0.55 / 1e3) ** -0.4).tolist(),
        "extrapolated": [bool(x > 1e8) for x in P],
    },
    "warnings": [],
}


def _texts(fig):
    ax = fig.axes[0]
    return ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()]


def test_correlation_figure_has_fit_numbers_floor_and_log_axes():
    fig = plot_correlations(make_measurement(prediction=PREDICTION))
    title, legend = _texts(fig)
    # one convention with the printed summary: ± is 1 s.e., then the 90% interval
    assert "β = 0.9 ± 0.03 [90%: 0.85..0.95]" in title
    assert any("noise floor" in t for t in legend) and any("fit window t = 1..64" in t for t in legend)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "lag t" in ax.get_xlabel()


def test_entropy_figure_shows_bracket_valid_range_and_h_inf():
    fig = plot_entropy(make_measurement(prediction=PREDICTION))
    title, legend = _texts(fig)
    assert "γ = 0.4 ± 0.09 [90%: 0.25..0.55]" in title and "H_∞ = 2" in title
    for label in ("plug-in", "bias-corrected", "Kneser-Ney upper bound", "external L_n", "valid n = 1..4"):
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
    assert len(fig.axes) == 2 and "α_D = 0.2 ± 0.018 [90%: 0.17..0.23]" in fig.axes[0].get_title()
    fig = plot_learning_curve(m, P[:4], 2.2 + 3 * (P[:4] ** 0.55 / 1e3) ** -0.4)
    assert any("slope α_D" in t for t in _texts(fig)[1])
    with pytest.raises(ValueError, match="as many losses as token counts .*got 4 token counts and 3"):
        plot_learning_curve(m, P[:4], [1, 2, 3])


def test_missing_curve_is_a_clear_error():
    m = make_measurement()
    from corpus_stats.report.measurement import Measurement

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
    assert names == sorted(
        f"{n}.{e}" for n in ("correlations", "entropy", "prediction", "learning_curve") for e in ("png", "svg")
    )
    for path in files:
        head = path.read_bytes()[:8]
        assert path.stat().st_size > 5_000
        assert head.startswith(b"\x89PNG") if path.suffix == ".png" else b"<?xml" in head
    with pytest.raises(ValueError, match="formats must be among png, svg, pdf; got \\['jpg'\\]"):
        plot_report(m, tmp_path, formats=["jpg"])


def test_plot_report_selects_figures_and_overlays_exact_curves(tmp_path):
    m = make_measurement(prediction=PREDICTION)
    n_lags, n_n = len(m.correlations.lags), len(m.entropy.n)
    files = plot_report(
        m,
        tmp_path,
        formats=("png",),
        figures=("entropy", "correlations"),
        exact={"correlations": np.ones(n_lags) * 1e-3, "entropy": np.ones(n_n)},
    )
    assert sorted(p.name for p in files) == ["correlations.png", "entropy.png"]
    with pytest.raises(ValueError, match="figures must be among .*; got \\['heatmap'\\]"):
        plot_report(m, tmp_path, figures=["heatmap"])
    with pytest.raises(ValueError, match="exact must have one value per lag"):
        plot_report(m, tmp_path, figures=["correlations"], exact={"correlations": [1.0]})


# -- (d) collapse and the extrapolated H_n -----------------------------------------------------

PAPER = {"beta": 0.88, "gamma": 0.325, "H_inf": 1.0}  # Cagnetta et al. 2026 (TinyStories)


def collapse_table(rng, beta=0.88, gamma=0.325, h_inf=1.0, noise=0.01):
    """L_n(P) = H_inf + n^-gamma l(P / n^(2 beta)) with a smooth l: l ~ x^(-gamma/(2 beta)) at small
    x (the learning curve, independent of n) and l -> 3 at large x (H_n = H_inf + 3 n^-gamma)."""
    n = np.repeat(2.0 ** np.arange(6), 10)
    P = np.tile(np.geomspace(1e5, 1e10, 10), 6)
    x = P / n ** (2 * beta)
    ell = 3.0 * (1 + (x / 1e3) ** (-gamma / beta)) ** 0.5
    loss = h_inf + n**-gamma * ell * (1 + noise * rng.standard_normal(n.size))
    return {"n": n, "tokens": P, "loss": loss}


def _paper_prediction():
    return dict(
        PREDICTION,
        beta=dict(PREDICTION["beta"], value=PAPER["beta"]),
        gamma=dict(PREDICTION["gamma"], value=PAPER["gamma"], H_inf=PAPER["H_inf"]),
    )


def test_collapse_figure_scores_good_and_bad_exponents():
    from corpus_stats.report.loss_figures import plot_collapse

    table = collapse_table(np.random.default_rng(5))
    m = make_measurement(prediction=_paper_prediction())
    fig = plot_collapse(m, table)
    title, legend = _texts(fig)
    quality = float(title.split("quality = ")[1].split(",")[0])
    assert quality > 0.97 and "β = 0.88" in title and "γ = 0.325" in title
    assert [t for t in legend if t.startswith("n = ")] == [f"n = {2**k}" for k in range(6)]
    assert fig.axes[0].get_xscale() == fig.axes[0].get_yscale() == "log"
    # the wrong exponents do not collapse the curves
    bad = float(_texts(plot_collapse(m, table, beta=0.5, gamma=0.6))[0].split("quality = ")[1].split(",")[0])
    assert bad < quality - 0.3


def test_collapse_needs_exponents_and_a_usable_table():
    from corpus_stats.report.loss_figures import plot_collapse

    table = collapse_table(np.random.default_rng(6))
    with pytest.raises(ValueError, match="the collapse needs beta, gamma and H_inf; .* no beta, gamma"):
        plot_collapse(make_measurement(), table)
    m = make_measurement(prediction=_paper_prediction())
    with pytest.raises(ValueError, match="at least 5 rows with loss > H_inf"):
        plot_collapse(m, table, H_inf=100.0)
    fig = plot_collapse(make_measurement(), table, **PAPER)  # explicit values need no prediction
    assert "quality" in _texts(fig)[0]


def test_plot_report_writes_collapse_png(tmp_path):
    m = make_measurement(prediction=_paper_prediction())
    files = plot_report(
        m, tmp_path, formats=("png",), figures=("collapse",), collapse=collapse_table(np.random.default_rng(7))
    )
    assert [p.name for p in files] == ["collapse.png"]
    assert files[0].stat().st_size > 5_000 and files[0].read_bytes()[:4] == b"\x89PNG"


def test_entropy_figure_draws_extrapolated_points_filled_where_valid():
    from test_report import correlation_fields, entropy_fields, real_or_fake

    from corpus_stats.report.measurement import Measurement

    rng = np.random.default_rng(8)
    f = entropy_fields(rng, n_max=10)
    n = f["n"]
    f.update(
        extrapolated=np.where(n >= 1, f["corrected"] - 0.02, np.nan),
        extrapolated_stderr=np.where(n >= 1, 0.01 * n, np.nan),
        extrapolated_valid=n <= 7,
    )
    ent = real_or_fake("entropy", "EntropyCurve", f)
    corr = real_or_fake("correlations", "CorrelationCurve", correlation_fields(rng))
    pred = dict(PREDICTION, gamma=dict(PREDICTION["gamma"], curve="extrapolated"))
    title, legend = _texts(plot_entropy(Measurement(corr, ent, {}, {}, {}, pred)))
    assert "fit on extrapolated H_n" in title
    assert "size-extrapolated H_n(N→∞), valid n = 1..7" in legend
    assert "size-extrapolated (not valid)" in legend
    # without the optional fields nothing extrapolated is drawn
    _, legend = _texts(plot_entropy(make_measurement(prediction=PREDICTION)))
    assert not any("extrapolated" in t for t in legend)


# -- what a reader would trip on --------------------------------------------------------------


def _measurement(corr_update=None, ent_update=None, prediction=PREDICTION, n_max=10):
    from test_report import correlation_fields, entropy_fields, real_or_fake

    from corpus_stats.report.measurement import Measurement

    rng = np.random.default_rng(3)
    c, e = correlation_fields(rng), entropy_fields(rng, n_max=n_max)
    c.update(corr_update or {})
    e.update(ent_update(e) if ent_update else {})
    corr = real_or_fake("correlations", "CorrelationCurve", c)
    ent = real_or_fake("entropy", "EntropyCurve", e)
    return Measurement(corr, ent, {"n_tokens": 275_230}, {}, {}, prediction)


def _labels(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _drawn(fig):
    """Lay the figure out on an Agg canvas, as savefig does, and return the renderer."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def test_negative_debiased_values_are_marked_at_the_bottom_of_the_log_axis():
    deb = 0.02 * np.unique(np.geomspace(1, 256, 8).astype(np.int64)) ** -0.9
    deb[-3:] = [-1e-4, -2e-5, np.nan]
    fig = plot_correlations(_measurement({"op_debiased": deb}))
    ax = fig.axes[0]
    assert "debiased (op) <= 0: no signal above noise" in _labels(ax)
    marks = [ln for ln in ax.get_lines() if ln.get_label() == "debiased (op) <= 0: no signal above noise"][0]
    assert marks.get_xdata().tolist() == np.unique(np.geomspace(1, 256, 8).astype(np.int64))[-3:-1].tolist()
    assert np.allclose(marks.get_ydata(), 0.02)  # in axes coordinates: at the bottom edge, visible


def test_entropy_title_with_gamma_fits_in_the_figure():
    pred = dict(PREDICTION, gamma=dict(PREDICTION["gamma"], curve="extrapolated", H_inf=1.23456))
    fig = plot_entropy(_measurement(prediction=pred))
    renderer = _drawn(fig)
    box = fig.axes[0].title.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (box, fig.bbox.width)
    assert "γ = 0.4 ± 0.09 [90%: 0.25..0.55] (fit on extrapolated H_n), H_∞ = 1.23" in fig.axes[0].get_title()


@pytest.mark.parametrize("plot", [plot_correlations, plot_entropy])
def test_legend_covers_no_data(plot):
    fig = plot(_measurement())
    renderer = _drawn(fig)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)
    axes = ax.get_window_extent(renderer)
    assert legend.x0 >= axes.x1, (legend, axes)  # beside the axes, never over the curves
    assert legend.x1 <= fig.bbox.width + 1  # and not cut off


def test_entropy_draws_invalid_n_faded_and_cuts_runaway_error_bars():
    def update(e):
        n = e["n"]
        return dict(
            extrapolated=np.where(n >= 1, e["corrected"] - 0.02, np.nan),
            extrapolated_stderr=np.where(n >= 1, np.where(n > 7, 50.0, 0.01), np.nan),  # runaway bars at n > 7
            extrapolated_valid=n <= 7,
        )

    fig = plot_entropy(_measurement(ent_update=update))
    ax = fig.axes[0]
    by_label = {ln.get_label(): ln for ln in ax.get_lines()}
    solid, faded = by_label["bias-corrected"], by_label["bias-corrected, not valid (undersampled)"]
    assert solid.get_xdata().tolist() == [1, 2, 3, 4]  # the valid range only (valid n <= 4)
    assert faded.get_xdata().tolist() == [4, 5, 6, 7, 8, 9, 10] and faded.get_alpha() < 0.5
    cut = by_label["s.e. bar above the axes (cut)"]
    assert cut.get_xdata().tolist() == [8, 9, 10] and np.allclose(cut.get_ydata(), ax.get_ylim()[1])


def test_prediction_marks_the_measured_corpus_size():
    fig = plot_prediction(_measurement())
    for ax in fig.axes:
        assert "this corpus: 275,230 tokens" in _labels(ax)


def test_detected_break_is_marked_on_the_correlations():
    brk = {"broken": True, "break_x": 32.0, "exponents": [0.4, 1.1], "delta_bic": -12.0}
    fig = plot_correlations(_measurement(prediction=dict(PREDICTION, full={"beta_break": brk})))
    assert "break near t = 32 (slopes 0.40 then 1.10)" in _labels(fig.axes[0])
    no_break = dict(PREDICTION, full={"beta_break": dict(brk, broken=False)})
    assert not any("break" in t for t in _labels(plot_correlations(_measurement(prediction=no_break)).axes[0]))


def test_no_valid_n_draws_no_band_and_the_whole_corrected_curve_faded():
    fig = plot_entropy(_measurement(ent_update=lambda e: {"valid": np.zeros(e["n"].size, bool)}))
    labels = _labels(fig.axes[0])
    assert "no valid n: counts undersampled" in labels and "bias-corrected, not valid (undersampled)" in labels
    assert "bias-corrected" not in labels and not any("s.e. (jackknife)" in t for t in labels)
