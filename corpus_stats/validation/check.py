"""`corpus-stats check`: run the reference cases and compare with their expectations.

The cases, their schema and their expected values are :mod:`corpus_stats.validation.cases`. Here each
case's corpus is built (a seeded synthetic generator, or files under ``../shared`` checked against
their content hashes and tokenized), measured with the estimators it names, and every check is judged
``pass``, ``fail`` or ``skip``; ``--update`` rewrites the expected values of our own baselines.

Cases whose corpus or tokenizer is absent are reported as ``skip`` with the reason, never as passed.
The estimators are looked up at call time (``corpus_stats.correlations.curve.correlation_curve`` ...), so a
test can perturb one and see the check fail.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from corpus_stats._io import atomic_write_text, dataclass_to_json
from corpus_stats.stream import TokenStream
from corpus_stats.validation.cases import (
    PROJECT_ROOT,
    REFERENCE_DIR,
    available_cases,
    exact_expected,
    load_case,
    lookup,
    paper_numbers,
)

REFERENCE_Z = 3.0  # standard errors of a Monte Carlo expected value allowed (``expected_stderr``)


def default_shared_dir() -> Path:
    """``$CORPUS_STATS_SHARED`` or ``../shared`` next to the project (corpora and tokenizers)."""
    env = os.environ.get("CORPUS_STATS_SHARED")
    return Path(env) if env else PROJECT_ROOT.parent / "shared"


@dataclass(frozen=True)
class CheckResult:
    """One row of the check table. ``status`` is ``"pass"``, ``"fail"`` or ``"skip"``."""

    case: str
    quantity: str
    expected: float | None
    measured: float | None
    tolerance: str
    status: str
    reason: str = ""

    def to_dict(self) -> dict:
        return dataclass_to_json(self)


@dataclass(frozen=True)
class CheckReport:
    """All rows, per-case seconds, and the diffs written by ``update``."""

    results: tuple
    seconds: dict = field(default_factory=dict)
    updates: tuple = ()

    @property
    def ok(self) -> bool:
        """True when no check failed (skips do not fail, and are never counted as passes)."""
        return not any(r.status == "fail" for r in self.results)

    def counts(self) -> dict:
        return {s: sum(r.status == s for r in self.results) for s in ("pass", "fail", "skip")}

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "counts": self.counts(),
            "seconds": self.seconds,
            "results": [r.to_dict() for r in self.results],
            "updates": list(self.updates),
        }

    def table(self) -> str:
        """The human-readable table: case, quantity, expected, measured, tolerance, status."""
        head = ("case", "quantity", "expected", "measured", "tolerance", "status")
        rows = [
            (
                r.case,
                r.quantity,
                _fmt(r.expected),
                _fmt(r.measured),
                r.tolerance,
                r.status.upper() + (f" ({r.reason})" if r.reason else ""),
            )
            for r in self.results
        ]
        widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(5)]
        lines = ["  ".join(str(x[i]).ljust(widths[i]) for i in range(5)) + "  " + x[5] for x in [head, *rows]]
        c = self.counts()
        secs = sum(self.seconds.values())
        lines.append(f"{c['pass']} passed, {c['fail']} failed, {c['skip']} skipped in {secs:.1f} s")
        return "\n".join(lines)


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.5g}" if isinstance(v, float) else str(v)


# -- measuring a case ----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _concat(streams: list[TokenStream]) -> TokenStream:
    if len(streams) == 1:
        return streams[0]
    offsets = [streams[0].doc_offsets]
    for s in streams[1:]:
        offsets.append(s.doc_offsets[1:] + offsets[-1][-1])
    tokens = np.concatenate([np.asarray(s.tokens) for s in streams])
    return TokenStream(
        tokens,
        np.concatenate(offsets),
        max(s.vocab_size for s in streams),
        streams[0].eos_id,
        {"parts": [s.provenance for s in streams]},
    )


def build_stream(case: dict, shared: Path, cache_dir=None) -> tuple[TokenStream | None, str]:
    """The case's token stream, or ``(None, reason)`` when its corpus or tokenizer is absent.

    Raises ``ValueError`` when a file is present but its content hash differs from the case's.
    """
    corpus = case["corpus"]
    if "synthetic" in corpus:
        from corpus_stats import synthetic

        made = synthetic.make(
            corpus["synthetic"],
            corpus["n_tokens"],
            seed=corpus.get("seed", 0),
            **corpus.get("params", {}),
        )
        return made.stream, ""
    tok_spec = case.get("tokenizer")
    needed = [(f["path"], f.get("sha256")) for f in corpus["files"]]
    if tok_spec:
        needed.append((tok_spec["path"], tok_spec.get("sha256")))
    for rel, digest in needed:
        path = shared / rel
        if not path.is_file():
            return None, f"needs {rel} under {shared}, which is absent"
        if digest and _sha256(path) != digest:
            raise ValueError(
                f"{shared / rel} has sha256 {_sha256(path)[:12]}..., but case "
                f"{case['name']!r} was made on {digest[:12]}...; a different corpus."
            )
    from corpus_stats.text.tokenization import tokenize

    streams = [
        tokenize(
            str(shared / f["path"]),
            str(shared / tok_spec["path"]),
            doc_split=f.get("doc_split", "auto"),
            cache_dir=cache_dir,
        )
        for f in corpus["files"]
    ]
    stream = _concat(streams)
    max_tokens = corpus.get("max_tokens")
    if max_tokens and stream.n_tokens > max_tokens:
        cut = int(np.searchsorted(stream.doc_offsets, max_tokens, side="right")) - 1
        stream = stream.select_documents(slice(0, max(cut, 1)))
    return stream, ""


def measure_case(case: dict, stream: TokenStream) -> dict:
    """Run the estimators the case asks for; returns ``{"correlations", "entropy", "prediction"}``."""
    from corpus_stats.correlations import curve as correlations
    from corpus_stats.entropy import curve as entropy

    spec = case["measure"]
    out = {"correlations": None, "entropy": None, "prediction": None}
    if spec.get("correlations"):
        opts = dict(spec["correlations"])
        lags = opts.pop("lags", None)
        out["correlations"] = correlations.correlation_curve(stream, lags, **opts)
    if spec.get("entropy"):
        opts = dict(spec["entropy"])
        out["entropy"] = entropy.entropy_curve(stream, opts.pop("n_max", 8), **opts)
    if spec.get("predict"):
        from corpus_stats.report.measurement import Measurement
        from corpus_stats.report.summary import run_prediction

        out["prediction"] = run_prediction(Measurement(out["correlations"], out["entropy"]))
    return out


def _at(values, axis, key, where: str) -> float:
    idx = np.flatnonzero(np.asarray(axis) == key)
    if idx.size == 0:
        raise ValueError(f"{where}: {key} is not among the measured points {np.asarray(axis).tolist()}.")
    return float(np.asarray(values, dtype=np.float64)[idx[0]])


def quantity_value(check: dict, measured: dict) -> tuple[float | None, str]:
    """The measured value of one check's quantity, and a note (e.g. "not valid")."""
    q = check["quantity"]
    group, _, name = q.partition(".")
    if group == "correlations":
        curve = measured["correlations"]
        if "/" in name:
            num, den = name.split("/")
            return (
                _at(getattr(curve, num), curve.lags, check["lag"], q)
                / _at(getattr(curve, den), curve.lags, check["lag"], q)
            ), ""
        return _at(getattr(curve, name), curve.lags, check["lag"], q), ""
    if group == "entropy":
        curve = measured["entropy"]
        note = ""
        if check.get("if_valid") and not bool(_at(curve.valid, curve.n, check["n"], q)):
            note = f"not compared: n = {check['n']} is not valid (the estimator makes no claim there)"
        return _at(getattr(curve, name), curve.n, check["n"], q), note
    if group == "fit":
        from scaling.fits import fit_power_law

        if name == "alpha_D":
            beta, _ = quantity_value({**check, "quantity": "fit.beta"}, measured)
            gamma, _ = quantity_value({**check, "quantity": "fit.gamma", "window": check["gamma_window"]}, measured)
            return gamma / (2 * beta), ""
        lo, hi = check["window"]
        if name == "beta":
            curve = measured["correlations"]
            x, y = curve.lags, getattr(curve, check.get("field", "op"))
        else:
            curve = measured["entropy"]
            x, y = curve.n, getattr(curve, check.get("field", "corrected"))
        keep = (x >= lo) & (x <= hi)
        return float(fit_power_law(x[keep], y[keep], method="paper", interval="ols").exponent), ""
    if group == "prediction":
        node = measured["prediction"] or {}
        if "error" in node:
            return None, f"no prediction: {node['error']}"
        for part in name.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        return (None if node is None else float(node)), ""
    raise ValueError(f"unknown quantity {q!r} (groups: correlations, entropy, fit, prediction).")


