"""Calibration: do the error bars of H_n, gamma, beta and alpha_D cover exact ground truth?

Runs the estimators on synthetic corpora whose answers are known exactly
(:mod:`corpus_stats.synthetic`) and prints coverage tables (issue 12, "measured, not asserted")::

    python benchmarks/bench_calibration.py                    # reduced grid (sizes <= 2e6, 3 seeds)
    python benchmarks/bench_calibration.py --full             # 3e5 .. 1e7 tokens, 5 seeds (hours)
    python benchmarks/bench_calibration.py --sizes 3e5 --seeds 1 2 --b 0.3 0.6 --json out.json
    python benchmarks/bench_calibration.py --estimator chao-wang-jost nsb --markov-orders 2 --no-iid \
        --no-correlations --sizes 3e5 1e6 --seeds 1 2 --b 0.3 0.5 0.7   # estimators' reach (item 3)

Ground truths and what is checked:

* **H_n points** (Santa Fe b = 0.3..0.7 within documents, Markov chains of order 1-3, iid Zipf): at
  every n marked ``valid``, is the exact H_n inside ``corrected ± 2 total_error`` (target >= 90%),
  and is ``|corrected - exact| / total_error`` never above 4?
* **gamma** (Santa Fe, gamma = 1 - b asymptotically): ``scaling.predict``'s 90% interval
  (gamma ± 1.645 total s.e.) against the gamma fitted on the *exact* H_n over the same window with
  the same model (target 85-95%), for the total error and for its estimation part (sampling and
  projected bias, without the window spread, which this target does not test); per source the cases
  fitted, refused and uninformative (infinite error), coverage and median |z| (0.67 for an honest
  1-s.e. error; smaller means too wide), and the median error budget beside the exact curve's own
  spread over the same windows. Flat curves (iid; Markov beyond its order) must be refused.
* **beta** (copy process, exact ||C(t)||_op): ``scaling.predict``'s rule on each C(t) alone; the 90%
  interval against the paper-mode fit of the exact norms over the same lags.
* **alpha_D**: no single generator has both a power-law C(t) and an exact power-law H_n (Santa Fe's
  C(t) is constant), so each Santa Fe H_n curve is paired with a copy-process C(t) of the same seed
  and size, and ``scaling.predict``'s 90% alpha_D interval is compared with gamma_exact / (2
  beta_exact) over the predicted windows. The two corpora are independent, so their jackknife
  replicates pair without covariance.
* **debiased ||C||_op** (copy process): coverage of ``op_debiased ± 2 op_debiased_stderr`` of the exact norm by
  signal/noise bin.

The Kneser-Ney bound is not computed (``upper=False``): on the shared 2-core machine it costs minutes
per corpus at 1e6 tokens, so ``extrapolated_valid`` equals ``valid`` here and is not scored separately.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from types import SimpleNamespace

import numpy as np

from corpus_stats.entropy.curve import CORRECTED_ESTIMATORS

REDUCED = {"sizes": (3e5, 1e6, 2e6), "seeds": (1, 2, 3)}
FULL = {"sizes": (3e5, 1e6, 3e6, 1e7), "seeds": (1, 2, 3, 4, 5)}
B_VALUES = (0.3, 0.4, 0.5, 0.6, 0.7)
N_MAX = 12
Z90 = 1.6448536269514722


def _entropy_points(curve, exact) -> dict:
    """Coverage numbers at the valid n (n >= 0) of one curve."""
    v = np.asarray(curve.valid, bool)
    err = np.asarray(curve.total_error)
    z = np.abs(np.asarray(curve.corrected) - exact)[v] / err[v]
    z_se = np.abs(np.asarray(curve.corrected) - exact)[v] / np.asarray(curve.stderr)[v]
    return {
        "n_valid": int(v.sum()),
        "last_valid": int(np.flatnonzero(v)[-1]) if v.any() else -1,
        "covered": int(np.sum(z <= 2)),
        "max_z": float(z.max()) if z.size else math.nan,
        # the range of n where |bias| <= 2 jackknife s.e. (an estimator's reach, issue item 3)
        "reach_2se": int(np.argmax(z_se > 2)) if np.any(z_se > 2) else int(v.sum()),
        # the same over every n, valid or not: how many leading n have |bias| <= 2 s.e.
        "reach_all": _leading(np.abs(np.asarray(curve.corrected) - exact) <= 2 * np.asarray(curve.stderr)),
    }


def _leading(ok) -> int:
    """Number of leading True values."""
    ok = np.asarray(ok, bool)
    return int(np.argmin(ok)) if not ok.all() else int(ok.size)


def _corr_case(size: float, seed: int):
    from corpus_stats import synthetic
    from corpus_stats.correlations.curve import correlation_curve

    made = synthetic.make("copy_process", int(size), seed=seed, vocab_size=200, rho=0.5, a=0.5, n_documents=100)
    curve = correlation_curve(made.stream, synthetic.PAPER_LAGS)
    exact = made.exact_correlation(curve.lags)["op"]
    return curve, exact


def _gamma(ent):
    """gamma by scaling.predict's own rule (curve choice, window, weights, error budget); raises ValueError."""
    from scaling.gamma import fit_gamma

    return fit_gamma(ent, 5, 0.6, 0.9, [], [])


