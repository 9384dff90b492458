"""Tokenize a corpus in parts on Dask workers and concatenate the parts, in input order, into one stream.

A corpus is cut into shards that never split a document: consecutive groups of its files (balanced
by bytes, about ``PARTS_PER_WORKER`` per worker), and the dataset shards of an ``hf:`` source (its
data files when streamed, contiguous pieces of a local copy). Every worker encodes its shards with
the tokenizer the driver resolved (``bpe:V`` is trained once, in the driver) and writes each one as a
checksummed part stream under the stream's temporary directory, which must be on a filesystem every
worker sees at the same path (the cache directory). The driver then appends the parts in shard order
to the one :class:`~corpus_stats.stream_writer.TokenStreamWriter`, verifying each part's checksums as it
reads it, and removes them. A document is encoded the same whichever batch it is in, so the stream is
byte for byte the one a single process writes.

Prefix options (``max_tokens``, ``max_documents``) and in-memory corpora are tokenized in the
driver: a prefix is read in order anyway.
"""

from __future__ import annotations

import os
import pickle
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from corpus_stats.progress import Progress
from corpus_stats.stream import TokenStream
from corpus_stats.stream_writer import TokenStreamWriter
from corpus_stats.text.hub import hf_shard_count
from corpus_stats.text.inputs import Source
from corpus_stats.text.sources import Corpus, iter_documents

PARTS_PER_WORKER = 4  # shards per worker: evens out files of unequal size
APPEND_CHUNK = 1 << 24  # tokens per append when concatenating parts (whole documents; bounded memory)
_TOKENIZER_FILE = "tokenizer.pickle"
_WORKER_TOKENIZER: dict[str, Any] = {}  # per worker process: the tokenizer last loaded, by path


@dataclass(frozen=True)
class Shard:
    """Some consecutive sources of a corpus (or one shard of an ``hf:`` source), read as the corpus reads them.

    Iterating it gives its documents; ``total_bytes`` sizes its progress bar.
    """

    sources: tuple[Source, ...]
    options: dict
    hf_shard: tuple[int, int] | None = None  # (index, count) of an hf: source's contiguous shards

    def __iter__(self) -> Iterator[str]:
        return iter_documents(self.sources, self.options, self.hf_shard)

    @property
    def total_bytes(self) -> int | None:
        sizes = [s.size for s in self.sources]
        return None if self.hf_shard is not None or None in sizes else int(sum(sizes))


def plan_shards(corpus: Corpus, n_parts: int) -> list[Shard]:
    """Shards whose documents, read in order, are exactly ``corpus``'s; about ``n_parts`` of the files."""
    shards: list[Shard] = []
    files: list[Source] = []

    def flush() -> None:  # a file goes to the part its middle byte falls in
        sizes = np.array([max(s.size or 0, 1) for s in files], dtype=np.float64)
        middle = np.cumsum(sizes) - sizes / 2
        part = np.floor(middle / (sizes.sum() / max(n_parts, 1))).astype(np.int64) if files else middle
        for k in np.unique(part):
            shards.append(Shard(tuple(f for f, p in zip(files, part) if p == k), corpus.options))
        files.clear()

    for src in corpus.sources:
        if src.kind == "hf":
            flush()
            count = hf_shard_count(src, corpus.options, n_parts)
            shards += [Shard((src,), corpus.options, (i, count)) for i in range(count)]
        else:
            files.append(src)
    flush()
    return shards


def parallel_shards(corpus: Corpus, executor: Any, max_tokens: int | None) -> list[Shard]:
    """The shards to tokenize on the executor's workers; empty when the corpus is tokenized in this process
    (no Dask executor, a prefix option, an in-memory corpus, or a single shard)."""
    if getattr(executor, "name", None) != "dask" or max_tokens is not None or corpus.texts is not None:
        return []
    if corpus.options.get("max_documents") is not None:
        return []
    shards = plan_shards(corpus, PARTS_PER_WORKER * executor.n_workers)
    return shards if len(shards) > 1 else []


