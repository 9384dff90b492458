"""``corpus-stats demo``: measure synthetic corpora whose answers are known exactly, and say how well.

Every printed row is a like-for-like comparison with a verdict:

* point values (‖C(t)‖_op, H_n) are compared with their closed forms in units of the measurement's
  jackknife standard error;
* exponents are compared with the **exact curve fitted by the same method over the same window** as
  the measurement (a power law is only a local description: the t -> inf or n -> inf exponent can
  differ from the slope over the window the data reach, and the demo says so with numbers);
* α_D = γ / (2β) combines β of the copy process with γ of the Santa Fe process. No single synthetic
  corpus here has both a power-law C(t) and a power-law H_n with known values, so the row checks the
  formula and the error propagation, and is labelled as combining two corpora.

When a quantity cannot be determined from counts at the demo's size the row says so instead of
printing a number next to the truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from corpus_stats._io import finite_or_none

#: copy process: tokens copied from power-law distances -> exact ‖C(t)‖, beta -> 1 + a
COPY = {"vocab_size": 16, "rho": 0.9, "a": 0.5, "k_max": 1000}
COPY_LAGS = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128]
#: Santa Fe process: b = 0.3 reaches its asymptotic slope 1 - b from n ~ 10; 32 keys keep the
#: n-gram counts dense enough that H_1..H_6 are measured within a few standard errors at 4M tokens
SANTA_FE = {"b": 0.3, "n_keys": 32, "doc_length": 20_000}
SANTA_FE_N_MAX = 6
SANTA_FE_SCALE = 4  # Santa Fe tokens = 4 x the copy-process tokens
#: output sub-folder of each measured corpus -> the figures that mean something for it
DEMO_FIGURES = {"copy_process": ("correlations",), "santa_fe": ("entropy",)}


@dataclass(frozen=True)
class DemoRow:
    """One measured-versus-exact comparison.

    ``measured`` and ``truth`` are None when not determinable; ``stderr`` is the standard error of
    point values (the jackknife for ‖C(t)‖, the total error of H_n: jackknife ⊕ projected bias),
    ``interval`` the 90% interval of exponents; ``verdict`` says whether they agree and, if not, why.
    """

    quantity: str
    measured: float | None
    truth: float | None
    verdict: str
    stderr: float | None = None
    interval: tuple[float, float] | None = None


def _point_row(quantity: str, measured: float, stderr: float, truth: float, why_off: str) -> DemoRow:
    """Point value vs closed form: agreement judged in standard errors (|z| <= 2)."""
    measured, stderr, truth = finite_or_none(measured), finite_or_none(stderr), finite_or_none(truth)
    if measured is None or truth is None:
        return DemoRow(quantity, measured, truth, "cannot be determined from counts at this size")
    if not stderr:
        verdict = f"{100 * (measured - truth) / truth:+.1f}% (no standard error)"
    else:
        z = (measured - truth) / stderr
        verdict = (
            f"agrees ({z:+.1f} s.e.)"
            if abs(z) <= 2
            else f"{100 * (measured - truth) / truth:+.1f}% = {z:+.1f} s.e.: {why_off}"
        )
    return DemoRow(quantity, measured, truth, verdict, stderr=stderr)


def _window_fit(x, y, part: dict, method: str) -> float | None:
    """Exponent of the exact curve fitted by ``method`` over the measurement's window."""
    from scaling.fits import fit_power_law

    window = (part or {}).get("window")
    if not window or None in window:
        return None
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(y) & (y > 0) & (x >= window[0]) & (x <= window[1])
    try:
        return float(fit_power_law(x[keep], y[keep], method=part.get("method") or method, n_boot=50).exponent)
    except (ValueError, TypeError):
        return None


def _slope(x, y, lo: float, hi: float, method: str) -> float | None:
    from scaling.fits import fit_power_law

    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = (x >= lo) & (x <= hi) & np.isfinite(y) & (y > 0)
    try:
        return float(fit_power_law(x[keep], y[keep], method=method, n_boot=50).exponent)
    except (ValueError, TypeError):
        return None


def _exponent_row(name: str, var: str, part: dict, truth: float | None) -> DemoRow:
    """Measured exponent (with its 90% interval) vs the exact curve over the same window."""
    value, interval = finite_or_none((part or {}).get("value")), (part or {}).get("interval")
    window = (part or {}).get("window")
    if value is None or not window or None in window:
        return DemoRow(
            name, None, truth, "cannot be determined from counts at this size: no window of >= 4 usable points"
        )
    label = f"{name} ({var} = {window[0]:g}..{window[1]:g})"
    if not interval or None in interval or truth is None:
        return DemoRow(label, value, truth, "no interval: agreement cannot be judged")
    lo, hi = float(interval[0]), float(interval[1])
    verdict = (
        "agrees: exact value inside the 90% interval"
        if lo <= truth <= hi
        else "disagrees: exact value outside the 90% interval"
    )
    return DemoRow(label, value, truth, verdict, interval=(lo, hi))


