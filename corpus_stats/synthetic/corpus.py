"""The :class:`SyntheticCorpus` record: a generated stream and its exact curves (private).

Public through :mod:`corpus_stats.synthetic`; the generators build it with :func:`_corpus`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.stream import TokenStream
from corpus_stats.synthetic import grammar_exact, grammar_mc
from corpus_stats.synthetic.common import _entropy, _lags
from corpus_stats.synthetic.exact import _copy_c, _markov_correlation

_LN2 = math.log(2.0)


@dataclass(frozen=True, eq=False)
class SyntheticCorpus:
    """A generated corpus and what is known exactly about it.

    Attributes
    ----------
    stream : TokenStream
        The tokens (``eos_id=None``) with their documents.
    kind : str
        Generator name: ``"iid_zipf"``, ``"markov_chain"``, ``"copy_process"``, ``"santa_fe"``,
        ``"random_hierarchy"``, ``"zipf_hierarchy"``, ``"ambiguous_hierarchy"``,
        ``"varying_tree_hierarchy"``, ``"planted_circle"`` or ``"planted_tree"``.
    params : dict
        The generator's arguments (JSON-safe), enough to regenerate the corpus.
    expected_beta : float or None
        Asymptotic exponent of ``||C(t)||`` (``None`` when C(t) is not a power law).
    expected_gamma : float or None
        Asymptotic exponent of ``H_n - H_inf`` (``None`` when H_n is not a power law).
    """

    stream: TokenStream
    kind: str
    params: dict
    expected_beta: float | None = None
    expected_gamma: float | None = None
    _model: dict = field(default_factory=dict, repr=False)

    @property
    def planted(self) -> dict | None:
        """The planted geometry of :func:`planted_circle` / :func:`planted_tree` (``None`` otherwise)."""
        return self._model.get("planted")

    def exact_entropy(self, n_max: int, *, within_documents: bool = False) -> np.ndarray | None:
        """Exact conditional entropy ``H_n`` in nats for ``n = 0..n_max``, or ``None`` if unknown.

        For Santa Fe the values hold for contexts inside one document (``within_documents``). For
        the grammars, ``within_documents`` selects n-grams inside one tree rather than the stream's;
        the values come from enumerating the sentences, None beyond
        :data:`~corpus_stats.synthetic.grammar_exact.MAX_SENTENCES` (:meth:`reference_entropy` then
        gives the Monte Carlo estimate with its standard error).
        """
        n_max = check_int("n_max", n_max, 0)
        n = np.arange(n_max + 1)
        m = self._model
        if self.kind == "iid_zipf":
            return np.full(n_max + 1, _entropy(m["p"]))
        if self.kind == "markov_chain":
            h = m["block_entropy_differences"]  # H_0..H_k
            return np.concatenate([h, np.full(max(n_max + 1 - h.size, 0), h[-1])])[: n_max + 1]
        if "grammar" in m:
            return grammar_exact.conditional_entropies(m["grammar"], n_max, within_documents=within_documents)
        if self.kind == "santa_fe":
            p = m["p"]
            tail = ((1.0 - p)[None, :] ** n[:, None] * p[None, :]).sum(axis=1)
            return _entropy(p) + _LN2 * tail
        return None

    def reference_entropy(self, n_max: int, *, n_samples: int | None = None, seed: int = 0):
        """H_n in nats, n = 0..n_max, with its standard error and method; None if unknown.

        Where :meth:`exact_entropy` knows the curve, it is returned with standard error 0 (method
        ``"exact"``, or ``"enumeration"`` for the grammars). Grammars too large to enumerate get the
        Monte Carlo estimate of their exact H_n (:mod:`~corpus_stats.synthetic.grammar_mc`, which
        owns the rule of which method applies), with its standard error.

        Parameters
        ----------
        n_max : int
        n_samples : int, optional
            Monte Carlo windows (default ``grammar_mc.MC_SAMPLES``).
        seed : int, default 0
            Seed of the Monte Carlo windows.

        Returns
        -------
        EntropyReference or None
        """
        n_max = check_int("n_max", n_max, 0)
        if "grammar" in self._model:
            n_samples = grammar_mc.MC_SAMPLES if n_samples is None else check_int("n_samples", n_samples, 2)
            return grammar_mc.reference_entropies(self._model["grammar"], n_max, n_samples=n_samples, seed=seed)
        values = self.exact_entropy(n_max)
        if values is None:
            return None
        return grammar_mc.EntropyReference(np.asarray(values, dtype=np.float64), np.zeros(n_max + 1), "exact")

    def exact_correlation(self, lags, *, within_documents: bool = False) -> dict | None:
        """Exact ``||C(t)||_op`` and ``||C(t)||_F`` at ``lags``, or ``None`` if unknown.

        ``C_ab(t) = P(x_i = a, x_{i+t} = b) - P(a) P(b)`` is the expectation over the pairs the
        estimator counts: all pairs of the stream (``within_documents=False``, the default) or pairs
        inside one document. The two agree for the continuous iid, Markov and copy streams; for
        Santa Fe only the within-document share of the pairs is correlated. The grammars' values come
        from the dynamic programme of :mod:`~corpus_stats.synthetic.grammar_exact` (None beyond its
        work limit); their position-dependent marginals make C(t) nonzero across documents too.

        Returns
        -------
        dict or None
            ``{"op": float64[L], "fro": float64[L]}``.
        """
        lags = _lags(lags)
        m = self._model
        if self.kind == "iid_zipf":
            return {"op": np.zeros(lags.size), "fro": np.zeros(lags.size)}
        if self.kind == "copy_process":
            c = _copy_c(lags, m["rho"], m["q"])
            return {"op": c * m["d_op"], "fro": c * m["d_fro"]}
        if self.kind == "markov_chain":
            return _markov_correlation(m, lags)
        if "grammar" in m:
            return grammar_exact.correlation_norms(m["grammar"], lags, within_documents=within_documents)
        if self.kind == "santa_fe":
            p = m["p"]
            lengths = np.diff(self.stream.doc_offsets)
            inside = np.maximum(lengths[None, :] - lags[:, None], 0).sum(axis=1).astype(float)
            if within_documents:
                share = np.where(inside > 0, 1.0, np.nan)
            else:
                share = inside / np.maximum(self.stream.n_tokens - lags, 1)
            return {"op": share * p.max() ** 2 / 2.0, "fro": share * math.sqrt(np.sum(p**4)) / 2.0}
        return None


def _corpus(kind, tokens, offsets, vocab_size, params, beta=None, gamma=None, model=None):
    provenance = {"source": "synthetic", "kind": kind, "params": params}
    stream = TokenStream(tokens, offsets, vocab_size, None, provenance)
    return SyntheticCorpus(stream, kind, params, beta, gamma, model or {})
