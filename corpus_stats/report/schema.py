"""The schema of ``report.json`` (``corpus-stats/report``, version :data:`SCHEMA_VERSION`) and its check.

:func:`report_schema` is the JSON Schema (draft 2020-12), documented for users in the report-format
page; :func:`validate_report` checks a parsed report against it without the ``jsonschema`` package,
so every report that :class:`~corpus_stats.report.measurement.Measurement` reads back is checked.
"""

from __future__ import annotations

import functools
from typing import Any

SCHEMA_NAME = "corpus-stats/report"
SCHEMA_VERSION = 1

_NUM_OR_NULL = {"type": ["number", "null"]}
_NUM_ARRAY = {"type": "array", "items": _NUM_OR_NULL}


@functools.cache
def report_schema() -> dict:
    """JSON Schema (draft 2020-12) of ``report.json`` (also ``REPORT_SCHEMA``); :func:`validate_report`
    checks the same rules without needing the ``jsonschema`` package.

    Built on first use: the per-lag arrays are :class:`~corpus_stats.correlations.CorrelationCurve`'s
    own fields, and importing the curve loads the numba kernels, which ``import corpus_stats`` avoids.
    """
    from corpus_stats.correlations.curve import OPTIONAL_FIELDS, PER_LAG_FIELDS

    required_per_lag = [k for k in PER_LAG_FIELDS if k not in OPTIONAL_FIELDS]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "corpus-stats measurement report",
        "type": "object",
        "required": [
            "schema",
            "schema_version",
            "package_version",
            "created",
            "provenance",
            "options",
            "timings",
            "correlations",
            "entropy",
            "prediction",
        ],
        "properties": {
            "schema": {"const": SCHEMA_NAME},
            "schema_version": {"const": SCHEMA_VERSION},
            "package_version": {"type": "string"},
            "created": {"type": "string"},
            "provenance": {"type": "object"},
            "options": {"type": "object"},
            "timings": {"type": "object", "additionalProperties": {"type": "number"}},
            "correlations": {
                "type": ["object", "null"],
                "required": ["lags", "n_pairs", *required_per_lag, "op_jackknife", "fro_jackknife"],
                "properties": {
                    "lags": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "n_pairs": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    **{k: _NUM_ARRAY for k in PER_LAG_FIELDS},
                    "op_jackknife": {"type": "array", "items": _NUM_ARRAY},
                    "fro_jackknife": {"type": "array", "items": _NUM_ARRAY},
                },
            },
            "entropy": {
                "type": ["object", "null"],
                "required": ["n", "plugin", "corrected", "upper", "stderr", "valid", "corrected_jackknife"],
                "properties": {
                    "n": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                    **{k: _NUM_ARRAY for k in ("plugin", "corrected", "upper", "stderr")},
                    "valid": {"type": "array", "items": {"type": "boolean"}},
                    "corrected_jackknife": {"type": "array", "items": _NUM_ARRAY},
                    "external": {"type": ["array", "null"], "items": _NUM_OR_NULL},
                    "external_stderr": {"type": ["array", "null"], "items": _NUM_OR_NULL},
                    # optional: absent or null in older reports (systematic: projected residual bias
                    # plus its uncertainty; extrapolated*: corpus-size extrapolation)
                    "systematic": {"type": ["array", "null"], "items": _NUM_OR_NULL},
                    "extrapolated": {"type": ["array", "null"], "items": _NUM_OR_NULL},
                    "extrapolated_stderr": {"type": ["array", "null"], "items": _NUM_OR_NULL},
                    "extrapolated_valid": {"type": ["array", "null"], "items": {"type": "boolean"}},
                },
            },
            "prediction": {"type": ["object", "null"]},
            # optional (corpus_stats.correlations.horizon); absent in reports without it
            "horizon": {
                "type": ["object", "null"],
                "required": ["lags", "tokens", "op_debiased", "noise", "floor_constant", "measured", "predicted"],
                "properties": {
                    "lags": {"type": "array", "items": {"type": "integer", "minimum": 1}},
                    "tokens": _NUM_ARRAY,
                    "op_debiased": {"type": "array", "items": _NUM_ARRAY},
                    "fro_debiased": {"type": "array", "items": _NUM_ARRAY},
                    "noise": _NUM_ARRAY,
                    "floor_constant": _NUM_OR_NULL,
                    "measured": _NUM_ARRAY,
                    "measured_interpolated": _NUM_ARRAY,
                    "predicted": _NUM_ARRAY,
                    "beta": _NUM_OR_NULL,
                    "prefactor": _NUM_OR_NULL,
                    "norm": {"enum": ["op", "fro"]},
                },
            },
        },
    }


