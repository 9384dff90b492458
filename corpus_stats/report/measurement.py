"""`Measurement`: the measured curves of one corpus, and its versioned JSON / CSV files.

A measurement is what ``corpus-stats measure`` writes and what ``scaling.predict`` reads. On disk it is
a directory holding

* ``report.json`` -- one JSON document (schema ``corpus-stats/report``, version
  :data:`~corpus_stats.report.schema.SCHEMA_VERSION`, documented in the README and in
  :func:`~corpus_stats.report.schema.report_schema`), and
* ``correlations.csv`` / ``entropy.csv`` -- the curves as plain tables for spreadsheets and pandas.

All files are written atomically (to a temporary name, then renamed), and ``report.json`` is renamed
into place last, so an interrupted write never leaves a report that describes curves it does not hold.
This module computes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corpus_stats._io import atomic_write_text, json_safe
from corpus_stats.report.schema import SCHEMA_NAME, SCHEMA_VERSION, validate_report

REPORT_FILE = "report.json"
CORRELATIONS_CSV = "correlations.csv"
ENTROPY_CSV = "entropy.csv"

# Columns of entropy.csv (correlations.csv: "lag", "n_pairs" and the curve's PER_LAG_FIELDS).
_ENTROPY_COLUMNS = (
    "n",
    "plugin",
    "corrected",
    "upper",
    "stderr",
    "valid",
    "external",
    "external_stderr",
    "extrapolated",
    "extrapolated_stderr",
    "extrapolated_valid",
    "systematic",  # last: added after the first release, so positional readers keep working
)


@dataclass(frozen=True, eq=False, repr=False)
class Measurement:
    """The measured C(t) and H_n curves of one corpus, with how and from what they were measured.

    Parameters
    ----------
    correlations : CorrelationCurve or None
        Output of :func:`corpus_stats.correlation_curve`, or None when not measured.
    entropy : EntropyCurve or None
        Output of :func:`corpus_stats.entropy_curve`, or None when not measured.
    provenance : dict
        Inputs and their hashes, tokenizer, corpus size, package version (JSON-serialisable).
    options : dict
        Every option the measurement ran with, seeds included.
    timings : dict
        Seconds spent per step (``tokenize``, ``correlations``, ``entropy``, ...).
    prediction : dict or None, default None
        JSON-safe summary of ``scaling.predict`` on these curves, when it was run.
    horizon : dict or None, default None
        JSON-safe :class:`~corpus_stats.correlations.horizon.HorizonCurve` (``to_dict``): ||C(t)||
        at nested sample sizes and the measured / predicted horizons; written to ``report.json``
        only when present.

    Notes
    -----
    ``scaling.predict`` reads ``.correlations`` and ``.entropy``; the prediction summary is stored
    only so that ``report.json`` is self-contained.
    """

    correlations: Any = None
    entropy: Any = None
    provenance: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    prediction: dict | None = None
    horizon: dict | None = None

    def __post_init__(self) -> None:
        for name in ("provenance", "options", "timings"):
            value = getattr(self, name)
            if not isinstance(value, dict):
                raise TypeError(f"Measurement.{name} must be a dict; got {type(value).__name__}.")
            object.__setattr__(self, name, dict(value))
        if self.prediction is not None and not isinstance(self.prediction, dict):
            raise TypeError(f"Measurement.prediction must be a dict or None; got {type(self.prediction).__name__}.")
        if self.horizon is not None and not isinstance(self.horizon, dict):
            raise TypeError(f"Measurement.horizon must be a dict or None; got {type(self.horizon).__name__}.")

    def with_prediction(self, prediction: dict | None) -> Measurement:
        """A copy with the prediction summary replaced."""
        return Measurement(
            self.correlations, self.entropy, self.provenance, self.options, self.timings, prediction, self.horizon
        )

    def with_horizon(self, horizon) -> Measurement:
        """A copy with the horizon section (a ``HorizonCurve`` or its dict) replaced."""
        doc = horizon if horizon is None or isinstance(horizon, dict) else horizon.to_dict()
        return Measurement(
            self.correlations, self.entropy, self.provenance, self.options, self.timings, self.prediction, doc
        )

    # -- serialisation ------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON-safe ``report.json`` document (NaN and inf become ``null``)."""
        from corpus_stats._version import __version__

        doc = {
            "schema": SCHEMA_NAME,
            "schema_version": SCHEMA_VERSION,
            "package_version": self.provenance.get("package_version", __version__),
            "created": self.provenance.get("created") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "provenance": self.provenance,
            "options": self.options,
            "timings": {k: float(v) for k, v in self.timings.items()},
            "correlations": None if self.correlations is None else self.correlations.to_dict(),
            "entropy": None if self.entropy is None else self.entropy.to_dict(),
            "prediction": self.prediction,
        }
        if self.horizon is not None:
            doc["horizon"] = self.horizon
        return json_safe(doc)

    @classmethod
    def from_dict(cls, doc: dict) -> Measurement:
        """Rebuild a measurement from a parsed ``report.json`` (checked by :func:`validate_report`)."""
        validate_report(doc)
        correlations = entropy = None
        if doc["correlations"] is not None:
            from corpus_stats.correlations.curve import CorrelationCurve

            correlations = CorrelationCurve.from_dict(doc["correlations"])
        if doc["entropy"] is not None:
            from corpus_stats.entropy.curve import EntropyCurve

            entropy = EntropyCurve.from_dict(doc["entropy"])
        provenance = dict(doc["provenance"])
        provenance.setdefault("package_version", doc["package_version"])
        provenance.setdefault("created", doc["created"])
        return cls(
            correlations, entropy, provenance, doc["options"], doc["timings"], doc["prediction"], doc.get("horizon")
        )

    def to_json(self) -> str:
        """``report.json`` as a string (strict JSON: no NaN)."""
        return json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"

    def save_json(self, path: str | os.PathLike) -> Path:
        """Write ``report.json`` to ``path`` atomically (temporary file, then rename)."""
        path = Path(path)
        atomic_write_text(path, self.to_json())
        return path

    def save(self, directory: str | os.PathLike, *, force: bool = False) -> Path:
        """Write ``report.json`` and the curve CSVs into ``directory``.

        Parameters
        ----------
        directory : path
            Created when missing.
        force : bool, default False
            Replace an existing report; without it an existing ``report.json`` is an error.

        Returns
        -------
        pathlib.Path
            Path of the written ``report.json``.

        Raises
        ------
        FileExistsError
            When ``directory/report.json`` exists and ``force`` is False.
        """
        directory = Path(directory)
        report = directory / REPORT_FILE
        if report.exists() and not force:
            raise FileExistsError(
                f"{report} already exists; choose another --out directory or pass --force to replace it."
            )
        directory.mkdir(parents=True, exist_ok=True)
        files = {}
        if self.correlations is not None:
            files[CORRELATIONS_CSV] = correlations_csv(self.correlations)
        if self.entropy is not None:
            files[ENTROPY_CSV] = entropy_csv(self.entropy)
        files[REPORT_FILE] = self.to_json()  # last: its presence marks a complete report
        for name, text in files.items():
            atomic_write_text(directory / name, text)
        return report

    def __repr__(self) -> str:
        prov = self.provenance
        size = prov.get("n_tokens")
        parts = [f"{size:,} tokens" if isinstance(size, int) else "? tokens"]
        if prov.get("tokenizer"):
            parts.append(f"tokenizer={_short(prov['tokenizer'])}")
        if self.correlations is not None:
            lags = self.correlations.lags
            parts.append(f"C(t) at {len(lags)} lags {int(lags[0])}..{int(lags[-1])}" if len(lags) else "C(t) empty")
        if self.entropy is not None:
            n_valid = int(sum(bool(v) for v in self.entropy.valid))
            parts.append(f"H_n for n=0..{int(self.entropy.n[-1])} ({n_valid} valid)")
        alpha = (self.prediction or {}).get("alpha_D")
        alpha = alpha.get("value") if isinstance(alpha, dict) else alpha
        if isinstance(alpha, (int, float)):
            parts.append(f"alpha_D={alpha:.3g}")
        return f"Measurement({', '.join(parts)})"


