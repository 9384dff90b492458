"""The entropy figure from a :class:`~corpus_stats.report.measurement.Measurement` (matplotlib, no display needed).

``entropy``: the H_n bracket (plug-in, bias-corrected, Kneser-Ney upper bound, external L_n) with the
valid range shaded, the fitted law H_inf + A n^(-gamma) and H_inf.

The fitted values come from ``measurement.prediction`` (the JSON summary written by
:func:`corpus_stats.report.summary.summarize_prediction`). :func:`corpus_stats.report.plotting.plot_report`
writes this figure with the others. This module computes no statistics.
"""

from __future__ import annotations

import numpy as np

from corpus_stats.report.figure_style import (
    COLORS,
    as_array,
    fit_part,
    integer_log_ticks,
    legend_beside,
    new_figure,
    plus_minus,
)


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
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    n = as_array(curve.n)
    pos = n >= 1  # log axis: H_0 (the unigram entropy) is written in the legend instead
    valid = np.asarray(curve.valid, dtype=bool)
    for key, label, style in (
        ("plugin", "plug-in (biased low)", "-"),
        ("corrected", "bias-corrected", "-o"),
        ("upper", "Kneser-Ney upper bound", "-s"),
        ("external", _external_label(curve), "-^"),
    ):
        y = as_array(getattr(curve, key, None))
        if y.size != n.size or not np.isfinite(y[pos]).any():
            continue
        if key != "corrected":
            ax.plot(n[pos], y[pos], style, color=COLORS[key], ms=3, lw=1.2, label=label)
            continue
        # beyond the valid range the counts are undersampled: faded, so it does not read as data
        good = pos & valid
        bad = pos & ~valid
        if good.any():
            ax.plot(n[good], y[good], style, color=COLORS[key], ms=3, lw=1.2, label=label)
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
                color=COLORS[key],
                marker="o",
                mfc="none",
                ms=3,
                lw=1,
                alpha=0.4,
                label=f"{label}, not valid (undersampled)",
            )
    if exact is not None:
        ex = as_array(exact)
        if ex.size != n.size:
            raise ValueError(f"exact must have one value per n = 0..{n.size - 1} ({n.size}); got {ex.size}.")
        ax.plot(n[pos], ex[pos], "-", color="#2ca02c", lw=3, alpha=0.45, zorder=0, label="exact H_n")
    bars = _draw_extrapolated(ax, curve, n, pos)
    _draw_below_counts(ax, curve, n, pos)
    stderr = as_array(curve.stderr)
    corr = as_array(curve.corrected)
    band = pos & valid & np.isfinite(stderr) if stderr.size == n.size else np.zeros(n.size, bool)
    if band.any():  # the jackknife band only where the curve is drawn as data
        ax.fill_between(
            n[band],
            (corr - 2 * stderr)[band],
            (corr + 2 * stderr)[band],
            color=COLORS["corrected"],
            alpha=0.15,
            lw=0,
            label="±2 s.e. (jackknife)",
        )
        systematic = as_array(getattr(curve, "systematic", None))
        if systematic.size == n.size:
            # the projected residual bias makes the corrected curve low: its error bar reaches up
            total = np.hypot(stderr, systematic)
            band = pos & np.isfinite(total) & valid
            ax.errorbar(
                n[band],
                corr[band],
                yerr=2 * total[band],
                fmt="none",
                ecolor=COLORS["corrected"],
                elinewidth=1,
                capsize=2,
                label="±2 total error (s.e. ⊕ projected bias), valid n",
            )
    if (valid & pos).any():
        lo, hi = n[valid & pos].min(), n[valid & pos].max()
        ax.axvspan(lo, hi, color="#2ca02c", alpha=0.07, lw=0, label=f"valid n = {lo:g}..{hi:g}")
    else:
        ax.plot([], [], " ", label="no valid n: counts undersampled")
    gamma = fit_part(measurement.prediction, "gamma")
    title = "Conditional entropy H_n"
    h_inf = gamma.get("H_inf")
    if gamma.get("value") is not None:
        title += f"\nγ = {plus_minus(gamma)}"  # the fitted numbers on a second line: one line would be clipped
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
                color=COLORS["fit"],
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
            as_array(getattr(curve, k, None))[pos]
            for k in ("corrected", "upper", "external", "extrapolated")
            if as_array(getattr(curve, k, None)).size == n.size
        ]
    )
    if np.isfinite(shown).any():
        top = np.nanmax(shown)
        ax.set_ylim(max(ax.get_ylim()[0], -0.03 * top), min(ax.get_ylim()[1], 1.08 * top))
    _mark_clipped_bars(ax, *bars)
    integer_log_ticks(ax.xaxis, n[pos])
    ax.grid(True, which="major", alpha=0.3)
    legend_beside(ax)
    return fig


def _external_label(curve) -> str:
    """``model L_n (gpt2)`` for a curve measured by ``measure --lm``, else ``external L_n``."""
    source = str((getattr(curve, "options", None) or {}).get("external_source") or "")
    return f"model L_n ({source[3:]})" if source.startswith("lm:") else "external L_n"


def _draw_below_counts(ax, curve, n, pos) -> None:
    """Red crosses where the external (model) L_n undercuts a valid count estimate: an upper bound of H_n
    cannot sit below H_n, so the model saw the held-out text or the count is biased."""
    flagged = np.asarray((getattr(curve, "options", None) or {}).get("external_below_counts") or [], dtype=int)
    y = as_array(getattr(curve, "external", None))
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
            color=COLORS["extrapolated"],
            ms=5,
            clip_on=False,
            label="s.e. bar above the axes (cut)",
        )


def _draw_extrapolated(ax, curve, n, pos) -> None:
    """The corpus-size extrapolated H_n(N -> inf) with ±1 s.e. bars: filled where valid, open and faded
    elsewhere. Returns the drawn (n, bar top) for :func:`_mark_clipped_bars`."""
    none = (np.zeros(0),) * 2
    x = as_array(getattr(curve, "extrapolated", None))
    if x.size != n.size or not np.isfinite(x[pos]).any():
        return none
    se = as_array(getattr(curve, "extrapolated_stderr", None))
    se = se if se.size == n.size else np.full(n.size, np.nan)
    ok = getattr(curve, "extrapolated_valid", None)
    ok = np.zeros(n.size, bool) if ok is None else np.asarray(ok, dtype=bool)
    color = COLORS["extrapolated"]
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
