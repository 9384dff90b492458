"""Figures of the co-occurrence geometry: the spectrum of C(t) and the shape of a word set.

* :func:`spectrum_figure`: sigma_k of C(t) against k for several lags (log axes) with each lag's
  shuffled spectrum (dashed) and noise edge (dotted);
* :func:`set_figure`: the set's PMI submatrix (masked pairs blank), mean PMI per index gap, and the
  labelled scatter of the words on the top two embedding components, on the corpus and after the
  ablation. Built on :class:`matplotlib.figure.Figure` (no pyplot state); computes no statistics.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np


def _save(fig, path) -> Path:
    from corpus_stats._io import atomic_write_bytes

    path = Path(path)
    buf = io.BytesIO()
    fig.savefig(buf, format=path.suffix.lstrip(".") or "png", dpi=150)
    atomic_write_bytes(path, buf.getvalue())
    return path


def spectrum_figure(spec, path, max_lags: int = 6) -> Path:
    """sigma_k against k per lag with the shuffled spectra and noise edges; written to ``path``."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.6), layout="constrained")
    ax = fig.add_subplot()
    pick = np.unique(np.round(np.linspace(0, spec.lags.size - 1, min(max_lags, spec.lags.size))).astype(int))
    colors = [f"C{i}" for i in range(10)]
    k = np.arange(1, spec.singular_values.shape[1] + 1)
    for c, i in zip(colors, pick):
        s, z = spec.singular_values[i], spec.noise[i]
        ok = s > 0
        ax.loglog(k[ok], s[ok], "-", color=c, label=f"t={spec.lags[i]} ({spec.n_above[i]} above)")
        ax.loglog(k[z > 0], z[z > 0], "--", color=c, lw=0.8, alpha=0.7)
        ax.axhline(spec.noise_edge[i], color=c, ls=":", lw=0.8)
    ax.set_xlabel("rank k")
    ax.set_ylabel(r"singular value $\sigma_k$ of $C(t)$")
    ax.set_title("spectrum of C(t); dashed: shuffled stream, dotted: its noise edge", fontsize=9)
    ax.legend(fontsize=7)
    return _save(fig, path)


def _scatter(ax, scores, words, title, cyclic):
    line = np.vstack([scores[:, :2], scores[:1, :2]]) if cyclic else scores[:, :2]
    ax.plot(line[:, 0], line[:, 1], "-", color="0.8", lw=0.8)  # the set's own order
    ax.scatter(scores[:, 0], scores[:, 1], c=np.arange(len(words)), cmap="hsv", s=25)
    for (x, y), w in zip(scores[:, :2], words):
        ax.annotate(w, (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.set_title(title, fontsize=8)


def set_figure(geom, path) -> Path:
    """PMI submatrix, PMI per gap and the embedding scatter (corpus, and ablated when present)."""
    from matplotlib.figure import Figure

    views = [("corpus", geom.full)] + ([("ablated", geom.ablated)] if geom.ablated is not None else [])
    fig = Figure(figsize=(11, 3.6 * len(views)), layout="constrained")
    axes = fig.subplots(len(views), 3, squeeze=False)
    words = list(geom.words)
    for row, (name, view) in zip(axes, views):
        finite = np.abs(view.pmi[np.isfinite(view.pmi)])
        top = float(finite.max()) if finite.size else 1.0
        im = row[0].imshow(view.pmi, cmap="RdBu_r", vmin=-top, vmax=top)
        row[0].set_xticks(range(len(words)), words, rotation=90, fontsize=6)
        row[0].set_yticks(range(len(words)), words, fontsize=6)
        row[0].set_title(f"{name}: PMI (blank: fewer counts than the minimum)", fontsize=8)
        fig.colorbar(im, ax=row[0], shrink=0.8)
        sym = view.symmetry
        mean = np.array([np.nan if m is None else m for m in sym["mean"]], dtype=float)
        row[1].plot(sym["gap"], mean, "o-")
        r2 = "n/a" if sym["r2"] is None else f"{sym['r2']:.2f} (random orders {sym['r2_null']:.2f})"
        row[1].set_xlabel("index gap" + (" (mod n)" if geom.cyclic else ""))
        row[1].set_ylabel("mean PMI")
        row[1].set_title(f"shift symmetry: R$^2$ = {r2}", fontsize=8)
        scores = np.asarray(view.embedding["scores"])
        order = "recovered" if view.embedding["order_recovered"] else "not recovered"
        _scatter(row[2], scores, words, f"embeddings, top components (order {order})", geom.cyclic)
    return _save(fig, path)
