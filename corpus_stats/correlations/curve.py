"""Correlation decay C(t): operator and Frobenius norms of the lagged token covariance.

For a lag t the pair sample is every (x_i, x_{i+t}) of the stream (or only those inside one document)
and ``C(t) = J / P - a b^T`` with J the V x V pair counts, P the number of pairs and a, b the left and
right marginals of that same pair sample (as in Cagnetta et al. 2026). Per lag we report

* ``op`` = ||C||_op (largest singular value, matrix-free) and ``fro`` = ||C||_F (exact from counts);
* ``floor_op`` / ``floor_fro``: the same norms on a globally shuffled copy of the stream (same P,
  same marginals, no correlation): the sampling-noise floor;
* ``op_debiased`` / ``fro_debiased`` from the first and second half of the document shards
  (A, B): ``<C_A, C_B>_F`` is unbiased for ||C||_F^2 and the top eigenvalue of
  ``(C_A^T C_B + C_B^T C_A) / 2`` minus its value on the shuffled stream estimates ||C||_op^2; both
  reported as sign-preserving square roots, ``sign(x) sqrt(|x|)`` (negative values mean "below the noise");
* ``snr = op_debiased / floor_op``;
* a grouped leave-one-shard-out jackknife over the shards ``stream.shards(n_shards)``.

Counts are made once per shard and lag (pair i belongs to the shard holding its left token); every
replicate (whole corpus, leave-one-shard-out, halves) is a re-weighting of the same sparse pattern.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields

import numpy as np

from corpus_stats._io import array_from_json, dataclass_to_json
from corpus_stats._random import generator
from corpus_stats.correlations.counts import PairCounter
from corpus_stats.correlations.lag_statistics import DENSE_MAX_V, LANCZOS_TOL, RITZ_K, _lag_statistics, signed_sqrt
from corpus_stats.correlations.plan import pair_count_plan
from corpus_stats.progress import Progress
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream
from scaling import jackknife_stderr

PAPER_LAGS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192)


def default_lags(max_lag: int = 1024) -> np.ndarray:
    """Default lag schedule: about 8 log-spaced lags per decade from 1 to ``max_lag`` plus the paper's.

    Parameters
    ----------
    max_lag : int, default 1024
        Largest lag (inclusive).

    Returns
    -------
    numpy.ndarray
        Sorted, unique int64 lags; the paper's lags {1, 2, 3, 4, 6, 8, 12, ..., 192} up to ``max_lag``
        are always included.

    Examples
    --------
    >>> default_lags(16).tolist()
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16]
    """
    max_lag = int(max_lag)
    if max_lag < 1:
        raise ValueError(f"max_lag must be a positive integer; got {max_lag}.")
    n = math.ceil(8 * math.log10(max_lag)) + 1 if max_lag > 1 else 1
    logs = np.unique(np.round(np.logspace(0, math.log10(max_lag), n)).astype(np.int64))
    paper = np.array([t for t in PAPER_LAGS if t <= max_lag], dtype=np.int64)
    return np.unique(np.concatenate([logs, paper]))


def parse_lags(text: str, max_lag: int | None = None) -> np.ndarray:
    """Parse a lag specification such as ``"1,2,4"``, ``"1-32"``, ``"1:1024:log8"`` or ``"paper"``.

    Comma-separated items, combined and deduplicated:

    * ``N``: one lag; ``A-B`` or ``A:B``: every lag from A to B inclusive; ``A:B:S``: step S;
    * ``A:B:logK``: about K log-spaced lags per decade from A to B (A and B included);
    * ``default``: :func:`default_lags` (up to ``max_lag`` or 1024); ``paper``: the paper's 15 lags.

    Parameters
    ----------
    text : str
        The specification.
    max_lag : int, optional
        Reject lags above this value (e.g. the stream length minus one).

    Returns
    -------
    numpy.ndarray
        Sorted unique int64 lags.

    Raises
    ------
    ValueError
        On malformed items, lags below 1 or above ``max_lag``.

    Examples
    --------
    >>> parse_lags("1-4,8,16:64:log4").tolist()
    [1, 2, 3, 4, 8, 16, 25, 40, 64]
    """
    out: list[np.ndarray] = []
    for item in (s.strip().lower() for s in str(text).split(",")):
        try:
            if item == "default":
                out.append(default_lags(1024 if max_lag is None else min(max_lag, 1024)))
            elif item == "paper":
                out.append(np.array(PAPER_LAGS, dtype=np.int64))
            elif m := re.fullmatch(r"(\d+)\s*[-:]\s*(\d+)", item):
                out.append(np.arange(int(m[1]), int(m[2]) + 1, dtype=np.int64))
            elif m := re.fullmatch(r"(\d+):(\d+):log(\d+)", item):
                lo, hi, per = int(m[1]), int(m[2]), int(m[3])
                n = max(math.ceil(per * math.log10(hi / lo)) + 1, 2) if hi > lo > 0 else 1
                out.append(np.round(np.logspace(math.log10(max(lo, 1)), math.log10(max(hi, 1)), n)))
            elif m := re.fullmatch(r"(\d+):(\d+):(\d+)", item):
                out.append(np.arange(int(m[1]), int(m[2]) + 1, max(int(m[3]), 1), dtype=np.int64))
            else:
                out.append(np.array([int(item)], dtype=np.int64))
        except ValueError:
            raise ValueError(
                f"lags must look like '1,2,4', '1-32', '1:1024:log8', 'default' or 'paper'; got {item!r}."
            ) from None
    lags = np.unique(np.concatenate(out).astype(np.int64)) if out else np.zeros(0, np.int64)
    if lags.size == 0 or lags[0] < 1:
        raise ValueError(f"lags must be positive integers; got {text!r}.")
    if max_lag is not None and lags[-1] > max_lag:
        raise ValueError(f"lags must be at most {max_lag:,}; got {int(lags[-1]):,} in {text!r}.")
    return lags


@dataclass(frozen=True, eq=False)
class CorrelationCurve:
    """Norms of the lagged covariance C(t) per lag, with noise floor, debiased values and errors.

    All per-lag arrays have length L (float64 unless noted); NaN where undefined (no pairs, or one
    shard only for the jackknife and the halves).

    Attributes
    ----------
    lags, n_pairs : numpy.ndarray of int64
        Lags t and number of pairs P counted at each lag.
    op, fro : numpy.ndarray
        ||C(t)||_op and ||C(t)||_F of the whole corpus.
    floor_op, floor_fro : numpy.ndarray
        The same norms on a globally shuffled copy of the stream (noise floor at the same P).
    op_debiased, fro_debiased : numpy.ndarray
        Split-half estimates: ``sign(l) sqrt(|l|)`` with l the top eigenvalue of
        ``(C_A^T C_B + C_B^T C_A)/2`` (op) or ``<C_A, C_B>_F`` (fro). Negative means below noise.
    snr : numpy.ndarray
        Signal/noise ``op_debiased / floor_op``.
    op_stderr, fro_stderr : numpy.ndarray
        Grouped jackknife standard errors of ``op`` and ``fro`` over the shards ``stream.shards(n_shards)``.
    op_debiased_stderr : numpy.ndarray
        Grouped jackknife standard error of ``op_debiased`` itself (each shard left out of its half,
        the noise edge held fixed): the error bar of the debiased value, wider than ``op_stderr`` near
        the noise floor. NaN in reports written before it existed.
    op_jackknife, fro_jackknife : numpy.ndarray
        Shape (G, L): the leave-one-shard-out values of op and fro.
    options : dict
        How the curve was computed (pair mode, shards, seed, methods, notes).
    """

    lags: np.ndarray
    n_pairs: np.ndarray
    op: np.ndarray
    fro: np.ndarray
    floor_op: np.ndarray
    floor_fro: np.ndarray
    op_debiased: np.ndarray
    fro_debiased: np.ndarray
    snr: np.ndarray
    op_stderr: np.ndarray
    fro_stderr: np.ndarray
    op_debiased_stderr: np.ndarray
    op_jackknife: np.ndarray
    fro_jackknife: np.ndarray
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-safe dict (lists; NaN becomes None)."""
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, d: dict) -> CorrelationCurve:
        """Inverse of :meth:`to_dict`."""
        kw = {name: array_from_json(d[name], np.int64) for name in ("lags", "n_pairs")}
        n_lags = kw["lags"].size
        absent = [np.nan] * n_lags  # optional fields of older reports
        kw.update(
            {
                name: array_from_json(d[name] if name not in OPTIONAL_FIELDS else d.get(name) or absent)
                for name in PER_LAG_FIELDS + ("op_jackknife", "fro_jackknife")
            }
        )
        for name in ("op_jackknife", "fro_jackknife"):
            kw[name] = kw[name].reshape(-1, n_lags)
        return cls(**kw, options=dict(d.get("options", {})))


