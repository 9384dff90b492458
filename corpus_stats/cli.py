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
@click.option("--tokens", "n_tokens", type=click.IntRange(min=1), default=1_000_000, show_default=True,
              help="Corpus length (random_hierarchy: rounded up to whole trees).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(file_okay=False), required=True,
              help="Directory to write (corpus.txt or stream/, plus synthetic.json).")
@click.option("--format", "fmt", type=click.Choice(["text", "stream"]), default="text",
              show_default=True, help="text: one document per line, ids as space-separated words; "
              "stream: a saved TokenStream.")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Generator parameter, e.g. -p rho=0.3 -p a=0.5 (repeatable).")
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
    click.echo(f"wrote {corpus.stream!r} to {path} (exact curves in {path.parent / 'synthetic.json'})",
               err=True)


def main():
    """Console-script entry point."""
    cli(prog_name="corpus-stats")
