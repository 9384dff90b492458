"""The spectrum of C(t): its top-k singular values per lag against the shuffled stream's noise edge.

``||C(t)||_op`` is the largest singular value of ``C(t) = J / P - a b^T``; the scaling paper notes that
the norm is carried by a handful of large singular values standing above a power-law bulk. Per lag
:func:`spectrum` reports

* ``singular_values``: the top k of C(t) (matrix-free: ``scipy.sparse.linalg.svds`` with the PROPACK
  Lanczos bidiagonalisation on the numba products of :class:`~corpus_stats.correlations.operators.Cov`;
  dense LAPACK when the active vocabulary is small);
* ``noise``: the same on a globally shuffled copy of the stream (same P and marginals, no correlation),
  whose top value is the ``noise_edge``, and ``n_above``: how many singular values of C(t) exceed it;
* ``stable_rank = ||C||_F^2 / ||C||_op^2`` (Frobenius norm exact from the counts);
* a power-law fit ``sigma_r ∝ r^(-bulk_exponent)`` over the bulk: ranks ``BULK_FIRST_RANK`` up to the last
  rank above the noise edge;
* ``top_tokens``: for the top singular vectors the tokens with the largest loadings, left (x_i) and
  right (x_{i+t}) side, positive and negative ends, decoded by the stream's tokenizer.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus_stats.correlations.counts import LagCounts, PairCounter, row_chunks
from corpus_stats.correlations.curve import check_lags
from corpus_stats.correlations.lag_statistics import DENSE_MAX_V, _fro_sq
from corpus_stats.correlations.operators import MATVECS, Cov
from corpus_stats.progress import Progress
from corpus_stats.stream import TokenStream

DEFAULT_SPECTRUM_LAGS = (1, 2, 4, 8, 16, 32, 64, 128)
BULK_FIRST_RANK = 4  # the bulk fit starts here: the few ranks above are the spikes the paper describes
BULK_MIN_POINTS = 5
SVD_TOL = 1e-8  # PROPACK: relative accuracy of the singular values


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Top-k singular values of C(t) per lag with the shuffled stream's spectrum and summaries.

    Attributes
    ----------
    lags, n_pairs : numpy.ndarray of int64
        Lags t and pairs counted.
    singular_values, noise : numpy.ndarray
        Shape (L, k): top-k singular values of C(t) and of the shuffled stream's C(t), descending
        (zeros past the rank).
    noise_edge : numpy.ndarray
        ``noise[:, 0]``: the largest singular value pure sampling noise produces at this P.
    n_above : numpy.ndarray of int64
        Singular values of C(t) above the noise edge (k means "k or more").
    fro, stable_rank : numpy.ndarray
        ``||C(t)||_F`` and ``||C||_F^2 / ||C||_op^2``.
    bulk_exponent, bulk_r2 : numpy.ndarray
        Fit ``sigma_r ∝ r^(-bulk_exponent)`` (least squares in log-log) and its R^2; NaN with fewer
        than ``BULK_MIN_POINTS`` ranks in the window.
    bulk_window : numpy.ndarray of int64
        Shape (L, 2): first and last rank of the fit (0, 0 when not fitted).
    top_tokens : list
        Per lag, per top singular vector: ``{"sigma", "left": {"positive", "negative"}, "right": ...}``,
        each a list of ``[token string, loading]`` by decreasing ``|loading|``.
    options : dict
        k, method, products and seconds per lag, seed, notes.
    """

    lags: np.ndarray
    n_pairs: np.ndarray
    singular_values: np.ndarray
    noise: np.ndarray
    noise_edge: np.ndarray
    n_above: np.ndarray
    fro: np.ndarray
    stable_rank: np.ndarray
    bulk_exponent: np.ndarray
    bulk_r2: np.ndarray
    bulk_window: np.ndarray
    top_tokens: list
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-safe dict (lists; NaN becomes None)."""

        def clean(arr):
            arr = np.asarray(arr)
            return np.where(np.isnan(arr), None, arr).tolist() if arr.dtype.kind == "f" else arr.tolist()

        names = ("lags", "n_pairs", "singular_values", "noise", "noise_edge", "n_above", "fro", "stable_rank")
        d = {name: clean(getattr(self, name)) for name in names}
        d.update(
            bulk_exponent=clean(self.bulk_exponent),
            bulk_r2=clean(self.bulk_r2),
            bulk_window=clean(self.bulk_window),
            top_tokens=self.top_tokens,
            options=dict(self.options),
        )
        return d

    def to_csv(self) -> str:
        """One row per (lag, rank): ``lag, rank, sigma, noise, above_edge``."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["lag", "rank", "sigma", "noise", "above_edge"])
        for i, t in enumerate(self.lags.tolist()):
            for r in range(self.singular_values.shape[1]):
                s, z = self.singular_values[i, r], self.noise[i, r]
                writer.writerow([t, r + 1, f"{s:.9g}", f"{z:.9g}", int(s > self.noise_edge[i])])
        return out.getvalue()

    def save(self, out) -> list[Path]:
        """Write ``spectrum.json`` and ``spectrum.csv`` into ``out`` (created if needed; atomic writes);
        returns the paths written. The figure is :func:`corpus_stats.report.geometry_figures.spectrum_figure`."""
        from corpus_stats._io import atomic_write_text

        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        files = [out / "spectrum.json", out / "spectrum.csv"]
        atomic_write_text(files[1], self.to_csv())
        atomic_write_text(files[0], json.dumps(self.to_dict(), indent=1))
        return files

    def table(self) -> list[str]:
        """Lines of a per-lag table: pairs, sigma_1, noise edge, values above it, stable rank, bulk exponent."""
        lines = [
            f"{'lag':>6} {'pairs':>12} {'sigma_1':>10} {'edge':>10} {'above':>6} {'stable rank':>11} {'bulk nu':>8}"
        ]
        for i, t in enumerate(self.lags.tolist()):
            nu = self.bulk_exponent[i]
            lines.append(
                f"{t:>6} {self.n_pairs[i]:>12,} {self.singular_values[i, 0]:>10.3e} {self.noise_edge[i]:>10.3e} "
                f"{self.n_above[i]:>6} {self.stable_rank[i]:>11.2f} {'-' if nu != nu else f'{nu:.2f}':>8}"
            )
        return lines

    def summary(self) -> str:
        """One line: values above the noise edge and stable rank at the first and last lag."""
        i, j = 0, self.lags.size - 1

        def at(x, fmt):
            return f"{x[i]:{fmt}} at t = {self.lags[i]}" + (f", {x[j]:{fmt}} at t = {self.lags[j]}" if j else "")

        return (
            f"top {self.options['k']} singular values at {self.lags.size} lags; above the noise edge "
            f"{at(self.n_above, 'd')}; stable rank {at(self.stable_rank, '.2f')}"
        )


