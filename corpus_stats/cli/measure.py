"""Commands that turn a corpus into a token stream, a report and its figures: tokenize, measure, plot."""

from __future__ import annotations

import click

from corpus_stats.cli.common import (
    check_output_dir,
    collapse_option,
    corpus_input_options,
    default_out,
    output_options,
    seed_option,
    snr_threshold_option,
    user_errors,
)
from corpus_stats.cli.lm import lm_options, model_tokenizer_or_fail
from corpus_stats.execution.memory import DEFAULT_RAM_FRACTION
from corpus_stats.shards import DEFAULT_SHARDS, MAX_SHARDS


@click.command("tokenize")
@corpus_input_options
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the most frequent tokens to show.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    default=None,
    help="Also save a copy of the stream to this directory.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of a table.")
@click.option(
    "--scheduler",
    default=None,
    metavar="WHERE",
    help="Tokenize the files (or an hf: dataset's shards) in parallel on Dask: local:N (N worker processes "
    "here) or tcp://HOST:PORT (workers see the inputs and --cache-dir at the same paths) [default: this process].",
)
@user_errors
def tokenize_command(corpus_input, top, output, as_json, scheduler):
    """Tokenize INPUTS once into a cached token stream and describe it.

    INPUTS are text files (.txt, .gz, .xz, .bz2, .zst), directories, globs, '-' for stdin,
    .jsonl/.json/.parquet/.arrow files, or hf:NAME[:CONFIG] datasets.
    """
    import json

    import numpy as np

    from corpus_stats.text.tokenization import tokenize
    from corpus_stats.text.tokenizers import load_stream_tokenizer

    if output is not None:
        check_output_dir(output, "--output")
    stream = tokenize(**corpus_input, scheduler=scheduler)
    if output is not None:
        stream.save(output)
    counts = np.bincount(stream.tokens, minlength=stream.vocab_size)
    order = np.argsort(-counts, kind="stable")[:top]
    tok = load_stream_tokenizer(stream)
    prov = stream.provenance
    summary = {
        "n_tokens": stream.n_tokens,
        "n_documents": stream.n_documents,
        "vocab_size": stream.vocab_size,
        "vocab_used": int(np.count_nonzero(counts)),
        "dtype": str(stream.tokens.dtype),
        "eos_id": stream.eos_id,
        "tokenizer": prov.get("tokenizer", {}),
        "sources": prov.get("sources", []),
        "truncated": prov.get("truncated", False),
        "cache": prov.get("cache", {}),
        "output": output,
        "top_tokens": [
            {
                "id": int(i),
                "token": tok.token_string(int(i)) if tok else None,
                "count": int(counts[i]),
                "share": float(counts[i] / max(stream.n_tokens, 1)),
            }
            for i in order
            if counts[i]
        ],
    }
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    cache = summary["cache"]
    sources = summary["sources"]
    size = sum(s["size"] or 0 for s in sources)
    tk = summary["tokenizer"]
    lines = [
        f"stream     {cache.get('path') or '(not cached)'}  "
        f"({'cache hit' if cache.get('hit') else 'tokenized'} in {cache.get('seconds', 0):.2f} s"
        f"{'; the damaged cache entry was rebuilt' if cache.get('rebuilt') else ''})",
        f"sources    {len(sources)} ({size:,} bytes)",
        f"tokenizer  {tk.get('spec')} ({tk.get('kind')}), sha256 {str(tk.get('sha256'))[:12]}",
        f"tokens     {stream.n_tokens:,}{' (truncated by --max-tokens)' if summary['truncated'] else ''}",
        f"documents  {stream.n_documents:,}",
        f"vocab      {stream.vocab_size:,} ids, {summary['vocab_used']:,} used, dtype {summary['dtype']}",
        f"eos        {stream.eos_id} {tk.get('eos_token', '')!r}",
    ]
    if summary["top_tokens"]:
        lines.append("top tokens")
        lines += [
            f"  {t['id']:>7}  {t['token']!r:<16} {t['count']:>12,}  {100 * t['share']:5.2f}%"
            for t in summary["top_tokens"]
        ]
    click.echo("\n".join(lines))


