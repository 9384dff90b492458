"""Loss tables that users bring: a learning curve L(P) and the n-gram losses L_n(P) of the collapse figure.

Both are CSV files with a header; each reader names the file, the line and the rule a bad cell
breaks, so that the commands that read them (``compare``, ``plot``, ``measure --collapse``) fail in
one clear line.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path


def read_learning_curve(path: str | os.PathLike) -> tuple:
    """Read a learning curve CSV with a header: training tokens (``tokens`` or ``P``) and ``loss``.

    Extra columns are ignored; losses are in nats. Several rows may share a P (model sizes).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Tokens and loss (float64).

    Raises
    ------
    ValueError
        Naming the file, the line and the reason: not a UTF-8 text CSV, missing columns, a row with
        another number of cells than the header, a token count or loss that is not a positive finite
        number, or fewer than 3 rows (no exponent can be fitted).
    """
    import numpy as np

    path = Path(path)
    tokens, loss = [], []
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None) or []
            keys = {k.strip().lower(): i for i, k in enumerate(header) if k.strip()}
            tok = next((keys[k] for k in ("tokens", "p", "n_tokens") if k in keys), None)
            if tok is None or "loss" not in keys:
                raise ValueError(
                    f"{path}, line 1: a learning curve needs the header columns tokens (or P) and loss; got {header}."
                )
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue  # blank line
                if len(row) != len(header):
                    raise ValueError(
                        f"{path}, line {line}: {len(row)} cells where the header has {len(header)}; "
                        "every row needs one value per column."
                    )
                for name, col, out in (("tokens", tok, tokens), ("loss", keys["loss"], loss)):
                    cell = row[col].strip()
                    try:
                        value = float(cell)
                    except ValueError:
                        value = math.nan
                    if not (math.isfinite(value) and value > 0):
                        raise ValueError(f"{path}, line {line}: {name} must be a positive number; got {cell!r}.")
                    out.append(value)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"{path} is not a text CSV file ({exc}).") from None
    if len(tokens) < 3:
        raise ValueError(
            f"{path}: a learning curve needs at least 3 rows (points) to fit an exponent; got {len(tokens)}."
        )
    return np.asarray(tokens, dtype=np.float64), np.asarray(loss, dtype=np.float64)


def read_collapse_table(path: str | os.PathLike) -> dict:
    """Read an n-gram loss table L_n(P) for the collapse figure: CSV columns ``n, tokens, loss``.

    ``tokens`` may also be called ``P``; extra columns are ignored; losses are in nats.

    Returns
    -------
    dict
        ``{"n": ..., "tokens": ..., "loss": ...}`` as float64 arrays (the input of
        ``scaling.collapse``).

    Raises
    ------
    ValueError
        Naming the file (and line) when a column is missing, a cell is not a positive number (n,
        tokens) or not finite (loss), or there are no rows.
    """
    import numpy as np

    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            keys = {k.strip().lower(): k for k in header if k}
            tok = next((keys[k] for k in ("tokens", "p", "n_tokens") if k in keys), None)
            if "n" not in keys or tok is None or "loss" not in keys:
                raise ValueError(
                    f"{path}: a collapse table needs the header columns n, tokens (or P) and loss; got {header}."
                )
            cols = {"n": keys["n"], "tokens": tok, "loss": keys["loss"]}
            out: dict = {k: [] for k in cols}
            for row in reader:
                line = reader.line_num
                for name, key in cols.items():
                    cell = (row.get(key) or "").strip()
                    try:
                        value = float(cell)
                    except ValueError:
                        value = math.nan
                    ok = math.isfinite(value) and (name == "loss" or value > 0)
                    if not ok:
                        rule = "a finite number" if name == "loss" else "a positive number"
                        raise ValueError(f"{path}, line {line}: {name} must be {rule}; got {cell!r}.")
                    out[name].append(value)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not a UTF-8 CSV file ({exc}).") from None
    if not out["n"]:
        raise ValueError(f"{path}: a collapse table needs at least one row after the header; got none.")
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}
