"""Shared pieces of the command line: the user-error wrapper and the option bundles several commands use."""

from __future__ import annotations

import functools

import click

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


snr_threshold_option = click.option(
    "--snr-threshold",
    type=float,
    default=None,
    metavar="FLOAT",
    help="Fit beta only at lags where signal/noise >= this [default: the report's own, else "
    "scaling.SNR_THRESHOLD = 5].",
)


def seed_option(purpose: str):
    """``--seed`` (a non-negative integer, default 0) with what it seeds in the help."""
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help=purpose)


def output_options(product: str, *, plot: bool | None = None, figures: str = "the figures"):
    """``--out``, ``--force`` and ``--json`` for a command that writes ``product`` into an output directory,
    and ``--plot/--no-plot`` (default ``plot``) when it also draws ``figures``."""

    def decorate(func):
        if plot is not None:
            func = click.option(
                "--plot/--no-plot", default=plot, show_default=True, help=f"Write {figures} into --out."
            )(func)
        func = click.option("--json", "as_json", is_flag=True, help=f"Print {product} to stdout (and nothing else).")(
            func
        )
        func = click.option("--force", is_flag=True, help=f"Replace an existing {product} in --out.")(func)
        return click.option(
            "--out",
            type=click.Path(file_okay=False),
            default=None,
            help="Output directory [default: ./corpus-stats-out/<corpus name>].",
        )(func)

    return decorate


def check_output_dir(path, option: str = "--out") -> None:
    """Fail in words, before any (long) computation, when ``path`` cannot become a writable directory.

    Probes the deepest existing ancestor (where ``mkdir`` would start) by creating and removing a file
    there, so permissions, read-only file systems and root are all judged by the system itself.
    """
    import os
    import tempfile
    from pathlib import Path

    path = Path(path).expanduser()
    probe = path
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise click.ClickException(
            f"cannot write to {option} {path}: {probe} is a file, not a directory; choose another {option}."
        )
    try:
        fd, tmp = tempfile.mkstemp(prefix=".corpus-stats-write-test-", dir=probe)
    except OSError as exc:
        raise click.ClickException(
            f"cannot write to {option} {path}: {probe} is not writable ({exc.strerror or exc}); "
            f"choose another {option} or change its permissions."
        ) from None
    os.close(fd)
    os.unlink(tmp)


def collapse_option(command: str):
    """The ``--collapse TABLE.csv`` option, worded for ``measure`` or ``plot``."""
    also = "; implies --plot" if command == "measure" else ""
    return click.option(
        "--collapse",
        "collapse_table",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        metavar="TABLE.csv",
        help="CSV of n-gram losses L_n(P) (columns: n, tokens, loss in nats): also draw collapse.png, "
        f"(L_n - H_inf) n^gamma against P / n^(2 beta), with the collapse score{also}.",
    )


def _unescape(text: str) -> str:
    """Let ``--doc-split '\n\n'`` mean two newlines (shells pass the backslashes through)."""
    return text.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")


def corpus_input_options(func):
    """Add the corpus inputs and tokenizer options to a command, passed on as one dict.

    The command receives ``corpus_input``, a dict of keyword arguments for
    :func:`corpus_stats.text.tokenization.tokenize` (``tokenize(**corpus_input)`` gives the stream).
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
            help="Where tokenized streams are cached [default: $CORPUS_STATS_CACHE, else "
            "$XDG_CACHE_HOME/corpus-stats, else ~/.cache/corpus-stats].",
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


def default_out(inputs) -> str:
    """./corpus-stats-out/<name of the first input> (file stem, directory or dataset name)."""
    import re
    from pathlib import Path

    first = str(inputs[0]) if inputs else "corpus"
    name = first[3:] if first.startswith("hf:") else Path(first.rstrip("/")).name.split(".")[0]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "corpus"
    return str(Path("corpus-stats-out") / name)