def __getattr__(name: str) -> Any:
    if name == "REPORT_SCHEMA":  # the schema as a module constant, built on first access
        return report_schema()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def validate_report(doc: Any) -> None:
    """Check a parsed ``report.json`` against :func:`report_schema`.

    Raises
    ------
    ValueError
        Naming the first rule broken and the value found.
    """
    if not isinstance(doc, dict):
        raise ValueError(f"a report must be a JSON object; got {type(doc).__name__}.")
    if doc.get("schema") != SCHEMA_NAME:
        raise ValueError(f"not a corpus-stats report (schema must be {SCHEMA_NAME!r}); got {doc.get('schema')!r}.")
    if doc.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"report schema_version must be {SCHEMA_VERSION} for this version of "
            f"corpus-stats; got {doc.get('schema_version')!r}. Re-run the measurement."
        )
    _check_object(doc, report_schema(), "report")
    for name, length_key in (("correlations", "lags"), ("entropy", "n")):
        part = doc[name]
        if part is None:
            continue
        size = len(part[length_key])
        for key, spec in report_schema()["properties"][name]["properties"].items():
            value = part.get(key)
            if value is None or spec.get("items") is _NUM_ARRAY:
                # 2-D jackknife arrays: every row as long as the curve
                for i, row in enumerate(value or []):
                    if len(row) != size:
                        raise ValueError(
                            f"{name}.{key}[{i}] must have {size} values (one per {length_key}); got {len(row)}."
                        )
                continue
            if len(value) != size:
                raise ValueError(f"{name}.{key} must have {size} values (one per {length_key}); got {len(value)}.")


def _check_object(value: Any, spec: dict, where: str) -> None:
    """A minimal JSON-Schema checker for the keywords :func:`report_schema` uses."""
    types = spec.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        if not any(_is_type(value, t) for t in types):
            raise ValueError(f"{where} must be {' or '.join(types)}; got {_json_type(value)}.")
    if "const" in spec and value != spec["const"]:
        raise ValueError(f"{where} must be {spec['const']!r}; got {value!r}.")
    if "minimum" in spec and _is_type(value, "number") and value < spec["minimum"]:
        raise ValueError(f"{where} must be >= {spec['minimum']}; got {value}.")
    if isinstance(value, dict):
        missing = [k for k in spec.get("required", ()) if k not in value]
        if missing:
            raise ValueError(f"{where} lacks the required field(s) {', '.join(missing)}.")
        for key, sub in spec.get("properties", {}).items():
            if key in value:
                _check_object(value[key], sub, f"{where}.{key}")
        extra = spec.get("additionalProperties")
        if isinstance(extra, dict):
            for key, item in value.items():
                if key not in spec.get("properties", {}):
                    _check_object(item, extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in spec:
        for i, item in enumerate(value):
            _check_object(item, spec["items"], f"{where}[{i}]")


def _is_type(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name == "boolean":
        return isinstance(value, bool)
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, {"string": str, "array": list, "object": dict}[name])


def _json_type(value: Any) -> str:
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _is_type(value, name):
            return name
    return type(value).__name__
