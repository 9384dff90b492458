"""The `corpus-stats` command line: a thin click layer over the library.

User errors (``ValueError``, ``TypeError``, ``FileNotFoundError`` raised by the library with a clear
message) become one-line ``click.ClickException`` messages with exit code 1; tracebacks are for bugs.

This module holds the group and the entry point; the commands live in private modules by concern
(``_cli_measure``: tokenize, measure, plot; ``_cli_scaling``: predict, compare; ``_cli_validation``:
synth, demo, check) and the shared option bundles in ``_cli_common``. Each command module imports only
click at start-up (the library is imported inside the commands), so ``corpus-stats --help`` stays fast.
"""

from __future__ import annotations

import click

from corpus_stats import __version__

# Re-exported (noqa'd) so that every name importable from corpus_stats.cli before the split still is.
from corpus_stats._cli_common import (  # noqa: F401
    CONTEXT_SETTINGS,
    _unescape,
    collapse_option,
    corpus_input_options,
    user_errors,
)
from corpus_stats._cli_measure import _default_out, measure_command, plot_command, tokenize_command  # noqa: F401
from corpus_stats._cli_scaling import (  # noqa: F401
    _load_and_predict,
    _prediction_options,
    compare_command,
    predict_command,
)
from corpus_stats._cli_validation import check_command, demo_command, synth_command


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="corpus-stats")
def cli():
    """Measure how a corpus's correlations and conditional entropy decay, and predict the
    data-scaling exponent alpha_D = gamma / (2 beta) of a language model trained on it."""


# Registered here rather than by decorating in the command modules, so those modules need not import this one.
for _command in (
    synth_command,
    tokenize_command,
    measure_command,
    plot_command,
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
