"""The `corpus-stats` command line: a thin click layer over the library.

User errors (``ValueError``, ``TypeError``, ``FileNotFoundError`` raised by the library with a clear
message) become one-line ``click.ClickException`` messages with exit code 1; tracebacks are for bugs.

This module holds the group and the entry point; the commands live in modules by concern
(``measure``: tokenize, measure, plot; ``lm``: lm-curve; ``predict``: predict, compare; ``validation``:
synth, demo, check) and the shared option bundles in ``common``. Each command module imports only
click at start-up (the library is imported inside the commands), so ``corpus-stats --help`` stays fast.
"""

from __future__ import annotations

import click

from corpus_stats._version import __version__
from corpus_stats.cli.common import CONTEXT_SETTINGS
from corpus_stats.cli.lm import lm_curve_command
from corpus_stats.cli.measure import measure_command, plot_command, tokenize_command
from corpus_stats.cli.predict import compare_command, predict_command
from corpus_stats.cli.validation import check_command, demo_command, synth_command


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="corpus-stats")
def cli():
    """Measure how a corpus's correlations and conditional entropy decay, and predict the
    data-scaling exponent alpha_D = gamma / (2 beta) of a language model trained on it."""
    import warnings

    warnings.showwarning = _show_warning


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Library warnings (e.g. a damaged cache entry rebuilt) as one line on stderr, without a source line."""
    click.echo(f"warning: {message}", err=True)


# Registered here rather than by decorating in the command modules, so those modules need not import this one.
for _command in (
    synth_command,
    tokenize_command,
    measure_command,
    plot_command,
    lm_curve_command,
    demo_command,
    predict_command,
    compare_command,
    check_command,
):
    cli.add_command(_command)
del _command


def main():
    """Console-script entry point."""
    cli(prog_name="corpus-stats")
