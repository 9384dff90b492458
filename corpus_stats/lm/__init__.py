"""L_n from a language model: the per-position loss of a causal LM, evaluated or trained on the corpus.

Counts cannot reach H_n at useful n on natural text at any size a user has; the paper measured γ
from the per-position loss L_n of transformers instead. This stage makes that curve:

* :func:`lm_curve`: L_n of a Hugging Face causal LM (or any module returning logits) on held-out
  documents, written as the ``n, loss, stderr`` file ``--entropy-curve`` reads;
* :func:`train_lm`: a small GPT-2 trained on the corpus's training documents, with checkpoints at
  nested token budgets P and L_n at each (the L_n(P) table of the collapse figure);
* :class:`MarkovLM`: the exact conditional log-probabilities of a synthetic Markov chain, as logits,
  whose L_n must equal the exact H_n (the check of the conventions).

torch and transformers (the ``lm`` extra) are imported on first use, never by ``import corpus_stats``.
"""

_LAZY = {
    "lm_curve": "corpus_stats.lm.evaluate",
    "LMCurve": "corpus_stats.lm.evaluate",
    "CONVENTIONS": "corpus_stats.lm.evaluate",
    "load_model": "corpus_stats.lm.models",
    "PRESETS": "corpus_stats.lm.models",
    "preset_parameters": "corpus_stats.lm.models",
    "train_lm": "corpus_stats.lm.train",
    "TrainedLM": "corpus_stats.lm.train",
    "MarkovLM": "corpus_stats.lm.exact",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'corpus_stats.lm' has no attribute {name!r}")


__all__ = list(_LAZY)
