"""Figures from a :class:`~corpus_stats.report.measurement.Measurement` (matplotlib, no display needed).

Four figures, each readable at a glance (log axes, units, legends, the fitted numbers in the title):

(a) ``correlations``: ‖C(t)‖_op and ‖C(t)‖_F against the lag t, the shuffled-noise floors, the debiased
    points and the fitted power law t^(-beta) over its window;
(b) ``entropy``: the H_n bracket (plug-in, bias-corrected, Kneser-Ney upper bound, external L_n) with the
    valid range shaded, the fitted law H_inf + A n^(-gamma) and H_inf;
(c) ``prediction``: the predicted learning curve L(P) and the horizon t*(P);
(d) ``learning_curve``: a measured learning curve (P, loss) against the prediction, when one is given;
    ``collapse``: n-gram losses L_n(P) rescaled as (L_n - H_inf) n^gamma against P / n^(2 beta), when a
    table of them is given (the collapse score from ``scaling.collapse`` in the title).

The fitted values come from ``measurement.prediction`` (the JSON summary written by
:func:`corpus_stats.report.summary.summarize_prediction`), so ``corpus-stats plot report.json`` needs nothing
but the report. Figures are built with :class:`matplotlib.figure.Figure` directly (Agg canvas, no
pyplot state), so plotting is safe in scripts, tests and servers. This module computes no statistics.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

_COLORS = {
    "op": "#1f77b4",
    "fro": "#ff7f0e",
    "plugin": "#7f7f7f",
    "corrected": "#1f77b4",
    "upper": "#d62728",
    "external": "#2ca02c",
    "extrapolated": "#9467bd",
    "fit": "#000000",
}


def _figure(width: float = 8.6, height: float = 4.4):
    """A figure wide enough for the plot plus a legend beside it (see :func:`_legend_beside`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def _legend_beside(ax, **kwargs) -> None:
    """The legend to the right of the axes: these figures have up to a dozen entries, and inside the
    axes they would cover data wherever they sat."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def _mark_at_bottom(ax, x, color: str, label: str) -> None:
    """Open triangles at the bottom edge of a log axis for values that cannot be drawn on it (<= 0)."""
    if np.size(x):
        ax.plot(
            x,
            np.full(np.size(x), 0.02),
            "v",
            mfc="none",
            color=color,
            ms=5,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
            label=label,
        )


def _arr(value: Any) -> np.ndarray:
    """Float array with None -> NaN (curves read back from JSON hold None)."""
    if value is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else v for v in np.asarray(value, dtype=object).ravel()], dtype=float)


def _fit(prediction: dict | None, name: str) -> dict:
    part = (prediction or {}).get(name)
    return part if isinstance(part, dict) else {}


def _pm(part: dict) -> str:
    """The estimate as the printed summary spells it (owner: :func:`corpus_stats.report.summary.format_estimate`)."""
    from corpus_stats.report.summary import format_estimate

    return format_estimate(part)


def _integer_log_ticks(axis, values) -> None:
    """Ticks 1, 2, 4, 8, ... written as plain integers (not 2x10^0) on a log axis."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    top = np.nanmax(values) if np.size(values) else 1
    axis.set_major_locator(FixedLocator([2**k for k in range(int(np.log2(max(top, 1))) + 1)]))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


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
    fig, ax = _figure() if ax is None else (ax.figure, ax)
    t = _arr(curve.lags)
    for key, label in (("op", "operator norm"), ("fro", "Frobenius norm")):
        color = _COLORS[key]
        raw, floor, deb = (
            _arr(getattr(curve, key)),
            _arr(getattr(curve, f"floor_{key}")),
            _arr(getattr(curve, f"{key}_debiased")),
        )
        ax.plot(t, raw, "-", color=color, lw=1.2, alpha=0.6, label=f"‖C‖ {label}")
        ax.plot(t, floor, ":", color=color, lw=1.2, label=f"noise floor ({key}, shuffled)")
        ok = np.isfinite(deb) & (deb > 0)
        ax.plot(t[ok], deb[ok], "o", color=color, ms=3.5, label=f"debiased ({key})")
        below = np.isfinite(deb) & (deb <= 0)
        _mark_at_bottom(ax, t[below], color, f"debiased ({key}) <= 0: no signal above noise")
    if exact is not None:
        ex = _arr(exact)
        if ex.size != t.size:
            raise ValueError(f"exact must have one value per lag ({t.size}); got {ex.size}.")
        ax.plot(t, ex, "-", color="#2ca02c", lw=2.5, alpha=0.5, zorder=0, label="exact ‖C‖_op")
    beta = _fit(measurement.prediction, "beta")
    title = "Correlation decay ‖C(t)‖ ∝ t^(-β)"
    if beta.get("value") is not None:
        title += f":  β = {_pm(beta)}"
        window, pref = beta.get("window"), beta.get("prefactor")
        if window and pref is not None and None not in window:
            tt = np.geomspace(window[0], window[1], 50)
            ax.plot(
                tt,
                pref * tt ** (-beta["value"]),
                "--",
                color=_COLORS["fit"],
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
    _legend_beside(ax)
    return fig


def _beta_break(prediction: dict | None):
    """(break location, segment exponents) when the prediction detected a broken power law in C(t), else None."""
    brk = ((prediction or {}).get("full") or {}).get("beta_break") or {}
    x = brk.get("break_x")
    if not brk.get("broken") or x is None or not np.isfinite(x):
        return None
    return float(x), [e for e in (brk.get("exponents") or []) if e is not None]


# -- (b) entropy ------------------------------------------------------------------------------


def plot_entropy(measurement, ax=None, *, exact=None):
    """H_n against n: the estimator bracket, the valid range and the fitted law with H_inf.

    Parameters
    ----------
    measurement : Measurement
        Must hold an entropy curve.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; a new figure is made when omitted.
    exact : array_like, optional
        Known H_n (nats) for n = 0..n_max (synthetic corpora), drawn for comparison.

    Returns
    -------
    matplotlib.figure.Figure
    """
    curve = measurement.entropy
    if curve is None:
        raise ValueError("the measurement has no entropy curve to plot (it was not measured).")
    fig, ax = _figure() if ax is None else (ax.figure, ax)
    n = _arr(curve.n)
    pos = n >= 1  # log axis: H_0 (the unigram entropy) is written in the legend instead
    valid = np.asarray(curve.valid, dtype=bool)
    for key, label, style in (
        ("plugin", "plug-in (biased low)", "-"),
        ("corrected", "bias-corrected", "-o"),
        ("upper", "Kneser-Ney upper bound", "-s"),
        ("external", _external_label(curve), "-^"),
    ):
        y = _arr(getattr(curve, key, None))
        if y.size != n.size or not np.isfinite(y[pos]).any():
            continue
        if key != "corrected":
            ax.plot(n[pos], y[pos], style, color=_COLORS[key], ms=3, lw=1.2, label=label)
            continue
        # beyond the valid range the counts are undersampled: faded, so it does not read as data
        good = pos & valid
        bad = pos & ~valid
        if good.any():
            ax.plot(n[good], y[good], style, color=_COLORS[key], ms=3, lw=1.2, label=label)
        if bad.any():
            edge = np.flatnonzero(good)[-1:]  # join the faded part to the last valid point
            idx = (
                np.concatenate([edge, np.flatnonzero(bad)])
                if edge.size and edge[0] < np.flatnonzero(bad)[0]
                else np.flatnonzero(bad)
            )
            ax.plot(
                n[idx],
                y[idx],
                ":",
                color=_COLORS[key],
                marker="o",
                mfc="none",
                ms=3,
                lw=1,
                alpha=0.4,
                label=f"{label}, not valid (undersampled)",
            )
    if exact is not None:
        ex = _arr(exact)
        if ex.size != n.size:
            raise ValueError(f"exact must have one value per n = 0..{n.size - 1} ({n.size}); got {ex.size}.")
        ax.plot(n[pos], ex[pos], "-", color="#2ca02c", lw=3, alpha=0.45, zorder=0, label="exact H_n")
    bars = _draw_extrapolated(ax, curve, n, pos)
    _draw_below_counts(ax, curve, n, pos)
    stderr = _arr(curve.stderr)
    corr = _arr(curve.corrected)
    band = pos & valid & np.isfinite(stderr) if stderr.size == n.size else np.zeros(n.size, bool)
    if band.any():  # the jackknife band only where the curve is drawn as data
        ax.fill_between(
            n[band],
            (corr - 2 * stderr)[band],
            (corr + 2 * stderr)[band],
            color=_COLORS["corrected"],
            alpha=0.15,
            lw=0,
            label="±2 s.e. (jackknife)",
        )
        systematic = _arr(getattr(curve, "systematic", None))
        if systematic.size == n.size:
            # the projected residual bias makes the corrected curve low: its error bar reaches up
            total = np.hypot(stderr, systematic)
            band = pos & np.isfinite(total) & valid
            ax.errorbar(
                n[band],
                corr[band],
                yerr=2 * total[band],
                fmt="none",
                ecolor=_COLORS["corrected"],
                elinewidth=1,
                capsize=2,
                label="±2 total error (s.e. ⊕ projected bias), valid n",
            )
    if (valid & pos).any():
        lo, hi = n[valid & pos].min(), n[valid & pos].max()
        ax.axvspan(lo, hi, color="#2ca02c", alpha=0.07, lw=0, label=f"valid n = {lo:g}..{hi:g}")
    else:
        ax.plot([], [], " ", label="no valid n: counts undersampled")
    gamma = _fit(measurement.prediction, "gamma")
    title = "Conditional entropy H_n"
    h_inf = gamma.get("H_inf")
    if gamma.get("value") is not None:
        title += f"\nγ = {_pm(gamma)}"  # the fitted numbers on a second line: one line would be clipped
        if gamma.get("curve"):
            which = "external L_n" if gamma["curve"] == "external" else f"{gamma['curve']} H_n"
            title += f" (fit on {which})"
        window, pref = gamma.get("window"), gamma.get("prefactor")
        if window and pref is not None and None not in window:
            nn = np.geomspace(max(window[0], 1), window[1], 50)
            ax.plot(
                nn,
                (h_inf or 0.0) + pref * nn ** (-gamma["value"]),
                "--",
                color=_COLORS["fit"],
                lw=1.5,
                label=f"fit H_∞ + A n^-{gamma['value']:.2f}",
            )
    if h_inf is not None:
        ax.axhline(h_inf, color="0.3", lw=1, ls="-.", label=f"H_∞ = {h_inf:.3g} nats")
        title += f"{',' if gamma.get('value') is not None else ':'} H_∞ = {h_inf:.3g}"
    if n.size and np.isfinite(corr[:1]).all():
        ax.plot([], [], " ", label=f"H_0 = {corr[0]:.3g} nats (unigram)")
    ax.set(xscale="log", xlabel="context length n (tokens)", ylabel="H_n (nats per token)", title=title)
    # an entropy is >= 0: do not let a noisy, undersampled tail stretch the axis below zero
    shown = np.concatenate(
        [
            _arr(getattr(curve, k, None))[pos]
            for k in ("corrected", "upper", "external", "extrapolated")
            if _arr(getattr(curve, k, None)).size == n.size
        ]
    )
    if np.isfinite(shown).any():
        top = np.nanmax(shown)
        ax.set_ylim(max(ax.get_ylim()[0], -0.03 * top), min(ax.get_ylim()[1], 1.08 * top))
    _mark_clipped_bars(ax, *bars)
    _integer_log_ticks(ax.xaxis, n[pos])
    ax.grid(True, which="major", alpha=0.3)
    _legend_beside(ax)
    return fig


def _external_label(curve) -> str:
    """``model L_n (gpt2)`` for a curve measured by ``measure --lm``, else ``external L_n``."""
    source = str((getattr(curve, "options", None) or {}).get("external_source") or "")
    return f"model L_n ({source[3:]})" if source.startswith("lm:") else "external L_n"


def _draw_below_counts(ax, curve, n, pos) -> None:
    """Red crosses where the external (model) L_n undercuts a valid count estimate: an upper bound of H_n
    cannot sit below H_n, so the model saw the held-out text or the count is biased."""
    flagged = np.asarray((getattr(curve, "options", None) or {}).get("external_below_counts") or [], dtype=int)
    y = _arr(getattr(curve, "external", None))
    flagged = flagged[(flagged < n.size) & (flagged < y.size)] if y.size else flagged[:0]
    flagged = flagged[pos[flagged]]
    if flagged.size:
        shown = ", ".join(str(int(n[i])) for i in flagged[:6]) + (", ..." if flagged.size > 6 else "")
        ax.plot(
            n[flagged], y[flagged], "x", color="#d62728", ms=9, mew=2, label=f"L_n below a valid count: n = {shown}"
        )


def _mark_clipped_bars(ax, x, hi) -> None:
    """Arrows at the top edge where an error bar runs above the y range (the bar itself is cut there).

    Bars cut at the bottom need no mark: the axis starts just below 0 and an entropy is never negative.
    """
    top = ax.get_ylim()[1]
    cut = hi > top
    if np.any(cut):
        ax.plot(
            x[cut],
            np.full(cut.sum(), top),
            "^",
            color=_COLORS["extrapolated"],
            ms=5,
            clip_on=False,
            label="s.e. bar above the axes (cut)",
        )


def _draw_extrapolated(ax, curve, n, pos) -> None:
    """The corpus-size extrapolated H_n(N -> inf) with ±1 s.e. bars: filled where valid, open and faded
    elsewhere. Returns the drawn (n, bar top) for :func:`_mark_clipped_bars`."""
    none = (np.zeros(0),) * 2
    x = _arr(getattr(curve, "extrapolated", None))
    if x.size != n.size or not np.isfinite(x[pos]).any():
        return none
    se = _arr(getattr(curve, "extrapolated_stderr", None))
    se = se if se.size == n.size else np.full(n.size, np.nan)
    ok = getattr(curve, "extrapolated_valid", None)
    ok = np.zeros(n.size, bool) if ok is None else np.asarray(ok, dtype=bool)
    color = _COLORS["extrapolated"]
    for mask, filled in ((pos & ok, True), (pos & ~ok, False)):
        mask = mask & np.isfinite(x)
        if not mask.any():
            continue
        if filled:
            lo, hi = n[mask].min(), n[mask].max()
            label = f"size-extrapolated H_n(N→∞), valid n = {lo:g}..{hi:g}"
        else:
            label = "size-extrapolated (not valid)"
        ax.errorbar(
            n[mask],
            x[mask],
            yerr=np.where(np.isfinite(se[mask]), se[mask], 0.0),
            fmt="D",
            ms=4,
            color=color,
            mfc=color if filled else "none",
            elinewidth=1,
            capsize=2,
            alpha=1.0 if filled else 0.4,  # not valid: faded, like the corrected curve there
            label=label,
        )
    drawn = pos & np.isfinite(x)
    err = np.where(np.isfinite(se), se, 0.0)
    return n[drawn], (x + err)[drawn]


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
    alpha = _fit(pred, "alpha_D")
    n_tokens = (measurement.provenance or {}).get("n_tokens")
    if lc.get("P"):
        P, loss = _arr(lc["P"]), _arr(lc["loss"])
        extra = np.asarray(lc.get("extrapolated") or [False] * P.size, dtype=bool)
        if (~extra).any():
            axes[0].plot(P[~extra], loss[~extra], "-", color="#1f77b4", lw=2, label="from measured H_n")
        if extra.any():
            axes[0].plot(P[extra], loss[extra], "--", color="#1f77b4", lw=2, label="from fitted law (extrapolated)")
        h_inf = _fit(pred, "gamma").get("H_inf")
        if h_inf is not None:
            axes[0].axhline(h_inf, color="0.3", ls="-.", lw=1, label=f"H_∞ = {h_inf:.3g}")
        _mark_corpus_size(axes[0], n_tokens)
        axes[0].set(
            xscale="log",
            xlabel="training tokens P",
            ylabel="predicted loss L(P) (nats)",
            title=f"Predicted learning curve, α_D = {_pm(alpha)}",
        )
        axes[0].legend(fontsize=8)
        axes[0].grid(True, alpha=0.3)
    if hz.get("P"):
        P, ts = _arr(hz["P"]), _arr(hz["t_star"])
        axes[1].plot(P, ts, "-", color="#ff7f0e", lw=2, label="t*(P): ‖C(t*)‖ = c/√P")
        beta = _fit(pred, "beta").get("value")
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


# -- (d) learning curve -----------------------------------------------------------------------


def plot_learning_curve(measurement, tokens: Sequence[float], loss: Sequence[float], ax=None):
    """A measured learning curve (P, loss) against the predicted L(P) and slope α_D.

    Parameters
    ----------
    measurement : Measurement
    tokens, loss : sequences of float
        Training tokens P and the measured loss (nats) at each.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    tokens, loss = _arr(tokens), _arr(loss)
    if tokens.size != loss.size or tokens.size < 2:
        raise ValueError(
            f"a learning curve needs as many losses as token counts (at least 2); "
            f"got {tokens.size} token counts and {loss.size} losses."
        )
    fig, ax = _figure() if ax is None else (ax.figure, ax)
    pred = measurement.prediction or {}
    ax.plot(tokens, loss, "o-", color="#d62728", label="measured learning curve")
    lc = pred.get("learning_curve") or {}
    if lc.get("P"):
        ax.plot(_arr(lc["P"]), _arr(lc["loss"]), "-", color="#1f77b4", label="predicted L(P)")
    alpha = _fit(pred, "alpha_D")
    h_inf = _fit(pred, "gamma").get("H_inf") or 0.0
    if alpha.get("value") is not None and np.all(loss > h_inf):
        # slope guide through the first measured point: L - H_inf ∝ P^-alpha_D
        guide = h_inf + (loss[0] - h_inf) * (tokens / tokens[0]) ** (-alpha["value"])
        ax.plot(tokens, guide, "--", color="0.2", label=f"slope α_D = {_pm(alpha)}")
    ax.set(
        xscale="log", xlabel="training tokens P", ylabel="loss (nats)", title="Learning curve: measured vs predicted"
    )
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


# -- (d) collapse of n-gram losses -----------------------------------------------------------


def plot_collapse(
    measurement, table, ax=None, *, beta: float | None = None, gamma: float | None = None, H_inf: float | None = None
):
    """The collapse (L_n − H_∞)·n^γ against P / n^(2β) of n-gram losses L_n(P), one colour per n.

    Parameters
    ----------
    measurement : Measurement
        Supplies β, γ and H_∞ from its prediction summary unless given explicitly.
    table : dict or path
        Columns ``n``, ``tokens`` (P) and ``loss`` (nats), as for ``scaling.collapse``, or a CSV file
        read by :func:`corpus_stats.report.loss_tables.read_collapse_table`.
    ax : matplotlib.axes.Axes, optional
    beta, gamma, H_inf : float, optional
        Override the measured values (e.g. to show the collapse with the paper's exponents).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When β, γ or H_∞ is neither given nor in the report, or the table cannot be collapsed.

    Notes
    -----
    If L_n(P) − H_∞ = n^(−γ) ℓ(P / n^(2β)) (Cagnetta et al. 2026), the curves of every n fall on one
    master curve ℓ; the score is ``scaling.collapse``'s quality 1 − var(residual)/var(log y) about a
    cubic fit in log-log (1 = perfect).
    """
    from scaling import collapse

    if isinstance(table, (str, os.PathLike)):
        from corpus_stats.report.loss_tables import read_collapse_table

        table = read_collapse_table(table)
    pred = measurement.prediction or {}
    beta = _fit(pred, "beta").get("value") if beta is None else beta
    gamma = _fit(pred, "gamma").get("value") if gamma is None else gamma
    H_inf = _fit(pred, "gamma").get("H_inf") if H_inf is None else H_inf
    missing = [k for k, v in (("beta", beta), ("gamma", gamma), ("H_inf", H_inf)) if v is None]
    if missing:
        raise ValueError(
            f"the collapse needs beta, gamma and H_inf; the report has no "
            f"{', '.join(missing)} (no prediction was made). Pass them explicitly."
        )
    col = collapse(table, float(beta), float(gamma), float(H_inf))
    fig, ax = _figure() if ax is None else (ax.figure, ax)
    from matplotlib import colormaps

    ns = np.unique(col.n)
    cmap = colormaps["viridis"]
    for i, nv in enumerate(ns):
        sel = col.n == nv
        order = np.argsort(col.x[sel])
        ax.plot(
            col.x[sel][order],
            col.y[sel][order],
            "o-",
            ms=3.5,
            lw=1,
            color=cmap(i / max(ns.size - 1, 1)),
            label=f"n = {nv:g}",
        )
    xx = np.geomspace(col.x.min(), col.x.max(), 100)
    ax.plot(
        xx,
        np.exp(np.polyval(col.master, np.log(xx))),
        "--",
        color=_COLORS["fit"],
        lw=1.5,
        label="master curve (cubic in log-log)",
    )
    if col.n_dropped:
        ax.plot([], [], " ", label=f"{col.n_dropped} rows with L_n ≤ H_∞ dropped")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="P / n^(2β)  (training tokens / n^(2β))",
        ylabel="(L_n − H_∞) · n^γ  (nats)",
        title=f"Collapse of L_n(P): quality = {col.quality:.3f}, rms log residual = "
        f"{col.rms_log_residual:.3f}\nβ = {beta:.3g}, γ = {gamma:.3g}, H_∞ = {H_inf:.3g} nats",
    )
    if col.y.max() < 10 * col.y.min():  # under a decade: label the minor ticks as plain numbers
        from matplotlib.ticker import FuncFormatter

        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=7)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best", ncol=2 if ns.size > 6 else 1)
    return fig


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
        (see :func:`plot_collapse`).

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
