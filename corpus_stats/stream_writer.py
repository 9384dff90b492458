"""`TokenStreamWriter`: write a :class:`~corpus_stats.stream.TokenStream` to disk document by document.

Tokenizing a corpus larger than memory appends its documents batch by batch; the files are those of
:meth:`TokenStream.save <corpus_stats.stream.TokenStream.save>` (same ``meta.json`` and checksums), and
they appear at their final path only when complete.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from corpus_stats._io import replace_dir, temporary_sibling_dir
from corpus_stats.stream import (
    META_FILE,
    OFFSETS_FILE,
    TOKENS_FILE,
    TokenStream,
    crc32,
    smallest_uint_dtype,
    stream_meta,
)


class TokenStreamWriter:
    """Write a :class:`TokenStream` to disk document by document, without holding it in memory.

    Tokens go straight into ``tokens.npy`` (final dtype, header patched on :meth:`close`) inside a
    temporary sibling directory that is renamed to ``path`` only when complete, so a crash never
    leaves a half-written stream that is later trusted.

    Parameters
    ----------
    path : str or os.PathLike
        Directory the finished stream is renamed to.
    vocab_size : int
        Number of possible ids; fixes the dtype (smallest unsigned integer holding it).
    eos_id : int or None
        Id of the end-of-document token, if any.
    overwrite : bool, default False
        Replace an existing directory at ``path`` on :meth:`close`.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> d = tempfile.mkdtemp()
    >>> with TokenStreamWriter(d + "/s", vocab_size=10, eos_id=1) as w:
    ...     w.append_documents(np.array([3, 4, 1, 5, 1]), np.array([3, 2]))
    >>> TokenStream.load(d + "/s").doc_offsets.tolist()
    [0, 3, 5]
    """

    _HEADER_BYTES = 128  # fixed .npy header size, so the length can be patched in place

    def __init__(
        self, path: str | os.PathLike, vocab_size: int, eos_id: int | None = None, overwrite: bool = False
    ) -> None:
        self.path = Path(path)
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} already exists; pass overwrite=True to replace it.")
        self.overwrite = overwrite
        self.vocab_size = int(vocab_size)
        self.dtype = smallest_uint_dtype(self.vocab_size)
        self.eos_id = eos_id
        self.n_tokens = 0
        self._crc = 0
        self._offsets = [np.zeros(1, dtype=np.int64)]
        self.tmp_dir = temporary_sibling_dir(self.path)
        self._file = open(self.tmp_dir / TOKENS_FILE, "wb")
        self._file.write(self._npy_header(0))
        self._closed = False

    def _npy_header(self, n: int) -> bytes:
        text = f"{{'descr': '{self.dtype.str}', 'fortran_order': False, 'shape': ({n},), }}"
        text = text.ljust(self._HEADER_BYTES - 11) + "\n"
        return b"\x93NUMPY\x01\x00" + (self._HEADER_BYTES - 10).to_bytes(2, "little") + text.encode("latin1")

    @property
    def n_documents(self) -> int:
        """Number of documents written so far."""
        return sum(o.size for o in self._offsets) - 1

    def append_documents(self, tokens: np.ndarray, lengths: np.ndarray) -> None:
        """Append whole documents: their concatenated ``tokens`` and each one's length."""
        tokens = np.asarray(tokens)
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != tokens.size:
            raise ValueError(f"document lengths must sum to len(tokens) ({tokens.size}); got {int(lengths.sum())}.")
        if tokens.size and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab_size):
            raise ValueError(
                f"token ids must lie in 0..{self.vocab_size - 1}; got ids in {int(tokens.min())}..{int(tokens.max())}."
            )
        data = np.ascontiguousarray(tokens, dtype=self.dtype)
        self._crc = crc32(data, self._crc)
        self._file.write(data.tobytes())
        self._offsets.append(self.n_tokens + np.cumsum(lengths))
        self.n_tokens += tokens.size

    def add_file(self, name: str, text: str) -> None:
        """Store an extra text file (e.g. the tokenizer) alongside the stream."""
        (self.tmp_dir / name).write_text(text, encoding="utf-8")

    def close(self, provenance: dict | None = None) -> TokenStream:
        """Finish the files, rename the directory into place and return the memory-mapped stream."""
        self._file.seek(0)
        self._file.write(self._npy_header(self.n_tokens))
        self._file.close()
        offsets = np.concatenate(self._offsets)
        np.save(self.tmp_dir / OFFSETS_FILE, offsets)
        meta = stream_meta(
            self.n_tokens, offsets, self.vocab_size, self.eos_id, self.dtype, self._crc, provenance or {}
        )
        (self.tmp_dir / META_FILE).write_text(json.dumps(meta, indent=2))
        try:
            replace_dir(self.tmp_dir, self.path, self.overwrite)  # FileExistsError: another writer finished first
        except OSError:
            self.abort()
            if self.path.exists():
                raise FileExistsError(f"{self.path} was created by another writer meanwhile.") from None
            raise
        self._closed = True
        return TokenStream.load(self.path, verify=False)  # checksummed as written; ids are range-checked

    def abort(self) -> None:
        """Discard everything written (called automatically on an exception)."""
        if not self._closed:
            self._file.close()
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            self._closed = True

    def __enter__(self) -> TokenStreamWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.close()
