"""Figures of measured losses against a :class:`~corpus_stats.report.measurement.Measurement`'s prediction
(matplotlib, no display needed).

``learning_curve``: a measured learning curve (P, loss) against the prediction, when one is given;
``collapse``: n-gram losses L_n(P) rescaled as (L_n - H_inf) n^gamma against P / n^(2 beta), when a
table of them is given (the collapse score from ``scaling.collapse`` in the title). The users' tables are
read by :mod:`corpus_stats.report.loss_tables`; :func:`corpus_stats.report.plotting.plot_report` writes
these figures with the others. This module computes no statistics.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from corpus_stats.report.figure_style import COLORS, as_array, fit_part, new_figure, plus_minus


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
    tokens, loss = as_array(tokens), as_array(loss)
    if tokens.size != loss.size or tokens.size < 2:
        raise ValueError(
            f"a learning curve needs as many losses as token counts (at least 2); "
            f"got {tokens.size} token counts and {loss.size} losses."
        )
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
    pred = measurement.prediction or {}
    ax.plot(tokens, loss, "o-", color="#d62728", label="measured learning curve")
    lc = pred.get("learning_curve") or {}
    if lc.get("P"):
        ax.plot(as_array(lc["P"]), as_array(lc["loss"]), "-", color="#1f77b4", label="predicted L(P)")
    alpha = fit_part(pred, "alpha_D")
    h_inf = fit_part(pred, "gamma").get("H_inf") or 0.0
    if alpha.get("value") is not None and np.all(loss > h_inf):
        # slope guide through the first measured point: L - H_inf ∝ P^-alpha_D
        guide = h_inf + (loss[0] - h_inf) * (tokens / tokens[0]) ** (-alpha["value"])
        ax.plot(tokens, guide, "--", color="0.2", label=f"slope α_D = {plus_minus(alpha)}")
    ax.set(
        xscale="log", xlabel="training tokens P", ylabel="loss (nats)", title="Learning curve: measured vs predicted"
    )
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


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
    beta = fit_part(pred, "beta").get("value") if beta is None else beta
    gamma = fit_part(pred, "gamma").get("value") if gamma is None else gamma
    H_inf = fit_part(pred, "gamma").get("H_inf") if H_inf is None else H_inf
    missing = [k for k, v in (("beta", beta), ("gamma", gamma), ("H_inf", H_inf)) if v is None]
    if missing:
        raise ValueError(
            f"the collapse needs beta, gamma and H_inf; the report has no "
            f"{', '.join(missing)} (no prediction was made). Pass them explicitly."
        )
    col = collapse(table, float(beta), float(gamma), float(H_inf))
    fig, ax = new_figure() if ax is None else (ax.figure, ax)
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
        color=COLORS["fit"],
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