def _beta(corr):
    """beta by scaling.predict's own rule (signal/noise threshold, window, error budget); raises ValueError."""
    from scaling.beta import SNR_THRESHOLD, fit_beta

    return fit_beta(corr, SNR_THRESHOLD, 5, 0.6, 0.9, [], [])


def _budget(prefix: str, fit) -> dict:
    """The exponent and its error budget as record fields (``<prefix>_se`` is the total error)."""
    b = fit.budget
    return {
        prefix: fit.selection.fit.exponent,
        f"{prefix}_se": b.total,
        # the estimation part: sampling and curve systematic, without the window-choice spread
        f"{prefix}_se_estimation": b.scale * math.hypot(b.statistical, b.curve_systematic),
        f"{prefix}_parts": {
            "statistical": b.statistical,
            "curve_systematic": b.curve_systematic,
            "window": b.window,
            "scale": b.scale,
            "method": b.statistical_method,
        },
        f"{prefix}_window": list(fit.selection.window),
    }


def _weights(curve, which):
    """The per-n errors scaling.predict weights the gamma fit with."""
    return np.asarray(curve.total_error if which == "corrected" else curve.extrapolated_stderr, float)


def _exact_fit(x, y, window, usable, method, sigma=None):
    """The same model fitted on the exact curve over the same points, with the same weights."""
    from scaling.fits import fit_power_law

    w = (x >= window[0]) & (x <= window[1]) & usable
    kw = {"interval": "ols"} if method == "paper" else {}
    sig = None if sigma is None or not np.all(np.isfinite(sigma[w]) & (sigma[w] > 0)) else sigma[w]
    return fit_power_law(x[w], y[w], method=method, sigma=sig, **kw).exponent


