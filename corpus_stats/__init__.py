"""corpus-stats: measure C(t) and H_n of a corpus and predict the data-scaling exponent alpha_D.

The stages are subpackages, each entered through its own ``__init__``: ``text`` (documents →
tokens), ``stream`` (the :class:`TokenStream` every stage shares), ``correlations`` (C(t)),
``entropy`` (H_n), ``report`` (the :class:`Measurement`, its files and figures), ``pipeline``
(:func:`measure`, all of it), ``synthetic`` (ground truth), ``validation`` (reference check, demo) and
``cli``. Fits and predictions live in the separate ``scaling`` package.
"""

from corpus_stats._version import __version__
from corpus_stats.stream import TokenStream
from corpus_stats.text import read_corpus, tokenize

# Heavier pieces are imported on first use so that `import corpus_stats` stays fast.
_LAZY = {
    "measure": "corpus_stats.pipeline",
    "correlation_curve": "corpus_stats.correlations",
    "entropy_curve": "corpus_stats.entropy",
    "Measurement": "corpus_stats.report",
    "load_measurement": "corpus_stats.report",
    "synthetic": None,
    "plotting": "corpus_stats.report.plotting",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = _LAZY[name]
        if module is None:
            return importlib.import_module(f"corpus_stats.{name}")
        if name == module.rpartition(".")[2]:
            return importlib.import_module(module)
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'corpus_stats' has no attribute {name!r}")


__all__ = ["TokenStream", "__version__", "read_corpus", "tokenize", *_LAZY]
