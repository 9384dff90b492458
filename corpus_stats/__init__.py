"""corpus-stats: measure C(t) and H_n of a corpus and predict the data-scaling exponent alpha_D."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corpus-stats")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from corpus_stats.stream import TokenStream
from corpus_stats.sources import read_corpus
from corpus_stats.tokenization import tokenize

__all__ = ["TokenStream", "__version__", "read_corpus", "tokenize"]