#: The per-lag float arrays of :class:`CorrelationCurve`, in field order (the CSV columns after
#: ``lag`` and ``n_pairs``): every field but the integer ones, the (G, L) replicates and the options.
PER_LAG_FIELDS = tuple(
    f.name
    for f in fields(CorrelationCurve)
    if f.name not in ("lags", "n_pairs", "op_jackknife", "fro_jackknife", "options")
)

#: Per-lag fields a report may lack (written by an older version); read as NaN.
OPTIONAL_FIELDS = ("op_debiased_stderr",)


def _floor_lag_subset(lags: np.ndarray, floor_lags: int | None) -> np.ndarray:
    """Indices of the lags where the shuffled floor is measured (log-spaced, ends included)."""
    if floor_lags is None or floor_lags >= lags.size:
        return np.arange(lags.size)
    if int(floor_lags) < 2:
        raise ValueError(f"floor_lags must be at least 2 (or None for every lag); got {floor_lags}.")
    targets = np.logspace(np.log10(lags[0]), np.log10(lags[-1]), int(floor_lags))
    idx = np.abs(np.log(lags)[None, :] - np.log(targets)[:, None]).argmin(axis=1)
    return np.unique(idx)


def _interpolate_floor(lags, values, measured, n_pairs, within_documents) -> np.ndarray:
    """Smooth the measured floors in c(t) = floor * sqrt(P): the mean c across documents, a
    least-squares line of log c in log t within documents; NaN where there are no pairs."""
    ok = measured[np.isfinite(values[measured]) & (values[measured] > 0)]
    if ok.size == 0:
        return values
    with np.errstate(divide="ignore"):
        log_c = np.log(values[ok] * np.sqrt(n_pairs[ok]))
        if within_documents and ok.size >= 2:
            slope, icpt = np.polyfit(np.log(lags[ok]), log_c, 1)
            out = np.exp(icpt + slope * np.log(lags)) / np.sqrt(n_pairs)
        else:
            out = np.exp(log_c.mean()) / np.sqrt(n_pairs)
    out[n_pairs == 0] = np.nan
    return out