def _copy_section(n_tokens: int, seed: int, progress: bool) -> dict:
    from corpus_stats import synthetic
    from corpus_stats.pipeline import measure
    from corpus_stats.report.summary import snr_threshold_of

    corpus = synthetic.copy_process(n_tokens, seed=seed, **COPY)
    m = measure(corpus, lags=COPY_LAGS, n_max=4, seed=seed, progress=progress)
    c = m.correlations
    lags = np.asarray(COPY_LAGS)
    exact = np.asarray(corpus.exact_correlation(lags)["op"], float)
    rows = []
    for t in (1, 8, 32):
        i = COPY_LAGS.index(t)
        deb, se = c.op_debiased[i], c.op_debiased_stderr[i]
        rows.append(_point_row(f"‖C({t})‖_op", deb, se, exact[i], "near the noise floor"))
    beta = (m.prediction or {}).get("beta") or {}
    rows.append(_exponent_row("beta", "t", beta, _window_fit(lags, exact, beta, "paper")))
    snr = np.asarray(c.snr, float)
    threshold = snr_threshold_of(m)
    good = np.flatnonzero(np.isfinite(snr) & (snr >= threshold))
    notes = [
        f"signal/noise >= {threshold:g} up to t = {lags[good[-1]]}; beyond, ‖C(t)‖ is lost in the shuffled-noise floor"
        if good.size
        else f"signal/noise < {threshold:g} at every lag"
    ]
    t_far = np.arange(1, 501)
    far = _slope(t_far, corpus.exact_correlation(t_far)["op"], 100, 500, "paper")
    notes.append(
        f"beta -> 1 + a = {corpus.expected_beta:g} only as t -> inf: the exact curve's slope "
        f"is {far:.3g} over t = 100..500, where this corpus has no signal above the noise"
    )
    notes.append("H_n of the copy process has no closed form: not compared")
    title = f"copy process (a = {COPY['a']:g}, rho = {COPY['rho']:g}, V = {COPY['vocab_size']}): tests C(t) and beta"
    return {
        "name": "copy process",
        "key": "copy_process",
        "title": title,
        "measurement": m,
        "rows": rows,
        "notes": notes,
        "exponent": beta,
        "exact_exponent": rows[-1].truth,
        "exact": {"correlations": exact},
    }


def _santa_fe_section(n_tokens: int, seed: int, progress: bool) -> dict:
    from corpus_stats import synthetic
    from corpus_stats.entropy.curve import BIAS_BUDGET, BIAS_Z
    from corpus_stats.pipeline import measure

    n_max = SANTA_FE_N_MAX
    corpus = synthetic.santa_fe(n_tokens, seed=seed, **SANTA_FE)
    with np.errstate(all="ignore"):  # C(t) is flat here: the horizon t*(P) overflows, harmlessly
        m = measure(corpus, lags=[1, 2, 4, 8], n_max=n_max, within_documents=True, seed=seed, progress=progress)
    e = m.entropy
    h = np.asarray(corpus.exact_entropy(n_max), float)
    total = e.total_error  # what the gamma fit uses: the bias projected from sub-corpora is part of the error
    rows = [
        _point_row(f"H_{k} (nats)", e.corrected[k], total[k], h[k], "biased low (rare contexts undersampled)")
        for k in (1, 2, 4, n_max)
    ]
    gamma = (m.prediction or {}).get("gamma") or {}
    n = np.arange(n_max + 1)
    rows.append(_exponent_row("gamma", "n", gamma, _window_fit(n[1:], h[1:], gamma, "offset")))
    valid = np.flatnonzero(np.asarray(e.valid, bool) & (n >= 1))
    notes = [
        f"valid n = 1..{n[valid[-1]]} (bias projected from sub-corpora <= {BIAS_Z:g} s.e., "
        f"or <= {BIAS_BUDGET:g} nats where its decay is measured)"
        if valid.size
        else "no valid n >= 1: H_n is undersampled at this size"
    ]
    far_n = np.arange(0, 101)
    far = _slope(far_n, corpus.exact_entropy(100), 10, 100, "offset")
    notes.append(
        f"gamma -> 1 - b = {corpus.expected_gamma:g} only for n >~ 10 (exact slope over "
        f"n = 10..100: {far:.3g}); counts reach n = {n_max} here, so the asymptotic gamma "
        "cannot be determined from counts at this size"
    )
    notes.append("C(t) of the Santa Fe process is constant in t (no power law): beta not defined")
    return {
        "name": "Santa Fe process",
        "key": "santa_fe",
        "title": f"Santa Fe process (b = {SANTA_FE['b']:g}, "
        f"{SANTA_FE['n_keys']} keys, within documents): tests H_n and gamma",
        "measurement": m,
        "rows": rows,
        "notes": notes,
        "exponent": gamma,
        "exact_exponent": rows[-1].truth,
        "exact": {"entropy": h},
    }


