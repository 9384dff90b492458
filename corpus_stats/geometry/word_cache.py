"""The word-stream cache: a corpus split into words once, reused by every later geometry run on it.

Splitting the text into words is most of a geometry run (two passes of the ``tokenizers`` library);
the analysis of another set, window or K on the same corpus needs the same words. Layout under the
cache directory (:mod:`corpus_stats.text.cache`)::

    words/<key>/  ids.npy (int32 word id per position), doc_runs.npy (int64: first position and
                  document index of each run of one document), meta.json (words, counts, info, checksum)

The key hashes the corpus content (as the token cache does), the splitter (pre-tokenizer and normaliser
as JSON, and where they came from), ``WORDS_FORMAT`` and ``max_words``. An entry appears only once
complete (written to a temporary sibling and renamed); an entry that fails its checks is rebuilt, with a
warning.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import warnings
from pathlib import Path

import numpy as np

from corpus_stats._io import atomic_write_text, replace_dir, temporary_sibling_dir
from corpus_stats.text import cache

WORDS_FORMAT = 1  # bump when the splitting, cleaning or numbering of words changes


def entry_path(corpus, splitter: dict, max_words: int | None, cache_dir=None) -> Path:
    """Directory of the cached words of ``corpus`` (file sources hashed) under this splitter."""
    key = cache.content_key(
        {"words": WORDS_FORMAT, "corpus": corpus.content_hash(), "splitter": splitter, "max_words": max_words}
    )
    return cache.resolve_cache_dir(cache_dir) / "words" / key[:32]


def _digest(ids: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(ids).view(np.uint8)).hexdigest()


def load(path: Path):
    """The cached words at ``path`` as ``(ids, words, counts, doc_id, info)`` (what
    :class:`~corpus_stats.geometry.words.WordStream` is built from), or None when there is none or it
    fails its checks (then it is removed, with a warning, to be rebuilt)."""
    if not path.is_dir():
        return None
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != WORDS_FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {WORDS_FORMAT}")
        ids = np.load(path / "ids.npy")
        runs = np.load(path / "doc_runs.npy")
        if ids.dtype != np.int32 or ids.size != meta["n_words"] or _digest(ids) != meta["sha256"]:
            raise ValueError("the word ids changed since they were written")
        words, counts = meta["words"], np.asarray(meta["counts"], np.int64)
        if len(words) != counts.size or ids.size == 0 or ids.min() < 0 or ids.max() >= len(words):
            raise ValueError("words and ids disagree")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"the cached word stream {path} was unusable and is rebuilt: {exc}", UserWarning, 2)
        shutil.rmtree(path, ignore_errors=True)
        return None
    lengths = np.diff(np.append(runs[:, 0], ids.size))
    doc_id = np.repeat(runs[:, 1], lengths).astype(np.int32)
    info = dict(meta["info"], cache={"hit": True, "path": str(path)})
    return ids, words, counts, doc_id, info


def save(ws, path: Path) -> None:
    """Write ``ws`` to ``path`` atomically; a concurrent run that cached it first wins, and an unwritable
    cache leaves the words uncached (a cache never fails the run)."""
    tmp = None
    try:
        tmp = temporary_sibling_dir(path)
        starts = np.concatenate([[0], np.flatnonzero(np.diff(ws.doc_id)) + 1]).astype(np.int64)
        ids = np.ascontiguousarray(ws.ids, dtype=np.int32)
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "doc_runs.npy", np.column_stack([starts, ws.doc_id[starts].astype(np.int64)]))
        meta = {
            "format": WORDS_FORMAT,
            "n_words": int(ids.size),
            "sha256": _digest(ids),
            "words": list(ws.words),
            "counts": ws.counts.tolist(),
            "info": {k: v for k, v in ws.info.items() if k != "cache"},
        }
        atomic_write_text(tmp / "meta.json", json.dumps(meta, ensure_ascii=False))
        replace_dir(tmp, path, overwrite=False)
    except OSError:  # FileExistsError included
        pass
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
