"""The `corpus-stats` command line: a thin click layer over the library.

User errors (``ValueError``, ``TypeError``, ``FileNotFoundError`` raised by the library with a clear
message) become one-line ``click.ClickException`` messages; tracebacks are for bugs. Exit statuses (one
convention, stated in ``corpus-stats --help``): 0 success, 1 any user error (click's own usage errors
included, which click would exit with 2), 130 interrupted (Ctrl-C).

This module holds the group and the entry point; the commands live in modules by concern
(``measure``: tokenize, measure, plot; ``lm``: lm-curve; ``predict``: predict, compare; ``validation``:
synth, demo, check; ``spectrum``; ``geometry``; ``horizon``) and the shared option bundles in ``common``. Each
command module imports only click at start-up (the library is imported inside the commands), so
``corpus-stats --help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from corpus_stats._version import __version__
from corpus_stats.cli.common import CONTEXT_SETTINGS
from corpus_stats.cli.geometry import geometry_command
from corpus_stats.cli.horizon import horizon_command
from corpus_stats.cli.lm import lm_curve_command
from corpus_stats.cli.measure import measure_command, plot_command, tokenize_command
from corpus_stats.cli.predict import compare_command, predict_command
from corpus_stats.cli.spectrum import spectrum_command
from corpus_stats.cli.validation import check_command, demo_command, synth_command

EXIT_USER_ERROR, EXIT_INTERRUPTED = 1, 130
EPILOG = (
    "Exit status: 0 success; 1 a user error (bad option, argument or input: one line 'Error: ...', "
    "nothing written); 130 interrupted (Ctrl-C; finished cache entries are kept, nothing half-written is "
    "trusted). Any other status, or a traceback, is a bug: please report it."
)


class _Group(click.Group):
    """A click group with the exit statuses above (click exits 2 on usage errors and 1 on Ctrl-C)."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `corpus-stats`: help, not an error
            exc.show()
            code = 0
        except click.ClickException as exc:
            exc.show()
            code = EXIT_USER_ERROR
        except (click.Abort, KeyboardInterrupt):
            click.echo("Interrupted.", err=True)
            code = EXIT_INTERRUPTED
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_Group, context_settings=CONTEXT_SETTINGS, epilog=EPILOG)
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
    spectrum_command,
    geometry_command,
    horizon_command,
):
    cli.add_command(_command)
del _command


def main():
    """Console-script entry point."""
    cli(prog_name="corpus-stats")
