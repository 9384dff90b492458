"""`TokenStream`: a token array with document boundaries, vocabulary size, eos id and provenance.

The stream is what every statistic reads. It knows nothing about statistics; it only guarantees a
well-formed layout:

* ``tokens`` is 1-D, of the smallest unsigned dtype that holds ``vocab_size - 1``, C-contiguous, and
  may be a read-only memmap;
* ``doc_offsets`` is int64 of length ``n_documents + 1``, with ``doc_offsets[0] == 0``,
  ``doc_offsets[-1] == len(tokens)`` and non-decreasing; document ``i`` is
  ``tokens[doc_offsets[i]:doc_offsets[i + 1]]`` and includes its trailing ``<eos>`` when the
  tokenizer appended one.

A saved stream carries a CRC-32 of its token bytes and of its offsets (``meta.json``); :meth:`TokenStream.load`
recomputes them in one streaming pass and refuses a stream whose bytes changed since they were written
(:class:`DamagedStreamError`), so a damaged cache entry is never measured. Every stream also checks that its
ids lie below ``vocab_size`` (numba kernels index arrays by id and would read out of bounds).
"""

from __future__ import annotations

import json
import mmap as _mmap
import os
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np

from corpus_stats._io import replace_dir, temporary_sibling_dir
from corpus_stats.shards import DEFAULT_SHARDS, MAX_SHARDS, Shards, document_shards

STREAM_FORMAT_VERSION = 1
META_FILE = "meta.json"
TOKENS_FILE = "tokens.npy"
OFFSETS_FILE = "doc_offsets.npy"
_RELEASE_CHUNK = 1 << 26  # tokens copied between two releases of a memory-mapped stream's pages
_CHECKSUM_BLOCK = 1 << 24  # bytes per step of the streaming checksum (bounded memory on a memmap)


class DamagedStreamError(ValueError):
    """A saved stream whose bytes differ from those written (checksum mismatch or ids >= vocab_size)."""


def crc32(array: np.ndarray, crc: int = 0) -> int:
    """CRC-32 of an array's bytes, continuing from ``crc``, read in blocks (a memmap is paged, not loaded)."""
    data = memoryview(np.ascontiguousarray(array)).cast("B")
    for start in range(0, len(data), _CHECKSUM_BLOCK):
        crc = zlib.crc32(data[start : start + _CHECKSUM_BLOCK], crc)
    return crc


def _checksums(tokens_crc: int, offsets_crc: int) -> dict:
    return {"algorithm": "crc32", TOKENS_FILE: f"{tokens_crc:08x}", OFFSETS_FILE: f"{offsets_crc:08x}"}


def stream_meta(
    n_tokens: int, offsets: np.ndarray, vocab_size: int, eos_id, dtype, tokens_crc: int, provenance: dict
) -> dict:
    """The ``meta.json`` of a saved stream: the one layout that :meth:`TokenStream.save` and
    :class:`~corpus_stats.stream_writer.TokenStreamWriter` write and :meth:`TokenStream.load` reads."""
    return {
        "format_version": STREAM_FORMAT_VERSION,
        "n_tokens": n_tokens,
        "n_documents": int(offsets.size - 1),
        "vocab_size": vocab_size,
        "eos_id": eos_id,
        "dtype": str(dtype),
        "checksums": _checksums(tokens_crc, crc32(offsets)),
        "provenance": provenance,
    }


def segment_bounds(doc_offsets: np.ndarray, n_tokens: int, within_documents: bool) -> np.ndarray:
    """Token offsets of the segments that no pair or n-gram may cross: the document offsets when
    counting ``within_documents``, else the whole stream ``[0, n_tokens]`` (int64).

    The one rule behind ``within_documents`` for every statistic (also for the training and held-out
    parts of the Kneser-Ney split, which are (tokens, offsets) pairs rather than streams).
    """
    if within_documents:
        return np.asarray(doc_offsets, dtype=np.int64)
    return np.array([0, n_tokens], dtype=np.int64)


def smallest_uint_dtype(vocab_size: int) -> np.dtype:
    """Smallest unsigned integer dtype that holds every id in ``range(vocab_size)``."""
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be at least 1; got {vocab_size}.")
    for dtype in (np.uint8, np.uint16, np.uint32):
        if vocab_size - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.uint64)


