"""Figures from a :class:`~corpus_stats.report.measurement.Measurement` (matplotlib, no display needed),
and :func:`plot_report`, which writes every one the data supports.

Four figures, each readable at a glance (log axes, units, legends, the fitted numbers in the title):

(a) ``correlations``: ‖C(t)‖_op and ‖C(t)‖_F against the lag t, the shuffled-noise floors, the debiased
    points and the fitted power law t^(-beta) over its window;
(b) ``entropy``: the H_n bracket, drawn by :mod:`corpus_stats.report.entropy_figure`;
(c) ``prediction``: the predicted learning curve L(P) and the horizon t*(P);
(d) ``learning_curve`` and ``collapse``: measured losses against the prediction, drawn by
    :mod:`corpus_stats.report.loss_figures`.

The fitted values come from ``measurement.prediction`` (the JSON summary written by
:func:`corpus_stats.report.summary.summarize_prediction`), so ``corpus-stats plot report.json`` needs nothing
but the report. The shared drawing helpers live in :mod:`corpus_stats.report.figure_style`. This module
computes no statistics.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from corpus_stats.report.entropy_figure import plot_entropy
from corpus_stats.report.figure_style import (
    COLORS,
    as_array,
    fit_part,
    legend_beside,
    mark_at_bottom,
    new_figure,
    plus_minus,
)
from corpus_stats.report.loss_figures import plot_collapse, plot_learning_curve

# -- (a) correlations -------------------------------------------------------------------------


def plot_correlations(measurement, ax=None, *, exact=None):
    """‖C(t)‖ against t: raw norms, noise floors, debiased points and the fitted power law.

    Parameters
    ----------
    measurement : Measurement
        Must hold a correlation curve.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    exact : array_like, optional
        Known ‖C(t)‖_op at the curve's lags (synthetic corpora), drawn for comparison.

    Returns
    -------
    matplotlib.figure.Figure
    """
    curve = measurement.correlations
    if curve is None:
        raise ValueError("the measurement has no correlation curve to plot (it was not measured).")
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    t = as_array(curve.lags)
    for key, label in (("op", "operator norm"), ("fro", "Frobenius norm")):
        color = COLORS[key]
        raw, floor, deb = (
            as_array(getattr(curve, key)),
            as_array(getattr(curve, f"floor_{key}")),
            as_array(getattr(curve, f"{key}_debiased")),
        )
        ax.plot(t, raw, "-", color=color, lw=1.2, alpha=0.6, label=f"‖C‖ {label}")
        ax.plot(t, floor, ":", color=color, lw=1.2, label=f"noise floor ({key}, shuffled)")
        ok = np.isfinite(deb) & (deb > 0)
        ax.plot(t[ok], deb[ok], "o", color=color, ms=3.5, label=f"debiased ({key})")
        below = np.isfinite(deb) & (deb <= 0)
        mark_at_bottom(ax, t[below], color, f"debiased ({key}) <= 0: no signal above noise")
    if exact is not None:
        ex = as_array(exact)
        if ex.size != t.size:
            raise ValueError(f"exact must have one value per lag ({t.size}); got {ex.size}.")
        ax.plot(t, ex, "-", color="#2ca02c", lw=2.5, alpha=0.5, zorder=0, label="exact ‖C‖_op")
    beta = fit_part(measurement.prediction, "beta")
    title = "Correlation decay ‖C(t)‖ ∝ t^(-β)"
    if beta.get("value") is not None:
        title += f":  β = {plus_minus(beta)}"
        window, pref = beta.get("window"), beta.get("prefactor")
        if window and pref is not None and None not in window:
            tt = np.geomspace(window[0], window[1], 50)
            ax.plot(
                tt,
                pref * tt ** (-beta["value"]),
                "--",
                color=COLORS["fit"],
                lw=1.5,
                label=f"fit t^-{beta['value']:.2f}",
            )
            ax.axvspan(
                window[0],
                window[1],
                color="0.85",
                alpha=0.5,
                lw=0,
                label=f"fit window t = {window[0]:g}..{window[1]:g}",
            )
    brk = _beta_break(measurement.prediction)
    if brk is not None:
        x, exponents = brk
        slopes = " then ".join(f"{e:.2f}" for e in exponents)
        ax.axvline(x, color="#9467bd", ls="-.", lw=1.2, label=f"break near t = {x:.3g} (slopes {slopes})")
    ax.set(xscale="log", yscale="log", xlabel="lag t (tokens)", ylabel="‖C(t)‖ (probability units)", title=title)
    ax.grid(True, which="major", alpha=0.3)
    legend_beside(ax)
    return fig


def _beta_break(prediction: dict | None):
    """(break location, segment exponents) when the prediction detected a broken power law in C(t), else None."""
    brk = ((prediction or {}).get("full") or {}).get("beta_break") or {}
    x = brk.get("break_x")
    if not brk.get("broken") or x is None or not np.isfinite(x):
        return None
    return float(x), [e for e in (brk.get("exponents") or []) if e is not None]


# -- (c) prediction ---------------------------------------------------------------------------


def plot_prediction(measurement, axes=None):
    """The predicted learning curve L(P) and horizon t*(P) side by side.

    Parameters
    ----------
    measurement : Measurement
        Its ``prediction`` summary must hold ``learning_curve`` and/or ``horizon``.
    axes : pair of matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    pred = measurement.prediction or {}
    lc, hz = pred.get("learning_curve") or {}, pred.get("horizon") or {}
    if not lc.get("P") and not hz.get("P"):
        raise ValueError(
            "the report holds no prediction of L(P) or t*(P) to plot; "
            "run `corpus-stats measure` with the scaling package available."
        )
    if axes is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10, 4.2), layout="constrained")
        axes = fig.subplots(1, 2)
    else:
        fig = axes[0].figure
    alpha = fit_part(pred, "alpha_D")
    n_tokens = (measurement.provenance or {}).get("n_tokens")
    if lc.get("P"):
        P, loss = as_array(lc["P"]), as_array(lc["loss"])
        extra = np.asarray(lc.get("extrapolated") or [False] * P.size, dtype=bool)
        if (~extra).any():
            axes[0].plot(P[~extra], loss[~extra], "-", color="#1f77b4", lw=2, label="from measured H_n")
        if extra.any():
            axes[0].plot(P[extra], loss[extra], "--", color="#1f77b4", lw=2, label="from fitted law (extrapolated)")
        h_inf = fit_part(pred, "gamma").get("H_inf")
        if h_inf is not None:
            axes[0].axhline(h_inf, color="0.3", ls="-.", lw=1, label=f"H_∞ = {h_inf:.3g}")
        _mark_corpus_size(axes[0], n_tokens)
        axes[0].set(
            xscale="log",
            xlabel="training tokens P",
            ylabel="predicted loss L(P) (nats)",
            title=f"Predicted learning curve, α_D = {plus_minus(alpha)}",
        )
        axes[0].legend(fontsize=8)
        axes[0].grid(True, alpha=0.3)
    if hz.get("P"):
        P, ts = as_array(hz["P"]), as_array(hz["t_star"])
        axes[1].plot(P, ts, "-", color="#ff7f0e", lw=2, label="t*(P): ‖C(t*)‖ = c/√P")
        beta = fit_part(pred, "beta").get("value")
        if beta:
            axes[1].plot([], [], " ", label=f"slope 1/(2β) = {1 / (2 * beta):.2f}")
        _mark_corpus_size(axes[1], n_tokens)
        axes[1].set(
            xscale="log",
            yscale="log",
            xlabel="training tokens P",
            ylabel="horizon t* (tokens)",
            title="Prediction horizon t*(P)",
        )
        axes[1].legend(fontsize=8)
        axes[1].grid(True, alpha=0.3)
    return fig


