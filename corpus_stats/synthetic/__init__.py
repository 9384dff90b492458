"""Synthetic corpora whose correlation and entropy curves are known exactly: the ground truth of the tests.

Every generator is seeded, returns a frozen :class:`SyntheticCorpus` holding a
:class:`~corpus_stats.stream.TokenStream` (no eos; ``eos_id=None``), and knows, where they exist,
the exact curves:

========================  ======================================  ===============================
generator                 exact C(t)                              exact H_n
========================  ======================================  ===============================
:func:`iid_zipf`          0                                       H_0 for every n
:func:`markov_chain`      by propagating the block chain          enumeration (H_n = H_k, n >= k)
:func:`copy_process`      c(t) (diag p - p p^T), closed form      --
:func:`santa_fe`          f(t) C_0 (f = within-document share)    H(K) + ln2 sum_k p_k (1-p_k)^n
:func:`random_hierarchy`  DP over the tree levels (grammar_exact)   enumeration; Monte Carlo beyond
:func:`zipf_hierarchy`    DP over the tree levels                 enumeration; Monte Carlo beyond
:func:`ambiguous_hier..`  DP over the tree levels                 enumeration; Monte Carlo beyond
:func:`varying_tree_h..`  DP over the tree levels                 enumeration; Monte Carlo beyond
:func:`planted_circle`    -- (planted: a circle of set words)     --
:func:`planted_tree`      -- (planted: a tree of set words)       --
========================  ======================================  ===============================

Markov and copy streams are one continuous stationary sequence cut into documents, so their
stream-mode statistics are exact; Santa Fe's H_n holds for contexts inside one document. The
grammars (:mod:`~corpus_stats.synthetic.grammars`) concatenate independent trees; their exact
curves are those of that stream (or of within-tree pairs and n-grams, ``within_documents=True``).
Grammars too large to enumerate get a Monte Carlo estimate of their exact H_n with its standard error
(:meth:`SyntheticCorpus.reference_entropy`; the rule of which method applies lives in
:mod:`~corpus_stats.synthetic.grammar_mc`).
"""

from __future__ import annotations

import math

from corpus_stats._checks import check_int
from corpus_stats._io import atomic_open, atomic_write_text, json_safe
from corpus_stats.synthetic.corpus import SyntheticCorpus
from corpus_stats.synthetic.exact import covariance_norms
from corpus_stats.synthetic.hierarchies import (
    ambiguous_hierarchy,
    expected_length,
    random_hierarchy,
    varying_tree_hierarchy,
    zipf_hierarchy,
)
from corpus_stats.synthetic.markov import markov_chain
from corpus_stats.synthetic.planted import planted_circle, planted_tree
from corpus_stats.synthetic.processes import copy_process, iid_zipf, santa_fe

__all__ = [
    "KINDS",
    "SyntheticCorpus",
    "ambiguous_hierarchy",
    "copy_process",
    "covariance_norms",
    "iid_zipf",
    "markov_chain",
    "planted_circle",
    "planted_tree",
    "random_hierarchy",
    "santa_fe",
    "varying_tree_hierarchy",
    "zipf_hierarchy",
]


KINDS = {
    "iid_zipf": iid_zipf,
    "markov_chain": markov_chain,
    "copy_process": copy_process,
    "santa_fe": santa_fe,
    "random_hierarchy": random_hierarchy,
    "zipf_hierarchy": zipf_hierarchy,
    "ambiguous_hierarchy": ambiguous_hierarchy,
    "varying_tree_hierarchy": varying_tree_hierarchy,
    "planted_circle": planted_circle,
    "planted_tree": planted_tree,
}
GRAMMAR_KINDS = ("random_hierarchy", "zipf_hierarchy", "ambiguous_hierarchy", "varying_tree_hierarchy")


# -- by name, and to disk (used by `corpus-stats synth`) -------------------------------------------

PAPER_LAGS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192)


