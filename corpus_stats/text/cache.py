"""Where tokenized streams are cached, and the content hashes that key them.

Layout under the cache directory (``$CORPUS_STATS_CACHE``, else ``$XDG_CACHE_HOME/corpus-stats``, else
``~/.cache/corpus-stats``)::

    streams/<key>/        a saved TokenStream (tokens.npy, doc_offsets.npy, meta.json) + tokenizer file
    file-hashes/<id>.json sha256 of an input file, remembered by (path, size, mtime) so unchanged
                          inputs are not re-read just to be recognised

A stream directory only appears once complete (it is written to a temporary sibling and renamed),
so a crash never leaves a half-written entry that is later trusted.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from corpus_stats._io import atomic_write_text

CACHE_FORMAT_VERSION = 2  # 2: streams carry checksums; older entries are not trusted
_HASH_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """The cache directory used when none is given (see the module docstring)."""
    env = os.environ.get("CORPUS_STATS_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "corpus-stats"


def resolve_cache_dir(cache_dir: str | os.PathLike | None) -> Path:
    """``cache_dir`` as a Path, or the default; refuses a path that is an existing file."""
    path = default_cache_dir() if cache_dir is None else Path(cache_dir).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError(f"the cache directory must be a directory; got the file {path}.")
    return path


def content_key(parts: dict) -> str:
    """A stable hex key for a JSON-serialisable description of the inputs and the tokenizer."""
    blob = json.dumps({"cache_format": CACHE_FORMAT_VERSION, **parts}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def stream_path(cache_dir: str | os.PathLike | None, key: str) -> Path:
    """Directory of the cached stream with this key (which may not exist yet)."""
    return resolve_cache_dir(cache_dir) / "streams" / key[:32]


def hash_bytes(data: bytes) -> str:
    """sha256 of ``data`` (hex)."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: str | os.PathLike, cache_dir: str | os.PathLike | None = None, use_cache: bool = True) -> str:
    """sha256 of a file's bytes, remembered by (real path, size, mtime) in the cache directory.

    A file that changes gets a new size or mtime and so is hashed again.
    """
    path = Path(path)
    st = path.stat()
    ident = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    memo = resolve_cache_dir(cache_dir) / "file-hashes" / (hashlib.sha256(ident.encode()).hexdigest()[:32] + ".json")
    if use_cache and memo.is_file():
        try:
            record = json.loads(memo.read_text())
            if record.get("ident") == ident:
                return record["sha256"]
        except (OSError, ValueError, KeyError):
            pass  # a damaged memo is simply recomputed
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    if use_cache:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(memo, json.dumps({"ident": ident, "sha256": value}))
        except OSError:
            pass  # a read-only cache only costs re-hashing
    return value


_SCRATCH: list[Path] = []


def scratch_dir() -> Path:
    """A private temporary directory removed when the process exits (for ``use_cache=False``).

    Memory-mapped streams written there stay readable until exit.
    """
    path = Path(tempfile.mkdtemp(prefix="corpus-stats-"))
    _SCRATCH.append(path)
    return path


@atexit.register
def _remove_scratch() -> None:
    for path in _SCRATCH:
        shutil.rmtree(path, ignore_errors=True)
