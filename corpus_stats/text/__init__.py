"""Text to tokens: read documents from files or datasets, tokenize them, cache the token stream.

The door of this stage is :func:`tokenize` (a corpus spec and a tokenizer spec in, a cached
:class:`~corpus_stats.stream.TokenStream` out); :func:`read_corpus` exposes the documents themselves.
"""

from corpus_stats.text.sources import Corpus, read_corpus
from corpus_stats.text.tokenization import tokenize
from corpus_stats.text.tokenizers import LoadedTokenizer, load_stream_tokenizer, load_tokenizer

__all__ = ["Corpus", "LoadedTokenizer", "load_stream_tokenizer", "load_tokenizer", "read_corpus", "tokenize"]