def run(
    sizes,
    seeds,
    b_values,
    markov_orders=(1, 2, 3),
    iid=True,
    correlations=True,
    log=print,
    estimators=("chao-wang-jost",),
) -> dict:
    """Run the grid (each H_n case once per ``corrected`` estimator); returns the per-case records (JSON-safe)."""
    from corpus_stats import synthetic
    from corpus_stats.entropy.curve import entropy_curve
    from scaling import predict

    records = {"entropy": [], "beta": [], "debiased": []}
    corr_cache = {}
    for size in sizes if correlations else ():
        for seed in seeds:
            t0 = time.perf_counter()
            corr, exact_op = _corr_case(size, seed)
            corr_cache[(size, seed)] = (corr, exact_op)
            rec = {"size": size, "seed": seed}
            try:
                b = _beta(corr)
            except ValueError as exc:
                rec["refused"] = str(exc)
            else:
                lags = np.asarray(corr.lags, float)
                rec.update(_budget("beta", b))
                rec["beta_exact"] = _exact_fit(lags, exact_op, b.selection.window, b.valid, "paper")
            records["beta"].append(rec)
            snr = np.asarray(corr.snr)
            z = (np.asarray(corr.op_debiased) - exact_op) / np.asarray(corr.op_debiased_stderr)
            for s, zz in zip(snr.tolist(), z.tolist()):
                records["debiased"].append({"size": size, "seed": seed, "snr": s, "z": zz})
            log(f"copy C(t) size={size:.0e} seed={seed}: {time.perf_counter() - t0:.1f} s")
    cases = [("santa_fe", {"b": b, "n_keys": 10_000, "doc_length": 10_000}, True) for b in b_values]
    cases += [("markov_chain", {"order": k, "vocab_size": 16, "n_successors": 3}, False) for k in markov_orders]
    if iid:
        cases.append(("iid_zipf", {"vocab_size": 5000}, False))
    for kind, params, within, size, seed, estimator in (
        (*case, size, seed, est) for case in cases for size in sizes for seed in seeds for est in estimators
    ):
        t0 = time.perf_counter()
        made = synthetic.make(kind, int(size), seed=seed, **params)
        curve = entropy_curve(made.stream, N_MAX, within_documents=within, upper=False, seed=seed, estimator=estimator)
        exact = made.exact_entropy(N_MAX)
        n = np.asarray(curve.n, float)
        rec = {"kind": kind, "params": params, "size": size, "seed": seed, "estimator": estimator}
        rec.update(_entropy_points(curve, exact), seconds=round(time.perf_counter() - t0, 1))
        rec["refused"] = ""
        try:
            g = _gamma(curve)
        except ValueError as exc:
            rec["refused"] = str(exc)
        else:
            sel, which, usable, w = g.selection, g.curve, g.valid, _weights(curve, g.curve)
            rec.update(_budget("gamma", g), gamma_curve=which)
            rec["gamma_exact"] = _exact_fit(n, exact, sel.window, usable, "offset", w)
            # the exact curve's own fits over every acceptable window: how much gamma depends on the window
            ex_w = [_exact_fit(n, exact, win, usable, "offset", w) for win in sel.candidate_windows]
            rec["gamma_exact_window_spread"] = 0.5 * (max(ex_w) - min(ex_w)) if ex_w else 0.0
        if (size, seed) in corr_cache and "gamma" in rec:
            corr, exact_op = corr_cache[(size, seed)]
            try:
                pred = predict(SimpleNamespace(correlations=corr, entropy=curve), tokens=[1e6])
            except ValueError as exc:
                rec["alpha_refused"] = str(exc)
            else:
                lags = np.asarray(corr.lags, float)
                use_b = np.asarray(corr.snr) >= pred.options["snr_threshold"]
                b_ex = _exact_fit(lags, exact_op, pred.beta.window, use_b, "paper")
                rec.update(
                    alpha=pred.alpha_D.value,
                    alpha_se=pred.alpha_D.stderr,
                    alpha_interval=list(pred.alpha_D.interval),
                    alpha_exact=_exact_fit(n, exact, pred.gamma.window, usable, "offset", _weights(curve, which))
                    / (2 * b_ex),
                )
        records["entropy"].append(rec)
        msg = (
            f", gamma {rec['gamma']:.3f} ± {rec['gamma_se']:.3f} (exact fit {rec['gamma_exact']:.3f})"
            if "gamma" in rec
            else f", no gamma: {rec['refused'][:60]}"
        )
        log(
            f"{kind} {params} size={size:.0e} seed={seed} {estimator}: valid n <= {rec['last_valid']}, "
            f"reach {rec['reach_all']}, covered {rec['covered']}/{rec['n_valid']}, max z {rec['max_z']:.2f}{msg}"
            f" [{time.perf_counter() - t0:.1f} s]"
        )
    return records


