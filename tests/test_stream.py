import json
import os

import numpy as np
import pytest

from corpus_stats.shards import DEFAULT_SHARDS, MAX_SHARDS
from corpus_stats.stream import DamagedStreamError, TokenStream, smallest_uint_dtype


def test_smallest_dtype():
    assert smallest_uint_dtype(256) == np.uint8
    assert smallest_uint_dtype(257) == np.uint16
    assert smallest_uint_dtype(50_257) == np.uint16
    assert smallest_uint_dtype(128_256) == np.uint32


def test_from_documents_offsets_and_empty_documents():
    s = TokenStream.from_documents([[2, 3, 1], [1], [], [4, 1]], vocab_size=5, eos_id=1)
    assert s.tokens.dtype == np.uint8
    assert s.doc_offsets.tolist() == [0, 3, 4, 4, 6]
    assert s.document(3).tolist() == [4, 1]
    assert s.document(2).tolist() == []


def test_rejects_out_of_range_ids():
    with pytest.raises(ValueError, match="token ids must lie in 0..4"):
        TokenStream.from_array(np.array([0, 5]), vocab_size=5)


def test_rejects_out_of_range_ids_already_in_the_final_dtype():
    # uint16 holds 65535 although V = 300: no conversion happens, the range is still checked
    with pytest.raises(ValueError, match=r"token ids must lie in 0..299 .*got ids in 1..65535"):
        TokenStream(np.array([1, 65535], np.uint16), np.array([0, 2]), vocab_size=300)


def _overwrite_first_token(path, value, dtype=np.uint16) -> None:
    offset = np.load(path / "tokens.npy", mmap_mode="r").offset
    with open(path / "tokens.npy", "r+b") as fh:
        fh.seek(offset)
        fh.write(np.array([value], dtype).tobytes())


@pytest.mark.parametrize("value", [299, 65535])  # another valid id, an id >= V
def test_load_detects_damaged_token_bytes(tmp_path, value):
    s = TokenStream.from_documents([[5, 6, 1], [7, 1]], vocab_size=300, eos_id=1)
    s.save(tmp_path / "s")
    _overwrite_first_token(tmp_path / "s", value)
    with pytest.raises(DamagedStreamError, match=r"s is damaged: the crc32 checksum of tokens\.npy differs"):
        TokenStream.load(tmp_path / "s")


def test_load_without_checksums_still_range_checks(tmp_path):
    # streams written before checksums existed (or verify=False) never reach a kernel with an id >= V
    s = TokenStream.from_documents([[5, 6, 1], [7, 1]], vocab_size=300, eos_id=1)
    s.save(tmp_path / "s")
    meta = json.loads((tmp_path / "s" / "meta.json").read_text())
    del meta["checksums"]
    (tmp_path / "s" / "meta.json").write_text(json.dumps(meta))
    _overwrite_first_token(tmp_path / "s", 65535)
    for kwargs in ({}, {"verify": False}):
        with pytest.raises(DamagedStreamError, match=r"damaged: token ids must lie in 0..299.*65535"):
            TokenStream.load(tmp_path / "s", **kwargs)


def test_damaged_offsets_are_detected(tmp_path):
    s = TokenStream.from_documents([[5, 6, 1], [7, 1], [8, 1]], vocab_size=300, eos_id=1)
    s.save(tmp_path / "s")
    offsets = np.load(tmp_path / "s" / "doc_offsets.npy")
    offsets[1] = 4  # still a valid layout, but not the one written
    np.save(tmp_path / "s" / "doc_offsets.npy", offsets)
    with pytest.raises(DamagedStreamError, match=r"checksum of doc_offsets\.npy differs"):
        TokenStream.load(tmp_path / "s")


def test_rejects_bad_offsets():
    with pytest.raises(ValueError, match="doc_offsets must be 1-D, start at 0"):
        TokenStream(np.array([1, 2, 3]), np.array([0, 2]), vocab_size=4)


def test_save_load_roundtrip_is_memmapped(tmp_path):
    s = TokenStream.from_documents([[5, 6, 1], [7, 1]], vocab_size=300, eos_id=1, provenance={"a": 1})
    s.save(tmp_path / "s")
    t = TokenStream.load(tmp_path / "s")
    assert isinstance(t.tokens, np.memmap)
    assert t.tokens.dtype == np.uint16
    np.testing.assert_array_equal(t.tokens, s.tokens)
    np.testing.assert_array_equal(t.doc_offsets, s.doc_offsets)
    assert (t.vocab_size, t.eos_id, t.provenance) == (300, 1, {"a": 1})
    with pytest.raises(FileExistsError, match="already exists"):
        s.save(tmp_path / "s")
    assert [p.name for p in tmp_path.iterdir()] == ["s"]


def test_select_documents_and_shuffle_keep_marginals():
    s = TokenStream.from_documents([[1, 2], [3], [4, 5, 6]], vocab_size=7)
    sub = s.select_documents([2, 0])
    assert sub.tokens.tolist() == [4, 5, 6, 1, 2]
    assert sub.doc_offsets.tolist() == [0, 3, 5]
    sh = s.shuffled(seed=3)
    assert sorted(sh.tokens.tolist()) == sorted(s.tokens.tolist())
    np.testing.assert_array_equal(sh.doc_offsets, s.doc_offsets)