def check_k(k, vocab_size: int) -> int:
    """``k`` as an int when ``1 <= k < vocab_size``, else ValueError: C(t) is V x V, so at most V - 1 of
    its singular values can be asked of the iterative solver."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}.")
    if k >= vocab_size:
        raise ValueError(f"k must be smaller than the vocabulary size V = {vocab_size:,} (C(t) is V x V); got {k}.")
    return int(k)


def _top_k(lc: LagCounts, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-k singular triplets of C for one lag's counts, descending, zero-padded past the rank."""
    p = lc.n_pairs
    n_r, n_c = lc.left.size, lc.right.size
    a, b = lc.left / p, lc.right / p
    if n_r * n_c <= DENSE_MAX_V**2 or min(n_r, n_c) <= k + 1:
        u, s, vt = np.linalg.svd(lc.csr().toarray() / p - np.outer(a, b), full_matrices=False)
        u, s, v = u[:, :k], s[:k], vt[:k].T
    else:
        from scipy.sparse.linalg import LinearOperator, svds

        cov = Cov(lc.indptr, lc.cols, lc.counts, p, a, b, row_chunks(lc.indptr))
        op = LinearOperator(cov.shape, matvec=cov.mv, rmatvec=cov.rmv, dtype=np.float64)
        rng = np.random.default_rng(12345)  # fixed start: results do not depend on a global seed
        u, s, vt = svds(op, k=k, tol=SVD_TOL, solver="propack", random_state=rng)
        order = np.argsort(s)[::-1]
        u, s, v = u[:, order], s[order], vt[order].T
    pad = k - s.size
    if pad > 0:
        s = np.concatenate([s, np.zeros(pad)])
        u = np.hstack([u, np.zeros((n_r, pad))])
        v = np.hstack([v, np.zeros((n_c, pad))])
    return s, u, v