def _interval_row(label, err_label, recs, key, se_key, exact_key, refused_key="refused") -> str:
    """One row of the exponents table: fitted / refused / uninformative, coverage and median |z|."""
    fitted = [r for r in recs if key in r]
    refused = sum(1 for r in recs if r.get(refused_key))
    inf = [r for r in fitted if not math.isfinite(r[se_key])]
    z = np.array([abs(r[key] - r[exact_key]) / r[se_key] for r in fitted if math.isfinite(r[se_key])])
    cov = int(np.sum(z <= Z90))
    med = f"{np.median(z):.2f}" if z.size else "-"
    return (
        f"{label:<34}{err_label:<12}{len(recs):>6}{len(fitted):>7}{refused:>8}{len(inf):>7}"
        f"{_frac(cov, z.size):>18}{med:>11}"
    )


def _frac(k, n) -> str:
    return f"{k}/{n} = {k / n:.2f}" if n else "-"


def tables(records) -> str:
    """The coverage tables as text."""
    out = [
        "H_n at valid n: exact within corrected ± 2 total error; reach: mean number of leading n (of all "
        f"0..{N_MAX}) with |corrected - exact| <= 2 jackknife s.e.",
        "",
    ]
    out.append(
        f"{'source':<22}{'estimator':>16}{'size':>8}{'cases':>7}{'valid pts':>11}{'covered':>18}{'max |z|':>9}"
        f"{'mean last n':>13}{'reach':>7}"
    )
    ent = records["entropy"]

    def case_key(r):
        return (r["kind"], json.dumps(r["params"], sort_keys=True), r.get("estimator", "chao-wang-jost"), r["size"])

    keys = sorted({case_key(r) for r in ent})
    tot_k = tot_n = 0
    worst = 0.0
    for kind, p, est, size in keys:
        rs = [r for r in ent if case_key(r) == (kind, p, est, size)]
        k, n = sum(r["covered"] for r in rs), sum(r["n_valid"] for r in rs)
        mz = max((r["max_z"] for r in rs if r["n_valid"]), default=math.nan)
        worst = max(worst, mz) if math.isfinite(mz) else worst
        tot_k, tot_n = tot_k + k, tot_n + n
        label = kind + " " + ",".join(f"{a}={b}" for a, b in json.loads(p).items() if a in ("b", "order"))
        reach = np.mean([r["reach_all"] for r in rs]) if all("reach_all" in r for r in rs) else math.nan
        out.append(
            f"{label:<22}{est:>16}{size:>8.0e}{len(rs):>7}{n:>11}{_frac(k, n):>18}{mz:>9.2f}"
            f"{np.mean([r['last_valid'] for r in rs]):>13.1f}{reach:>7.1f}"
        )
    out.append(f"{'all':<22}{'':>16}{'':>8}{len(ent):>7}{tot_n:>11}{_frac(tot_k, tot_n):>18}{worst:>9.2f}")
    out += [
        "",
        "Exponents: the 90% interval (value ± 1.645 x error) against the same fit on the exact curve (same "
        "window, same weights). uninformative: infinite error; coverage and median |z| over the informative; "
        "|z| of an honest 1-s.e. error has median 0.67 (wider intervals: smaller)",
        f"{'quantity':<34}{'error':<12}{'cases':>6}{'fitted':>7}{'refused':>8}{'uninf.':>7}{'covered':>18}"
        f"{'median |z|':>11}",
    ]
    groups = [(f"gamma {kind}", [r for r in ent if r["kind"] == kind]) for kind in sorted({r["kind"] for r in ent})]
    for label, rs in groups:
        for err, key in (("total", "gamma_se"), ("estimation", "gamma_se_estimation")):
            out.append(_interval_row(label, err, rs, "gamma", key, "gamma_exact", "refused"))
    out.append(_interval_row("beta copy process", "total", records.get("beta", []), "beta", "beta_se", "beta_exact"))
    sf = [r for r in ent if r["kind"] == "santa_fe" and ("alpha" in r or "alpha_refused" in r)]
    out.append(
        _interval_row(
            "alpha_D Santa Fe H_n + copy C(t)", "total", sf, "alpha", "alpha_se", "alpha_exact", "alpha_refused"
        )
    )
    fitted = [r for r in ent if "gamma" in r and "gamma_parts" in r]
    if fitted:
        out += [
            "",
            "gamma's error budget (medians over fitted cases; total = scale x (statistical (+) projected "
            "bias) (+) window):",
        ]
        for kind in sorted({r["kind"] for r in fitted}):
            rs = [r for r in fitted if r["kind"] == kind]
            med = {
                k: float(np.median([r["gamma_parts"][k] for r in rs]))
                for k in ("statistical", "curve_systematic", "window", "scale")
            }
            err = float(np.median([abs(r["gamma"] - r["gamma_exact"]) for r in rs]))
            ex_w = float(np.median([r.get("gamma_exact_window_spread", math.nan) for r in rs]))
            out.append(
                f"  {kind:<13} statistical {med['statistical']:.3g}, projected bias {med['curve_systematic']:.3g}, "
                f"window {med['window']:.3g} (the exact curve's own spread over the same windows {ex_w:.3g}), "
                f"scale {med['scale']:.3g}; |gamma - exact fit| {err:.3g}"
            )
    out += ["", "debiased ||C||_op (copy process): exact within op_debiased ± 2 op_debiased_stderr, by signal/noise"]
    deb = records["debiased"]
    for lo, hi in ((1, 3), (3, 5), (5, 20), (20, math.inf)):
        zs = np.array(
            [d["z"] for d in deb if lo <= (d["snr"] or 0) < hi and d["z"] is not None and math.isfinite(d["z"])]
        )
        if zs.size:
            out.append(
                f"  snr {lo:>3}-{hi:<4}: covered {_frac(int(np.sum(np.abs(zs) <= 2)), zs.size)}, sd(z) {zs.std():.2f}"
            )
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="the full grid: 3e5..1e7 tokens, 5 seeds")
    ap.add_argument("--sizes", type=float, nargs="+", default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=None)
    ap.add_argument("--b", type=float, nargs="+", default=list(B_VALUES))
    ap.add_argument("--no-correlations", action="store_true", help="skip C(t): no beta, alpha_D, debiased rows")
    ap.add_argument("--santa-fe-only", action="store_true", help="skip the Markov and iid sources")
    ap.add_argument("--markov-orders", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--no-iid", action="store_true", help="skip the iid Zipf source")
    ap.add_argument(
        "--estimator",
        nargs="+",
        default=["chao-wang-jost"],
        choices=list(CORRECTED_ESTIMATORS),
        help="estimators of the corrected curve to run on every H_n case",
    )
    ap.add_argument("--json", default=None, help="also write the per-case records to this file")
    args = ap.parse_args(argv)
    grid = FULL if args.full else REDUCED
    sizes = tuple(args.sizes or grid["sizes"])
    seeds = tuple(args.seeds or grid["seeds"])
    start = time.perf_counter()
    records = run(
        sizes,
        seeds,
        tuple(args.b),
        markov_orders=() if args.santa_fe_only else tuple(args.markov_orders),
        iid=not (args.santa_fe_only or args.no_iid),
        correlations=not args.no_correlations,
        log=lambda s: print(s, file=sys.stderr, flush=True),
        estimators=tuple(args.estimator),
    )
    print(
        f"grid: sizes {list(sizes)}, seeds {list(seeds)}, Santa Fe b {args.b}, Markov orders "
        f"{[] if args.santa_fe_only else args.markov_orders}, iid {not (args.santa_fe_only or args.no_iid)}, "
        f"estimators {args.estimator}; {time.perf_counter() - start:.0f} s"
    )
    print(tables(records))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