@dataclass(frozen=True, eq=False, repr=False)
class TokenStream:
    """Token ids of a corpus, its document boundaries, vocabulary size, eos id and provenance.

    Parameters
    ----------
    tokens : numpy.ndarray
        1-D array of token ids; converted to the smallest unsigned dtype holding ``vocab_size``.
    doc_offsets : numpy.ndarray
        Start offset of every document plus ``len(tokens)`` at the end (int64, non-decreasing).
    vocab_size : int
        Number of possible token ids (ids lie in ``0 .. vocab_size - 1``).
    eos_id : int or None
        Id of the end-of-document token appended after every document, if any.
    provenance : dict
        JSON-serialisable description of where the stream came from (sources, hashes, tokenizer).

    Examples
    --------
    >>> s = TokenStream.from_documents([[3, 4, 1], [5, 1]], vocab_size=8, eos_id=1)
    >>> s
    TokenStream(5 tokens, 2 documents, vocab_size=8, dtype=uint8, eos_id=1)
    >>> s.document(1).tolist()
    [5, 1]
    """

    tokens: np.ndarray
    doc_offsets: np.ndarray
    vocab_size: int
    eos_id: int | None = None
    provenance: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        vocab_size = int(self.vocab_size)
        tokens = np.asanyarray(self.tokens)
        if tokens.ndim != 1:
            raise ValueError(f"tokens must be a 1-D array; got shape {tokens.shape}.")
        if tokens.size and tokens.dtype.kind not in "ui":
            raise TypeError(f"tokens must be integers; got dtype {tokens.dtype}.")
        dtype = smallest_uint_dtype(vocab_size)
        # checked even when the dtype already fits: the kernels index by id and must never see one >= V
        if tokens.size and ((tokens.dtype.kind == "i" and tokens.min() < 0) or tokens.max() >= vocab_size):
            raise ValueError(
                f"token ids must lie in 0..{vocab_size - 1} (vocab_size={vocab_size}); "
                f"got ids in {int(tokens.min())}..{int(tokens.max())}."
            )
        if tokens.dtype != dtype or not tokens.flags.c_contiguous:
            tokens = np.ascontiguousarray(tokens, dtype=dtype)
        offsets = np.ascontiguousarray(self.doc_offsets, dtype=np.int64)
        if offsets.ndim != 1 or offsets.size < 1 or offsets[0] != 0 or offsets[-1] != tokens.size:
            raise ValueError(
                "doc_offsets must be 1-D, start at 0 and end at len(tokens) "
                f"({tokens.size}); got {offsets[:3].tolist()}...{offsets[-1:].tolist()}."
            )
        if np.any(np.diff(offsets) < 0):
            raise ValueError("doc_offsets must be non-decreasing.")
        if self.eos_id is not None and not 0 <= int(self.eos_id) < vocab_size:
            raise ValueError(f"eos_id must lie in 0..{vocab_size - 1}; got {self.eos_id}.")
        object.__setattr__(self, "tokens", tokens)
        object.__setattr__(self, "doc_offsets", offsets)
        object.__setattr__(self, "vocab_size", vocab_size)
        object.__setattr__(self, "eos_id", None if self.eos_id is None else int(self.eos_id))
        object.__setattr__(self, "provenance", dict(self.provenance))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_documents(
        cls,
        documents: Iterable[Iterable[int]],
        vocab_size: int,
        eos_id: int | None = None,
        provenance: dict | None = None,
    ) -> TokenStream:
        """Concatenate documents (each already ending with its eos, if any) into a stream."""
        docs = [np.asarray(d, dtype=np.int64).ravel() for d in documents]
        lengths = np.array([d.size for d in docs], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        tokens = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        return cls(tokens, offsets, vocab_size, eos_id, provenance or {})

    @classmethod
    def from_array(
        cls,
        tokens: np.ndarray,
        vocab_size: int | None = None,
        doc_offsets: np.ndarray | None = None,
        eos_id: int | None = None,
        provenance: dict | None = None,
    ) -> TokenStream:
        """Wrap a token array; one document and ``vocab_size = max + 1`` unless given."""
        tokens = np.asarray(tokens)
        if vocab_size is None:
            vocab_size = int(tokens.max()) + 1 if tokens.size else 1
        if doc_offsets is None:
            doc_offsets = np.array([0, tokens.size], dtype=np.int64)
        return cls(tokens, doc_offsets, vocab_size, eos_id, provenance or {})

    # -- views --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.tokens.size)

    @property
    def n_tokens(self) -> int:
        """Number of tokens (eos included)."""
        return int(self.tokens.size)

    @property
    def n_documents(self) -> int:
        """Number of documents."""
        return int(self.doc_offsets.size - 1)

    def document(self, i: int) -> np.ndarray:
        """Tokens of document ``i`` (a view)."""
        return self.tokens[self.doc_offsets[i] : self.doc_offsets[i + 1]]

    def select_documents(self, index: slice | np.ndarray | list[int]) -> TokenStream:
        """A new in-memory stream made of the chosen documents, in the order given."""
        if isinstance(index, slice):
            index = np.arange(self.n_documents)[index]
        index = np.asarray(index, dtype=np.int64)
        starts, stops = self.doc_offsets[index], self.doc_offsets[index + 1]
        lengths = stops - starts
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        # copy runs of consecutive documents, slicing a plain ndarray view: memmap slices are slow
        # when a held-out split cuts the corpus into ~10^5 pieces
        base = self.tokens.view(np.ndarray)
        if index.size == 0:
            return TokenStream(base[:0].copy(), offsets, self.vocab_size, self.eos_id, self.provenance)
        cut = np.flatnonzero(index[1:] != index[:-1] + 1) + 1
        first, last = np.concatenate([[0], cut]), np.concatenate([cut - 1, [index.size - 1]])
        tokens = np.concatenate([base[a:b] for a, b in zip(starts[first], stops[last])])
        return TokenStream(tokens, offsets, self.vocab_size, self.eos_id, self.provenance)

    def shards(self, n_shards: int | Shards = DEFAULT_SHARDS, *, max_shards: int | None = MAX_SHARDS) -> Shards:
        """The jackknife shards of this stream, shared by every statistic of one measurement.

        Shards hold whole documents and roughly equal numbers of tokens (``G <= n_shards``) when the
        stream has at least ``n_shards`` documents. With fewer documents (one long document, a handful
        of books) they are ``min(n_shards, n_tokens)`` equal token ranges instead, a block jackknife,
        so that errors never rest on a silent 2 or 3 replicates (:attr:`Shards.note` says so).
        A pair or n-gram belongs to the shard where it starts.

        Parameters
        ----------
        n_shards : int or Shards, default DEFAULT_SHARDS
            Number of shards requested (1..MAX_SHARDS), or shards already built for this stream
            (returned as they are, so two curves given the same object use the same groups).
        max_shards : int or None, default MAX_SHARDS
            The largest ``n_shards`` accepted: the n-gram counts' limit; None where only pairs are
            counted (the horizon's nested samples).

        Raises
        ------
        ValueError
            When ``n_shards`` breaks :func:`check_shard_count`, or given shards belong to a stream of
            another length.
        """
        return document_shards(self.doc_offsets, n_shards, max_shards=max_shards)

    def segment_bounds(self, within_documents: bool) -> np.ndarray:
        """Token offsets of the segments that no pair or n-gram may cross (see :func:`segment_bounds`)."""
        return segment_bounds(self.doc_offsets, self.n_tokens, within_documents)

    def shuffled(self, seed: int | np.random.Generator = 0) -> TokenStream:
        """A globally shuffled copy: same tokens, marginals and offsets, no correlations.

        A memory-mapped stream is copied in chunks whose pages are released as they are copied
        (:meth:`release_pages`), so the copy never holds the stream's pages too.
        """
        rng = np.random.default_rng(seed)
        source = np.asarray(self.tokens)  # plain ndarrays: a memmap subclass takes numpy's slow shuffle
        tokens = np.empty(source.shape, dtype=source.dtype)
        for start in range(0, self.n_tokens, _RELEASE_CHUNK):
            tokens[start : start + _RELEASE_CHUNK] = source[start : start + _RELEASE_CHUNK]
            self.release_pages()
        rng.shuffle(tokens)  # what rng.permutation does after its copy: the same draws
        return TokenStream(tokens, self.doc_offsets, self.vocab_size, self.eos_id, self.provenance)

    @property
    def memory_mapped(self) -> bool:
        """Whether the tokens are a memory-mapped file (whose pages :meth:`release_pages` can release)."""
        return getattr(self.tokens, "_mmap", None) is not None

    def release_pages(self) -> None:
        """Hand this process's resident pages of a memory-mapped stream back to the operating system
        (they are read again, from the page cache, when next touched), so that a stream scanned once
        does not stay in the process's resident memory; nothing for a stream held in memory."""
        advice = getattr(_mmap, "MADV_DONTNEED", None)
        if self.memory_mapped and advice is not None:
            self.tokens._mmap.madvise(advice)

    def __repr__(self) -> str:
        return (
            f"TokenStream({self.n_tokens:,} tokens, {self.n_documents:,} documents, "
            f"vocab_size={self.vocab_size:,}, dtype={self.tokens.dtype}, eos_id={self.eos_id})"
        )

    # -- persistence --------------------------------------------------------------------------

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the stream to directory ``path`` atomically.

        Everything is written to a temporary sibling directory and renamed into place, so a crash
        never leaves a half-written stream at ``path``.
        """
        path = Path(path)
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
        tmp = temporary_sibling_dir(path)
        try:
            np.save(tmp / TOKENS_FILE, self.tokens)
            np.save(tmp / OFFSETS_FILE, self.doc_offsets)
            meta = stream_meta(
                self.n_tokens,
                self.doc_offsets,
                self.vocab_size,
                self.eos_id,
                self.tokens.dtype,
                crc32(self.tokens),
                self.provenance,
            )
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
            replace_dir(tmp, path, overwrite=True)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, mmap: bool = True, verify: bool = True) -> TokenStream:
        """Read a stream saved by :meth:`save`; tokens are memory-mapped read-only by default.

        Parameters
        ----------
        path : str or os.PathLike
            Directory written by :meth:`save` or :class:`~corpus_stats.stream_writer.TokenStreamWriter`.
        mmap : bool, default True
            Memory-map the tokens read-only instead of reading them into memory.
        verify : bool, default True
            Recompute the checksums written with the stream (one sequential read of the files) and
            refuse a stream whose bytes changed. Ids are range-checked either way.

        Raises
        ------
        DamagedStreamError
            The files differ from what was written (a checksum mismatch, or ids >= vocab_size).
        FileNotFoundError, ValueError
            Not a saved stream, another format version, or files inconsistent with ``meta.json``.
        """
        path = Path(path)
        meta_file = path / META_FILE
        if not meta_file.is_file():
            raise FileNotFoundError(f"{path} is not a saved token stream (no {META_FILE}).")
        meta = json.loads(meta_file.read_text())
        if meta.get("format_version") != STREAM_FORMAT_VERSION:
            raise ValueError(
                f"{path} has stream format {meta.get('format_version')}; this version reads "
                f"{STREAM_FORMAT_VERSION}. Re-tokenize the corpus."
            )
        tokens = np.load(path / TOKENS_FILE, mmap_mode="r" if mmap else None)
        offsets = np.load(path / OFFSETS_FILE)
        if tokens.size != meta["n_tokens"] or offsets.size != meta["n_documents"] + 1:
            raise ValueError(f"{path} is inconsistent with its {META_FILE}; delete it and re-tokenize.")
        expected = meta.get("checksums")
        if verify and expected:  # streams written before checksums existed are only range-checked
            got = _checksums(crc32(tokens), crc32(offsets))
            bad = [name for name in (TOKENS_FILE, OFFSETS_FILE) if got[name] != expected.get(name)]
            if bad:
                raise DamagedStreamError(
                    f"{path} is damaged: the {expected.get('algorithm', 'crc32')} checksum of "
                    f"{' and '.join(bad)} differs from the one written with it; delete it and re-tokenize."
                )
        try:
            return cls(tokens, offsets, meta["vocab_size"], meta["eos_id"], meta["provenance"])
        except ValueError as exc:
            raise DamagedStreamError(f"{path} is damaged: {exc} Delete it and re-tokenize.") from None


def saved_stream_dir(path: str | os.PathLike) -> Path | None:
    """The saved :class:`TokenStream` directory that ``path`` names, or None if it names none.

    ``path`` may be the stream directory itself (``TokenStream.save``, ``corpus-stats tokenize -o``)
    or a ``corpus-stats synth --format stream`` output directory, whose stream lies in ``stream/``.
    """
    path = Path(path)
    for candidate in (path, path / "stream"):
        if (candidate / META_FILE).is_file() and (candidate / TOKENS_FILE).is_file():
            return candidate
    return None
