"""Commands built on known answers: synth writes exact synthetic corpora, demo measures them, check runs the
reference cases."""

from __future__ import annotations

import click

from corpus_stats.cli.common import check_output_dir, seed_option, user_errors


@click.command("synth")
@click.argument(
    "kind",
    type=click.Choice(
        [
            "iid_zipf",
            "markov_chain",
            "copy_process",
            "santa_fe",
            "random_hierarchy",
            "zipf_hierarchy",
            "ambiguous_hierarchy",
            "varying_tree_hierarchy",
            "planted_circle",
            "planted_tree",
        ]  # fmt: skip
    ),
)
@click.option(
    "--tokens",
    "n_tokens",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Corpus length (grammars: rounded up to whole trees).",
)
@seed_option("Seed of the generator (same seed, same corpus).")
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


@click.command("demo")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="corpus-stats-out/demo",
    show_default=True,
    help="Where the demo's reports and figures go.",
)
@click.option(
    "--force", is_flag=True, help="Replace reports in --out that an earlier demo did not write (its own it replaces)."
)
@click.option(
    "--tokens",
    "n_tokens",
    type=click.IntRange(min=10_000),
    default=1_000_000,
    show_default=True,
    help="Tokens of the copy process (the Santa Fe corpus has 4x as many).",
)
@seed_option("Seed of the synthetic corpora and of every random choice in measuring them.")
@click.option(
    "--quiet/--progress", "quiet", default=None, help="Progress bars on stderr [default: when stderr is a terminal]."
)
@user_errors
def demo_command(out, force, n_tokens, seed, quiet):
    """Measure synthetic corpora with known answers and print measured next to exact (no network)."""
    import sys
    from pathlib import Path

    from corpus_stats.report.plotting import plot_report
    from corpus_stats.validation.demo import DEMO_FIGURES, format_demo, is_demo_report, run_demo

    subdirs = {name: Path(out) / name for name in DEMO_FIGURES}
    reports = {name: d / "report.json" for name, d in subdirs.items()}
    foreign = [str(r) for name, r in reports.items() if r.exists() and not is_demo_report(r, name)]
    if foreign and not force:  # fail before measuring; the demo's own earlier reports are simply replaced
        raise click.ClickException(
            f"{foreign[0]} already exists and was not written by the demo; choose another --out or pass --force "
            "to replace it."
        )
    check_output_dir(out)
    progress = sys.stderr.isatty() if quiet is None else not quiet
    results = run_demo(n_tokens, seed=seed, progress=progress)
    click.echo(format_demo(results))
    for res in results:
        if res["measurement"] is None:
            continue
        sub = subdirs[res["key"]]
        res["measurement"].save(sub, force=True)  # checked above: nothing foreign, or --force
        files = plot_report(
            res["measurement"], sub, formats=("png",), figures=DEMO_FIGURES[res["key"]], exact=res.get("exact")
        )
        click.echo(f"wrote {sub / 'report.json'}, " + ", ".join(f.name for f in files))


@click.command("check")
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

    from corpus_stats.validation import cases as reference_cases
    from corpus_stats.validation import check

    if list_only:
        for name in reference_cases.available_cases():
            case = reference_cases.load_case(name)
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