def _label(check: dict) -> str:
    at = "".join(f"[{k}={check[k]}]" for k in ("lag", "n") if k in check)
    win = f"[{check['window'][0]}..{check['window'][1]}]" if "window" in check else ""
    return check["quantity"] + at + win


def judge(check: dict, value: float | None, note: str = "") -> tuple[str, str, str]:
    """``(status, tolerance text, reason)`` of a measured value against a check.

    A row passes only after a comparison: a value that was not measured (no prediction, a masked
    point) or a check with neither an expectation nor a measurement is a ``skip`` with its reason.
    """
    if note.startswith(("not compared", "no prediction")):
        return "skip", "-", note
    if "min" in check or "max" in check:
        lo, hi = check.get("min", -math.inf), check.get("max", math.inf)
        tol = (
            f">= {lo:.4g}"
            if "max" not in check
            else f"<= {hi:.4g}"
            if "min" not in check
            else f"in [{lo:.4g}, {hi:.4g}]"
        )
        ok = value is not None and math.isfinite(value) and lo <= value <= hi
        return ("pass" if ok else "fail"), tol, "" if ok else check.get("reason", "")
    expected = check["expected"]
    if "rel" in check:
        tol_abs, tol = check["rel"] * abs(expected or 0.0), f"±{100 * check['rel']:.3g}%"
    else:
        tol_abs, tol = check.get("abs", 0.0), f"±{check.get('abs', 0.0):.3g}"
    if check.get("expected_stderr"):  # a Monte Carlo reference: its own error joins the tolerance
        tol_abs = math.hypot(tol_abs, REFERENCE_Z * check["expected_stderr"])
        tol = f"±{tol_abs:.3g} ({tol} ⊕ {REFERENCE_Z:g} s.e. of the reference)"
    if expected is None and value is None:
        return "skip", tol, "not compared: neither an expected nor a measured value"
    if expected is None or value is None:
        return "fail", tol, note or "one side is missing"
    ok = math.isfinite(value) and abs(value - expected) <= tol_abs
    return ("pass" if ok else "fail"), tol, "" if ok else check.get("reason", "")


