"""The reference cases of ``corpus-stats check``: the files in ``data/reference/`` and their expected values.

A reference case is one JSON file (schema below) naming a corpus (a seeded synthetic generator or
files under ``../shared``, with content hashes), a tokenizer, what to measure, and a list of checks
``quantity / expected / tolerance / reason``. Three kinds:

* ``exact``: synthetic corpora; expected values come from the exact formulas of
  :mod:`corpus_stats.synthetic` (``--update`` recomputes them from the formulas, never from a run);
* ``paper``: numbers published in Cagnetta et al. (arXiv 2602.07488), fixed;
* ``baseline``: our own measurement of a real corpus; ``--update`` rewrites the expected values
  from the current code after an intentional change and shows the diff.

Case schema (``schema_version`` 1)::

    {"schema_version": 1, "name": ..., "kind": "exact" | "paper" | "baseline",
     "guards": "what a failure means", "source": "where the expected values come from",
     "corpus": {"synthetic": KIND, "n_tokens": N, "seed": S, "params": {...}}
            | {"files": [{"path": "corpora/...", "sha256": ..., "doc_split": "line"}, ...],
               "max_tokens": N | null},
     "tokenizer": {"path": "tokenizers/.../tokenizer.json", "sha256": ...} | null,
     "measure": {"correlations": {"lags": [...], "within_documents": false, "n_shards": 10} | null,
                 "entropy": {"n_max": 4, "within_documents": false, "upper": false} | null,
                 "predict": true | false},
     "checks": [{"quantity": "correlations.op", "lag": 1, "expected": x, "rel": 0.1 | "abs": 0.01,
                 "reason": "...", "if_valid": false}, ...],
     "reference_samples": 200000}  (optional: Monte Carlo windows of an exact case's H_n)

Quantities: ``correlations.FIELD`` at ``lag`` (``op``, ``fro``, ``op_debiased``, ``snr``,
``floor_op``, ... and ``op/floor_op``); ``entropy.FIELD`` at ``n`` (``plugin``, ``corrected``,
``upper``); ``fit.beta`` (paper OLS of ``field`` over ``window`` lags), ``fit.gamma``, and
``prediction.PATH`` (dotted path into the ``scaling.predict`` summary, e.g. ``prediction.beta.value``).
A check may give ``min``/``max`` instead of ``expected`` for one-sided bounds. An ``expected`` that
is itself an estimate (the Monte Carlo H_n of a grammar too large to enumerate) carries
``expected_stderr``; the value then passes within the check's tolerance and
:data:`~corpus_stats.validation.check.REFERENCE_Z` standard errors of the reference, combined in
quadrature.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

SCHEMA_VERSION = 1
PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
_NOT_CASES = {"paper.json"}  # data owned by `scaling`, read by cases, not a case itself


def available_cases(reference_dir: str | os.PathLike | None = None) -> list[str]:
    """Names of the reference cases (file stems) in ``reference_dir``."""
    ref = Path(reference_dir) if reference_dir else REFERENCE_DIR
    return sorted(p.stem for p in ref.glob("*.json") if p.name not in _NOT_CASES)


def load_case(name: str, reference_dir: str | os.PathLike | None = None) -> dict:
    """Read and validate one case file."""
    ref = Path(reference_dir) if reference_dir else REFERENCE_DIR
    path = ref / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"unknown reference case {name!r}; available: {', '.join(available_cases(ref))}.")
    case = json.loads(path.read_text())
    if case.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"{path} has schema_version {case.get('schema_version')!r}; expected {SCHEMA_VERSION}.")
    for key in ("name", "kind", "guards", "source", "corpus", "measure", "checks"):
        if key not in case:
            raise ValueError(f"{path} lacks the required key {key!r}.")
    if case["kind"] not in ("exact", "paper", "baseline"):
        raise ValueError(f"{path}: kind must be exact, paper or baseline; got {case['kind']!r}.")
    return resolve_expected(case)


# -- expected values ------------------------------------------------------------------------------


def paper_numbers() -> dict:
    """The paper's published numbers, ``data/reference/paper.json`` (owned by :mod:`scaling`)."""
    path = REFERENCE_DIR / "paper.json"
    if not path.is_file():
        raise ValueError(f"{path} (the paper's numbers) is missing from this checkout.")
    return json.loads(path.read_text())


def lookup(doc: dict, dotted: str):
    """The entry of ``doc`` at a dotted path (``"tinystories.beta"``); ValueError naming it if absent."""
    for part in dotted.split("."):
        if not isinstance(doc, dict) or part not in doc:
            raise ValueError(f"data/reference/paper.json has no entry {dotted!r}.")
        doc = doc[part]
    return doc


def resolve_expected(case: dict) -> dict:
    """Fill ``expected`` (and ``abs``) of checks that name a paper.json entry in ``expected_from``.

    ``"expected_from": "tinystories.beta"`` takes ``value`` and, unless the check states its own
    tolerance, ``tolerance.value``; with a ``lag`` it takes the paper's ``op`` at that lag.
    """
    if not any("expected_from" in c for c in case["checks"]):
        return case
    paper = paper_numbers()
    for c in case["checks"]:
        if "expected_from" not in c:
            continue
        entry = lookup(paper, c["expected_from"])
        if "lag" in c:
            c["expected"] = float(entry["op"][entry["lags"].index(c["lag"])])
        else:
            c["expected"] = float(entry["value"])
            if "abs" not in c and "rel" not in c:
                c["abs"] = float(entry["tolerance"]["value"])
    return case


def exact_expected(case: dict) -> dict:
    """Recompute an ``exact`` case's expected values from :mod:`corpus_stats.synthetic` formulas."""
    from corpus_stats import synthetic
    from scaling.fits import fit_power_law

    corpus = case["corpus"]
    made = synthetic.make(
        corpus["synthetic"],
        corpus["n_tokens"],
        seed=corpus.get("seed", 0),
        **corpus.get("params", {}),
    )
    corr_opts = case["measure"].get("correlations") or {}
    within = bool(corr_opts.get("within_documents", False))
    lags = corr_opts.get("lags") or list(synthetic.PAPER_LAGS)
    exact_c = made.exact_correlation(lags, within_documents=within)
    n_max = (case["measure"].get("entropy") or {}).get("n_max", 0)
    # exact, or Monte Carlo with its error beyond enumeration (``reference_samples`` windows)
    ref_h = made.reference_entropy(n_max, n_samples=case.get("reference_samples"))
    for c in case["checks"]:
        group, _, name = c["quantity"].partition(".")
        if "expected" not in c or c.get("expected_is") == "fixed":
            continue
        if group == "correlations" and exact_c is not None and name in ("op", "op_debiased", "fro", "fro_debiased"):
            c["expected"] = float(exact_c[name.split("_")[0]][lags.index(c["lag"])])
        elif group == "entropy" and ref_h is not None and name in ("plugin", "corrected", "upper"):
            c["expected"] = float(ref_h.values[c["n"]])
            c.pop("expected_stderr", None)
            if ref_h.stderr[c["n"]] > 0:
                c["expected_stderr"] = float(f"{ref_h.stderr[c['n']]:.3g}")
        elif c["quantity"] == "fit.beta" and exact_c is not None:
            x = np.asarray(lags)
            keep = (x >= c["window"][0]) & (x <= c["window"][1])
            y = exact_c[c.get("field", "op").split("_")[0]][keep]
            c["expected"] = float(fit_power_law(x[keep], y, method="paper", interval="ols").exponent)
        else:
            continue
        c["expected"] = float(f"{c['expected']:.8g}")
    return case