def load_measurement(path: str | os.PathLike) -> Measurement:
    """Read a ``report.json`` (or a directory holding one) written by :meth:`Measurement.save`.

    Raises
    ------
    FileNotFoundError
        When there is no report at ``path``.
    ValueError
        When the file is not JSON or does not follow the report schema.
    """
    path = Path(path)
    if path.is_dir():
        path = path / REPORT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no report at {path}; run `corpus-stats measure` first.")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a JSON report: {exc}.") from None
    try:
        return Measurement.from_dict(doc)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# -- helpers ----------------------------------------------------------------------------------


def _csv_text(columns: tuple, rows: list) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else _fmt(v) for v in row])
    return buf.getvalue()


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)  # floats are finite here (json_safe)


def correlations_csv(curve: Any) -> str:
    """C(t) as CSV text: one row per lag, columns ``lag, n_pairs, op, fro, floor_op, ...``."""
    from corpus_stats.correlations.curve import PER_LAG_FIELDS

    names = ("lags", "n_pairs", *PER_LAG_FIELDS)
    cols = [json_safe(getattr(curve, name)) for name in names]
    return _csv_text(("lag", *names[1:]), list(zip(*cols)))


def entropy_csv(curve: Any) -> str:
    """H_n as CSV text (nats): one row per n, empty cells where a value is absent.

    Every column is always present (``external*`` and ``extrapolated*`` are blank when the curve was
    not given or not computed), so readers can rely on a fixed header.
    """
    size = len(curve.n)
    cols = []
    for c in _ENTROPY_COLUMNS:
        value = getattr(curve, c, None)
        cols.append([None] * size if value is None else json_safe(value))
    return _csv_text(_ENTROPY_COLUMNS, list(zip(*cols)))


def _short(spec: Any) -> str:
    if isinstance(spec, dict):
        spec = spec.get("spec") or spec.get("name") or "?"
    text = str(spec)
    return text if len(text) <= 40 else "..." + text[-37:]
