"""Conditional-entropy curve H_n = H(x_{n+1} | x_1..x_n) of a token stream, in nats.

Estimators (the documentation's entropy page has the details and the validity rule):

* ``plugin``: block-entropy differences H(n+1) - H(n) from n-gram counts (biased low once n-grams
  are sparse: on iid text it fakes a decay);
* ``corrected``: the same differences of Chao–Wang–Jost (2013) block entropies, with a
  **validity mask** (subsample test + agreement with plug-in) and a document-grouped jackknife;
* ``upper``: held-out cross-entropy of a Kneser–Ney model (:mod:`corpus_stats.entropy.kneser_ney`);
* ``external``: an L_n curve read from a file (:func:`read_entropy_curve`).

All n-gram orders 1..n_max+1 are counted in one pass (:mod:`corpus_stats.entropy.ngrams`), which also
yields the leave-one-shard-out and half-corpus counts, so the jackknife and the subsample test cost
almost nothing extra. The block-entropy formulas are in :mod:`corpus_stats.entropy.estimators`, the
reading of external curves in :mod:`corpus_stats.entropy.external`; this module combines them into the
curve, its validity mask, the upper bound and the size extrapolation.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats._io import array_from_json, dataclass_to_json, json_safe
from corpus_stats.entropy import _kernels_ngrams as _k
from corpus_stats.entropy.external import ExternalCurve, below_counts, read_entropy_curve
from corpus_stats.entropy.extrapolation import (
    DELTA_FALLBACK,
    corrected_size_curve,
    extrapolate_sides,
    fit_finite_size,
    residual_bias,
)
from corpus_stats.entropy.ngrams import ngram_statistics
from corpus_stats.execution import Execution
from corpus_stats.progress import Progress
from corpus_stats.shards import DEFAULT_SHARDS, Shards
from corpus_stats.stream import TokenStream
from scaling import jackknife_stderr

__all__ = ["EntropyCurve", "entropy_curve"]

#: Validity rule (see :func:`entropy_curve`, Notes): the residual bias projected from the size
#: curve must be at most BIAS_Z jackknife standard errors, or, where the size curve determines the
#: bias exponent, at most BIAS_BUDGET nats (it is then carried as a systematic error).
BIAS_Z = 2.0
BIAS_BUDGET = 0.02
#: Largest |corrected - plugin| (nats) for which the correction is trusted.
AGREE_TOL = 0.05
MAX_N = _k.MAX_ROOM - 1
#: Sub-corpus fractions of the size curve (plus the full corpus): the bias projection and the size
#: extrapolation.
SIZE_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2)
#: ``extrapolate=None`` turns the extrapolation on up to this many tokens (it about doubles the
#: Kneser-Ney time).
EXTRAPOLATE_AUTO_MAX = 30_000_000
#: Estimators of the ``corrected`` curve (``entropy_curve(estimator=...)``); the first is the default.
CORRECTED_ESTIMATORS = {
    "chao-wang-jost": "Chao-Wang-Jost 2013 block-entropy differences",
    "nsb": "per-context NSB (Nemenman-Shafee-Bialek 2002) over the token types seen",
}


# -- the curve ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EntropyCurve:
    """Conditional entropy H_n for n = 0..n_max (nats), its bracket and validity.

    Attributes
    ----------
    n : numpy.ndarray
        Context lengths 0..n_max (int64).
    plugin : numpy.ndarray
        Plug-in block-entropy differences H(n+1) - H(n) (biased low when undersampled).
    corrected : numpy.ndarray
        Chao–Wang–Jost block-entropy differences (or per-context NSB: ``options["corrected_estimator"]``).
    upper : numpy.ndarray
        Held-out Kneser–Ney cross-entropy (an upper bound); all NaN when not computed.
    stderr : numpy.ndarray
        Document-grouped jackknife standard error of ``corrected`` (sampling error only).
    valid : numpy.ndarray
        Boolean mask of the n where ``corrected`` passed the validity rule (a prefix of n).
    systematic : numpy.ndarray or None
        Systematic error of ``corrected``: the residual finite-size bias projected from the size curve
        plus that projection's uncertainty (nats; ``corrected`` is biased low by up to about this).
        ``total_error`` combines it with ``stderr``. None in reports written before it existed.
    corrected_jackknife : numpy.ndarray
        (G, n_max + 1) leave-one-shard-out values of ``corrected`` (shards ``stream.shards``).
    external, external_stderr : numpy.ndarray or None
        A user-supplied L_n curve aligned with ``n`` (NaN where absent), or None.
    extrapolated, extrapolated_stderr : numpy.ndarray or None
        H_n(N -> infinity) from the corpus-size extrapolation and its standard error, or None when
        not computed (see :func:`entropy_curve`, Notes).
    extrapolated_valid : numpy.ndarray or None
        Boolean mask of the n where ``extrapolated`` passed its rule (a prefix of n).
    options : dict
        Options, validity tolerances, per-n diagnostics and notes (JSON-safe).
    """

    n: np.ndarray
    plugin: np.ndarray
    corrected: np.ndarray
    upper: np.ndarray
    stderr: np.ndarray
    valid: np.ndarray
    corrected_jackknife: np.ndarray
    external: np.ndarray | None = None
    external_stderr: np.ndarray | None = None
    options: dict = field(default_factory=dict)
    extrapolated: np.ndarray | None = None
    extrapolated_stderr: np.ndarray | None = None
    extrapolated_valid: np.ndarray | None = None
    systematic: np.ndarray | None = None

    @property
    def total_error(self) -> np.ndarray:
        """sqrt(stderr² + systematic²) per n: the error of ``corrected`` to fit and plot with.

        Equals ``stderr`` where no systematic error is known (older reports).
        """
        se = np.asarray(self.stderr, dtype=np.float64)
        if self.systematic is None:
            return se
        return np.hypot(se, np.nan_to_num(np.asarray(self.systematic, dtype=np.float64), nan=np.inf))

    def to_dict(self) -> dict:
        """JSON-safe dict (lists; NaN -> None)."""
        return dataclass_to_json(self)

    @classmethod
    def from_dict(cls, d: dict) -> EntropyCurve:
        """Inverse of :meth:`to_dict`."""
        jk = array_from_json(d["corrected_jackknife"])
        n = np.asarray(d["n"], dtype=np.int64)
        return cls(
            n=n,
            **{k: array_from_json(d[k]) for k in ("plugin", "corrected", "upper", "stderr")},
            valid=np.asarray(d["valid"], dtype=bool),
            corrected_jackknife=jk.reshape(-1, n.size) if jk is not None else np.zeros((0, n.size)),
            external=array_from_json(d.get("external")),
            external_stderr=array_from_json(d.get("external_stderr")),
            options=dict(d.get("options", {})),
            extrapolated=array_from_json(d.get("extrapolated")),
            extrapolated_stderr=array_from_json(d.get("extrapolated_stderr")),
            extrapolated_valid=array_from_json(d.get("extrapolated_valid"), bool),
            systematic=array_from_json(d.get("systematic")),
        )

    @property
    def valid_range(self) -> tuple[int, int] | None:
        """(first, last) valid n, or None when no n is valid."""
        idx = np.flatnonzero(self.valid)
        return None if idx.size == 0 else (int(self.n[idx[0]]), int(self.n[idx[-1]]))

    @property
    def extrapolated_range(self) -> tuple[int, int] | None:
        """(first, last) n where ``extrapolated`` is valid, or None."""
        idx = np.flatnonzero(self.extrapolated_valid) if self.extrapolated_valid is not None else []
        return None if len(idx) == 0 else (int(self.n[idx[0]]), int(self.n[idx[-1]]))


def check_n_max(n_max, n_tokens: int, upper: bool = True) -> int:
    """The rule for the largest context length of H_n on ``n_tokens`` tokens: an integer in
    1..MAX_N (1..the Kneser-Ney bound's own limit when ``upper``), smaller than ``n_tokens``."""
    high = MAX_N
    if upper:
        from corpus_stats.entropy.kneser_ney import MAX_N as KN_MAX_N

        high = min(high, KN_MAX_N)
    n_max = check_int("n_max", n_max, 1, high)
    if n_tokens <= n_max:
        raise ValueError(f"n_max must be smaller than the number of tokens ({n_tokens:,}); got {n_max}.")
    return int(n_max)


def _upper_bound(stream, n_max, options, sizes, memory_limit=None, **kw):
    """Kneser–Ney bound: (running-min upper, size curve or None, notes); NaN when unavailable.

    Under a memory limit the models train on a random subset of the training documents that fits
    (``kneser_ney.train_token_cap``): still an upper bound, a looser one (see docs/scale.md)."""
    from corpus_stats.entropy import kneser_ney as kn
    from corpus_stats.entropy.kneser_ney_sizes import kneser_ney_size_curve

    if memory_limit is not None:
        kw["max_train_tokens"] = kn.train_token_cap(stream, memory_limit, kw.get("heldout_tokens", 1_000_000))
    curve = None
    if sizes:
        curve = kneser_ney_size_curve(stream, n_max, tuple(sizes) + (1.0,), **kw)
        res = curve.full
    else:
        res = kn.kneser_ney_upper_bound(stream, n_max, **kw)
    raw = np.full(n_max + 1, np.nan)
    ce = np.asarray(res.cross_entropy, dtype=np.float64)[: n_max + 1]
    raw[: ce.size] = ce
    options["upper_n_train_tokens"] = int(res.n_train_tokens)
    options["upper_n_heldout_tokens"] = int(res.n_heldout_tokens)
    options["upper_raw"] = json_safe(raw)
    if res.stderr is not None:
        options["upper_stderr"] = json_safe(np.asarray(res.stderr, dtype=np.float64)[: n_max + 1])
    # H_n <= H_m <= CE_m for every m <= n: the running minimum is a valid and tighter bound
    return np.fmin.accumulate(raw), curve, [str(x) for x in res.notes]


def _larger_bias(p) -> float:
    """Sort key of a projected bias: its systematic error, an unknown (NaN) one counting as the largest."""
    return np.inf if np.isnan(p.systematic) else p.systematic


def entropy_curve(
    stream: TokenStream,
    n_max: int = 32,
    *,
    within_documents: bool = False,
    n_shards: int | Shards = DEFAULT_SHARDS,
    upper: bool = True,
    heldout_fraction: float = 0.1,
    heldout_tokens: int = 1_000_000,
    seed: int = 0,
    external: ExternalCurve | str | os.PathLike | None = None,
    extrapolate: bool | None = None,
    progress: bool = False,
    execution: Execution | None = None,
    estimator: str = "chao-wang-jost",
) -> EntropyCurve:
    """Measure the conditional entropy H_n, n = 0..n_max, with a bracket and a validity mask.

    Parameters
    ----------
    stream : TokenStream
        The corpus (at least n_max + 1 tokens).
    n_max : int, default 32
        Largest context length, 1..254.
    within_documents : bool, default False
        Count only n-grams inside one document; by default n-grams run across documents like the
        paper's concatenated stream.
    n_shards : int or Shards, default DEFAULT_SHARDS
        Jackknife shards: their number, or ``stream.shards(...)`` built once and shared with the
        correlation curve (the joint jackknife of alpha_D pairs their replicates).
    upper : bool, default True
        Also compute the held-out Kneser–Ney upper bound (:mod:`corpus_stats.entropy.kneser_ney`).
    heldout_fraction, heldout_tokens : float, int
        Held-out split for the upper bound (fraction of documents; positions evaluated at most).
    seed : int, default 0
        Seeds the held-out split and the choice of the half corpus in the subsample test.
    external : ExternalCurve, path or None
        An L_n curve (e.g. a trained model's per-position loss, nats) to carry alongside.
    extrapolate : bool or None, default None
        Extrapolate H_n to infinite corpus size (fills ``extrapolated*``). None: on when the stream
        has at most 30 million tokens (it about doubles the Kneser–Ney time).
    progress : bool, default False
        Progress bar on stderr.
    execution : corpus_stats.execution.Execution, optional
        Memory limit and executor (see docs/scale.md): n-grams are counted in first-token partitions
        that fit the limit, wherever the executor runs them (identical results), and the Kneser–Ney
        models train on at most as many tokens as fit. Default: no limit, in this process.
    estimator : {"chao-wang-jost", "nsb"}, default "chao-wang-jost"
        Estimator of ``corrected``: Chao–Wang–Jost block-entropy differences, or the count-weighted
        mean over contexts of each context's NSB entropy (:mod:`corpus_stats.entropy.nsb`; counted
        in this process, without ``execution``'s partitions). The jackknife and validity rule are the
        same for both; NSB's residual bias is projected both ways (the larger of a rising and a
        falling size-curve fit), since it is biased high where most contexts were seen once.

    Returns
    -------
    EntropyCurve

    Raises
    ------
    ValueError
        n_max outside 1..254 (1..128 with ``upper``) or not smaller than the number of tokens; malformed
        external file.

    Notes
    -----
    Block entropies H(n) of the n-gram distribution are estimated with the Chao–Wang–Jost estimator
    (A. Chao, Y. T. Wang, L. Jost, "Entropy and the species accumulation curve", Methods Ecol. Evol. 4,
    1091 (2013)): the unbiased-in-expectation sum sum_c (c/P)(psi(P) - psi(c)) for the observed
    n-grams plus a term for the unseen ones from the singleton/doubleton counts f1, f2 (a Good–Turing
    coverage estimate). It was chosen over Grassberger (2003) because n-gram counts are heavy-tailed
    with most mass in rare n-grams, exactly where the unseen-mass term matters. H_n is then the
    difference H(n+1) - H'(n), where H'(n) is the entropy of the n-token prefixes of the same
    (n+1)-gram occurrences (it differs from H(n) only at document or stream ends), so that within
    documents the plug-in value is exactly the conditional entropy of one sample and never negative.
    No estimator is reliable once almost every n-gram is a singleton, so:

    **Residual bias and validity.** The corrected curve is also computed on disjoint sub-corpora of
    about N/16, N/8, N/4 and N/2 (consecutive runs of one random permutation of the jackknife
    shards, averaged at each size; error = max(spread / sqrt(blocks), full-corpus stderr)). For each
    n this size curve is fitted with ``H_n(N) = H_n(inf) - B N^-delta`` (B >= 0, delta free in
    0.1..2; :func:`corpus_stats.entropy.extrapolation.fit_finite_size`), and the residual bias at the
    full size is projected as ``H_n(inf) - Ĥ_n`` (:func:`corpus_stats.entropy.extrapolation.residual_bias`).
    The halving shift alone would understate it by ``1/(2^delta - 1)``, 3-4 times for the delta of
    0.3-0.4 seen on heavy-tailed sources. ``systematic`` is that projected bias plus the projection's
    uncertainty; report and fit with ``total_error = sqrt(stderr² + systematic²)``. n is valid iff
    (i) the corrected value is finite; (ii) the projected bias is at most ``2 stderr_n`` (the point
    is dominated by sampling noise), or at most 0.02 nats where the size curve determines the bias
    exponent (delta above the slow end of its grid; the bias is then a measured, bounded systematic
    error carried in ``systematic``); (iii) the estimators agree:
    ``|Ĥ_n - plugin_n| <= 0.05 nats`` (the bias correction is small); and (iv) every smaller n is
    valid (undersampling only gets worse with n). Standard errors are a grouped jackknife over the
    shards, n-grams assigned to the shard where they start. Per-n projections are in
    ``options["bias"]``.

    ``upper`` is the running minimum ``min_{m<=n} CE_m`` of the Kneser–Ney cross-entropies (still an
    upper bound since H_n <= H_m for m <= n, and tighter); the raw values are in
    ``options["upper_raw"]``.

    **Size extrapolation** (``extrapolate``). The Kneser–Ney cross-entropies are recomputed with
    models trained on nested 1/16 .. 1/2 of the training documents, scored on the same held-out text,
    and fitted per n with ``CE_n(N) = H_n(inf) + B N^-delta``, like the corrected side above. The
    upper side uses the raw per-n cross-entropy (not the running minimum, whose value at n is the
    bound of a smaller context and whose size limit is a limit of that H_m), and only for the leading
    n where the full-size cross-entropy still falls with n. **Rule:** n is ``extrapolated_valid``
    iff it is ``valid``, or the two limits agree, ``|H_lo - H_up| <= 2 sqrt(se_lo² + se_up²)``,
    with a combined standard error
    ``max(1/sqrt(w_lo + w_up), |H_lo - H_up|/2) <= 0.05`` nats -- and every smaller n is valid too.
    ``extrapolated`` is the inverse-variance mean of the two limits where they agree, else the
    corrected side's limit. Without the upper bound nothing checks the extrapolation, so
    ``extrapolated_valid`` equals ``valid``. Per-size values and per-n fits are in
    ``options["extrapolation"]``. This rests on a model of the finite-size bias (a power law in N);
    use it when no model L_n curve is available, and say so.

    Examples
    --------
    >>> import numpy as np
    >>> from corpus_stats.stream import TokenStream
    >>> rng = np.random.default_rng(0)
    >>> s = TokenStream.from_array(rng.integers(0, 4, 20_000), vocab_size=4,
    ...                            doc_offsets=np.arange(0, 20_001, 1_000))
    >>> curve = entropy_curve(s, n_max=3, upper=False)
    >>> bool(abs(curve.corrected[0] - np.log(4)) < 0.01), bool(curve.valid[:3].all())
    (True, True)
    """
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream; got {type(stream).__name__}.")
    n_max = check_n_max(n_max, stream.n_tokens, upper)
    n_shards = stream.shards(n_shards)
    if estimator not in CORRECTED_ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(CORRECTED_ESTIMATORS)}; got {estimator!r}.")
    if external is not None and not isinstance(external, ExternalCurve):
        external = read_entropy_curve(external)
    options = {
        "n_max": n_max,
        "within_documents": bool(within_documents),
        "seed": int(seed),
        "estimators": {
            "plugin": "block-entropy differences",
            "corrected": CORRECTED_ESTIMATORS[estimator],
            "upper": "held-out interpolated modified Kneser-Ney",
        },
        "validity": {
            "bias_z": BIAS_Z,
            "bias_budget": BIAS_BUDGET,
            "agree_tol": AGREE_TOL,
            "delta_fallback": DELTA_FALLBACK,
            "rule": "finite, projected residual bias <= bias_z * stderr (or <= bias_budget nats where the size "
            "curve determines the bias exponent), |corrected-plugin| <= agree_tol, prefix",
        },
        "n_tokens": stream.n_tokens,
        "corrected_estimator": estimator,
    }
    if extrapolate is None:
        extrapolate = stream.n_tokens <= EXTRAPOLATE_AUTO_MAX
    sizes = SIZE_FRACTIONS if extrapolate else ()
    with Progress("entropy (n-gram counts)", total=2, enabled=progress) as bar:
        # the size curve is always counted: the bias projection behind the validity mask needs it
        stats = ngram_statistics(
            stream,
            n_max + 1,
            within_documents=within_documents,
            n_shards=n_shards,
            seed=seed,
            size_fractions=SIZE_FRACTIONS,
            execution=execution,
        )
        bar.update(note="n-grams counted")
        with np.errstate(invalid="ignore"):  # H_n = H(n+1) - H(n-prefixes of those (n+1)-grams)
            plug = stats.plugin_block_entropy()[:, 1:] - stats.prefix.plugin_block_entropy()[:, :-1]
            corr = stats.cwj_block_entropy()[:, 1:] - stats.prefix.cwj_block_entropy()[:, :-1]
        if estimator == "nsb":
            from corpus_stats.entropy.nsb import context_entropy

            corr = context_entropy(
                stream,
                n_max,
                within_documents=within_documents,
                n_shards=n_shards,
                seed=seed,
                size_fractions=SIZE_FRACTIONS,
            ).values
        G = stats.n_shards
        jk = corr[1 : G + 1]
        se = jackknife_stderr(jk)
        shift = 0.5 * (corr[G + 1] + corr[G + 2]) - corr[0]
        lower_curve = corrected_size_curve(stats, corr, se)
        lower_fits = [
            fit_finite_size(lower_curve[0], lower_curve[1][:, n], lower_curve[2][:, n], +1) for n in range(n_max + 1)
        ]
        projected = [residual_bias(lower_fits[n], corr[0, n], se[n], shift[n]) for n in range(n_max + 1)]
        if estimator == "nsb":  # biased low or high (a context seen once gets the prior's mean): both ways
            n_tok, y, e = lower_curve
            falling = [fit_finite_size(n_tok, -y[:, n], e[:, n], +1) for n in range(n_max + 1)]
            projected = [
                max(rising, residual_bias(falling[n], -corr[0, n], se[n], shift[n]), key=_larger_bias)
                for n, rising in enumerate(projected)
            ]
        bias = np.array([p.bias for p in projected])
        systematic = np.array([p.systematic for p in projected])
        determined = np.array([p.determined for p in projected])
        with np.errstate(invalid="ignore"):
            budget = np.where(determined, np.fmax(BIAS_Z * se, BIAS_BUDGET), BIAS_Z * se)
            ok = np.isfinite(corr[0]) & (bias <= budget) & (np.abs(corr[0] - plug[0]) <= AGREE_TOL)
        valid = np.logical_and.accumulate(ok)
        bar.update(note="estimators")
    notes = [] if stats.shard_note == "documents" else [stats.shard_note]
    kn_curve = None
    if upper:  # the Kneser-Ney module draws its own progress bar
        upper_arr, kn_curve, kn_notes = _upper_bound(
            stream,
            n_max,
            options,
            sizes,
            heldout_fraction=heldout_fraction,
            heldout_tokens=heldout_tokens,
            within_documents=within_documents,
            seed=seed,
            progress=progress,
            memory_limit=None if execution is None else execution.memory_limit,
        )
        notes += kn_notes
    else:
        upper_arr = np.full(n_max + 1, np.nan)
    ex = ex_se = ex_valid = None
    if extrapolate:
        sides = extrapolate_sides(lower_fits, lower_curve, valid, kn_curve, n_max)
        ex, ex_se, ex_valid, options["extrapolation"] = sides
    ext = ext_se = None
    if external is not None:
        ext, ext_se = np.full(n_max + 1, np.nan), np.full(n_max + 1, np.nan)
        keep = external.n <= n_max
        ext[external.n[keep]], ext_se[external.n[keep]] = external.loss[keep], external.stderr[keep]
        options["external_source"] = external.source
        options["external_points_beyond_n_max"] = int((~keep).sum())
        options["external_below_counts"] = below_counts(ext, ext_se, [(corr[0], se, valid), (ex, ex_se, ex_valid)])
    options.update(
        n_shards=G,
        notes=notes,
        partitions=stats.partitions,
        subsample_shift=json_safe(shift),
        bias={
            "projected": json_safe(bias),
            "stderr": json_safe(np.array([p.stderr for p in projected])),
            "method": [p.method for p in projected],
            "exponent_determined": determined.tolist(),
            "sizes": lower_curve[0].tolist(),
        },
        ngrams={
            "order": list(range(n_max + 2)),
            "positions": stats.positions[0].tolist(),
            "distinct": stats.distinct[0].tolist(),
            "singletons": stats.f1[0].tolist(),
            "doubletons": stats.f2[0].tolist(),
        },
    )
    return EntropyCurve(
        n=np.arange(n_max + 1, dtype=np.int64),
        plugin=plug[0],
        corrected=corr[0],
        upper=upper_arr,
        stderr=se,
        valid=valid,
        corrected_jackknife=jk,
        external=ext,
        external_stderr=ext_se,
        options=options,
        extrapolated=ex,
        extrapolated_stderr=ex_se,
        extrapolated_valid=ex_valid,
        systematic=systematic,
    )
