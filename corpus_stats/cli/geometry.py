"""`corpus-stats geometry`: the co-occurrence geometry of a word set (or a tree of words) in a corpus."""

from __future__ import annotations

import click

from corpus_stats.cli.common import corpus_input_options, output_options, seed_option, user_errors

_READ_OPTIONS = ("glob", "doc_split", "encoding", "errors", "split", "text_field", "max_documents")


@click.command("geometry")
@corpus_input_options
@click.option(
    "--set",
    "set_spec",
    required=True,
    metavar="NAME|FILE",
    help="months | weekdays | numbers | years, or a file: one word per line ('# cyclic' first line for a "
    "cyclic set), a JSON list / {'words': [...], 'cyclic': true}, or a JSON tree of words.",
)
@click.option("--cyclic/--open", "cyclic", default=None, help="Override whether the set's order wraps around.")
@click.option(
    "--window",
    default="5",
    show_default=True,
    metavar="W|sentence|document",
    help="Co-occurrence within ±W words (inside a document), or within one sentence / document.",
)
@click.option(
    "--vocab",
    "n_frequent",
    type=click.IntRange(min=10),
    default=4000,
    show_default=True,
    help="K most frequent words whose PPMI gives the embeddings.",
)
@click.option("--dim", type=click.IntRange(min=2), default=50, show_default=True, help="Embedding dimension.")
@click.option(
    "--min-count",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Mask pairs seen fewer times (noisy PMI).",
)
@click.option("--lowercase", is_flag=True, help="Fold case before splitting into words ('May' = 'may').")
@click.option("--no-ablation", is_flag=True, help="Skip the ablation (recount without the set's co-occurrences).")
@click.option("--drop-missing", is_flag=True, help="Drop set words absent from the corpus instead of failing.")
@seed_option("Seed of the random orders (null).")
@output_options("geometry-<set>.json", plot=True, figures="geometry-<set>.png")
@user_errors
def geometry_command(
    corpus_input, set_spec, cyclic, window, n_frequent, dim, min_count, lowercase, no_ablation, drop_missing, seed,
    out, force, plot, as_json,
):  # fmt: skip
    """Shape of a word set in INPUTS: its PMI submatrix and shift symmetry, the embedding geometry it
    induces (Fourier modes, order), the ablation, and for a tree whether broad branches split first.

    Words are what the tokenizer's pre-tokenizer (-t) sees; --max-tokens keeps the first N words.
    """
    import json
    import re
    from pathlib import Path

    from corpus_stats._io import atomic_write_text
    from corpus_stats.cli.common import default_out
    from corpus_stats.geometry import resolve_set, set_geometry, summary_lines, word_stream
    from corpus_stats.geometry.cooccurrence import parse_window
    from corpus_stats.text import read_corpus

    window = parse_window(window)
    word_set = resolve_set(set_spec, cyclic)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(word_set.name).stem) or "set"
    out = Path(out or default_out(corpus_input["corpus_or_inputs"]))
    target = out / f"geometry-{name}.json"
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists; pass --force to replace it or choose --out.")
    corpus = read_corpus(corpus_input["corpus_or_inputs"], **{k: corpus_input[k] for k in _READ_OPTIONS})
    ws = word_stream(
        corpus, corpus_input["tokenizer"], lowercase=lowercase, max_words=corpus_input["max_tokens"],
        cache_dir=corpus_input["cache_dir"], use_cache=corpus_input["use_cache"],
    )  # fmt: skip
    geom = set_geometry(
        ws, word_set, window=window, n_frequent=n_frequent, dim=dim, min_count=min_count,
        ablation=not no_ablation, drop_missing=drop_missing, seed=seed,
    )  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(geom.to_dict(), indent=1)
    atomic_write_text(target, text)
    if plot:
        from corpus_stats.report.geometry_figures import set_figure

        set_figure(geom, out / f"geometry-{name}.png")
    if as_json:
        click.echo(text)
        return
    lines = summary_lines(geom)
    lines.append(f"wrote {target}" + (f", geometry-{name}.png" if plot else ""))
    click.echo("\n".join(lines))
