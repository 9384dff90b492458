"""Cache directory, content keys, memoised file hashes, and the atomic streaming writer."""

import hashlib
import os

import numpy as np
import pytest

from corpus_stats.stream import TokenStream
from corpus_stats.stream_writer import TokenStreamWriter
from corpus_stats.text import cache


def test_default_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("CORPUS_STATS_CACHE", str(tmp_path / "explicit"))
    assert cache.default_cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("CORPUS_STATS_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.default_cache_dir() == tmp_path / "xdg" / "corpus-stats"


def test_cache_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValueError, match=r"the cache directory must be a directory; got the file .*f"):
        cache.resolve_cache_dir(tmp_path / "f")


def test_content_key_is_stable_and_sensitive():
    a = cache.content_key({"x": 1, "y": [1, 2]})
    assert a == cache.content_key({"y": [1, 2], "x": 1})
    assert a != cache.content_key({"x": 2, "y": [1, 2]})
    assert len(a) == 64


def test_file_sha256_is_memoised_and_notices_changes(tmp_path):
    path = tmp_path / "data.txt"
    path.write_bytes(b"hello")
    cdir = tmp_path / "cache"
    assert cache.file_sha256(path, cdir) == hashlib.sha256(b"hello").hexdigest()
    memos = list((cdir / "file-hashes").iterdir())
    assert len(memos) == 1
    path.write_bytes(b"hello world")
    os.utime(path, ns=(1, 10**18))
    assert cache.file_sha256(path, cdir) == hashlib.sha256(b"hello world").hexdigest()
    assert cache.file_sha256(path, cdir, use_cache=False) == hashlib.sha256(b"hello world").hexdigest()


def test_writer_matches_from_documents(tmp_path):
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 70_000, size=n) for n in (5, 0, 17, 1)]
    expected = TokenStream.from_documents(docs, vocab_size=70_000, eos_id=3)
    with TokenStreamWriter(tmp_path / "s", 70_000, eos_id=3) as w:
        w.append_documents(np.concatenate(docs[:2]), [5, 0])
        w.append_documents(np.concatenate(docs[2:]), [17, 1])
        assert (w.n_tokens, w.n_documents) == (23, 4)
    got = TokenStream.load(tmp_path / "s")
    assert got.tokens.dtype == np.uint32 and isinstance(got.tokens, np.memmap)
    np.testing.assert_array_equal(got.tokens, expected.tokens)
    np.testing.assert_array_equal(got.doc_offsets, expected.doc_offsets)
    assert got.eos_id == 3


def test_writer_large_header_patch(tmp_path):
    w = TokenStreamWriter(tmp_path / "s", 256)
    for _ in range(3):
        w.append_documents(np.full(400_000, 7, np.uint8), [400_000])
    s = w.close({"note": "big"})
    assert s.n_tokens == 1_200_000 and s.tokens.dtype == np.uint8 and s.provenance == {"note": "big"}
    assert np.load(tmp_path / "s" / "tokens.npy", mmap_mode="r").shape == (1_200_000,)


def test_writer_exception_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="boom"), TokenStreamWriter(tmp_path / "s", 10) as w:
        w.append_documents(np.array([1, 2]), [2])
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_validates(tmp_path):
    w = TokenStreamWriter(tmp_path / "s", 10)
    with pytest.raises(ValueError, match=r"token ids must lie in 0..9; got ids in 0..10"):
        w.append_documents(np.array([0, 10]), [2])
    with pytest.raises(ValueError, match=r"document lengths must sum to len\(tokens\) \(2\); got 3"):
        w.append_documents(np.array([0, 1]), [3])
    w.abort()
    (tmp_path / "exists").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        TokenStreamWriter(tmp_path / "exists", 10)


def test_scratch_dir_is_private(tmp_path):
    a, b = cache.scratch_dir(), cache.scratch_dir()
    assert a != b and a.is_dir() and b.is_dir()


def test_second_concurrent_writer_yields_to_the_first(tmp_path):
    a = TokenStreamWriter(tmp_path / "s", 10)
    b = TokenStreamWriter(tmp_path / "s", 10)
    a.append_documents(np.array([1, 2]), [2])
    b.append_documents(np.array([3]), [1])
    a.close()
    with pytest.raises(FileExistsError, match="was created by another writer meanwhile"):
        b.close()
    assert [p.name for p in tmp_path.iterdir()] == ["s"]  # b's temporary directory is gone
    assert TokenStream.load(tmp_path / "s").tokens.tolist() == [1, 2]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_cache_entries_and_saved_streams_respect_the_umask(tmp_path, umask):
    from corpus_stats.text.tokenization import tokenize

    (tmp_path / "c.txt").write_text("hello")
    old = os.umask(umask)
    try:
        stream = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
        saved = stream.save(tmp_path / "copy")
    finally:
        os.umask(old)
    entry = tmp_path / "cache" / "streams" / stream.provenance["cache"]["path"].split("/")[-1]
    for d in (entry, entry.parent, saved):
        assert d.stat().st_mode & 0o777 == 0o777 & ~umask, d
    for f in list(entry.iterdir()) + list(saved.iterdir()):
        assert f.stat().st_mode & 0o777 == 0o666 & ~umask, f
