"""What a measurement predicts, in words and numbers: ``scaling.predict`` run with the measurement's own
rules (its signal/noise threshold, its seed's bootstrap child), the JSON-safe prediction stored in
``report.json``, and the printed summary of ``corpus-stats measure``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from corpus_stats._io import finite_or_none, json_safe
from corpus_stats._random import integer_seed
from corpus_stats.report.measurement import Measurement

# -- prediction -------------------------------------------------------------------------------


def snr_threshold_of(measurement: Measurement) -> float:
    """The signal/noise threshold of β for this measurement: the one it was measured with
    (``options["snr_threshold"]``), else ``scaling.SNR_THRESHOLD``."""
    value = measurement.options.get("snr_threshold")
    if value is None:
        from scaling import SNR_THRESHOLD

        return SNR_THRESHOLD
    return float(value)


def prediction_rules(measurement: Measurement) -> dict:
    """The keyword arguments of ``scaling.predict`` that a measurement fixes: its signal/noise
    threshold and the bootstrap's seed (its seed's ``bootstrap`` child, see :func:`measure`)."""
    return {
        "snr_threshold": snr_threshold_of(measurement),
        "seed": integer_seed(int(measurement.options.get("seed", 0)), "bootstrap"),
    }


def run_prediction(measurement: Measurement) -> dict:
    """``scaling.predict`` on the measurement, as a JSON-safe summary (see the README).

    Uses the measurement's signal/noise threshold and, for the bootstrap, the child of its seed
    (see :func:`measure`). A prediction that cannot be made (too few valid points, no signal) is not
    an error of the measurement: the summary then holds ``error`` (the reason), each exponent that
    *can* be fitted by the same rules (``scaling.choose_exponents``), and the curves are still reported.
    """
    try:
        from scaling import choose_exponents, predict
    except ImportError as exc:  # scaling is part of this distribution; be explicit if broken
        return {"error": f"scaling.predict is unavailable: {exc}", "warnings": []}
    rules = prediction_rules(measurement)
    try:
        prediction = predict(measurement, **rules)
    except (ValueError, TypeError, FloatingPointError, np.linalg.LinAlgError) as exc:
        choice = choose_exponents(measurement, **rules)
        beta = {}
        if choice.beta is not None:
            beta = _exponent_summary(choice.beta, choice.beta_stderr, budget=choice.beta_budget)
        gamma = {}
        if choice.gamma is not None:
            h_inf = choice.gamma.fit.offset
            gamma = _exponent_summary(
                choice.gamma, choice.gamma_stderr, budget=choice.gamma_budget, H_inf=h_inf, curve=choice.gamma_curve
            )
        return json_safe({"error": str(exc), "warnings": [f"no alpha_D: {exc}"], "beta": beta, "gamma": gamma})
    return summarize_prediction(prediction)


def _exponent_summary(selection: Any, stderr: Any, confidence: float = 0.9, budget: Any = None, **extra: Any) -> dict:
    """Value, errors, window and method of a ``scaling.WindowSelection``.

    ``stderr`` is the total standard error (the "±", 1 s.e.), ``interval`` value ± z·stderr at
    ``confidence``; ``error_budget`` its parts (``scaling.ErrorBudget``: statistical, curve
    systematic, window, scale); ``systematic`` the window part of it and ``fit_interval`` the window
    fit's own interval.
    """
    from scipy import stats

    fit = selection.fit
    se = finite_or_none(stderr) if finite_or_none(stderr) is not None else finite_or_none(fit.stderr)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    value = finite_or_none(fit.exponent)
    out = {
        "value": value,
        "stderr": se,
        "systematic": finite_or_none(selection.systematic if budget is None else budget.window),
        "error_budget": None if budget is None else budget.to_dict(),
        "interval": [value - z * se, value + z * se] if value is not None and se is not None else [None, None],
        "confidence": confidence,
        "fit_interval": list(fit.exponent_interval),
        "prefactor": finite_or_none(fit.prefactor),
        "window": list(selection.window),
        "n_points": int(fit.n_points),
        "method": fit.method,
        "fallback": bool(selection.fallback),
        **extra,
    }
    return json_safe(out)


def summarize_prediction(prediction: Any) -> dict:
    """The JSON-safe summary of a ``scaling.Prediction`` stored in ``report.json``.

    Keys: ``alpha_D`` (``value, stderr, interval, confidence, method``), ``alpha_D_paper``
    (paper-compatible raw slopes and the paper's error formula), ``beta`` and ``gamma`` (``value,
    stderr`` (total: jackknife or fit, and window spread; every "±" is 1 s.e.), ``systematic`` (spread
    over acceptable windows), ``interval`` (value ± z·stderr at ``confidence``), ``fit_interval``,
    ``prefactor, window, n_points, method``; ``gamma`` also ``H_inf`` and ``curve``), ``horizon``
    (``P, t_star, floor_constant``), ``learning_curve`` (``P, loss, extrapolated``), ``assumptions``,
    ``warnings`` and ``full`` (the Prediction's own ``to_dict()``).
    """
    pred = prediction
    a, ap = pred.alpha_D, pred.alpha_D_paper
    summary = {
        "alpha_D": {
            "value": a.value,
            "stderr": a.stderr,
            "interval": list(a.interval),
            "confidence": a.confidence,
            "method": a.method,
        },
        "alpha_D_paper": {"value": ap.value, "stderr": ap.paper_stderr},
        "beta": _exponent_summary(pred.beta, a.beta_stderr, a.confidence, getattr(pred, "beta_error_budget", None)),
        "gamma": _exponent_summary(
            pred.gamma,
            a.gamma_stderr,
            a.confidence,
            getattr(pred, "gamma_error_budget", None),
            H_inf=pred.H_inf,
            curve=pred.gamma_curve,
        ),
        "horizon": {
            "P": pred.tokens,
            "t_star": pred.horizon.t_star,
            "floor_constant": pred.floor_constant,
            "floor_constant_source": pred.floor_constant_source,
        },
        "learning_curve": {"P": pred.tokens, "loss": pred.loss, "extrapolated": pred.loss_extrapolated},
        "assumptions": [str(x) for x in pred.assumptions],
        "warnings": [str(x) for x in pred.warnings],
        "full": pred.to_dict() if hasattr(pred, "to_dict") else None,
    }
    return json_safe(summary)


# -- the printed summary ----------------------------------------------------------------------


def format_estimate(part: dict | None, digits: int = 3) -> str:
    """A summary entry (``value``, ``stderr``, ``interval``, ``confidence``) spelled by
    :func:`scaling.format_estimate`, the one owner of "±": ``'0.88 ± 0.06 [90%: 0.78..0.98]'``, ± one
    total standard error, the bracket the interval. 'n/a' when the value is absent."""
    from scaling import format_estimate as spell

    part = part or {}
    stderr = part.get("stderr")
    return spell(
        part.get("value"),
        float("nan") if stderr is None else stderr,
        part.get("interval"),
        part.get("confidence") or 0.9,  # every summary entry states its level; 0.9 is the default
        digits,
    )


def _window(part: dict, var: str) -> str:
    window = (part or {}).get("window")
    if not window or None in window:
        return ""
    extra = [f"{var} = {window[0]:g}..{window[1]:g}"]
    if part.get("n_points"):
        extra.append(f"{part['n_points']} points")
    if part.get("method"):
        extra.append(str(part["method"]))
    return "  (" + ", ".join(extra) + ")"


def format_summary(measurement: Measurement, *, files: Sequence[os.PathLike] = ()) -> str:
    """The compact human summary printed by ``corpus-stats measure`` (several lines, no trailing newline).

    Parameters
    ----------
    measurement : Measurement
    files : sequence of path
        Files written, listed on the last line.
    """
    prov, pred = measurement.provenance, measurement.prediction or {}
    lines = []
    sources = (prov.get("source") or {}) if isinstance(prov.get("source"), dict) else {}
    names = [s.get("name") for s in prov.get("sources", []) if isinstance(s, dict)]
    names = [n for n in names if n]
    if len(names) > 3:  # a directory of books: name the first two and count the rest
        names = names[:2] + [f"... ({len(names) - 2} more files)"]
    title = ", ".join(names) or sources.get("generator") or "token stream"
    lines.append(f"corpus-stats {prov.get('package_version', '')}: {title}")
    tok = prov.get("tokenizer")
    tok = tok.get("spec", tok) if isinstance(tok, dict) else tok
    lines.append(
        f"  corpus    {prov.get('n_tokens', 0):,} tokens, {prov.get('n_documents', 0):,} "
        f"document{'' if prov.get('n_documents') == 1 else 's'}, "
        f"tokenizer {tok} (V = {prov.get('vocab_size', 0):,})"
    )
    corr, ent = measurement.correlations, measurement.entropy
    if corr is not None and len(corr.lags):
        snr = np.asarray(corr.snr, dtype=float)
        threshold = snr_threshold_of(measurement)
        good = np.flatnonzero(np.isfinite(snr) & (snr >= threshold))
        reach = (
            f"signal/noise >= {threshold:g} up to t = {int(corr.lags[good[-1]])}"
            if good.size
            else f"signal/noise < {threshold:g} at every lag (no usable signal)"
        )
        lines.append(f"  C(t)      {len(corr.lags)} lags {int(corr.lags[0])}..{int(corr.lags[-1])}; {reach}")
    if ent is not None and len(ent.n):
        valid = np.asarray(ent.valid, dtype=bool)
        n_valid = np.flatnonzero(valid & (np.asarray(ent.n) >= 1))
        reach = f"valid n = 1..{int(ent.n[n_valid[-1]])}" if n_valid.size else "no valid n >= 1"
        x_valid = getattr(ent, "extrapolated_valid", None)
        if x_valid is not None:
            x_valid = np.flatnonzero(np.asarray(x_valid, dtype=bool) & (np.asarray(ent.n) >= 1))
            if x_valid.size and (not n_valid.size or x_valid[-1] > n_valid[-1]):
                reach += f" (size-extrapolated: n = 1..{int(ent.n[x_valid[-1]])})"
        h = np.asarray(ent.corrected, dtype=float)
        lines.append(
            f"  H_n       n = 0..{int(ent.n[-1])}; {reach}; H_0 = {h[0]:.3f}, "
            f"H_1 = {h[1] if h.size > 1 else float('nan'):.3f} nats"
        )
    if ent is not None and getattr(ent, "external", None) is not None:
        lines.append(_external_line(ent, measurement.options.get("lm")))
    advice = small_corpus_advice(measurement)
    shard_note = (corr.options or {}).get("shard_note") if corr is not None else None
    if shard_note:
        lines.append(f"  note      {shard_note}")
    if pred:
        lines.append(f"  beta      {format_estimate(pred.get('beta'))}{_window(pred.get('beta'), 't')}")
        gamma = pred.get("gamma") or {}
        h_inf = f", H_inf = {gamma['H_inf']:.3g} nats" if gamma.get("H_inf") is not None else ""
        on = ""
        if gamma.get("value") is not None and gamma.get("curve"):
            on = "  fitted on " + ("the external L_n" if gamma["curve"] == "external" else f"the {gamma['curve']} H_n")
        lines.append(f"  gamma     {format_estimate(gamma)}{_window(gamma, 'n')}{h_inf}{on}")
        paper = (pred.get("alpha_D_paper") or {}).get("value")
        paper = f"  (paper-style raw slopes: {paper:.3g})" if paper is not None else ""
        if pred.get("error"):
            lines.append("  alpha_D   not predicted (see warning)")
        else:
            lines.append(f"  alpha_D   {format_estimate(pred.get('alpha_D'))}  = gamma / (2 beta){paper}")
        for w in pred.get("warnings") or []:
            lines.append(f"  warning   {w}")
        if advice:
            lines.append(f"  to do     {advice}")
    t = measurement.timings
    if t:
        parts = ", ".join(f"{k} {v:.1f}" for k, v in t.items() if k != "total")
        lines.append(f"  took      {t.get('total', sum(t.values())):.1f} s ({parts})")
    if files:
        first = Path(files[0])
        rest = ", ".join(Path(f).name for f in files[1:])
        lines.append(f"  wrote     {first}" + (f", {rest}" if rest else ""))
    return "\n".join(lines)


def _external_line(ent, lm: dict | None) -> str:
    """The model (external) L_n read against the count bracket: where it is, and any n it undercuts."""
    n, loss = np.asarray(ent.n), np.asarray(ent.external, dtype=float)
    have = np.flatnonzero(np.isfinite(loss))
    if not have.size:
        return "  L_n       external curve has no point at n <= n_max"
    what = f"model {lm['model']} ({lm['convention']}, {lm['n_sequences']:,} sequences)" if lm else "external curve"
    first = have[n[have] >= 1][0] if (n[have] >= 1).any() else have[0]
    text = (
        f"  L_n       {what}: n = {int(n[have[0]])}..{int(n[have[-1]])}, L_{int(n[first])} = {loss[first]:.3f} nats; "
    )
    below = ent.options.get("external_below_counts")
    if below:
        shown = ", ".join(map(str, below[:8])) + (", ..." if len(below) > 8 else "")
        text += (
            f"BELOW a valid count estimate at n = {shown} (a model's loss is an upper bound of H_n: did it "
            "see the held-out text, or are the counts biased?)"
        )
    elif below is not None:
        text += "above every valid count estimate, as an upper bound should be"
    return text


def _factor(x: float) -> str:
    """A multiplicative factor for humans: 1.1x, 4.0x, 3e+02x."""
    return f"{x:.1f}x" if x < 10 else f"{x:.2g}x"


def small_corpus_advice(measurement: Measurement) -> str | None:
    """One line telling the user how to get the exponent(s) a measurement could not give, or None.

    The token estimates are orders of magnitude from the measurement itself, stated only when they
    can be: the shuffled floor of ‖C(t)‖ falls like 1/√tokens, so signal/noise at a fixed lag grows
    like √tokens (β needs 3 lags at signal/noise ≥ the measurement's threshold); and making H_n valid
    one n further needs about e^(H_n) times more tokens (the number of typical (n+1)-grams,
    e^(H(n+1)), grows by that factor), with γ needing ``scaling.gamma.GAMMA_MIN_POINTS`` valid n ≥ 1.
    """
    from scaling.gamma import GAMMA_MIN_POINTS as gamma_points
    from scaling.gamma import MODEL_CURVE

    snr_threshold = snr_threshold_of(measurement)
    pred = measurement.prediction
    if not pred:
        return None
    no_beta = (pred.get("beta") or {}).get("value") is None
    no_gamma = (pred.get("gamma") or {}).get("value") is None
    if not (no_beta or no_gamma):
        return None
    what = "beta and gamma" if no_beta and no_gamma else ("beta" if no_beta else "gamma")
    prov = measurement.provenance
    n_tokens = prov.get("n_tokens")
    parts = []
    corr, ent = measurement.correlations, measurement.entropy
    if no_beta and corr is not None:
        all_snr = np.asarray(corr.snr, dtype=float)
        with_signal = np.flatnonzero(np.isfinite(all_snr) & (all_snr > 0))
        snr = np.sort(all_snr[with_signal])[::-1]
        if snr.size >= 3 and snr[2] < snr_threshold:
            parts.append(
                f"beta: about {_factor((snr_threshold / snr[2]) ** 2)} more tokens (signal/noise grows like √tokens)"
            )
        elif snr.size >= 3:
            parts.append(
                "beta: the lags above the floor span too little range for a power law; "
                "more tokens, or more lags (--lags)"
            )
        elif snr.size:  # a signal, but at fewer than the 3 lags a power law needs
            best = with_signal[np.argmax(all_snr[with_signal])]
            more = "" if snr[0] >= snr_threshold else f" and about {_factor((snr_threshold / snr[0]) ** 2)} more tokens"
            parts.append(
                f"beta: a power law needs 3 lags with signal/noise >= {snr_threshold:g}, and only {snr.size} "
                f"lag{'' if snr.size == 1 else 's'} of this run {'has' if snr.size == 1 else 'have'} a signal "
                f"(best: {snr[0]:.2g} at t = {int(corr.lags[best])}); measure more lags (--lags, e.g. 1-64){more}"
            )
        else:
            parts.append(
                "beta: C(t) shows no signal above the shuffled floor, so the tokens needed "
                "cannot be estimated from this run"
            )
    if no_gamma and ent is not None:
        n = np.asarray(ent.n)
        h = np.asarray(ent.corrected, dtype=float)
        valid = np.asarray(ent.valid, dtype=bool) & (n >= 1)
        last = int(n[np.flatnonzero(valid)[-1]]) if valid.any() else 0
        need = np.arange(last + 1, gamma_points + 1)
        if need.size and need[-1] < n.size and np.all(np.isfinite(h[need]) & (h[need] > 0)):
            factor = float(np.exp(h[need].sum()))
            parts.append(
                f"gamma: H_n valid to n = {gamma_points} needs roughly {factor:.1g}x more "
                f"tokens (e^(H_n) per extra n), or use {MODEL_CURVE}"
            )
        else:
            parts.append(f"gamma: use {MODEL_CURVE}")
    if len(parts) == 1:  # "no gamma: gamma: ..." says it twice
        parts = [parts[0].split(": ", 1)[1]]
    size = f" ({n_tokens:,} tokens now)" if isinstance(n_tokens, int) else ""
    return f"no {what}{size}: " + "; ".join(parts) if parts else None