def _alpha_row(copy: dict, fe: dict) -> DemoRow:
    """alpha_D = gamma / (2 beta) from the two corpora; interval from the ends of both intervals."""
    b, g = copy["exponent"], fe["exponent"]
    bt, gt = copy["exact_exponent"], fe["exact_exponent"]
    bv, gv = finite_or_none(b.get("value")), finite_or_none(g.get("value"))
    name = "alpha_D = gamma/(2 beta)"
    if bv is None or gv is None or bv <= 0:
        return DemoRow(name, None, None, "cannot be determined: beta or gamma was not measured")
    truth = gt / (2 * bt) if gt is not None and bt else None
    bi, gi = b.get("interval") or [None, None], g.get("interval") or [None, None]
    if None in bi or None in gi or bi[0] <= 0 or truth is None:
        return DemoRow(name, gv / (2 * bv), truth, "no interval: agreement cannot be judged")
    lo, hi = gi[0] / (2 * bi[1]), gi[1] / (2 * bi[0])  # conservative: the ends of both intervals
    verdict = (
        "agrees: exact value inside the interval"
        if lo <= truth <= hi
        else "disagrees: exact value outside the interval"
    )
    return DemoRow(name, gv / (2 * bv), truth, verdict, interval=(lo, hi))


def run_demo(n_tokens: int = 1_000_000, *, seed: int = 0, progress: bool = False) -> list[dict]:
    """Measure synthetic corpora whose answers are known exactly; offline (time: docs/performance.md).

    * a **copy process** (tokens copied from power-law distances): exact ‖C(t)‖;
    * a **Santa Fe process** (Dębowski) with ``4 n_tokens`` tokens: exact H_n within documents;
    * α_D combining β of the first with γ of the second.

    Parameters
    ----------
    n_tokens : int, default 1_000_000
        Tokens of the copy process (the Santa Fe corpus has four times as many).
    seed : int, default 0
    progress : bool, default False

    Returns
    -------
    list of dict
        One entry per section: ``name``, ``key`` (output sub-folder), ``title``, ``measurement`` (None for the combined
        section), ``rows`` (:class:`DemoRow`) and ``notes`` (explanations).
    """
    copy = _copy_section(n_tokens, seed, progress)
    fe = _santa_fe_section(SANTA_FE_SCALE * n_tokens, seed, progress)
    combined = {
        "name": "combined",
        "key": None,
        "measurement": None,
        "rows": [_alpha_row(copy, fe)],
        "title": "alpha_D combining beta of the copy process with gamma of the Santa Fe "
        "process (two different corpora)",
        "notes": [
            (
                "checks the formula and the error propagation (interval from the ends of "
                "both 90% intervals); it is not the alpha_D of either corpus"
            ),
            ("exact value: the same formula on the exact curves' slopes over the same windows"),
        ],
    }
    return [copy, fe, combined]


def is_demo_report(report: Path, key: str) -> bool:
    """True when ``report`` is a ``report.json`` the demo wrote for its corpus ``key`` (a DEMO_FIGURES key).

    The demo replaces its own previous output without ``--force``; anything else in its place (another
    command's report, a damaged file) is left alone unless the user forces it.
    """
    try:
        source = json.loads(report.read_text(encoding="utf-8"))["provenance"]["source"]
        return source["kind"] == "synthetic" and source["generator"] == key
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _fmt(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def format_demo(results: list[dict]) -> str:
    """The table printed by ``corpus-stats demo``: measured, exact, verdict per row, then notes."""
    lines = []
    for k, res in enumerate(results, 1):
        m = res.get("measurement")
        head = f"{k}. {res['title']}"
        if m is not None:
            head += f"; {m.provenance.get('n_tokens', 0):,} tokens, {m.timings.get('total', 0):.1f} s"
        lines.append(head)
        lines.append(f"   {'quantity':<26}{'measured':>22}{'exact':>11}   verdict")
        for row in res["rows"]:
            measured = _fmt(row.measured)
            if row.stderr is not None and row.measured is not None:
                measured += f" ± {row.stderr:.1g}"
            elif row.interval is not None:
                measured = f"{row.measured:.3g} [{row.interval[0]:.3g}, {row.interval[1]:.3g}]"
            lines.append(f"   {row.quantity:<26}{measured:>22}{_fmt(row.truth):>11}   {row.verdict}")
        for note in res.get("notes", []):
            lines.append(f"   - {note}")
        lines.append("")
    lines.append(
        "± is one standard error: for ‖C(t)‖ the jackknife over document shards, for H_n the total error "
        "(jackknife ⊕ the bias projected from sub-corpora); [a, b] is a 90% interval."
    )
    return "\n".join(lines)
