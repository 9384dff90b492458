"""``tokenize``: a corpus to a cached token stream (the tokenizer from :mod:`corpus_stats.text.tokenizers`),
encoded in this process or in parts on Dask workers (:mod:`corpus_stats.text.parallel`)."""

from __future__ import annotations

import contextlib
import errno
import os
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from corpus_stats._io import remove_stale_temporaries
from corpus_stats.execution.executors import get_executor
from corpus_stats.stream import TokenStream
from corpus_stats.stream_writer import TokenStreamWriter
from corpus_stats.text import cache, parallel
from corpus_stats.text.sources import Corpus, read_corpus
from corpus_stats.text.tokenizers import (
    DEFAULT_BPE_SAMPLE_CHARS,
    DEFAULT_TOKENIZER,
    TOKENIZER_FILE,
    LoadedTokenizer,
    encode_into,
    load_tokenizer,
)

_MIN_SAMPLE_FOR_PREFIX = 10_000_000  # characters bpe:V trains on at least, with max_tokens


class CacheRebuiltWarning(UserWarning):
    """A cached token stream failed its checks (damaged, another format) and was tokenized again."""


# -- tokenizing -----------------------------------------------------------------------------------


def tokenize(
    corpus_or_inputs,
    tokenizer: str = DEFAULT_TOKENIZER,
    *,
    max_tokens: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    progress: bool = False,
    bpe_sample_chars: int = DEFAULT_BPE_SAMPLE_CHARS,
    scheduler: Any = None,
    **read_options,
) -> TokenStream:
    """Tokenize a corpus into a memory-mapped :class:`TokenStream`, once (cached by content).

    Parameters
    ----------
    corpus_or_inputs : Corpus, path, glob, "-", "hf:NAME", or a list of them
        What to read; anything but a :class:`Corpus` goes through :func:`read_corpus`.
    tokenizer : str, default "bpe:8192"
        Tokenizer spec (see the module docstring).
    max_tokens : int or None
        Keep only the first ``max_tokens`` tokens (the last document may be cut, without its eos).
        ``bpe:V`` then trains on at most ``max(10**7, 8 * max_tokens)`` characters.
    cache_dir : path or None
        Cache directory (default: see :mod:`corpus_stats.text.cache`).
    use_cache : bool, default True
        Read and write the cache; when False the stream lives in a temporary directory until exit.
    progress : bool, default False
        Progress bar on stderr.
    bpe_sample_chars : int
        Most characters ``bpe:V`` is trained on.
    scheduler : str, distributed.Client or executor, optional
        ``"local:N"``, ``"tcp://HOST:PORT"`` or a ``distributed.Client``: the corpus's files (or an
        ``hf:`` dataset's shards) are tokenized in parallel on the Dask workers, which write parts
        under the cache directory (it must be on a filesystem they all see) that are concatenated in
        input order into the one stream, identical to this process's (see :mod:`corpus_stats.text.parallel`).
        None: this process.
    **read_options
        Passed to :func:`read_corpus` (``glob``, ``doc_split``, ``encoding``, ``errors``, ``split``,
        ``text_field``, ``max_documents``).

    Returns
    -------
    TokenStream
        Tokens in the smallest unsigned dtype, every document followed by the eos id; provenance holds
        the sources (sizes, sha256), reading options, tokenizer (spec, hash, training sample), versions,
        and ``cache`` (``hit``, ``path``, ``seconds``; ``rebuilt``: why a cached entry was replaced).

    Raises
    ------
    ValueError, FileNotFoundError, TypeError
        Bad inputs or tokenizer (one clear line each); nothing is written to the cache.

    Warns
    -----
    CacheRebuiltWarning
        The cached entry failed its checks (bytes changed since written, ids >= vocab_size, another
        format) and was tokenized again; a damaged entry is never measured.

    Examples
    --------
    >>> s = tokenize(Corpus.from_texts(["ab", "", "c"]), "bytes", use_cache=False)
    >>> s.tokens.tolist(), s.doc_offsets.tolist()
    ([97, 98, 256, 256, 99, 256], [0, 3, 4, 6])
    """
    start = time.perf_counter()
    if isinstance(corpus_or_inputs, Corpus):
        if read_options:
            raise TypeError(f"reading options ({', '.join(read_options)}) apply to inputs, not to a Corpus.")
        corpus = corpus_or_inputs
    else:
        corpus = read_corpus(corpus_or_inputs, **read_options)
    if max_tokens is not None and (not isinstance(max_tokens, (int, np.integer)) or max_tokens < 1):
        raise ValueError(f"max_tokens must be a positive integer; got {max_tokens!r}.")
    corpus = corpus.hashed(cache_dir, use_cache)
    if max_tokens is not None and isinstance(tokenizer, str) and tokenizer.startswith("bpe:"):
        # a quick look at a prefix: train on text about the size of that prefix, not on the whole corpus
        bpe_sample_chars = min(bpe_sample_chars, max(_MIN_SAMPLE_FOR_PREFIX, 8 * int(max_tokens)))
    key = cache.content_key(
        {
            "corpus": corpus.content_hash(),
            "tokenizer": _tokenizer_identity(tokenizer, bpe_sample_chars),
            "max_tokens": None if max_tokens is None else int(max_tokens),
        }
    )
    target = cache.stream_path(cache_dir, key) if use_cache else cache.scratch_dir() / "stream"
    damaged = None
    if use_cache and target.is_dir():
        try:
            return _with_cache_info(TokenStream.load(target), True, target, start, corpus)
        except (OSError, ValueError, KeyError) as exc:
            damaged = str(exc) or type(exc).__name__  # rebuild it below, and say so once
            warnings.warn(f"the cached token stream was unusable and is rebuilt: {damaged}", CacheRebuiltWarning, 2)
    if use_cache:  # what killed runs left (of any corpus) is never read, only removed
        remove_stale_temporaries(target.parent)
    tok = load_tokenizer(tokenizer, corpus, bpe_sample_chars=bpe_sample_chars, progress=progress)
    executor = None if scheduler is None else get_executor(scheduler)
    try:
        with (
            _disk_full_says_where(target),
            TokenStreamWriter(target, tok.vocab_size, tok.eos_id, overwrite=damaged is not None) as writer,
        ):
            shards = parallel.parallel_shards(corpus, executor, max_tokens)
            parts = parallel.encode_parts_into(writer, shards, tok, executor, progress) if shards else None
            truncated = False if shards else encode_into(writer, corpus, tok, max_tokens, progress)
            if writer.n_tokens == 0:
                raise ValueError(
                    f"the corpus has no documents to tokenize (every input is empty or whitespace; "
                    f"sources: {', '.join(s.name for s in corpus.sources)[:200]})."
                )
            writer.add_file(TOKENIZER_FILE, tok.to_json())
            prov = _provenance(corpus, tok, key, max_tokens, truncated)
            if parts is not None:
                prov["tokenized_in_parts"] = parts
            try:
                stream = writer.close(prov)
            except FileExistsError:  # a concurrent run cached the same stream first: use it
                return _with_cache_info(TokenStream.load(target), True, target, start, corpus)
    finally:
        if executor is not None and executor is not scheduler:  # started here (local:N, tcp://)
            executor.close()
    return _with_cache_info(stream, False, target if use_cache else None, start, rebuilt=damaged)