# -- public entry point -----------------------------------------------------------------------


def check_lags(lags, n_tokens: int) -> np.ndarray:
    """The lags of C(t) on a stream of ``n_tokens`` tokens, checked: unique sorted int64.

    ``None`` gives :func:`default_lags` up to ``min(1024, n_tokens - 1)``. Raises ValueError (rule and
    value) for a stream too short or too long to count, and for lags that are not positive integers
    smaller than ``n_tokens``.
    """
    if n_tokens < 2:
        raise ValueError(f"the stream must hold at least 2 tokens to form a pair; got {n_tokens}.")
    if n_tokens >= 2**31:
        raise ValueError(f"streams must hold fewer than 2**31 tokens; got {n_tokens:,}. Subsample documents.")
    if lags is None:
        return default_lags(min(1024, n_tokens - 1))
    arr = np.atleast_1d(np.asarray(lags))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"lags must be a non-empty 1-D list of integers; got {lags!r}.")
    if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"lags must be integers; got {arr[:5].tolist()} (dtype {arr.dtype}).")
    arr = arr.astype(np.int64)
    bad = arr[(arr < 1) | (arr >= n_tokens)]
    if bad.size:
        raise ValueError(
            f"lags must be positive integers smaller than the stream length ({n_tokens:,} tokens); got {int(bad[0])}."
        )
    return np.unique(arr)