def _paper_measured(case: dict) -> dict:
    """The paper's published curves stand in for measured ones (the ``paper`` kind fits them)."""
    from types import SimpleNamespace

    ts = lookup(paper_numbers(), case["corpus"]["paper"])
    corr, model = ts["correlations_op"], ts["entropy_model_curve"]
    n = np.asarray(model["n"], dtype=np.int64)
    loss = model["prefactor"] * n.astype(float) ** -model["exponent"]
    return {
        "correlations": SimpleNamespace(
            lags=np.asarray(corr["lags"], dtype=np.int64), op=np.asarray(corr["op"], dtype=float)
        ),
        "entropy": SimpleNamespace(n=n, corrected=loss, valid=np.ones(n.size, bool)),
        "prediction": None,
    }


def _rows(case: dict, measured: dict) -> tuple[list[CheckResult], dict]:
    rows, values = [], {}
    for c in case["checks"]:
        value, note = quantity_value(c, measured)
        values[_label(c)] = value
        status, tol, why = judge(c, value, note)
        rows.append(CheckResult(case["name"], _label(c), c.get("expected"), value, tol, status, why))
    return rows, values


def run_case(case: dict, shared: Path, cache_dir=None) -> tuple[list[CheckResult], dict | None]:
    """All rows of one case and the measured curves (None when skipped)."""
    measured, reason = None, ""
    if "paper" in case["corpus"]:
        measured = _paper_measured(case)
    else:
        try:
            stream, reason = build_stream(case, shared, cache_dir)
            if stream is not None:
                measured = measure_case(case, stream)
        except ImportError as exc:
            reason = f"needs a module that is not available: {exc}"
    if measured is None:
        return [
            CheckResult(case["name"], _label(c), c.get("expected"), None, "-", "skip", reason) for c in case["checks"]
        ], None
    return _rows(case, measured)[0], measured


