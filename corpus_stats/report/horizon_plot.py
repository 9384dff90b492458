"""Figure of the measured horizon: ||C(t)|| against the sample size P, one line per lag, with the floor.

Reads a :class:`~corpus_stats.correlations.horizon.HorizonCurve` or its ``report.json`` section
(``Measurement.horizon``); matplotlib only, no display.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np


def plot_horizon(horizon, ax=None):
    """Debiased ``||C(t)||`` against P per lag (log-log), the noise ``c/sqrt(P)``, and the horizons.

    Parameters
    ----------
    horizon : HorizonCurve or dict
        ``horizon_curve``'s result or the ``horizon`` section of a report.
    ax : matplotlib.axes.Axes, optional
        Draw into this axes (two panels are not drawn then: only the first).

    Returns
    -------
    matplotlib.figure.Figure
        Left: one line per lag, a lag's values falling below the dashed floor line at the P where it
        leaves the horizon. Right (own figure only): measured and predicted t*(P).
    """
    from matplotlib import colormaps

    h = horizon if isinstance(horizon, dict) else horizon.to_dict()
    lags = np.asarray(h["lags"], dtype=float)
    tokens = np.asarray(h["tokens"], dtype=float)
    norm = h.get("norm", "op")
    values = np.asarray(h["op_debiased" if norm == "op" else "fro_debiased"], dtype=float)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(10.5, 4.4), layout="constrained")
        ax, ax2 = fig.subplots(1, 2)
    else:
        fig, ax2 = ax.figure, None
    cmap = colormaps["viridis"]
    for i, lag in enumerate(lags):
        y = values[:, i]
        ok = np.isfinite(y) & (y > 0)
        ax.plot(tokens[ok], y[ok], "o-", ms=3, color=cmap(i / max(1, lags.size - 1)), label=f"t={lag:g}")
    ax.plot(tokens, h["noise"], "k--", lw=1.5, label=f"noise {h['floor_constant']:.2g}/sqrt(P)")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="sample size P (pairs)",
        ylabel=f"debiased ||C(t)||_{norm}",
        title="||C(t)|| against P",
    )
    ax.legend(fontsize=7, ncol=2)
    if ax2 is not None:
        for key, style, label in (
            ("measured", "o", "measured (first lag below noise)"),
            ("measured_interpolated", "s", "measured, interpolated"),
            ("predicted", "-", "predicted (A sqrt(P)/c)^(1/beta)"),
        ):
            y = np.asarray([np.nan if v is None else v for v in h.get(key) or []], dtype=float)
            if y.size and np.isfinite(y).any():
                ax2.plot(tokens, y, style, label=label)
        beta = h.get("beta")
        ax2.set(
            xscale="log",
            yscale="log",
            xlabel="sample size P (pairs)",
            ylabel="horizon t*(P)",
            title="horizon" + (f" (beta = {beta:.3g})" if beta is not None and np.isfinite(beta) else ""),
        )
        ax2.legend(fontsize=7)
    return fig


def save_horizon_figure(horizon, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write :func:`plot_horizon` to ``path`` (format from the suffix: png, svg or pdf), atomically."""
    from corpus_stats._io import atomic_write_bytes

    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("png", "svg", "pdf"):
        raise ValueError(f"figure format must be png, svg or pdf; got {path.name!r}.")
    buf = io.BytesIO()
    plot_horizon(horizon).savefig(buf, format=fmt, dpi=dpi)
    atomic_write_bytes(path, buf.getvalue())
    return path