def correlation_curve(
    stream: TokenStream,
    lags=None,
    *,
    within_documents: bool = False,
    n_shards: int | Shards = DEFAULT_SHARDS,
    seed: int = 0,
    floor_lags: int | None = 8,
    progress: bool = False,
    execution=None,
) -> CorrelationCurve:
    """Measure ||C(t)||_op and ||C(t)||_F with noise floor, debiased values and jackknife errors.

    Parameters
    ----------
    stream : TokenStream
        The corpus (any vocabulary size; large V is handled matrix-free).
    lags : array_like of int, optional
        Lags t (positive, smaller than the stream length); default :func:`default_lags` up to
        ``min(1024, n_tokens - 1)``.
    within_documents : bool, default False
        Count only pairs inside one document (P then shrinks with t). Default: one continuous
        stream, pairs across document boundaries, as the paper.
    n_shards : int or Shards, default DEFAULT_SHARDS
        Jackknife shards: their number, or ``stream.shards(...)`` built once and shared with the
        entropy curve (fewer when there are fewer documents; noted in ``options["notes"]``). The
        debiasing halves are the first and second half of them.
    seed : int, default 0
        Seed of the shuffle that gives the noise floor.
    floor_lags : int or None, default 8
        Measure the shuffled floor at this many log-spaced lags of the schedule (first and last
        included); None measures and reports every lag as is. The shuffled stream's statistics depend on t only
        through P (floor ~ c / sqrt(P)), so the reported floor is c / sqrt(P_t) with c pooled over
        the measured lags (mean across documents; a log-log line in t within documents, where the
        pair sample changes with t). Cheaper than every lag, and less noisy than one shuffle per lag.
    progress : bool, default False
        Progress bar over lags on stderr.
    execution : corpus_stats.execution.Execution, optional
        Memory limit of the pair counts (default: none, one partition): the positions are counted in
        left-token ranges planned by :func:`~corpus_stats.correlations.counts.pair_count_plan`, one
        range at a time in this process. The counts, and so every value, do not depend on the ranges.

    Returns
    -------
    CorrelationCurve

    Raises
    ------
    TypeError
        If ``stream`` is not a TokenStream.
    ValueError
        For fewer than 2 tokens, 2**31 tokens or more, or invalid lags.
    corpus_stats.execution.MemoryLimitError
        ``execution.memory_limit`` is below what the most frequent token's range needs.

    Notes
    -----
    ``C_ab(t) = P(x_i = a, x_{i+t} = b) - P_left(a) P_right(b)`` with the marginals of the same pair
    sample (Cagnetta et al., arXiv 2602.07488). A pair belongs to the shard of its left token.
    Leave-one-shard-out op norms are exact for V <= 192; otherwise ``max(||C_g V||, ||C_g^T U||)`` with
    U, V the corpus's top-4 singular vectors: a lower bound, exact to second order in the left-out
    shard (a few % low when the lag is pure noise, where the top direction is unstable).
    The split-half op eigenvalue is not centred on zero for pure noise (the top eigenvalue of a random
    symmetric matrix sits at the spectral edge), so ``op_debiased`` subtracts the same statistic
    measured on the shuffled stream split at the same token, in the squared domain (centred on zero
    for iid tokens; within 20% of exact on the copy process down to snr 1.5). The Frobenius
    inner product is unbiased as is.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> s = TokenStream.from_array(rng.integers(0, 4, 2000), vocab_size=4)
    >>> c = correlation_curve(s, [1, 2], n_shards=4)
    >>> c.n_pairs.tolist()
    [1999, 1998]
    """
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream (see TokenStream.from_array); got {type(stream).__name__}.")
    n = stream.n_tokens
    lags = check_lags(lags, n)
    shards = stream.shards(n_shards)
    g_n = shards.n_shards
    dense = stream.vocab_size <= DENSE_MAX_V
    measured = _floor_lag_subset(lags, floor_lags)
    plan = None if execution is None else pair_count_plan(stream, within_documents, execution, shards)
    bounds = None if plan is None else plan.bounds
    with Progress("correlations", lags.size + measured.size, enabled=progress) as bar:
        floor = _floor_statistics(stream, lags[measured], within_documents, shards, dense, seed, bar, bounds)
        table = _lag_table(stream, lags, within_documents, shards, dense, seed, bar, bounds)
    floor_op, floor_fro, null_lam = (np.full(lags.size, np.nan) for _ in range(3))
    floor_op[measured], floor_fro[measured], null_lam[measured] = floor
    null_edge = np.sqrt(np.maximum(null_lam, 0.0))
    if floor_lags is not None:
        floor_op, floor_fro, null_edge = (
            _interpolate_floor(lags, x, measured, table.n_pairs, within_documents)
            for x in (floor_op, floor_fro, null_edge)
        )
    # debiased op: subtract the noise edge in the squared domain (see the module docstring)
    op_deb = signed_sqrt(table.op_lam - null_edge**2)
    op_deb_jk = signed_sqrt(table.op_lam_jk - null_edge**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = op_deb / floor_op
    notes = _shard_notes(shards)
    if np.any(table.n_pairs == 0):
        notes.append(f"no pairs at lags {lags[table.n_pairs == 0].tolist()} (longer than every document).")
    options = dict(
        within_documents=bool(within_documents),
        n_shards_requested=shards.requested,
        n_shards=int(g_n),
        shard_note=shards.note,
        seed=int(seed),
        vocab_size=int(stream.vocab_size),
        n_tokens=int(n),
        method="dense LAPACK"
        if dense
        else f"sparse counts, numba products, warm-started Lanczos "
        f"(top Ritz residual <= {LANCZOS_TOL:g} sigma); dense LAPACK at lags whose active vocabulary is small",
        jackknife="exact" if dense else f"max(||C_g V||, ||C_g^T U||), top-{RITZ_K} singular subspaces",
        floor="globally shuffled stream, same pair mode; measured at lags "
        f"{lags[measured].tolist()}, pooled as c / sqrt(P)",
        debiasing="first/second half of shards; op: sign(x)*sqrt(|x|), x = top eigenvalue of "
        "(C_A^T C_B + C_B^T C_A)/2 minus the same on the shuffled stream (noise edge, pooled like the "
        "floor); fro: <C_A, C_B>_F",
        notes=notes,
    )
    if plan is not None:
        options["pair_count_partitions"] = plan.describe()
    return CorrelationCurve(
        lags=lags,
        n_pairs=table.n_pairs,
        op=table.op,
        fro=table.fro,
        floor_op=floor_op,
        floor_fro=floor_fro,
        op_debiased=op_deb,
        fro_debiased=table.fro_deb,
        snr=snr,
        op_stderr=jackknife_stderr(table.op_jk),
        fro_stderr=jackknife_stderr(table.fro_jk),
        op_debiased_stderr=jackknife_stderr(op_deb_jk),
        op_jackknife=table.op_jk,
        fro_jackknife=table.fro_jk,
        options=options,
    )


def _shard_notes(shards: Shards) -> list[str]:
    """What the report says about the shards of the jackknife and the halves."""
    g_n = shards.n_shards
    notes = []
    if shards.note is not None:
        notes.append(f"{shards.note}; pairs by left token.")
    elif g_n < shards.requested:
        notes.append(
            f"{shards.requested} shards requested but the stream has {shards.n_documents} documents; "
            f"using {g_n} shard(s)."
        )
    if g_n < 2:
        notes.append("one shard: no jackknife errors and no split-half debiasing (NaN).")
    return notes


def _floor_statistics(stream, lags, within_documents, shards, dense, seed, bar, bounds=None) -> np.ndarray:
    """(floor_op, floor_fro, null_lam) at ``lags`` on the globally shuffled stream, shape (3, L).

    The shuffled stream is split at the same token as the halves A | B: its split-half eigenvalue
    ``null_lam`` is the noise edge that op debiasing subtracts.
    """
    n, g_n = stream.n_tokens, shards.n_shards
    halves = g_n >= 2
    split = int(shards.bounds[g_n // 2]) if halves else n
    starts = np.array([0, split, n] if halves else [0, n], np.int64)
    shuffled = stream.shuffled(generator(seed, "floor_shuffle"))  # same token counts: the same ranges fit
    counter = PairCounter(shuffled, within_documents, starts, bounds)
    warm = {"vocab_size": stream.vocab_size, "rng": generator(seed, "lanczos_start")}
    out = np.full((3, lags.size), np.nan)
    for i, t in enumerate(lags.tolist()):
        lc = counter.count(t, shard_entries=False)  # no jackknife of the floor
        st = _lag_statistics(lc, dense, jackknife=False, halves=halves, warm=warm)
        out[:, i] = st.op, st.fro, st.op_lam
        bar.update(note=f"floor t={t}")
    return out


@dataclass(frozen=True)
class _LagTable:
    """Per-lag statistics of the stream itself (arrays over the L lags; replicates (G, L))."""

    n_pairs: np.ndarray
    op: np.ndarray
    fro: np.ndarray
    op_lam: np.ndarray
    fro_deb: np.ndarray
    op_jk: np.ndarray
    fro_jk: np.ndarray
    op_lam_jk: np.ndarray


def _lag_table(stream, lags, within_documents, shards, dense, seed, bar, bounds=None) -> _LagTable:
    """Count every lag once (a pair belongs to the shard of its left token) and measure it."""
    g_n, n_l = shards.n_shards, lags.size
    halves = g_n >= 2
    counter = PairCounter(stream, within_documents, shards.bounds, bounds)
    warm = {"vocab_size": stream.vocab_size, "rng": generator(seed, "lanczos_start")}
    n_pairs = np.zeros(n_l, dtype=np.int64)
    per_lag = np.full((4, n_l), np.nan)
    op_jk, fro_jk, op_lam_jk = (np.full((g_n, n_l), np.nan) for _ in range(3))
    for i, t in enumerate(lags.tolist()):
        lc = counter.count(t)
        n_pairs[i] = lc.n_pairs
        st = _lag_statistics(lc, dense, jackknife=halves, halves=halves, warm=warm)
        del lc
        per_lag[:, i] = st.op, st.fro, st.op_lam, st.fro_deb
        op_jk[:, i], fro_jk[:, i], op_lam_jk[:, i] = st.op_jk, st.fro_jk, st.op_lam_jk
        bar.update(note=f"t={t}")
    return _LagTable(n_pairs, *per_lag, op_jk, fro_jk, op_lam_jk)