def _mark_corpus_size(ax, n_tokens) -> None:
    """A vertical line at the measured corpus's size: to its right the prediction is extrapolated."""
    if n_tokens:
        ax.axvline(float(n_tokens), color="#2ca02c", lw=1.2, ls=":", label=f"this corpus: {int(n_tokens):,} tokens")


# -- everything -------------------------------------------------------------------------------


def plot_report(
    measurement,
    out_dir: str | os.PathLike,
    *,
    formats: Sequence[str] = ("png", "svg"),
    learning_curve: tuple | None = None,
    dpi: int = 130,
    figures: Sequence[str] | None = None,
    exact: dict | None = None,
    collapse: Any = None,
) -> list[Path]:
    """Write every figure the measurement supports into ``out_dir``.

    Parameters
    ----------
    measurement : Measurement
    out_dir : path
        Created when missing; files are ``correlations.png``, ``entropy.png``, ``prediction.png``,
        ``learning_curve.png``, ``collapse.png`` (and ``.svg``), each written only when its data is
        present.
    formats : sequence of str, default ("png", "svg")
    learning_curve : (tokens, loss), optional
        A measured learning curve to compare with the prediction.
    dpi : int, default 130
    figures : sequence of str, optional
        Only these of ``correlations, entropy, prediction, learning_curve, collapse`` (default: every one
        the data supports).
    exact : dict, optional
        Known curves to overlay: ``{"correlations": op per lag, "entropy": H_n per n}``.
    collapse : dict or path, optional
        An n-gram loss table L_n(P) (columns ``n, tokens, loss``) for ``collapse.png``
        (see :func:`~corpus_stats.report.loss_figures.plot_collapse`).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    bad = [f for f in formats if f not in ("png", "svg", "pdf")]
    if bad or not formats:
        raise ValueError(f"figure formats must be among png, svg, pdf; got {list(formats)}.")
    from corpus_stats._io import atomic_write_bytes

    known = ("correlations", "entropy", "prediction", "learning_curve", "collapse")
    if figures is not None and (not figures or set(figures) - set(known)):
        raise ValueError(f"figures must be among {', '.join(known)}; got {list(figures)}.")
    wanted = set(known if figures is None else figures)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drawn = {}
    if measurement.correlations is not None and "correlations" in wanted:
        drawn["correlations"] = plot_correlations(measurement, exact=(exact or {}).get("correlations"))
    if measurement.entropy is not None and "entropy" in wanted:
        drawn["entropy"] = plot_entropy(measurement, exact=(exact or {}).get("entropy"))
    pred = measurement.prediction or {}
    if "prediction" in wanted and ((pred.get("learning_curve") or {}).get("P") or (pred.get("horizon") or {}).get("P")):
        drawn["prediction"] = plot_prediction(measurement)
    if learning_curve is not None and "learning_curve" in wanted:
        drawn["learning_curve"] = plot_learning_curve(measurement, *learning_curve)
    if collapse is not None and "collapse" in wanted:
        drawn["collapse"] = plot_collapse(measurement, collapse)
    written = []
    for name, fig in drawn.items():
        for fmt in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi)
            path = out_dir / f"{name}.{fmt}"
            atomic_write_bytes(path, buf.getvalue())
            written.append(path)
    return written
