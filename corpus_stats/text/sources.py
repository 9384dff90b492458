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
"""

from __future__ import annotations

import bz2
import codecs
import glob as globmod
import gzip
import itertools
import json
import lzma
import os
import re
import shutil
import socket
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from corpus_stats.text import cache

EOT = "<|endoftext|>"
DOC_SPLIT_MODES = ("auto", "file", "line", "blank-line")
_COMPRESSION = {".gz": "gzip", ".xz": "xz", ".zst": "zstd", ".bz2": "bz2"}
_RECORD_KINDS = {".jsonl": "jsonl", ".json": "json", ".parquet": "parquet", ".arrow": "arrow"}
_CHUNK = 1 << 22  # 4 MiB of bytes per read
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")


@dataclass(frozen=True)
class Source:
    """One input: a file, ``<stdin>`` (spooled to a temporary file), a dataset, or in-memory texts."""

    name: str
    kind: str  # text | jsonl | json | parquet | arrow | hf | memory
    path: str | None = None
    compression: str | None = None
    size: int | None = None
    sha256: str | None = None

    def to_dict(self) -> dict:
        """JSON-safe description for provenance."""
        return {
            "name": self.name,
            "kind": self.kind,
            "compression": self.compression,
            "size": self.size,
            "sha256": self.sha256,
        }


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
            _check_not_binary(s, encoding)
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
        shutil.copyfileobj(sys.stdin.buffer, out, _CHUNK)
    size = target.stat().st_size
    if size == 0:
        raise ValueError("standard input is empty.")
    return Source("<stdin>", "text", path=str(target), size=size)


def _open_binary(src: Source):
    if src.compression == "zstd":
        try:
            import zstandard
        except ImportError:
            raise ValueError(
                f"{src.name} is zstd-compressed; install the 'zstandard' package "
                "(pip install 'corpus-stats[zstd]') or decompress it first."
            ) from None
        return zstandard.ZstdDecompressor().stream_reader(open(src.path, "rb"), closefd=True)
    opener = {"gzip": gzip.open, "xz": lzma.open, "bz2": bz2.open}.get(src.compression, open)
    return opener(src.path, "rb")


def _read_chunks(src: Source) -> Iterator[bytes]:
    try:
        with _open_binary(src) as fh:
            while chunk := fh.read(_CHUNK):
                yield chunk
    except (OSError, EOFError, lzma.LZMAError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"cannot read {src.name} as {src.compression or 'plain'} data: {exc}.") from None
    except Exception as exc:  # zstandard.ZstdError and friends
        if type(exc).__module__.startswith("zstandard"):
            raise ValueError(f"cannot read {src.name} as zstd data: {exc}.") from None
        raise


def _check_not_binary(src: Source, encoding: str) -> None:
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return  # NUL bytes are normal there
    head = next(_read_chunks(src), b"")[:8192]
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ValueError(
            f"{src.name} looks binary (NUL byte at byte offset {nul}); "
            "corpus text files must be text (use --encoding if it is UTF-16/32)."
        )


# -- reading documents ----------------------------------------------------------------------------


def _iter_source(src: Source, opt: dict, hf_shard: tuple[int, int] | None = None) -> Iterator[str]:
    if src.kind == "text":
        return _split(_decode(src, opt["encoding"], opt["errors"]), opt["doc_split"])
    if src.kind == "jsonl" or (src.kind == "json" and not _is_json_array(src)):
        return _iter_jsonl(src, opt)
    if src.kind == "hf":
        return _iter_hf(src, opt, hf_shard)
    return _iter_dataset_file(src, opt)


def iter_documents(sources: Iterable[Source], options: dict, hf_shard: tuple[int, int] | None = None) -> Iterator[str]:
    """Documents of ``sources`` read with ``options`` (no ``max_documents``), as a :class:`Corpus` reads them.

    ``hf_shard = (index, count)`` reads only shard ``index`` of ``count`` contiguous shards of an ``hf:``
    source; the shards ``0 .. count - 1`` read in turn give exactly the dataset's documents in order.
    """
    return itertools.chain.from_iterable(_iter_source(s, options, hf_shard) for s in sources)


def _decode(src: Source, encoding: str, errors: str) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    offset = 0
    for raw in itertools.chain(_read_chunks(src), [None]):
        pending = len(getattr(decoder, "buffer", b"") or b"")
        try:
            text = decoder.decode(b"", final=True) if raw is None else decoder.decode(raw)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{src.name} is not valid {encoding} at byte offset {offset - pending + exc.start} "
                f"({exc.reason}); pass --encoding to change it or --errors replace to read it anyway."
            ) from None
        if raw is not None:
            offset += len(raw)
        if text:
            yield text


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


def _is_json_array(src: Source) -> bool:
    for chunk in _decode(src, "utf-8", "replace"):
        stripped = chunk.lstrip()
        if stripped:
            return stripped.startswith("[")
    return False


def _iter_jsonl(src: Source, opt: dict) -> Iterator[str]:
    field_name = opt["text_field"]
    parts: list[str] = []
    lineno = 0
    for chunk in itertools.chain(_decode(src, opt["encoding"], opt["errors"]), ["\n"]):
        parts.append(chunk)
        if "\n" not in chunk:
            continue  # a long line: wait for its end without re-splitting
        *complete, rest = "".join(parts).split("\n")
        parts = [rest]
        for line in complete:
            lineno += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                # some messages end in "at" already ("Unterminated string starting at")
                raise ValueError(
                    f"{src.name} line {lineno} is not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})."
                ) from None
            yield _text_of(record, field_name, f"{src.name} line {lineno}")


class _RecordError(ValueError):
    """A record without usable text; the message already names the file and the record."""


def _text_of(record, field_name: str, where: str) -> str:
    if not isinstance(record, dict):
        raise _RecordError(f"{where} is a JSON {type(record).__name__}, not an object with a {field_name!r} field.")
    if field_name not in record:
        fields = ", ".join(map(str, record)) or "none"
        raise _RecordError(f"{where} has no field {field_name!r}; its fields are: {fields} (use --text-field).")
    value = record[field_name]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _RecordError(f"{where}: field {field_name!r} must hold text; got {type(value).__name__}.")
    return value


def _datasets():
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets


def _iter_dataset_file(src: Source, opt: dict) -> Iterator[str]:
    builder = {"json": "json", "parquet": "parquet", "arrow": "arrow"}[src.kind]
    try:
        ds = _datasets().load_dataset(builder, data_files=src.path, split="train", streaming=True)
        yield from _iter_records(ds, opt["text_field"], src.name)
    except _RecordError:
        raise
    except Exception as exc:  # pyarrow / datasets errors carry the reason, not the file's name
        raise ValueError(f"cannot read {src.name} as {src.kind}: {str(exc).splitlines()[0][:300]}") from None


def _iter_records(ds, field_name: str, name: str) -> Iterator[str]:
    features = getattr(ds, "features", None)
    if features is not None and field_name not in features:
        raise _RecordError(
            f"{name} has no field {field_name!r}; its fields are: {', '.join(features)} (use --text-field)."
        )
    for i, record in enumerate(ds):
        yield _text_of(record, field_name, f"{name} record {i}")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub answers a TCP connection within ``timeout`` seconds."""
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("HF_DATASETS_OFFLINE")):
        return False
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((host.split(":")[0], 443), timeout=timeout):
            return True
    except OSError:
        return False


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _load_hf(src: Source, opt: dict):
    """The dataset of an ``hf:`` source: streamed from the Hub, or its local copy when offline."""
    name, config = src.name[3:].partition(":")[0], src.compression
    offline = _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("HF_DATASETS_OFFLINE"))
    if not offline and not hub_reachable():
        raise ValueError(
            f"{src.name} needs the Hugging Face Hub, which is unreachable from here; run on a "
            "networked machine, set HF_HUB_OFFLINE=1 to use a copy already in the local "
            "datasets cache, or download the files and pass their paths."
        )
    datasets = _datasets()
    if offline:  # honour the variables even when datasets was imported before they were set
        datasets.config.HF_HUB_OFFLINE = True
    try:
        # offline: only a fully cached (non-streaming, memory-mapped) copy can be used
        return datasets.load_dataset(name, config, split=opt["split"], streaming=not offline)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        where = "is not in the local datasets cache (offline mode)" if offline else "could not be loaded"
        raise ValueError(f"{src.name} {where}: {reason}") from None


def hf_shard_count(src: Source, opt: dict, wanted: int) -> int:
    """How many contiguous shards an ``hf:`` source is read in: a streamed dataset's own shards (its
    data files), or ``wanted`` pieces of a local (offline) copy."""
    ds = _load_hf(src, opt)
    shards = getattr(ds, "num_shards", None)
    return max(1, int(shards) if shards is not None else min(wanted, len(ds)))


def _iter_hf(src: Source, opt: dict, shard: tuple[int, int] | None = None) -> Iterator[str]:
    ds = _load_hf(src, opt)
    name = src.name
    if shard is not None:
        index, count = shard
        ds = ds.shard(num_shards=count, index=index, contiguous=True)
        name = f"{src.name} (shard {index + 1} of {count})"
    yield from _iter_records(ds, opt["text_field"], name)
