"""The `corpus-stats` command line: a thin click layer over the library.

User errors (``ValueError``, ``TypeError``, ``FileNotFoundError`` raised by the library with a clear
message) become one-line ``click.ClickException`` messages with exit code 1; tracebacks are for bugs.
"""

from __future__ import annotations

import functools

import click

from corpus_stats import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def user_errors(func):
    """Turn the library's user-facing exceptions into one clear line and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ValueError, TypeError, FileNotFoundError, FileExistsError, OSError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


collapse_option = click.option(
    "--collapse",
    "collapse_table",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    metavar="TABLE.csv",
    help="CSV of n-gram losses L_n(P) (columns: n, tokens, loss in nats): draw (L_n - H_inf) n^gamma "
    "against P / n^(2 beta) with the collapse score (collapse.png; on measure it implies --plot).",
)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="corpus-stats")
def cli():
    """Measure how a corpus's correlations and conditional entropy decay, and predict the
    data-scaling exponent alpha_D = gamma / (2 beta) of a language model trained on it."""


@cli.command("synth")
@click.argument(
    "kind",
    type=click.Choice(["iid_zipf", "markov_chain", "copy_process", "santa_fe", "random_hierarchy"]),
)
@click.option(
    "--tokens",
    "n_tokens",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Corpus length (random_hierarchy: rounded up to whole trees).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False),
    required=True,
    help="Directory to write (corpus.txt or stream/, plus synthetic.json).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "stream"]),
    default="text",
    show_default=True,
    help="text: one document per line, ids as space-separated words; stream: a saved TokenStream.",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Generator parameter, e.g. -p rho=0.3 -p a=0.5 (repeatable).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing corpus in the directory.")
@user_errors
def synth_command(kind, n_tokens, seed, output, fmt, params, force):
    """Write a synthetic corpus whose C(t) and/or H_n are known exactly (see synthetic.json)."""
    from corpus_stats import synthetic

    kwargs = {}
    for item in params:
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--param must look like NAME=VALUE; got {item!r}.")
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"--param {name} must be a number; got {value!r}.") from None
        kwargs[name.strip()] = int(number) if number.is_integer() and "." not in value else number
    corpus = synthetic.make(kind, n_tokens, seed=seed, **kwargs)
    path = synthetic.write_corpus(corpus, output, fmt=fmt, overwrite=force)
    click.echo(f"wrote {corpus.stream!r} to {path} (exact curves in {path.parent / 'synthetic.json'})", err=True)


def _unescape(text: str) -> str:
    """Let ``--doc-split '\n\n'`` mean two newlines (shells pass the backslashes through)."""
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")


def corpus_input_options(func):
    """Add the corpus inputs and tokenizer options to a command, passed on as one dict.

    The command receives ``corpus_input``, a dict of keyword arguments for
    :func:`corpus_stats.tokenization.tokenize` (``tokenize(**corpus_input)`` gives the stream).
    """
    options = [
        click.argument("inputs", nargs=-1, required=True, metavar="INPUTS..."),
        click.option(
            "--glob",
            "glob_pattern",
            default="*.txt",
            show_default=True,
            help="File pattern used inside directories (searched recursively).",
        ),
        click.option(
            "--doc-split",
            default="auto",
            show_default=True,
            metavar="MODE",
            help="auto | file | line | blank-line | a literal separator (\\n allowed). "
            "auto: split on <|endoftext|> when present, else one document per file.",
        ),
        click.option("--encoding", default="utf-8", show_default=True, help="Text encoding of input files."),
        click.option(
            "--errors", default="strict", show_default=True, help="Decoding error handler: strict | replace | ignore."
        ),
        click.option("--split", default="train", show_default=True, help="Split of an hf: dataset."),
        click.option(
            "--text-field",
            default="text",
            show_default=True,
            help="Record field holding the text (jsonl/json/parquet/arrow/hf:).",
        ),
        click.option("--max-tokens", type=click.IntRange(min=1), default=None, help="Keep only the first N tokens."),
        click.option(
            "--max-documents", type=click.IntRange(min=1), default=None, help="Keep only the first N documents."
        ),
        click.option(
            "-t",
            "--tokenizer",
            default="bpe:8192",
            show_default=True,
            help="bpe:V (trained on the corpus), a tokenizer.json path, a pretrained name, bytes or chars.",
        ),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False),
            default=None,
            help="Where tokenized streams are cached [default: ~/.cache/corpus-stats].",
        ),
        click.option("--no-cache", is_flag=True, help="Neither read nor write the stream cache."),
        click.option(
            "--quiet/--progress",
            "quiet",
            default=None,
            help="Progress bars on stderr [default: when stderr is a terminal].",
        ),
    ]

    @functools.wraps(func)
    def wrapper(
        *args,
        inputs,
        glob_pattern,
        doc_split,
        encoding,
        errors,
        split,
        text_field,
        max_tokens,
        max_documents,
        tokenizer,
        cache_dir,
        no_cache,
        quiet,
        **kwargs,
    ):
        import sys

        kwargs["corpus_input"] = {
            "corpus_or_inputs": list(inputs),
            "tokenizer": tokenizer,
            "max_tokens": max_tokens,
            "cache_dir": cache_dir,
            "use_cache": not no_cache,
            "progress": sys.stderr.isatty() if quiet is None else not quiet,
            "glob": glob_pattern,
            "doc_split": _unescape(doc_split),
            "encoding": encoding,
            "errors": errors,
            "split": split,
            "text_field": text_field,
            "max_documents": max_documents,
        }
        return func(*args, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@cli.command("tokenize")
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
@user_errors
def tokenize_command(corpus_input, top, output, as_json):
    """Tokenize INPUTS once into a cached token stream and describe it.

    INPUTS are text files (.txt, .gz, .xz, .bz2, .zst), directories, globs, '-' for stdin,
    .jsonl/.json/.parquet/.arrow files, or hf:NAME[:CONFIG] datasets.
    """
    import json

    import numpy as np

    from corpus_stats.tokenization import load_stream_tokenizer, tokenize

    stream = tokenize(**corpus_input)
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
        f"({'cache hit' if cache.get('hit') else 'tokenized'} in {cache.get('seconds', 0):.2f} s)",
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


# -- measure / plot / demo (issue 7) ---------------------------------------------------------


def _default_out(inputs) -> str:
    """./corpus-stats-out/<name of the first input> (file stem, directory or dataset name)."""
    import re
    from pathlib import Path

    first = str(inputs[0]) if inputs else "corpus"
    name = first[3:] if first.startswith("hf:") else Path(first.rstrip("/")).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "corpus"
    return str(Path("corpus-stats-out") / name)


@cli.command("measure")
@corpus_input_options
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help="Output directory [default: ./corpus-stats-out/<corpus name>].",
)
@click.option("--force", is_flag=True, help="Replace an existing report in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print report.json to stdout (and nothing else).")
@click.option("--plot", is_flag=True, help="Also write the figures (PNG and SVG) into --out.")
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
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Document shards of the jackknife.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
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
@collapse_option
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
    seed,
    external,
    units,
    collapse_table,
):
    """Measure C(t) and H_n of INPUTS and predict the data-scaling exponent alpha_D.

    Writes report.json, correlations.csv and entropy.csv into --out and prints a summary.
    """
    from pathlib import Path

    from corpus_stats.pipeline import format_summary, measure

    options = dict(corpus_input)
    inputs = options.pop("corpus_or_inputs")
    out = Path(out or _default_out(inputs))
    if (out / "report.json").exists() and not force:  # fail before the (long) measurement
        raise click.ClickException(
            f"{out / 'report.json'} already exists; choose another --out or pass --force to replace it."
        )
    if lags is not None:
        from corpus_stats.correlations import parse_lags

        lags = parse_lags(lags)
    if external is not None:  # read (and validate) before the long measurement
        from corpus_stats.entropy import read_entropy_curve

        external = read_entropy_curve(external, units=units)
    if collapse_table is not None:  # likewise: a malformed table fails before measuring
        from corpus_stats.report import read_collapse_table

        collapse_table = read_collapse_table(collapse_table)
    m = measure(
        inputs,
        options.pop("tokenizer"),
        lags=lags,
        n_max=n_max,
        within_documents=within_documents,
        n_shards=n_shards,
        seed=seed,
        external=external,
        progress=options.pop("progress"),
        **options,
    )
    files = [m.save(out, force=force)]
    files += [out / n for n in ("correlations.csv", "entropy.csv")]
    if plot or collapse_table is not None:
        from corpus_stats.plotting import plot_report

        files += plot_report(m, out, collapse=collapse_table)
    if as_json:
        click.echo(m.to_json(), nl=False)
    else:
        click.echo(format_summary(m, files=files))


@cli.command("plot")
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
@collapse_option
@user_errors
def plot_command(report, out, formats, learning_curve, collapse_table):
    """Draw the figures of a report.json (or of the directory holding one)."""
    from pathlib import Path

    from corpus_stats.plotting import plot_report
    from corpus_stats.report import load_measurement, read_collapse_table, read_learning_curve

    m = load_measurement(report)
    out = Path(out) if out else (Path(report) if Path(report).is_dir() else Path(report).parent)
    lc = read_learning_curve(learning_curve) if learning_curve else None
    table = read_collapse_table(collapse_table) if collapse_table else None
    files = plot_report(
        m, out, formats=[f.strip() for f in formats.split(",") if f.strip()], learning_curve=lc, collapse=table
    )
    click.echo("\n".join(str(f) for f in files))


@cli.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="corpus-stats-out/demo",
    show_default=True,
    help="Where the demo's reports and figures go.",
)
@click.option("--force", is_flag=True, help="Replace the reports of an earlier demo in --out.")
@click.option(
    "--tokens",
    "n_tokens",
    type=click.IntRange(min=10_000),
    default=1_000_000,
    show_default=True,
    help="Tokens of the copy process (the Santa Fe corpus has 4x as many).",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option(
    "--quiet/--progress", "quiet", default=None, help="Progress bars on stderr [default: when stderr is a terminal]."
)
@user_errors
def demo_command(out, force, n_tokens, seed, quiet):
    """Measure synthetic corpora with known answers and print measured next to exact (no network)."""
    import sys
    from pathlib import Path

    from corpus_stats.demo import DEMO_FIGURES, format_demo, run_demo
    from corpus_stats.plotting import plot_report

    subdirs = {name: Path(out) / name for name in DEMO_FIGURES}
    existing = [str(d / "report.json") for d in subdirs.values() if (d / "report.json").exists()]
    if existing and not force:  # fail before measuring, like `measure`
        raise click.ClickException(f"{existing[0]} already exists; choose another --out or pass --force to replace it.")
    progress = sys.stderr.isatty() if quiet is None else not quiet
    results = run_demo(n_tokens, seed=seed, progress=progress)
    click.echo(format_demo(results))
    for res in results:
        if res["measurement"] is None:
            continue
        sub = subdirs[res["key"]]
        res["measurement"].save(sub, force=force)
        files = plot_report(
            res["measurement"], sub, formats=("png",), figures=DEMO_FIGURES[res["key"]], exact=res.get("exact")
        )
        click.echo(f"wrote {sub / 'report.json'}, " + ", ".join(f.name for f in files))


def _prediction_options(func):
    """Options shared by `predict` and `compare` (passed on to scaling.predict)."""
    func = click.option(
        "--confidence",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.9,
        show_default=True,
        help="Level of the reported intervals.",
    )(func)
    func = click.option(
        "--floor-constant",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        help="c in the noise level c/sqrt(P) for the horizon [default: calibrated from the report's shuffled floor].",
    )(func)
    func = click.option(
        "--snr-threshold",
        type=click.FloatRange(min=0, min_open=True),
        default=5.0,
        show_default=True,
        help="Fit beta only where signal/noise >= this.",
    )(func)
    return func


def _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence):
    from corpus_stats.report import load_measurement
    from scaling import predict

    m = load_measurement(report)
    return predict(
        m,
        snr_threshold=snr_threshold,
        floor_constant=floor_constant,
        tokens=list(tokens) or None,
        confidence=confidence,
    )


@cli.command("predict")
@click.argument("report", type=click.Path(exists=True))
@click.option(
    "--tokens",
    "-P",
    "tokens",
    type=click.FloatRange(min=1),
    multiple=True,
    metavar="P",
    help="Training-set size for t*(P) and L(P); repeat for several [default: 1e6..1e12].",
)
@_prediction_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@user_errors
def predict_command(report, tokens, snr_threshold, floor_constant, confidence, as_json):
    """Fit beta and gamma of REPORT (report.json or its directory) and predict alpha_D, t*(P), L(P)."""
    import json

    pred = _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence)
    click.echo(json.dumps(pred.to_dict()) if as_json else pred.summary())


@cli.command("compare")
@click.argument("report", type=click.Path(exists=True))
@click.argument("learning_curve", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--first",
    type=click.IntRange(min=3),
    default=None,
    help="Fit only the first N points (smallest P) of the lower envelope, as the paper did.",
)
@_prediction_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
@user_errors
def compare_command(report, learning_curve, first, snr_threshold, floor_constant, confidence, as_json):
    """Compare a measured LEARNING_CURVE (CSV: tokens, loss) with the alpha_D predicted from REPORT."""
    import json

    from corpus_stats.report import read_learning_curve
    from scaling import compare_learning_curve

    tokens, loss = read_learning_curve(learning_curve)
    pred = _load_and_predict(report, tokens, snr_threshold, floor_constant, confidence)
    cmp = compare_learning_curve(pred, tokens, loss, first=first, confidence=confidence)
    click.echo(json.dumps(cmp.to_dict()) if as_json else cmp.summary())


@cli.command("check")
@click.argument("cases", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the table) on stdout.")
@click.option(
    "--update", is_flag=True, help="Rewrite our own baselines (and exact values from their formulas); prints the diff."
)
@click.option(
    "--shared",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory with corpora/ and tokenizers/ (default: $CORPUS_STATS_SHARED or ../shared).",
)
@click.option("--list", "list_only", is_flag=True, help="List the reference cases and exit.")
@click.option("--progress", is_flag=True, help="Report each case's time on stderr.")
@user_errors
def check_command(cases, as_json, update, shared, list_only, progress):
    """Run reference cases (default: all in data/reference) and print case / quantity / expected /
    measured / tolerance / status. Exit 1 if any check fails; absent corpora are SKIPPED, never passed."""
    import json as _json

    from corpus_stats import check

    if list_only:
        for name in check.available_cases():
            case = check.load_case(name)
            click.echo(f"{name}  [{case['kind']}]  {case['guards']}")
        return
    report = check.run_checks(cases, shared=shared, update=update, progress=progress)
    if as_json:
        click.echo(_json.dumps(report.to_dict()))
    else:
        click.echo(report.table())
        for line in report.updates:
            click.echo(f"updated {line}", err=True)
    if not report.ok:
        raise SystemExit(1)


def main():
    """Console-script entry point."""
    cli(prog_name="corpus-stats")
