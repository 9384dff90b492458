"""The prediction horizon measured: ||C(t)|| at nested sample sizes P = N / 2^k from one counting pass.

The theory (Cagnetta, Raventós, Ganguli & Wyart, arXiv 2602.07488) says a model trained on P tokens
can use the token t steps back only while ||C(t)|| exceeds the sampling noise c/sqrt(P), so its
horizon is t*(P) = (A sqrt(P)/c)^(1/beta). :func:`horizon_curve` measures that crossing directly:
the stream is cut into ``2^(K + 1)`` shards of whole documents (K = ``n_halvings``; equal tokens as
near as documents allow) and each lag's pairs are counted **once**, per shard
(:class:`~corpus_stats.correlations.counts.PairCounter`); the first ``2^(K + 1 - k)`` shards give
the nested sample of ``P_k ≈ N / 2^k`` tokens, whose two halves give the split-half (debiased)
``||C(t)||_op`` and ``||C(t)||_F`` at that size. The measured horizon at ``P_k`` is the first lag
whose debiased norm falls below the noise ``c / sqrt(P_k)``; ``c`` is measured from the shuffled
floor of the full-size curve (``floor_op sqrt(n_pairs)``, median over lags; ``floor_fro`` for
``norm="fro"``), and the prediction uses the same ``c`` with ``beta`` and ``A`` fitted on the
full-size debiased curve (:func:`scaling.horizons.horizon`), so measured and predicted horizons
meet the same threshold.

Caveat, measured on the copy process (docs/grammars.md): the split-half operator norm is the top
eigenvalue of a symmetric matrix, and on pure noise that eigenvalue is positive, of the order of the
noise itself; so near the floor the debiased ``op`` sits above the true norm and the measured
horizon runs later than the crossing of the true curve. The split-half Frobenius value is unbiased
(``norm="fro"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from corpus_stats._checks import check_int
from corpus_stats.correlations.counts import PairCounter
from corpus_stats.correlations.lag_statistics import signed_sqrt
from corpus_stats.stream import TokenStream

DENSE_MAX = 300  # active rows/columns up to which the split-half eigenproblem is solved densely
MIN_SNR = 3.0  # lags of the full-size curve used for the fitted law: signal/noise at least this
MIN_HALF_TOKENS = 1000  # tokens in each half of the smallest nested sample (below: no noise to speak of)


@dataclass(frozen=True, eq=False)
class HorizonCurve:
    """``||C(t)||`` against nested sample sizes, and the horizons measured and predicted.

    Attributes
    ----------
    lags : int64[L]
    tokens : float64[K]
        Pairs counted at each nested size (descending: N, N/2, ...; lag 1's count).
    op_debiased, fro_debiased : float64[K, L]
        Split-half estimates at each size and lag (signed square roots; noise can make them < 0).
    noise : float64[K]
        ``floor_constant / sqrt(tokens)``.
    floor_constant : float
        c, from the shuffled floor of the full-size curve.
    measured : float64[K]
        First lag whose debiased norm falls below the noise (NaN: none below; the horizon
        lies beyond the largest lag).
    measured_interpolated : float64[K]
        The crossing interpolated in log-log between the last lag above and the first below (NaN
        when either side is missing or not positive).
    predicted : float64[K]
        ``(A sqrt(P) / c)^(1/beta)`` with ``beta, A`` fitted on the full-size debiased curve.
    beta, prefactor : float
        The fitted law; NaN when fewer than three lags pass ``MIN_SNR``.
    fit_lags : int64[...]
        Lags the law was fitted on (signal/noise >= ``MIN_SNR``).
    norm : str
        ``"op"`` or ``"fro"``: the norm the horizons are read from.
    notes : tuple of str
    """

    lags: np.ndarray
    tokens: np.ndarray
    op_debiased: np.ndarray
    fro_debiased: np.ndarray
    noise: np.ndarray
    floor_constant: float
    measured: np.ndarray
    measured_interpolated: np.ndarray
    predicted: np.ndarray
    beta: float
    prefactor: float
    fit_lags: np.ndarray
    norm: str = "op"
    notes: tuple = field(default_factory=tuple)

    def to_dict(self) -> dict:
        """JSON-safe dict (the optional ``horizon`` section of ``report.json``)."""
        from corpus_stats._io import json_safe

        return json_safe({k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def from_dict(cls, d: dict) -> HorizonCurve:
        arr = {k: np.asarray(d[k], dtype=np.float64) for k in ("tokens", "noise", "measured", "predicted")}
        grid = {k: np.asarray(d[k], dtype=np.float64) for k in ("op_debiased", "fro_debiased")}
        return cls(
            lags=np.asarray(d["lags"], dtype=np.int64),
            op_debiased=grid["op_debiased"],
            fro_debiased=grid["fro_debiased"],
            floor_constant=float(d["floor_constant"]),
            measured_interpolated=np.asarray(d["measured_interpolated"], dtype=np.float64),
            beta=float(np.nan if d["beta"] is None else d["beta"]),
            prefactor=float(np.nan if d["prefactor"] is None else d["prefactor"]),
            fit_lags=np.asarray(d["fit_lags"], dtype=np.int64),
            norm=d.get("norm", "op"),
            notes=tuple(d.get("notes", ())),
            **arr,
        )


def _half_statistics(j_a, j_b, pa, pb, la, ra, lb, rb) -> tuple[float, float]:
    """Split-half ``(op, fro)``: top eigenvalue of (C_A^T C_B + C_B^T C_A)/2 and <C_A, C_B>_F."""
    aa, ba, ab, bb = la / pa, ra / pa, lb / pb, rb / pb
    inner = (
        float(j_a.multiply(j_b).sum()) / (pa * pb)
        - float(ab @ (j_a @ bb)) / pa
        - float(aa @ (j_b @ ba)) / pb
        + float(aa @ ab) * float(ba @ bb)
    )
    n_r, n_c = j_a.shape
    if max(n_r, n_c) <= DENSE_MAX:
        ca = j_a.toarray() / pa - np.outer(aa, ba)
        cb = j_b.toarray() / pb - np.outer(ab, bb)
        lam = float(np.linalg.eigvalsh(0.5 * (ca.T @ cb + cb.T @ ca))[-1])
    else:

        def mv(x):
            x = np.ravel(x)
            ya = j_a @ x / pa - aa * (ba @ x)
            yb = j_b @ x / pb - ab * (bb @ x)
            return 0.5 * (j_a.T @ yb / pa - ba * (aa @ yb) + j_b.T @ ya / pb - bb * (ab @ ya))

        op = spla.LinearOperator((n_c, n_c), matvec=mv, dtype=np.float64)
        lam = float(spla.eigsh(op, k=1, which="LA", tol=1e-6, return_eigenvectors=False)[0])
    return float(signed_sqrt(lam)), float(signed_sqrt(inner))


def _nested_shards(stream: TokenStream, n_halvings: int) -> np.ndarray:
    """``2^(n_halvings + 1)`` shards: the smallest nested sample still has two halves."""
    want = 2 ** (n_halvings + 1)
    bounds = stream.shards(want, max_shards=None).bounds
    if bounds.size - 1 != want:
        raise ValueError(
            f"the horizon needs 2**(n_halvings + 1) = {want} shards, but this corpus "
            f"gives {bounds.size - 1}; use fewer halvings (n_halvings <= {int(np.log2(max(bounds.size - 1, 2))) - 1})."
        )
    return bounds


def _crossing(lags, values, noise) -> tuple[float, float]:
    """First lag below noise, and the log-log interpolated crossing."""
    below = np.flatnonzero(~(values >= noise))  # NaN counts as below
    if below.size == 0:
        return np.nan, np.nan
    j = below[0]
    first = float(lags[j])
    if j == 0 or not values[j] > 0:
        return first, np.nan
    x0, x1 = np.log(lags[j - 1]), np.log(lags[j])
    y0, y1 = np.log(values[j - 1]), np.log(values[j])
    f = (y0 - np.log(noise)) / (y0 - y1)
    return first, float(np.exp(x0 + f * (x1 - x0)))


def horizon_curve(
    stream: TokenStream,
    lags=None,
    *,
    n_halvings: int = 4,
    within_documents: bool = False,
    curve=None,
    norm: str = "op",
    seed: int = 0,
) -> HorizonCurve:
    """Measure ``||C(t)||`` at ``P = N, N/2, ..., N/2^n_halvings`` in one pass and the horizons.

    Parameters
    ----------
    stream : TokenStream
        The corpus, cut into ``2**(n_halvings + 1)`` shards (whole documents where there are enough,
        else equal token ranges); each shard needs at least ``MIN_HALF_TOKENS`` tokens and more
        than the largest lag.
    lags : array_like of int, optional
        Lags, ascending; default :func:`~corpus_stats.correlations.curve.default_lags` up to a
        sixteenth of the smallest nested sample.
    n_halvings : int, default 4
        Number of halvings K (``K + 1`` sizes, ``2^K`` shards), 1..10.
    within_documents : bool, default False
        Count pairs inside documents only.
    curve : CorrelationCurve, optional
        The full-size curve on the same lags (floor and fitted law); measured here when absent.
    norm : {"op", "fro"}, default "op"
        Which debiased norm meets which floor (operator: the theory's; Frobenius: unbiased).
    seed : int, default 0
        Seed of the full-size curve's shuffled floor.

    Returns
    -------
    HorizonCurve
    """
    from corpus_stats.correlations.curve import correlation_curve, default_lags
    from scaling.fits import fit_power_law
    from scaling.horizons import horizon

    check_int("n_halvings", n_halvings, 1, 10)
    if norm not in ("op", "fro"):
        raise ValueError(f"norm must be 'op' or 'fro'; got {norm!r}.")
    bounds = _nested_shards(stream, int(n_halvings))
    if lags is None:
        lags = default_lags(max(1, stream.n_tokens // 2 ** (n_halvings + 4)))
    lags = np.asarray(lags, dtype=np.int64)
    if lags.ndim != 1 or lags.size == 0 or lags.min() < 1 or np.any(np.diff(lags) <= 0):
        raise ValueError(f"lags must be a non-empty ascending list of positive integers; got {lags.tolist()}.")
    half = int(np.diff(bounds).min())  # one half of the smallest nested sample
    if half < max(MIN_HALF_TOKENS, int(lags[-1]) + 1):
        fit = int(np.log2(max(stream.n_tokens // max(MIN_HALF_TOKENS, int(lags[-1]) + 1), 1))) - 1
        raise ValueError(
            f"{n_halvings} halvings leave halves of {half:,} tokens in the smallest nested sample (N / 2^"
            f"{n_halvings + 1} of N = {stream.n_tokens:,}); each needs at least {MIN_HALF_TOKENS:,} tokens and "
            f"more than the largest lag ({int(lags[-1])}); use "
            + (f"at most {fit} halving{'s' if fit > 1 else ''}" if fit >= 1 else "a longer corpus")
            + (" or smaller lags." if lags[-1] >= MIN_HALF_TOKENS else ".")
        )
    if curve is None:
        curve = correlation_curve(stream, lags, within_documents=within_documents, seed=seed)
    elif not np.array_equal(np.asarray(curve.lags), lags):
        raise ValueError("curve must be measured on the same lags as the horizon.")
    n_shards = bounds.size - 1
    sizes = [n_shards >> k for k in range(n_halvings + 1)]  # shards in each nested sample (>= 2)
    op = np.full((len(sizes), lags.size), np.nan)
    fro = np.full((len(sizes), lags.size), np.nan)
    tokens = np.zeros(len(sizes))
    counter = PairCounter(stream, within_documents, bounds)
    for li, lag in enumerate(lags):
        lc = counter.count(int(lag))
        shape = (lc.left.size, lc.right.size)
        for k, g in enumerate(sizes):
            half = g // 2
            cnt = []
            for lo, hi in ((0, half), (half, g)):
                sel = (lc.sh_g >= lo) & (lc.sh_g < hi)
                w = np.bincount(lc.sh_entry[sel], weights=lc.sh_cnt[sel], minlength=lc.cols.size)
                cnt.append((sp.csr_matrix((w, lc.cols, lc.indptr), shape=shape), lo, hi))
            (j_a, a0, a1), (j_b, b0, b1) = cnt
            pa, pb = lc.pairs_g[a0:a1].sum(), lc.pairs_g[b0:b1].sum()
            if li == 0:
                tokens[k] = pa + pb
            if pa > 0 and pb > 0:
                op[k, li], fro[k, li] = _half_statistics(
                    j_a, j_b, pa, pb,
                    lc.left_g[:, a0:a1].sum(1), lc.right_g[:, a0:a1].sum(1),
                    lc.left_g[:, b0:b1].sum(1), lc.right_g[:, b0:b1].sum(1),
                )  # fmt: skip
    floor = np.asarray(curve.floor_op if norm == "op" else curve.floor_fro, dtype=np.float64)
    full = np.asarray(curve.op_debiased if norm == "op" else curve.fro_debiased, dtype=np.float64)
    ok = np.isfinite(floor) & (floor > 0)
    c = float(np.median(floor[ok] * np.sqrt(curve.n_pairs[ok])))
    noise = c / np.sqrt(tokens)
    values = op if norm == "op" else fro
    measured, interp = np.full(len(sizes), np.nan), np.full(len(sizes), np.nan)
    for k in range(len(sizes)):
        measured[k], interp[k] = _crossing(lags, values[k], noise[k])
    notes = [f"{norm} norm; noise c/sqrt(P), c = {c:.3g} from the shuffled floor of the full-size curve"]
    keep = np.isfinite(full) & (full > 0) & (full / floor >= MIN_SNR)
    beta = prefactor = np.nan
    predicted = np.full(len(sizes), np.nan)
    if keep.sum() >= 3:
        fit = fit_power_law(lags[keep], full[keep], method="paper", interval="ols")
        beta = float(fit.exponent)
        prefactor = float(fit.prefactor)
        if beta > 0:
            predicted = horizon(tokens, beta=beta, prefactor=prefactor, floor_constant=c).t_star
        else:
            notes.append(f"fitted beta = {beta:.3g} is not positive: no predicted horizon")
    else:
        notes.append(f"fewer than three lags with signal/noise >= {MIN_SNR:g}: no fitted law, no prediction")
    return HorizonCurve(
        lags, tokens, op, fro, noise, c, measured, interp, predicted, beta, prefactor, lags[keep], norm, tuple(notes)
    )