def make(kind: str, n_tokens: int, seed: int = 0, **params) -> SyntheticCorpus:
    """Generate a corpus of about ``n_tokens`` tokens by generator name.

    The grammars (``GRAMMAR_KINDS``) make whole trees: ``ceil(n_tokens / mean tree length)``
    documents (``s**n_levels`` tokens each for a fixed branching ``s``).
    Other keyword arguments go to the generator.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}.")
    if kind in GRAMMAR_KINDS:
        if "n_documents" in params:
            raise ValueError(f"{kind} takes its size from n_tokens; do not pass n_documents.")
        n_tokens = check_int("n_tokens", n_tokens, 1)
        n_documents = max(1, math.ceil(n_tokens / expected_length(kind, params)))
        call = lambda: KINDS[kind](n_documents=n_documents, seed=seed, **params)  # noqa: E731
    else:
        call = lambda: KINDS[kind](n_tokens, seed=seed, **params)  # noqa: E731
    try:
        return call()
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise ValueError(f"{kind} does not take that parameter: {exc}.") from None
        raise


def describe(corpus: SyntheticCorpus, n_max: int = 32, lags=PAPER_LAGS) -> dict:
    """JSON-safe summary: kind, params, expected exponents and the exact curves where known.

    ``exact_entropy_nats`` is exact where it can be computed (``exact_entropy_method`` ``"exact"`` or
    ``"enumeration"``, ``exact_entropy_stderr`` 0) and, for grammars too large to enumerate, the
    Monte Carlo estimate of the exact H_n (``"monte_carlo"``, or ``"enumeration+monte_carlo"`` when
    only the first n were enumerated) with its standard error and ``exact_entropy_samples`` windows.
    """
    corr = corpus.exact_correlation(lags)
    ref = corpus.reference_entropy(n_max)
    return {
        "kind": corpus.kind,
        "params": corpus.params,
        "n_tokens": corpus.stream.n_tokens,
        "n_documents": corpus.stream.n_documents,
        "vocab_size": corpus.stream.vocab_size,
        "expected_beta": corpus.expected_beta,
        "expected_gamma": corpus.expected_gamma,
        "exact_entropy_nats": None if ref is None else json_safe(ref.values),
        "exact_entropy_stderr": None if ref is None else json_safe(ref.stderr),
        "exact_entropy_method": None if ref is None else ref.method,
        "exact_entropy_samples": None if ref is None else ref.n_samples,
        "lags": list(map(int, lags)),
        "exact_correlation_op": None if corr is None else json_safe(corr["op"]),
        "exact_correlation_fro": None if corr is None else json_safe(corr["fro"]),
        "planted": corpus.planted,
    }


def write_corpus(corpus: SyntheticCorpus, directory, fmt: str = "text", overwrite: bool = False):
    """Write ``corpus`` to ``directory`` and return the path of the written corpus.

    ``fmt="text"`` writes ``corpus.txt``: one document per line, token ids as decimal words
    separated by single spaces. A word-level (whitespace) tokenizer reads it back up to a relabelling
    of the ids, which leaves every statistic here (norms of C(t), H_n) unchanged.
    ``fmt="stream"`` writes a :class:`TokenStream` (``stream/``, load with ``TokenStream.load``).
    Both also write ``synthetic.json`` (:func:`describe`: parameters and exact curves); the planted
    generators also write ``planted.json`` (the planted set or tree, a ``--set`` file for ``geometry``).
    """
    import json
    from pathlib import Path

    if fmt not in ("text", "stream"):
        raise ValueError(f"format must be 'text' or 'stream'; got {fmt!r}.")
    directory = Path(directory)
    target = directory / ("corpus.txt" if fmt == "text" else "stream")
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} already exists; choose another directory or overwrite.")
    directory.mkdir(parents=True, exist_ok=True)
    if fmt == "stream":
        corpus.stream.save(target, overwrite=overwrite)
    else:
        tokens, off = corpus.stream.tokens, corpus.stream.doc_offsets
        with atomic_open(target) as fh:
            for i in range(corpus.stream.n_documents):
                fh.write(" ".join(map(str, tokens[off[i] : off[i + 1]].tolist())).encode("ascii") + b"\n")
    atomic_write_text(directory / "synthetic.json", json.dumps(describe(corpus), indent=2))
    if corpus.planted is not None:
        atomic_write_text(directory / "planted.json", json.dumps(corpus.planted, indent=2))
    return target