@pytest.mark.parametrize(
    "index", [[], [1], [0, 1, 2], [2, 0], [1, 1], [0, 2, 3, 5], [5, 4, 3], slice(1, 4), np.array([3, 4, 0, 1])]
)
def test_select_documents_equals_concatenated_documents(tmp_path, index):
    docs = [[1, 2], [3], [4, 5, 6], [7], [8, 9], [10, 11, 12]]
    s = TokenStream.from_documents(docs, vocab_size=13)
    picked = np.arange(len(docs))[index] if isinstance(index, slice) else np.asarray(index, dtype=int)
    want = [t for i in picked for t in docs[i]]
    for stream in (s, TokenStream.load(s.save(tmp_path / "s"))):  # in memory and memory-mapped
        sub = stream.select_documents(index)
        assert sub.tokens.tolist() == want
        assert np.diff(sub.doc_offsets).tolist() == [len(docs[i]) for i in picked]
        assert type(sub.tokens) is np.ndarray


def test_shards_whole_documents_or_equal_token_ranges():
    many = TokenStream.from_documents([[1] * 10] * 40, vocab_size=2)
    sh = many.shards(20)
    np.testing.assert_array_equal(sh.bounds, np.arange(0, 401, 20))
    assert (sh.n_shards, sh.requested, sh.whole_documents, sh.n_documents) == (20, 20, True, 40)
    assert many.shards().n_shards == DEFAULT_SHARDS
    uneven = TokenStream.from_documents([[1] * 30, [1] * 5, [1] * 5, [1] * 60], vocab_size=2)
    assert uneven.shards(3).bounds.tolist() == [0, 35, 100]  # whole documents, balanced by tokens
    one = TokenStream.from_array(np.arange(100), vocab_size=100)
    assert one.shards(4).bounds.tolist() == [0, 25, 50, 75, 100] and not one.shards(4).whole_documents
    assert one.shards(1).bounds.tolist() == [0, 100]
    assert one.shards(sh4 := one.shards(4)) is sh4  # built shards pass through unchanged


@pytest.mark.parametrize("bad", [0, -1, MAX_SHARDS + 1])
def test_shard_count_has_one_rule(bad):
    with pytest.raises(ValueError, match=rf"n_shards must be an integer in 1..{MAX_SHARDS}; got {bad}"):
        TokenStream.from_array(np.arange(10), vocab_size=10).shards(bad)


@pytest.mark.parametrize("bad", [2.0, True, "4", None])
def test_shard_count_must_be_an_int(bad):
    with pytest.raises(TypeError, match=rf"n_shards must be an int; got {type(bad).__name__}"):
        TokenStream.from_array(np.arange(10), vocab_size=10).shards(bad)


def test_shards_of_another_stream_are_refused():
    short, long = (TokenStream.from_array(np.arange(n), vocab_size=100) for n in (10, 20))
    with pytest.raises(ValueError, match="cover 10 tokens but the stream holds 20"):
        long.shards(short.shards(2))


def test_segment_bounds():
    s = TokenStream.from_documents([[1, 2], [3], [4, 5, 6]], vocab_size=7)
    assert s.segment_bounds(True).tolist() == [0, 2, 3, 6]
    assert s.segment_bounds(False).tolist() == [0, 6]


def test_fewer_documents_than_shards_give_a_noted_block_jackknife():
    few = TokenStream.from_documents([[1] * 10] * 3, vocab_size=2)
    assert few.shards(5).bounds.tolist() == [0, 6, 12, 18, 24, 30] and not few.shards(5).whole_documents
    assert few.shards(5).note == (
        "3 documents, fewer than the 5 shards: the jackknife shards are 5 equal token ranges (block jackknife)"
    )
    assert few.shards(3).note is None and few.shards(3).whole_documents


def _resident_file_pages_kb() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("RssFile:"))


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc to read resident pages")
def test_a_memory_mapped_stream_releases_its_pages_and_shuffles_as_in_memory(tmp_path):
    """release_pages hands a scanned memmap's pages back (RssFile falls by about the file's size), and
    shuffling a memory-mapped stream (copied in chunks, pages released) draws what numpy's permutation does."""
    n = 2_000_000
    tokens = np.random.default_rng(0).integers(0, 60_000, n).astype(np.uint16)
    mapped = TokenStream.load(TokenStream.from_array(tokens, vocab_size=60_000).save(tmp_path / "s"))
    assert mapped.memory_mapped and not TokenStream.from_array(tokens[:10], vocab_size=60_000).memory_mapped
    int(mapped.tokens.sum(dtype=np.int64))  # touch every page
    before = _resident_file_pages_kb()
    mapped.release_pages()
    assert before - _resident_file_pages_kb() > 0.8 * tokens.nbytes / 1024
    expected = np.random.default_rng(4).permutation(tokens)
    shuffled = mapped.shuffled(np.random.default_rng(4)).tokens
    assert type(shuffled) is np.ndarray  # not a memmap: numpy shuffles those element by element
    assert np.array_equal(shuffled, expected)