def encode_parts_into(writer: TokenStreamWriter, shards: list[Shard], tok: Any, executor: Any, progress: bool) -> dict:
    """Tokenize ``shards`` on the executor's workers and append their parts to ``writer`` in order.

    The parts live in ``writer``'s temporary directory, so a failure (or Ctrl-C) that aborts the
    writer removes them with it. Returns a JSON-safe description for the provenance.
    """
    parts_dir = writer.tmp_dir / "parts"
    parts_dir.mkdir()
    with open(parts_dir / _TOKENIZER_FILE, "wb") as fh:
        pickle.dump(tok, fh)
    paths = sorted({s.path for shard in shards for s in shard.sources if s.path is not None})
    executor.run_everywhere(_check_worker_access, str(parts_dir), paths)  # before any tokenizing
    counts = executor.map(tokenize_part, [(str(parts_dir), i, shard) for i, shard in enumerate(shards)])
    with Progress("concatenate parts (tokens)", sum(n for n, _ in counts), enabled=progress) as bar:
        for i, (n_tokens, n_documents) in enumerate(counts):
            append_part(writer, parts_dir / part_name(i), n_tokens, n_documents)
            bar.update(n_tokens)
    shutil.rmtree(parts_dir)
    return {"parts": len(shards), **executor.describe()}


def part_name(index: int) -> str:
    return f"part-{index:06d}"


def tokenize_part(parts_dir: str, index: int, shard: Shard) -> tuple[int, int]:
    """On a worker: encode one shard into the part stream ``parts_dir/part-<index>``; its token and document counts.

    A rerun (a worker died) replaces the part; a part is renamed into place only when complete.
    """
    from corpus_stats.text.tokenizers import encode_into

    if not os.path.isdir(parts_dir):  # the run was abandoned (Ctrl-C, another part failed): write nothing
        raise FileNotFoundError(f"the parts directory {parts_dir} is gone; the tokenization was abandoned.")
    tok = _worker_tokenizer(os.path.join(parts_dir, _TOKENIZER_FILE))
    with TokenStreamWriter(Path(parts_dir) / part_name(index), tok.vocab_size, tok.eos_id, overwrite=True) as w:
        encode_into(w, shard, tok, None, False)
        part = w.close({"part": index})
    return part.n_tokens, part.n_documents


def append_part(writer: TokenStreamWriter, path: Path, n_tokens: int, n_documents: int) -> None:
    """Append a part's documents to ``writer`` in chunks of whole documents; its checksums are verified first."""
    part = TokenStream.load(path, mmap=True, verify=True)
    if (part.n_tokens, part.n_documents) != (n_tokens, n_documents) or part.vocab_size != writer.vocab_size:
        raise ValueError(f"the tokenized part {path} does not match what its worker reported; tokenize again.")
    offsets = part.doc_offsets
    cuts = np.searchsorted(offsets, np.arange(APPEND_CHUNK, part.n_tokens, APPEND_CHUNK), side="left")
    cuts = np.unique(np.concatenate([[0], cuts, [part.n_documents]]))
    for a, b in zip(cuts[:-1], cuts[1:]):
        writer.append_documents(part.tokens[offsets[a] : offsets[b]], np.diff(offsets[a : b + 1]))


def _worker_tokenizer(path: str) -> Any:
    if path not in _WORKER_TOKENIZER:
        _WORKER_TOKENIZER.clear()
        with open(path, "rb") as fh:
            _WORKER_TOKENIZER[path] = pickle.load(fh)  # written by this run's driver
    return _WORKER_TOKENIZER[path]


def _check_worker_access(parts_dir: str, paths: list[str]) -> str:
    """On every worker, before any tokenizing: the inputs are readable and the parts directory writable."""
    host = socket.gethostname()
    for path in paths:
        if not os.access(path, os.R_OK):
            raise FileNotFoundError(
                f"worker on {host} cannot read the input {path}; every Dask worker must see the inputs at the "
                "same path (a shared filesystem)."
            )
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=parts_dir)
    except OSError as exc:
        raise PermissionError(
            f"worker on {host} cannot write the tokenized parts to {parts_dir} ({exc.strerror or exc}); the "
            "cache directory (--cache-dir) must be on a filesystem every Dask worker sees at the same path."
        ) from None
    os.close(fd)
    os.unlink(probe)
    return host