@contextlib.contextmanager
def _disk_full_says_where(target: Path) -> Iterator[None]:
    """A full disk while writing the stream: one line naming the directory and the fix (nothing was kept)."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        full = OSError(
            f"no space left on the device while writing the token stream under {target.parent}; nothing was "
            "kept. Free some space or point the cache (--cache-dir, $CORPUS_STATS_CACHE) at a larger disk."
        )
        full.errno = errno.ENOSPC
        raise full from None


def _tokenizer_identity(spec: str, bpe_sample_chars: int) -> dict:
    """What the cache key needs to know about the tokenizer, without training it."""
    if isinstance(spec, str) and spec.startswith("bpe:"):
        from tokenizers import __version__ as tk_version

        return {"spec": spec, "sample_chars": int(bpe_sample_chars), "tokenizers": tk_version}
    path = Path(spec).expanduser() if isinstance(spec, str) else None
    if path is not None and path.is_dir():
        path = path / TOKENIZER_FILE
    if path is not None and path.is_file():
        return {"file_sha256": cache.file_sha256(path, use_cache=False)}
    return {"spec": spec}  # bytes, chars, or a pretrained name (its file is fixed by the cache revision)


def _provenance(corpus: Corpus, tok: LoadedTokenizer, key: str, max_tokens, truncated: bool) -> dict:
    from importlib.metadata import version

    from corpus_stats._version import __version__

    return {
        "sources": [s.to_dict() for s in corpus.sources],
        "read_options": dict(corpus.options),
        "tokenizer": tok.provenance(),
        "max_tokens": None if max_tokens is None else int(max_tokens),
        "truncated": bool(truncated),
        "versions": {"corpus_stats": __version__, "tokenizers": version("tokenizers")},
        "cache_key": key,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _with_cache_info(
    stream: TokenStream, hit: bool, path, start: float, corpus: Corpus | None = None, rebuilt: str | None = None
) -> TokenStream:
    prov = dict(stream.provenance)
    if corpus is not None:  # same content under other names: report the inputs as given now
        prov["sources"] = [s.to_dict() for s in corpus.sources]
    prov["cache"] = {
        "hit": hit,
        "path": None if path is None else str(path),
        "seconds": round(time.perf_counter() - start, 4),
    }
    if rebuilt is not None:
        prov["cache"]["rebuilt"] = rebuilt
    return TokenStream(stream.tokens, stream.doc_offsets, stream.vocab_size, stream.eos_id, prov)