@click.command("measure")
@corpus_input_options
@output_options("report.json", plot=False, figures="the figures (PNG and SVG)")
@click.option(
    "--lags",
    default=None,
    metavar="LIST",
    help="Lags of C(t), e.g. 1,2,4,8 or 1-16 [default: ~8 per decade 1..1024 + paper lags].",
)
@click.option(
    "--n-max", type=click.IntRange(min=1), default=32, show_default=True, help="Largest context length n of H_n."
)
@click.option(
    "--within-documents",
    is_flag=True,
    help="Count pairs and n-grams inside documents only [default: across, as the paper].",
)
@click.option(
    "--shards",
    "n_shards",
    type=int,
    default=DEFAULT_SHARDS,
    show_default=True,
    help=f"Document shards of the jackknife (1..{MAX_SHARDS}).",
)
@snr_threshold_option
@seed_option(
    "Seed of every random choice (shuffled floor, debiasing halves, held-out split, Lanczos starts, "
    "bootstrap; one SeedSequence spawns them all); same seed and inputs, same report."
)
@click.option(
    "--entropy-curve",
    "external",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="External L_n curve (CSV/JSON of n, loss), e.g. per-position loss of a trained model.",
)
@click.option(
    "--units",
    type=click.Choice(["nats", "bits"]),
    default="nats",
    show_default=True,
    help="Units of the losses in --entropy-curve.",
)
@click.option(
    "--memory-limit",
    default=None,
    metavar="SIZE",
    help=f"Memory the counting may use, e.g. 8GB [default: {DEFAULT_RAM_FRACTION:.0%} of the machine's RAM]; "
    "C(t) and H_n are counted in partitions that fit (docs/scale.md).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="WHERE",
    help="Run the partitions on Dask: local:N (N worker processes here) or tcp://HOST:PORT (workers read "
    "the saved stream from the same path) [default: this process].",
)
@click.option(
    "--lm",
    default=None,
    metavar="NAME_OR_PATH",
    help="Causal language model whose L_n (held-out, context --n-max) gamma is fitted on; the corpus is "
    "tokenized with its tokenizer (see lm-curve -h).",
)
@lm_options
@click.option(
    "--spectrum",
    "spectrum_k",
    type=click.IntRange(min=1),
    default=None,
    metavar="K",
    help="Also compute the top K singular values of C(t) at the measured lags against the shuffled noise edge "
    "(as `corpus-stats spectrum`; K < V): spectrum.json, spectrum.csv, and with --plot spectrum.png.",
)
@collapse_option("measure")
@user_errors
def measure_command(
    corpus_input,
    out,
    force,
    as_json,
    plot,
    lags,
    n_max,
    within_documents,
    n_shards,
    snr_threshold,
    seed,
    external,
    units,
    memory_limit,
    scheduler,
    lm,
    lm_options,
    spectrum_k,
    collapse_table,
):
    """Measure C(t) and H_n of INPUTS and predict the data-scaling exponent alpha_D.

    INPUTS may also be one saved token stream directory (tokenize -o, synth --format stream),
    which is memory-mapped and measured without re-tokenizing (the tokenizer options are ignored).
    Writes report.json, correlations.csv and entropy.csv into --out and prints a summary.
    """
    import time
    from pathlib import Path

    from corpus_stats.pipeline import measure
    from corpus_stats.report.summary import format_summary

    options = dict(corpus_input)
    inputs = options.pop("corpus_or_inputs")
    out = Path(out or default_out(inputs))
    if (out / "report.json").exists() and not force:  # fail before the (long) measurement
        raise click.ClickException(
            f"{out / 'report.json'} already exists; choose another --out or pass --force to replace it."
        )
    if spectrum_k is not None and (out / "spectrum.json").exists() and not force:
        raise click.ClickException(
            f"{out / 'spectrum.json'} already exists; choose another --out or pass --force to replace it."
        )
    check_output_dir(out)
    if lags is not None:
        from corpus_stats.correlations.curve import parse_lags

        lags = parse_lags(lags)
    if lm is not None:
        if external is not None:
            raise click.ClickException("give either --entropy-curve or --lm, not both.")
        options["tokenizer"] = model_tokenizer_or_fail(lm, options["tokenizer"])
    if external is not None:  # read (and validate) before the long measurement
        from corpus_stats.entropy.curve import read_entropy_curve

        external = read_entropy_curve(external, units=units)
    if collapse_table is not None:  # likewise: a malformed table fails before measuring
        from corpus_stats.report.loss_tables import read_collapse_table

        collapse_table = read_collapse_table(collapse_table)
    progress = options.pop("progress")
    kept = []  # the measured stream, for --spectrum

    def keep_stream(stream):  # called before any counting: K >= V fails here, not after the measurement
        from corpus_stats.correlations.spectrum import check_k

        try:
            check_k(spectrum_k, stream.vocab_size)
        except ValueError as exc:
            raise click.ClickException(f"--spectrum: {exc}") from None
        kept.append(stream)

    m = measure(
        inputs,
        options.pop("tokenizer"),
        lags=lags,
        n_max=n_max,
        within_documents=within_documents,
        n_shards=n_shards,
        seed=seed,
        snr_threshold=snr_threshold,
        external=external,
        lm=lm,
        lm_options=lm_options if lm is not None else None,
        progress=progress,
        memory_limit=memory_limit,
        scheduler=scheduler,
        on_stream=None if spectrum_k is None else keep_stream,
        **options,
    )
    files = [m.save(out, force=force)]
    files += [out / n for n in ("correlations.csv", "entropy.csv")]
    if plot or collapse_table is not None:
        from corpus_stats.report.plotting import plot_report

        files += plot_report(m, out, collapse=collapse_table)
    spectrum_line = None
    if spectrum_k is not None:  # on the stream just measured, at its lags: nothing is tokenized again
        from corpus_stats.cli.spectrum import save_spectrum
        from corpus_stats.correlations.spectrum import spectrum

        start = time.perf_counter()
        spec = spectrum(
            kept[0], m.correlations.lags, spectrum_k, within_documents=within_documents, seed=seed,
            progress=progress,
        )  # fmt: skip
        files += save_spectrum(spec, out, plot)
        spectrum_line = f"  spectrum  {spec.summary()} ({time.perf_counter() - start:.1f} s)"
    if as_json:
        click.echo(m.to_json(), nl=False)
        return
    summary = format_summary(m, files=files).split("\n")
    if spectrum_line:
        summary.insert(
            next((i for i, x in enumerate(summary) if x.startswith("  took")), len(summary) - 1), spectrum_line
        )
    click.echo("\n".join(summary))


@click.command("plot")
@click.argument("report", type=click.Path(exists=True))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to write the figures [default: next to the report].",
)
@click.option(
    "--format", "formats", default="png,svg", show_default=True, help="Comma-separated figure formats (png, svg, pdf)."
)
@click.option(
    "--learning-curve",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="CSV of a measured learning curve (columns: tokens, loss) to compare.",
)
@collapse_option("plot")
@user_errors
def plot_command(report, out, formats, learning_curve, collapse_table):
    """Draw the figures of a report.json (or of the directory holding one)."""
    from pathlib import Path

    from corpus_stats.report.loss_tables import read_collapse_table, read_learning_curve
    from corpus_stats.report.measurement import load_measurement
    from corpus_stats.report.plotting import plot_report

    out = Path(out) if out else (Path(report) if Path(report).is_dir() else Path(report).parent)
    check_output_dir(out)
    m = load_measurement(report)
    lc = read_learning_curve(learning_curve) if learning_curve else None
    table = read_collapse_table(collapse_table) if collapse_table else None
    files = plot_report(
        m, out, formats=[f.strip() for f in formats.split(",") if f.strip()], learning_curve=lc, collapse=table
    )
    click.echo("\n".join(str(f) for f in files))