def _bulk_fit(s: np.ndarray, n_above: int) -> tuple[float, float, int, int]:
    """Least-squares ``log sigma_r = c - nu log r`` over ranks BULK_FIRST_RANK..n_above."""
    lo, hi = BULK_FIRST_RANK, min(n_above, s.size)
    if hi - lo + 1 < BULK_MIN_POINTS or np.any(s[lo - 1 : hi] <= 0):
        return math.nan, math.nan, 0, 0
    r = np.arange(lo, hi + 1, dtype=float)
    lx, ly = np.log(r), np.log(s[lo - 1 : hi])
    slope, icpt = np.polyfit(lx, ly, 1)
    resid = ly - (icpt + slope * lx)
    r2 = 1.0 - resid @ resid / max(((ly - ly.mean()) ** 2).sum(), np.finfo(float).tiny)
    return float(-slope), float(r2), lo, hi


def _loadings(vec: np.ndarray, ids: np.ndarray, names, n: int) -> dict:
    """The n most positive and n most negative entries of ``vec`` as [token string, loading]."""
    order = np.argsort(vec)
    pos = [[names(int(ids[i])), float(vec[i])] for i in order[::-1][:n] if vec[i] > 0]
    neg = [[names(int(ids[i])), float(vec[i])] for i in order[:n] if vec[i] < 0]
    return {"positive": pos, "negative": neg}


def token_namer(stream: TokenStream):
    """``id -> str``: the decoded text of a token when the stream's tokenizer is saved beside it, else the id."""
    from corpus_stats.text.tokenizers import load_stream_tokenizer

    tok = load_stream_tokenizer(stream)
    if tok is None:
        return str
    return lambda i: tok.token_string(i) if i == tok.eos_id else tok.decode([i])