def update_case(case: dict, values: dict, reference_dir=None) -> list[str]:
    """Rewrite expected values and return the diff lines.

    ``baseline`` cases take ``values`` (this run); ``exact`` cases are recomputed from the formulas
    (:func:`exact_expected`); ``paper`` cases and checks filled from paper.json never change.
    """
    if case["kind"] == "paper":
        return []
    stderr = {}
    if case["kind"] == "exact":
        fresh = exact_expected(json.loads(json.dumps(case)))["checks"]
        values = {_label(c): c["expected"] for c in fresh if "expected" in c}
        stderr = {_label(c): c["expected_stderr"] for c in fresh if "expected_stderr" in c}
    diff = []
    for c in case["checks"]:
        if "expected_from" in c or c.get("expected_is") == "fixed":
            continue
        if "expected" not in c:
            continue
        new = values.get(_label(c))
        new = None if new is None or not math.isfinite(new) else float(f"{new:.6g}")
        if new != c["expected"] or stderr.get(_label(c)) != c.get("expected_stderr"):
            diff.append(f"{case['name']}: {_label(c)}: {_fmt(c['expected'])} -> {_fmt(new)}")
            c["expected"] = new
            c.pop("expected_stderr", None)
            if _label(c) in stderr:
                c["expected_stderr"] = stderr[_label(c)]
    if diff:
        ref = Path(reference_dir) if reference_dir else REFERENCE_DIR
        path = ref / f"{case['name']}.json"
        atomic_write_text(path, json.dumps(case, indent=2) + "\n")
    return diff


def run_checks(
    names=None,
    *,
    reference_dir=None,
    shared=None,
    update: bool = False,
    cache_dir=None,
    progress: bool = False,
) -> CheckReport:
    """Run reference cases (all when ``names`` is empty) and return the table as a report.

    Parameters
    ----------
    names : sequence of str, optional
        Case names (file stems in ``data/reference``); default all.
    reference_dir : path, optional
        Where the case files are; default the project's ``data/reference``.
    shared : path, optional
        Directory holding ``corpora/`` and ``tokenizers/``; default :func:`default_shared_dir`.
    update : bool, default False
        Rewrite ``baseline`` cases' expected values from this run (the diff is in ``updates``).
    cache_dir : path, optional
        Token-stream cache of :func:`corpus_stats.text.tokenization.tokenize`.
    progress : bool, default False
        Print each case's name and time on stderr.

    Returns
    -------
    CheckReport
        ``ok`` is False when any check failed; absent corpora give ``skip`` rows.
    """
    import sys

    shared = Path(shared) if shared else default_shared_dir()
    names = list(names) if names else available_cases(reference_dir)
    cases = [load_case(n, reference_dir) for n in names]
    results, seconds, updates = [], {}, []
    for case in cases:
        start = time.perf_counter()
        rows, measured = run_case(case, shared, cache_dir)
        if update and measured is not None:
            diff = update_case(case, _rows(case, measured)[1], reference_dir)
            updates.extend(diff)
            if diff:  # judge against the rewritten expectations
                rows = _rows(case, measured)[0]
        seconds[case["name"]] = round(time.perf_counter() - start, 2)
        if progress:
            print(f"check {case['name']}: {seconds[case['name']]:.1f} s", file=sys.stderr)
        results.extend(rows)
    return CheckReport(tuple(results), seconds, tuple(updates))
