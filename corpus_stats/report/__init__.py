"""The measurement's record: :class:`Measurement` and its versioned JSON / CSV files, and figures.

Figures live in :mod:`corpus_stats.report.plotting` (:func:`~corpus_stats.report.plotting.plot_report` writes
them all), :mod:`~corpus_stats.report.entropy_figure` and :mod:`~corpus_stats.report.loss_figures`, on the
helpers of :mod:`~corpus_stats.report.figure_style` (imported on use: they pull in matplotlib).
"""

from corpus_stats.report.loss_tables import read_collapse_table, read_learning_curve
from corpus_stats.report.measurement import Measurement, load_measurement
from corpus_stats.report.schema import report_schema, validate_report

__all__ = [
    "Measurement",
    "load_measurement",
    "read_collapse_table",
    "read_learning_curve",
    "report_schema",
    "validate_report",
]