def spectrum(
    stream: TokenStream,
    lags=None,
    k: int = 64,
    *,
    within_documents: bool = False,
    seed: int = 0,
    n_vectors: int = 4,
    n_tokens_shown: int = 10,
    progress: bool = False,
) -> Spectrum:
    """Top-k singular values of C(t) per lag, the shuffled noise edge, bulk fit and top-loading tokens.

    Parameters
    ----------
    stream : TokenStream
        The corpus.
    lags : array_like of int, optional
        Lags (positive, below the stream length); default ``DEFAULT_SPECTRUM_LAGS`` that fit.
    k : int, default 64
        Singular values per lag.
    within_documents : bool, default False
        Count only pairs inside one document (as :func:`~corpus_stats.correlation_curve`).
    seed : int, default 0
        Seed of the shuffle giving the noise spectrum.
    n_vectors : int, default 4
        Top singular vectors whose top-loading tokens are listed.
    n_tokens_shown : int, default 10
        Tokens listed per side and sign.
    progress : bool, default False
        Progress bar on stderr.

    Returns
    -------
    Spectrum

    Raises
    ------
    TypeError
        If ``stream`` is not a TokenStream.
    ValueError
        For invalid lags, k outside ``1 .. V - 1``, or a stream of fewer than 2 tokens.

    Notes
    -----
    ``C(t) = J/P - a b^T`` as in :func:`~corpus_stats.correlation_curve`. The singular values of the
    shuffled stream's C(t) are those of a noise matrix of the same P and marginals: a value of C(t)
    above the shuffled top value is signal. The stable rank ``||C||_F^2 / ||C||_op^2`` counts how many
    directions of the size of the top one the Frobenius norm holds.

    Examples
    --------
    >>> from corpus_stats import synthetic
    >>> s = spectrum(synthetic.markov_chain(50_000, vocab_size=16, seed=1).stream, [1, 2], k=4)
    >>> s.singular_values.shape, bool(s.singular_values[0, 0] > s.noise_edge[0])
    ((2, 4), True)
    """
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream (see TokenStream.from_array); got {type(stream).__name__}.")
    n = stream.n_tokens
    if n < 2:
        raise ValueError(f"the stream must hold at least 2 tokens to form a pair; got {n}.")
    if lags is None:
        lags = [t for t in DEFAULT_SPECTRUM_LAGS if t < n]
    lags = check_lags(lags, n)
    k = check_k(k, stream.vocab_size)
    names = token_namer(stream)
    n_l = lags.size
    sv, noise = np.zeros((n_l, k)), np.zeros((n_l, k))
    fro, n_pairs = np.full(n_l, np.nan), np.zeros(n_l, np.int64)
    top_tokens: list = []
    products, seconds = [], []
    starts = np.array([0, n], np.int64)
    with Progress("spectrum", 2 * n_l, enabled=progress) as bar:
        counter = PairCounter(stream.shuffled(seed), within_documents, starts)
        for i, t in enumerate(lags.tolist()):
            lc = counter.count(t)
            if lc.n_pairs:
                noise[i] = _top_k(lc, k)[0]
            bar.update(note=f"shuffled t={t}")
        counter = PairCounter(stream, within_documents, starts)
        for i, t in enumerate(lags.tolist()):
            lc = counter.count(t)
            n_pairs[i] = lc.n_pairs
            vectors = []
            if lc.n_pairs:
                fro[i] = math.sqrt(max(_fro_sq(lc), 0.0))
                before, start = MATVECS[0], time.perf_counter()
                s, u, v = _top_k(lc, k)
                seconds.append(time.perf_counter() - start)
                products.append(MATVECS[0] - before)
                sv[i] = s
                for j in range(min(n_vectors, k)):
                    if s[j] <= 0:
                        break
                    sign = 1.0 if u[np.argmax(np.abs(u[:, j])), j] >= 0 else -1.0
                    vectors.append(
                        {
                            "sigma": float(s[j]),
                            "left": _loadings(sign * u[:, j], lc.act_rows, names, n_tokens_shown),
                            "right": _loadings(sign * v[:, j], lc.act_cols, names, n_tokens_shown),
                        }
                    )
            top_tokens.append(vectors)
            bar.update(note=f"t={t}")
    edge = noise[:, 0].copy()
    n_above = (sv > edge[:, None]).sum(axis=1).astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        stable = np.where(sv[:, 0] > 0, fro**2 / sv[:, 0] ** 2, np.nan)
    fits = [_bulk_fit(sv[i], int(n_above[i])) for i in range(n_l)]
    notes = []
    if np.any(n_above == k):
        notes.append(f"at lags {lags[n_above == k].tolist()} all {k} values stand above the noise edge: raise k.")
    options = dict(
        k=k,
        within_documents=bool(within_documents),
        seed=int(seed),
        vocab_size=int(stream.vocab_size),
        n_tokens=int(n),
        method=f"svds (PROPACK, tol {SVD_TOL:g}) on the matrix-free C = J/P - a b^T; dense LAPACK below "
        f"{DENSE_MAX_V}^2 active entries",
        noise="top-k of the globally shuffled stream's C(t) at each lag; noise_edge = its largest",
        bulk_fit=f"log sigma_r on log r, ranks {BULK_FIRST_RANK}..n_above (at least {BULK_MIN_POINTS})",
        products=products,
        seconds=[round(x, 4) for x in seconds],
        notes=notes,
    )
    return Spectrum(
        lags=lags,
        n_pairs=n_pairs,
        singular_values=sv,
        noise=noise,
        noise_edge=edge,
        n_above=n_above,
        fro=fro,
        stable_rank=stable,
        bulk_exponent=np.array([f[0] for f in fits]),
        bulk_r2=np.array([f[1] for f in fits]),
        bulk_window=np.array([[f[2], f[3]] for f in fits], dtype=np.int64).reshape(n_l, 2),
        top_tokens=top_tokens,
        options=options,
    )
