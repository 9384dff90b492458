"""`corpus-stats horizon`: ||C(t)|| at nested sample sizes P = N / 2^k and the measured horizon t*(P)."""

from __future__ import annotations

import click

from corpus_stats.cli.common import (
    check_output_dir,
    corpus_input_options,
    default_out,
    output_options,
    seed_option,
    user_errors,
)


def horizon_csv(h) -> str:
    """One row per nested size and lag: the debiased norms beside that size's noise and horizons."""
    lines = ["size_index,tokens,lag,op_debiased,fro_debiased,noise,measured,measured_interpolated,predicted"]

    def fmt(x):
        return "" if x != x else f"{x:.8g}"

    for k, p in enumerate(h.tokens):
        for i, t in enumerate(h.lags):
            row = (h.op_debiased[k, i], h.fro_debiased[k, i], h.noise[k])
            horizons = (h.measured[k], h.measured_interpolated[k], h.predicted[k])
            lines.append(f"{k},{p:.0f},{t}," + ",".join(fmt(float(x)) for x in row + horizons))
    return "\n".join(lines) + "\n"


def horizon_summary(h, stream, files) -> str:
    """The short human summary: law, floor, and measured against predicted horizon per size."""
    beta = "-" if h.beta != h.beta else f"{h.beta:.3g}"
    lines = [
        f"corpus     {stream.n_tokens:,} tokens, {stream.n_documents:,} documents",
        f"norm       {h.norm}; noise c/sqrt(P) with c = {h.floor_constant:.3g} (shuffled floor of the full corpus)",
        f"law        ||C(t)|| = A t^-beta on lags {h.fit_lags.tolist()}: beta = {beta}, A = {h.prefactor:.3g}",
        f"{'P (pairs)':>12}  {'noise':>9}  {'measured t*':>11}  {'interpolated':>12}  {'predicted':>9}",
    ]

    def show(x, fmt):
        return "-" if x != x else format(x, fmt)

    for p, n, m, mi, pr in zip(h.tokens, h.noise, h.measured, h.measured_interpolated, h.predicted):
        beyond = f">{h.lags[-1]}" if m != m else f"{m:.0f}"
        lines.append(f"{p:12,.0f}  {n:9.3g}  {beyond:>11}  {show(mi, '.1f'):>12}  {show(pr, '.1f'):>9}")
    lines.append(
        "measured: first lag whose split-half ||C(t)|| falls below the noise at that P; "
        "predicted: (A sqrt(P) / c)^(1/beta)"
    )
    lines += [f"note: {n}" for n in h.notes]
    if files:
        lines.append("wrote " + ", ".join(str(f) for f in files))
    return "\n".join(lines)


@click.command("horizon")
@corpus_input_options
@click.option(
    "--halvings",
    "n_halvings",
    type=click.IntRange(1, 10),
    default=4,
    show_default=True,
    help="Nested sizes P = N, N/2, ..., N/2^K from one counting pass (needs 2^(K+1) shards).",
)
@click.option(
    "--lags",
    default=None,
    metavar="LIST",
    help="Lags, e.g. '1,2,4,8' or '1:256:log8' [default: ~8 per decade up to N / 2^(K+4)].",
)
@click.option(
    "--norm",
    type=click.Choice(["op", "fro"]),
    default="op",
    show_default=True,
    help="Norm read against the noise: op (the theory's) or fro (split-half unbiased).",
)
@click.option("--within-documents", is_flag=True, help="Count only pairs inside one document.")
@seed_option("Seed of the shuffled floor.")
@output_options("horizon.json", plot=True, figures="horizon.png")
@user_errors
def horizon_command(corpus_input, n_halvings, lags, norm, within_documents, seed, out, force, plot, as_json):
    """Measure the prediction horizon of INPUTS: ||C(t)|| at nested sizes P = N/2^k, the first lag
    below the noise c/sqrt(P) at each P, against the predicted t*(P) = (A sqrt(P)/c)^(1/beta).

    INPUTS may also be one saved token stream directory (tokenize -o, synth --format stream), read
    without re-tokenizing. Writes horizon.json, horizon.csv (one row per size and lag), horizon.txt
    (this summary) and horizon.png into --out; each file is written atomically.
    """
    import json
    from pathlib import Path

    from corpus_stats._io import atomic_write_text
    from corpus_stats.correlations.curve import parse_lags
    from corpus_stats.correlations.horizon import horizon_curve
    from corpus_stats.stream import TokenStream, saved_stream_dir
    from corpus_stats.text.tokenization import tokenize

    out = Path(out or default_out(corpus_input["corpus_or_inputs"]))
    if (out / "horizon.json").exists() and not force:
        raise FileExistsError(f"{out / 'horizon.json'} already exists; pass --force to replace it or choose --out.")
    check_output_dir(out)
    inputs = corpus_input["corpus_or_inputs"]
    saved = saved_stream_dir(inputs[0]) if len(inputs) == 1 else None
    stream = TokenStream.load(saved, mmap=True) if saved is not None else tokenize(**corpus_input)
    if stream.n_tokens < 2:
        raise ValueError(f"the corpus has {stream.n_tokens} token(s); the horizon needs pairs of tokens.")
    if lags is not None:
        lags = parse_lags(lags, stream.n_tokens - 1)
    h = horizon_curve(stream, lags, n_halvings=n_halvings, within_documents=within_documents, norm=norm, seed=seed)
    doc = {
        "corpus": {"n_tokens": stream.n_tokens, "n_documents": stream.n_documents, "provenance": stream.provenance},
        "options": {"n_halvings": n_halvings, "within_documents": within_documents, "seed": seed},
        **h.to_dict(),
    }
    text = json.dumps(doc, indent=1, default=str)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "horizon.json", out / "horizon.csv", out / "horizon.txt"]
    if plot:
        from corpus_stats.report.horizon_plot import save_horizon_figure

        files.append(save_horizon_figure(h, out / "horizon.png"))
    summary = horizon_summary(h, stream, files)
    atomic_write_text(out / "horizon.csv", horizon_csv(h))
    atomic_write_text(out / "horizon.txt", summary + "\n")
    atomic_write_text(out / "horizon.json", text)  # last: its presence means the set is complete
    click.echo(text if as_json else summary)
