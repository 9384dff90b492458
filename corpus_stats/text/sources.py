"""Turn inputs (files, directories, globs, stdin, datasets) into a re-iterable stream of documents.

Nothing here tokenizes or counts. A :class:`Corpus` is cheap: it records what to read and how, and
reads lazily each time it is iterated, so a corpus larger than memory never has to fit in RAM.

Document splitting of text files (``doc_split``):

* ``"auto"`` (default): split on ``<|endoftext|>`` when the file contains it (TinyStories' format),
  else the whole file is one document;
* ``"file"``: one document per file, unchanged;
* ``"line"``: one document per line (blank lines dropped);
* ``"blank-line"``: documents separated by blank lines;
* any other string: a literal separator.

Pieces produced by a separator are stripped of surrounding whitespace and empty ones are dropped (as
the paper's TinyStories preprocessing did); ``"file"`` documents are kept byte for byte.

The other input kinds have readers of their own: record files (JSONL, JSON, parquet, arrow) in
:mod:`~corpus_stats.text.records`, ``hf:`` datasets in :mod:`~corpus_stats.text.hub`; all read their
bytes through :mod:`~corpus_stats.text.inputs`.
"""

from __future__ import annotations

import codecs
import glob as globmod
import itertools
import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus_stats.text import cache
from corpus_stats.text.hub import read_hf
from corpus_stats.text.inputs import CHUNK_BYTES, Source, check_not_binary, decode
from corpus_stats.text.records import read_records

EOT = "<|endoftext|>"
DOC_SPLIT_MODES = ("auto", "file", "line", "blank-line")
_COMPRESSION = {".gz": "gzip", ".xz": "xz", ".zst": "zstd", ".bz2": "bz2"}
_RECORD_KINDS = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet", ".arrow": "arrow"}
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@dataclass(frozen=True, eq=False)
class Corpus:
    """Documents (strings) read lazily from ``sources``; iterate it to get them, as often as needed.

    Parameters
    ----------
    sources : tuple of Source
        The inputs, in reading order.
    options : dict
        Reading options (``doc_split``, ``encoding``, ``errors``, ``split``, ``text_field``,
        ``max_documents``), part of the cache key.
    """

    sources: tuple[Source, ...]
    options: dict = field(default_factory=dict)
    texts: tuple[str, ...] | None = None

    @classmethod
    def from_texts(cls, texts: Iterable[str], name: str = "<memory>") -> Corpus:
        """A corpus of the given document strings, kept exactly (empty documents included)."""
        texts = tuple(texts)
        bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if bad:
            raise TypeError(f"documents must be str; got {bad[0]}.")
        blob = json.dumps(texts, ensure_ascii=False).encode("utf-8")
        src = Source(name, "memory", size=len(blob), sha256=cache.hash_bytes(blob))
        return cls((src,), {}, texts)

    def __iter__(self) -> Iterator[str]:
        docs = (
            iter(self.texts)
            if self.texts is not None
            else itertools.chain.from_iterable(_iter_source(s, self.options) for s in self.sources)
        )
        limit = self.options.get("max_documents")
        return itertools.islice(docs, limit) if limit is not None else docs

    @property
    def total_bytes(self) -> int | None:
        """Sum of the sources' sizes on disk (None when a source has no size, e.g. ``hf:``)."""
        sizes = [s.size for s in self.sources]
        return None if any(v is None for v in sizes) else int(sum(sizes))

    def hashed(self, cache_dir=None, use_cache: bool = True) -> Corpus:
        """This corpus with every file source's sha256 filled in (memoised in the cache dir)."""
        sources = tuple(
            replace(s, sha256=cache.file_sha256(s.path, cache_dir, use_cache))
            if s.sha256 is None and s.path is not None
            else s
            for s in self.sources
        )
        return replace(self, sources=sources)

    def content_hash(self) -> str:
        """Key of the content and reading options (file sources must be hashed first)."""
        return cache.content_key(
            {
                "sources": [s.to_dict() | {"name": None} if s.sha256 else s.to_dict() for s in self.sources],
                "options": self.options,
            }
        )

    def provenance(self) -> dict:
        """JSON-safe description: the sources with sizes and hashes, and the reading options."""
        return {
            "sources": [s.to_dict() for s in self.hashed(use_cache=False).sources],
            "read_options": dict(self.options),
        }

    def __repr__(self) -> str:
        return f"Corpus({len(self.sources)} sources, {self.total_bytes} bytes, options={self.options})"


