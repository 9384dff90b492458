"""External L_n curves (``--entropy-curve``): reading a loss-vs-context-length file (private).

A trained model's per-position loss L_n, read from CSV or JSON in nats or bits, is carried alongside
the measured H_n (:func:`corpus_stats.entropy.curve.entropy_curve`, ``external=``). Public through
:mod:`corpus_stats.entropy.curve`.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, eq=False)
class ExternalCurve:
    """An L_n curve read from a file: loss (nats) at context length n, e.g. a trained model's.

    Attributes
    ----------
    n : numpy.ndarray
        Context lengths (int64, sorted, unique, >= 0).
    loss, stderr : numpy.ndarray
        Loss in nats, and its standard error (NaN where not given).
    source : str
        File it came from.
    """

    n: np.ndarray
    loss: np.ndarray
    stderr: np.ndarray
    source: str = ""


def _parse_number(text, where: str, what: str, integer: bool = False) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {what} must be a number; got {text!r}.") from None
    if integer and (not math.isfinite(value) or value < 0 or value != int(value)):
        raise ValueError(f"{where}: n must be a non-negative integer; got {text!r}.")
    if not integer and (not math.isfinite(value) or value < 0):
        raise ValueError(f"{where}: {what} must be a finite non-negative number; got {text!r}.")
    return value


def read_entropy_curve(path: str | os.PathLike, units: str = "nats") -> ExternalCurve:
    """Read an external L_n curve from CSV or JSON.

    Parameters
    ----------
    path : str or path-like
        CSV with columns ``n, loss[, stderr]`` (an optional header row naming them, ``#`` comments
        allowed), or JSON: ``{"n": [...], "loss": [...], "stderr": [...]}`` or a list of
        ``{"n": .., "loss": .., "stderr": ..}`` records.
    units : {"nats", "bits"}, default "nats"
        Units of the losses in the file; bits are converted to nats (times ln 2).

    Returns
    -------
    ExternalCurve

    Raises
    ------
    ValueError
        Naming the file, line (CSV) or record (JSON) and the reason: non-numeric, negative or NaN
        losses, non-integer or repeated n, missing columns.
    """
    if units not in ("nats", "bits"):
        raise ValueError(f"units must be 'nats' or 'bits'; got {units!r}.")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"entropy curve file {path} does not exist.")
    text = path.read_text()
    rows: list[tuple[str, object, object, object]] = []  # (where, n, loss, stderr)
    if path.suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg}).") from None
        if isinstance(doc, dict):
            if "n" not in doc or "loss" not in doc:
                raise ValueError(f"{path}: JSON object must have 'n' and 'loss' arrays; got keys {sorted(doc)}.")
            ns, ls = doc["n"], doc["loss"]
            ss = doc.get("stderr") or [None] * len(ns)
            if not (len(ns) == len(ls) == len(ss)):
                raise ValueError(
                    f"{path}: 'n', 'loss' and 'stderr' must have equal lengths; got {len(ns)}, {len(ls)}, {len(ss)}."
                )
            rows = [(f"{path}, entry {i}", a, b, c) for i, (a, b, c) in enumerate(zip(ns, ls, ss))]
        elif isinstance(doc, list):
            for i, rec in enumerate(doc):
                if not isinstance(rec, dict) or "n" not in rec or "loss" not in rec:
                    raise ValueError(f"{path}, record {i}: must be an object with 'n' and 'loss'; got {rec!r}.")
                rows.append((f"{path}, record {i}", rec["n"], rec["loss"], rec.get("stderr")))
        else:
            raise ValueError(f"{path}: JSON must be an object or a list of records; got {type(doc).__name__}.")
    else:
        columns = None
        for lineno, raw in enumerate(csv.reader(text.splitlines()), start=1):
            cells = [c.strip() for c in raw]
            if not cells or not any(cells) or cells[0].startswith("#"):
                continue
            where = f"{path}, line {lineno}"
            if columns is None:
                try:
                    float(cells[0])
                    columns = {"n": 0, "loss": 1, "stderr": 2}
                except ValueError:
                    names = [c.lower() for c in cells]
                    if "n" not in names or "loss" not in names:
                        raise ValueError(f"{where}: header must name columns 'n' and 'loss'; got {cells}.") from None
                    columns = {k: names.index(k) for k in ("n", "loss", "stderr") if k in names}
                    continue
            if len(cells) <= max(columns["n"], columns["loss"]):
                raise ValueError(f"{where}: expected columns n, loss[, stderr]; got {len(cells)} field(s).")
            se = cells[columns["stderr"]] if "stderr" in columns and len(cells) > columns["stderr"] else None
            rows.append((where, cells[columns["n"]], cells[columns["loss"]], se or None))
    if not rows:
        raise ValueError(f"{path}: no (n, loss) rows found.")
    scale = math.log(2.0) if units == "bits" else 1.0
    n, loss, se, seen = [], [], [], {}
    for where, a, b, c in rows:
        ni = int(_parse_number(a, where, "n", integer=True))
        if ni in seen:
            raise ValueError(f"{where}: n={ni} repeats {seen[ni]}.")
        seen[ni] = where
        n.append(ni)
        loss.append(_parse_number(b, where, "loss") * scale)
        se.append(np.nan if c is None else _parse_number(c, where, "stderr") * scale)
    order = np.argsort(n)
    return ExternalCurve(np.asarray(n, np.int64)[order], np.asarray(loss)[order], np.asarray(se)[order], str(path))


#: An external L_n below a valid count estimate of H_n by more than this many combined standard
#: errors is flagged (a model's cross-entropy is an upper bound of H_n).
BELOW_Z = 2.0


def below_counts(loss, loss_stderr, estimates) -> list[int]:
    """Indices n where an external L_n sits below a valid count estimate of H_n.

    Parameters
    ----------
    loss, loss_stderr : array_like
        The external curve aligned with n = 0..n_max (NaN where absent; a NaN stderr counts as 0).
    estimates : iterable of (values, stderr, valid)
        Count estimates aligned the same way (e.g. the bias-corrected H_n with its validity mask, the
        size-extrapolated H_n with its own); only their valid points are compared.

    Returns
    -------
    list of int
        The n where ``loss < value - BELOW_Z * sqrt(loss_stderr² + stderr²)`` for some valid estimate.
    """
    loss = np.asarray(loss, dtype=float)
    se_l = np.nan_to_num(np.asarray(loss_stderr, dtype=float))
    flagged = np.zeros(loss.size, dtype=bool)
    for values, stderr, valid in estimates:
        if values is None or valid is None:
            continue
        values = np.asarray(values, dtype=float)
        se = np.nan_to_num(np.asarray(stderr, dtype=float)) if stderr is not None else np.zeros(loss.size)
        with np.errstate(invalid="ignore"):
            below = loss < values - BELOW_Z * np.sqrt(se_l**2 + se**2)
        flagged |= below & np.asarray(valid, dtype=bool) & np.isfinite(loss) & np.isfinite(values)
    return [int(i) for i in np.flatnonzero(flagged)]
