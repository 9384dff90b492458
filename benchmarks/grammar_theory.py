"""The theory end to end on grammars with exact statistics, and the horizon measured.

Part 1 (``theory``): for small grammars (:mod:`corpus_stats.synthetic.grammars`) measure C(t) and
H_n on a sampled corpus and fit beta and gamma (paper OLS) on the measured curves and on the exact
ones over the **same** windows; alpha_D = gamma / (2 beta) from both.

Part 2 (``horizon``): ||C(t)|| at nested sizes P = N / 2^k from one counting pass
(:func:`corpus_stats.correlations.horizon.horizon_curve`), measured horizon against the predicted
``(A sqrt(P)/c)^(1/beta)``, on the copy process, a grammar and a real corpus under ``../shared``
(skipped with a message when absent); one figure per corpus::

    python benchmarks/grammar_theory.py --out /tmp/grammar-theory            # both parts
    python benchmarks/grammar_theory.py --part horizon --tokens 1e6

Part 3 (``montecarlo``): grammars too large to enumerate: the Monte Carlo estimate of the exact H_n
(:mod:`corpus_stats.synthetic.grammar_mc`, its standard error and time) against the counted,
corrected H_n of a sampled corpus over the n where the counts are valid.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

GRAMMARS = {
    "zipf RHM L=3 v=4 m=2 a=1": ("zipf_hierarchy", dict(n_levels=3, v=4, m=2, s=2, a=1.0)),
    "uniform RHM L=3 v=4 m=2": ("random_hierarchy", dict(n_levels=3, v=4, m=2, s=2)),
    "varying tree L=2 v=4 m2=m3=2": ("varying_tree_hierarchy", dict(n_levels=2, v=4, m2=2, m3=2, p2=0.5)),
    "ambiguous L=3 v=4 m=2 amb=0.25": ("ambiguous_hierarchy", dict(n_levels=3, v=4, m=2, s=2, ambiguity=0.25)),
}
BETA_WINDOW = (1, 4)
GAMMA_WINDOW = (1, 6)


def _fit(x, y, window):
    from scaling.fits import fit_power_law

    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = (x >= window[0]) & (x <= window[1]) & np.isfinite(y) & (y > 0)
    if keep.sum() < 3:
        return float("nan")
    return float(fit_power_law(x[keep], y[keep], method="paper", interval="ols").exponent)


def theory(n_tokens: int) -> list[dict]:
    from corpus_stats import synthetic
    from corpus_stats.correlations.curve import correlation_curve
    from corpus_stats.entropy.curve import entropy_curve

    lags = np.arange(1, 9)
    rows = []
    for name, (kind, params) in GRAMMARS.items():
        corpus = synthetic.make(kind, n_tokens, seed=0, **params)
        start = time.perf_counter()
        c = correlation_curve(corpus.stream, lags)
        h = entropy_curve(corpus.stream, GAMMA_WINDOW[1], upper=False)
        exact_c = corpus.exact_correlation(lags)["op"]
        exact_h = corpus.exact_entropy(GAMMA_WINDOW[1])
        beta_m, beta_x = _fit(lags, c.op_debiased, BETA_WINDOW), _fit(lags, exact_c, BETA_WINDOW)
        gamma_m, gamma_x = _fit(h.n, h.corrected, GAMMA_WINDOW), _fit(h.n, exact_h, GAMMA_WINDOW)
        rows.append(
            {
                "grammar": name,
                "tokens": corpus.stream.n_tokens,
                "beta_measured": beta_m,
                "beta_exact": beta_x,
                "gamma_measured": gamma_m,
                "gamma_exact": gamma_x,
                "alpha_measured": gamma_m / (2 * beta_m),
                "alpha_exact": gamma_x / (2 * beta_x),
                "op_measured": np.round(c.op_debiased, 5).tolist(),
                "op_exact": np.round(exact_c, 5).tolist(),
                "H_measured": np.round(h.corrected, 4).tolist(),
                "H_exact": np.round(exact_h, 4).tolist(),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        r = rows[-1]
        print(
            f"{name:32s} beta {beta_m:.3f} (exact {beta_x:.3f})  gamma {gamma_m:.3f} (exact {gamma_x:.3f})  "
            f"alpha_D {r['alpha_measured']:.3f} (exact {r['alpha_exact']:.3f})",
            flush=True,
        )
    return rows


def _real_corpus(shared: Path, max_tokens: int):
    from corpus_stats.text.tokenization import tokenize

    text = shared / "corpora" / "tinystories-train-head.txt"
    tok = shared / "tokenizers" / "tinystories-bpe8192" / "tokenizer.json"
    if not (text.is_file() and tok.is_file()):
        return None
    return tokenize(str(text), str(tok), max_tokens=max_tokens)


def horizon(n_tokens: int, out: Path, shared: Path) -> list[dict]:
    from corpus_stats import synthetic
    from corpus_stats.correlations.horizon import horizon_curve
    from corpus_stats.report.horizon_plot import save_horizon_figure

    corpora = {
        "copy process (V=200, a=0.5)": synthetic.copy_process(
            n_tokens, vocab_size=200, rho=0.5, a=0.5, k_max=1000, n_documents=256, seed=0
        ),
        "varying-tree grammar L=4 v=8": synthetic.make(
            "varying_tree_hierarchy", n_tokens, seed=0, n_levels=4, v=8, m2=3, m3=3, p2=0.5
        ),
    }
    streams = {name: (c.stream, c) for name, c in corpora.items()}
    real = _real_corpus(shared, n_tokens)
    if real is None:
        print(f"real corpus: skipped (needs corpora/tinystories-train-head.txt under {shared})")
    else:
        streams["TinyStories head (paper BPE-8192)"] = (real, None)
    lags = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128]
    every = np.arange(1, lags[-1] + 1)
    rows = []
    for i, (name, (stream, corpus)) in enumerate(streams.items()):
        exact = None if corpus is None else corpus.exact_correlation(every)
        for norm in ("op", "fro"):
            start = time.perf_counter()
            h = horizon_curve(stream, lags, n_halvings=4, norm=norm)
            # first integer lag whose exact norm is below c/sqrt(P): the true horizon at that c
            true = [float("nan")] * h.tokens.size
            if exact is not None:
                below = [exact[norm] < th for th in h.noise]
                true = [float(every[np.argmax(b)]) if b.any() else np.nan for b in below]
            rows.append(
                {"corpus": name, "norm": norm, **h.to_dict(), "exact_crossing": true,
                 "seconds": round(time.perf_counter() - start, 1)}
            )  # fmt: skip
            print(f"{name} [{norm}]: beta {h.beta:.3f} (fit lags {h.fit_lags.tolist()}), c = {h.floor_constant:.3g}")
            for p, m, mi, pr, tr in zip(h.tokens, h.measured, h.measured_interpolated, h.predicted, true):
                print(f"   P = {p:11,.0f}  measured {m:5.0f} (interp. {mi:6.1f})  predicted {pr:6.1f}  exact {tr:5.0f}")
            save_horizon_figure(h, out / f"horizon-{i}-{norm}.png")
    return rows


MC_GRAMMARS = {
    "zipf RHM L=3 v=16 m=4 a=0.5": ("zipf_hierarchy", dict(n_levels=3, v=16, m=4, s=2, a=0.5)),
    "varying tree L=3 v=16 m2=m3=4": ("varying_tree_hierarchy", dict(n_levels=3, v=16, m2=4, m3=4, p2=0.5)),
    "uniform RHM L=5 v=16 m=4": ("random_hierarchy", dict(n_levels=5, v=16, m=4, s=2)),
}


def montecarlo(n_tokens: int, n_max: int = 32) -> list[dict]:
    from corpus_stats import synthetic
    from corpus_stats.entropy.curve import entropy_curve

    rows = []
    for name, (kind, params) in MC_GRAMMARS.items():
        corpus = synthetic.make(kind, n_tokens, seed=0, **params)
        start = time.perf_counter()
        ref = corpus.reference_entropy(n_max)
        seconds = time.perf_counter() - start
        h = entropy_curve(corpus.stream, 8, upper=False)
        z = (h.corrected - ref.values[: h.n.size]) / np.hypot(ref.stderr[: h.n.size], h.total_error)
        rows.append(
            {"grammar": name, "method": ref.method, "samples": ref.n_samples, "seconds": round(seconds, 1),
             "H_reference": np.round(ref.values, 4).tolist(), "stderr": np.round(ref.stderr, 4).tolist(),
             "H_counted": np.round(h.corrected, 4).tolist(), "valid": h.valid.tolist(), "z": np.round(z, 2).tolist()}
        )  # fmt: skip
        print(f"{name}: {ref.method}, {ref.n_samples} windows, {seconds:.1f} s")
        for n in (1, 2, 4, 8, 16, 32):
            counted = f"counted {h.corrected[n]:.4f} (valid {bool(h.valid[n])}, z {z[n]:+.1f})" if n <= 8 else ""
            print(f"   H_{n:<2d} = {ref.values[n]:.4f} ± {ref.stderr[n]:.4f}  {counted}")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["theory", "horizon", "montecarlo", "both"], default="both")
    ap.add_argument("--tokens", type=float, default=1e6)
    ap.add_argument("--out", type=Path, default=Path("grammar-theory-out"))
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    result = {}
    if args.part in ("theory", "both"):
        result["theory"] = theory(int(args.tokens))
    if args.part in ("horizon", "both"):
        result["horizon"] = horizon(int(args.tokens), args.out, args.shared)
    if args.part == "montecarlo":
        result["montecarlo"] = montecarlo(int(args.tokens))
    (args.out / "results.json").write_text(json.dumps(result, indent=1, default=float))
    print(f"wrote {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
