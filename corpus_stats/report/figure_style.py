"""Drawing helpers shared by the report's figures: colours, a figure with its legend beside the axes,
marks for values a log axis cannot show, integer log ticks, and reading the prediction summary.

Figures are built with :class:`matplotlib.figure.Figure` directly (Agg canvas, no pyplot state), so
plotting is safe in scripts, tests and servers. Used by :mod:`corpus_stats.report.plotting`,
:mod:`corpus_stats.report.entropy_figure` and :mod:`corpus_stats.report.loss_figures`; computes no
statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np

COLORS = {
    "op": "#1f77b4",
    "fro": "#ff7f0e",
    "plugin": "#7f7f7f",
    "corrected": "#1f77b4",
    "upper": "#d62728",
    "external": "#2ca02c",
    "extrapolated": "#9467bd",
    "fit": "#000000",
}


def new_figure(width: float = 8.6, height: float = 4.4):
    """A figure wide enough for the plot plus a legend beside it (see :func:`legend_beside`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def legend_beside(ax, **kwargs) -> None:
    """The legend to the right of the axes: these figures have up to a dozen entries, and inside the
    axes they would cover data wherever they sat."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kwargs)


def mark_at_bottom(ax, x, color: str, label: str) -> None:
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


def as_array(value: Any) -> np.ndarray:
    """Float array with None -> NaN (curves read back from JSON hold None)."""
    if value is None:
        return np.zeros(0)
    return np.array([np.nan if v is None else v for v in np.asarray(value, dtype=object).ravel()], dtype=float)


def fit_part(prediction: dict | None, name: str) -> dict:
    """The prediction summary's entry ``name`` ("beta", "gamma", "alpha_D"); {} when it has none."""
    part = (prediction or {}).get(name)
    return part if isinstance(part, dict) else {}


def plus_minus(part: dict) -> str:
    """The estimate as the printed summary spells it (owner: :func:`corpus_stats.report.summary.format_estimate`)."""
    from corpus_stats.report.summary import format_estimate

    return format_estimate(part)


def integer_log_ticks(axis, values) -> None:
    """Ticks 1, 2, 4, 8, ... written as plain integers (not 2x10^0) on a log axis."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator, ScalarFormatter

    top = np.nanmax(values) if np.size(values) else 1
    axis.set_major_locator(FixedLocator([2**k for k in range(int(np.log2(max(top, 1))) + 1)]))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())
