"""corpus-stats: measure C(t) and H_n of a corpus and predict the data-scaling exponent alpha_D."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corpus-stats")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from corpus_stats.sources import read_corpus
from corpus_stats.stream import TokenStream
from corpus_stats.tokenization import tokenize

# Heavier pieces are imported on first use so that `import corpus_stats` stays fast.
_LAZY = {
    "measure": "corpus_stats.pipeline",
    "correlation_curve": "corpus_stats.correlations",
    "entropy_curve": "corpus_stats.entropy",
    "Measurement": "corpus_stats.report",
    "load_measurement": "corpus_stats.report",
    "synthetic": None,
    "plotting": None,
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        module = _LAZY[name]
        if module is None:
            return importlib.import_module(f"corpus_stats.{name}")
        return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'corpus_stats' has no attribute {name!r}")


__all__ = ["TokenStream", "__version__", "read_corpus", "tokenize", *_LAZY]