def read_corpus(
    inputs,
    *,
    glob: str = "*.txt",
    doc_split: str = "auto",
    encoding: str = "utf-8",
    errors: str = "strict",
    split: str = "train",
    text_field: str = "text",
    max_documents: int | None = None,
) -> Corpus:
    """Resolve inputs into a :class:`Corpus` (documents are read lazily on iteration).

    Parameters
    ----------
    inputs : str, os.PathLike or sequence of them
        Text files (optionally ``.gz``/``.xz``/``.bz2``/``.zst``), directories (searched recursively
        for ``glob``, sorted), shell globs, ``-`` for stdin, ``.jsonl``/``.json``/``.parquet``/``.arrow``
        files, and ``hf:NAME[:CONFIG]`` Hugging Face datasets.
    glob : str, default "*.txt"
        File pattern used inside directories.
    doc_split : str, default "auto"
        How text files are cut into documents (see the module docstring).
    encoding, errors : str
        Text decoding, as for :func:`open` (``errors="replace"`` to read broken files anyway).
    split, text_field : str
        Dataset split (``hf:``) and the record field holding the text (record files and ``hf:``).
    max_documents : int or None
        Keep only the first documents.

    Returns
    -------
    Corpus

    Raises
    ------
    FileNotFoundError
        A path or glob that matches nothing.
    ValueError
        An empty file, a directory without matching files, binary input, an unknown encoding, bad options.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = p.write_text("one story<|endoftext|>another story\\n")
    >>> list(read_corpus(p))
    ['one story', 'another story']
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(i, (str, os.PathLike)) for i in inputs):
        raise TypeError(
            "inputs must be a path, glob, '-', 'hf:NAME' or a list of them (or pass a Corpus to "
            f"tokenize); got {type(inputs).__name__}."
        )
    inputs = list(inputs)
    if not inputs:
        raise ValueError("no inputs given; pass at least one file, directory, glob, '-' or hf:NAME.")
    try:
        codecs.lookup(encoding)
        codecs.lookup_error(errors)
    except LookupError as exc:
        raise ValueError(f"unknown encoding or error handler: {exc}.") from None
    if not isinstance(doc_split, str) or not doc_split:
        raise ValueError(
            f"doc_split must be one of {', '.join(DOC_SPLIT_MODES)} or a non-empty separator; got {doc_split!r}."
        )
    if max_documents is not None and (not isinstance(max_documents, int) or max_documents < 1):
        raise ValueError(f"max_documents must be a positive integer; got {max_documents!r}.")
    sources: list[Source] = []
    for item in inputs:
        sources.extend(_resolve(item, glob))
    options = {
        "doc_split": doc_split,
        "encoding": encoding,
        "errors": errors,
        "split": split,
        "text_field": text_field,
        "max_documents": max_documents,
    }
    corpus = Corpus(tuple(sources), options)
    for s in corpus.sources:
        if s.kind == "text":
            check_not_binary(s, encoding)
    return corpus


# -- resolving inputs -----------------------------------------------------------------------------


def _resolve(item, pattern: str) -> list[Source]:
    text = os.fspath(item)
    if text == "-":
        return [_spool_stdin()]
    if text.startswith("hf:"):
        name, _, config = text[3:].partition(":")
        if not name:
            raise ValueError(f"hf: inputs need a dataset name, as in hf:roneneldan/TinyStories; got {text!r}.")
        return [Source(text, "hf", path=None, compression=config or None)]
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.rglob(pattern) if p.is_file())
        if not files:
            raise ValueError(f"directory {path} has no files matching {pattern!r} (use --glob to change the pattern).")
        return [_file_source(p) for p in files]
    if path.is_file():
        return [_file_source(path)]
    if any(c in text for c in "*?["):
        files = sorted(Path(p) for p in globmod.glob(text, recursive=True) if Path(p).is_file())
        if not files:
            raise FileNotFoundError(f"no files match the pattern {text!r}.")
        return [_file_source(p) for p in files]
    raise FileNotFoundError(f"input {text!r} does not exist.")


def _file_source(path: Path) -> Source:
    size = path.stat().st_size
    if size == 0:
        raise ValueError(f"input file {path} is empty.")
    suffixes = [s.lower() for s in path.suffixes]
    compression = _COMPRESSION.get(suffixes[-1]) if suffixes else None
    inner = (
        suffixes[-2] if compression and len(suffixes) > 1 else (suffixes[-1] if suffixes and not compression else "")
    )
    kind = _RECORD_KINDS.get(inner, "text")
    if compression and kind in ("parquet", "arrow"):
        raise ValueError(f"{path}: compressed {kind} files are not supported; decompress it first.")
    return Source(str(path), kind, path=str(path), compression=compression, size=size)


def _spool_stdin() -> Source:
    """Copy stdin to a private temporary file so the corpus can be hashed and read twice."""
    target = cache.scratch_dir() / "stdin.txt"
    with open(target, "wb") as out:
        shutil.copyfileobj(sys.stdin.buffer, out, CHUNK_BYTES)
    size = target.stat().st_size
    if size == 0:
        raise ValueError("standard input is empty.")
    return Source("<stdin>", "text", path=str(target), size=size)


# -- reading documents ----------------------------------------------------------------------------


def _iter_source(src: Source, opt: dict, hf_shard: tuple[int, int] | None = None) -> Iterator[str]:
    if src.kind == "text":
        return _split(decode(src, opt["encoding"], opt["errors"]), opt["doc_split"])
    if src.kind == "hf":
        return read_hf(src, opt, hf_shard)
    return read_records(src, opt)


def iter_documents(sources: Iterable[Source], options: dict, hf_shard: tuple[int, int] | None = None) -> Iterator[str]:
    """Documents of ``sources`` read with ``options`` (no ``max_documents``), as a :class:`Corpus` reads them.

    ``hf_shard = (index, count)`` reads only shard ``index`` of ``count`` contiguous shards of an ``hf:``
    source; the shards ``0 .. count - 1`` read in turn give exactly the dataset's documents in order.
    """
    return itertools.chain.from_iterable(_iter_source(s, options, hf_shard) for s in sources)


def _split(chunks: Iterator[str], mode: str) -> Iterator[str]:
    if mode == "file":
        text = "".join(chunks)
        if text:
            yield text
        return
    if mode == "auto":
        head: list[str] = []
        tail = ""
        for chunk in chunks:
            head.append(chunk)
            if EOT in tail + chunk:  # the overlap catches a separator cut between chunks
                yield from _split_on(itertools.chain(["".join(head)], chunks), EOT)
                return
            tail = (tail + chunk)[-len(EOT) :]
        text = "".join(head)
        if text.strip():
            yield text
        return
    if mode == "line":
        yield from _split_on(chunks, "\n")
        return
    yield from _split_on(chunks, _BLANK_LINE if mode == "blank-line" else mode)


def _split_on(chunks: Iterable[str], sep) -> Iterator[str]:
    """Split streamed text on a literal separator or compiled regex; strip pieces, drop empty ones.

    Linear time: the pending text is only split when the newest chunk (plus the tail of the pending
    text that a separator could start in) contains a separator.
    """
    is_re = isinstance(sep, re.Pattern)
    parts: list[str] = []
    tail = ""
    for chunk in chunks:
        probe = tail + chunk
        parts.append(chunk)
        if sep.search(probe) if is_re else sep in probe:
            text = "".join(parts)
            pieces = sep.split(text) if is_re else text.split(sep)
            last = pieces.pop()
            parts = [last]
            for piece in pieces:
                piece = piece.strip()
                if piece:
                    yield piece
            probe = last
        # a blank-line match is all whitespace, so it can only start in the trailing whitespace run
        if is_re:
            tail = probe[len(probe.rstrip()) :]
        else:
            tail = probe[max(0, len(probe) - len(sep) + 1) :] if len(sep) > 1 else ""
    text = "".join(parts).strip()
    if text:
        yield text
