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


def main():
    """Console-script entry point."""
    cli(prog_name="corpus-stats")
