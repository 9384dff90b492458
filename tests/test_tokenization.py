"""Tokenization: exact ids, round trips, bookkeeping, BPE determinism, formats agree, cache hits."""

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPORA, PAPER_TOKENIZER, TOKENIZERS, shared_file

from corpus_stats.text import tokenization, tokenizers
from corpus_stats.text.sources import Corpus, read_corpus
from corpus_stats.text.tokenization import CacheRebuiltWarning, tokenize
from corpus_stats.text.tokenizers import LoadedTokenizer, load_stream_tokenizer, load_tokenizer

DOCS = ["First story.\nWith two lines.", "", "Ünïcödé ✓ and emoji 🙂", "last without newline"]
LILY = "Once upon a time, there was a little girl named Lily."
LILY_IDS = [366, 371, 65, 331, 13, 338, 236, 65, 326, 408, 340, 316, 15]


def random_text(n_words: int, seed: int) -> str:
    """Zipf-ish words in documents separated by <|endoftext|>, reproducible."""
    rng = np.random.default_rng(seed)
    words = np.array(["".join(rng.choice(list("abcdefghij"), size=rng.integers(1, 7))) for _ in range(300)])
    picks = words[np.minimum(rng.zipf(1.3, size=n_words) - 1, words.size - 1)]
    docs = [" ".join(chunk) + "." for chunk in np.array_split(picks, max(n_words // 200, 1))]
    return "<|endoftext|>".join(docs)


def find(tokens: np.ndarray, pattern: list[int]) -> int:
    """Index of the first occurrence of ``pattern`` in ``tokens`` (-1 when absent)."""
    view = np.lib.stride_tricks.sliding_window_view(np.asarray(tokens), len(pattern))
    hits = np.flatnonzero((view == pattern).all(axis=1))
    return int(hits[0]) if hits.size else -1


def assert_round_trip(stream, tok, docs):
    assert stream.n_documents == len(docs)
    for i, doc in enumerate(docs):
        ids = stream.document(i)
        assert ids[-1] == stream.eos_id  # every document ends with its eos
        assert np.count_nonzero(ids == stream.eos_id) == 1
        assert tok.decode(ids) == doc


@pytest.mark.parametrize("spec", ["bytes", "chars"])
def test_round_trip_lossless_tokenizers(spec):
    stream = tokenize(Corpus.from_texts(DOCS), spec, use_cache=False)
    assert_round_trip(stream, load_stream_tokenizer(stream), DOCS)
    assert stream.document(1).tolist() == [stream.eos_id]  # empty document: just its eos
    assert stream.doc_offsets[-1] == stream.n_tokens
    assert stream.tokens.dtype == (np.uint16 if spec == "bytes" else np.uint8)


def test_round_trip_gpt2_byte_level():
    path = shared_file("tokenizers/gpt2/tokenizer.json")
    stream = tokenize(Corpus.from_texts(DOCS), str(path), use_cache=False)
    tok = load_stream_tokenizer(stream)
    assert (stream.eos_id, tok.eos_token, tok.eos_added) == (50256, "<|endoftext|>", False)
    assert_round_trip(stream, tok, DOCS)


def test_round_trip_from_text_file_with_trailing_and_missing_newline(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n\nthree")
    stream = tokenize(tmp_path / "a.txt", "chars", use_cache=False, doc_split="line")
    assert_round_trip(stream, load_stream_tokenizer(stream), ["one", "two", "three"])


def test_paper_tokenizer_gives_the_papers_ids():
    corpus = shared_file("corpora/tinystories-valid-head.txt")
    shared_file("tokenizers/tinystories-bpe8192/tokenizer.json")
    stream = tokenize(corpus, str(PAPER_TOKENIZER))
    assert (stream.vocab_size, stream.eos_id, stream.tokens.dtype) == (8192, 1, np.uint16)
    assert find(stream.tokens, LILY_IDS) >= 0
    tok = load_tokenizer(str(PAPER_TOKENIZER))
    assert tok.encode_batch([LILY])[0].tolist() == LILY_IDS
    assert stream.provenance["tokenizer"]["file_sha256"] == (
        "0e63d3391e736c84417966af7dbb563e28d05bd1688e8f728af13785fc4e2bdb"
    )


def test_bpe_is_deterministic_and_has_the_papers_specials():
    corpus = Corpus.from_texts(random_text(20_000, seed=1).split("<|endoftext|>"))
    a = load_tokenizer("bpe:400", corpus)
    b = load_tokenizer("bpe:400", corpus)
    assert a.to_json() == b.to_json()
    assert a.hf.token_to_id("[UNK]") == 0 and a.hf.token_to_id("<eos>") == 1 and a.eos_id == 1
    assert a.vocab_size == 400
    assert json.loads(a.to_json())["pre_tokenizer"]["type"] == "Whitespace"
    s1 = tokenize(corpus, "bpe:400", use_cache=False)
    s2 = tokenize(corpus, "bpe:400", use_cache=False)
    np.testing.assert_array_equal(s1.tokens, s2.tokens)


@pytest.mark.slow
def test_bpe_8192_twice_on_tinystories_identical():
    corpus = read_corpus(shared_file("corpora/tinystories-train-head.txt"))
    a, b = load_tokenizer("bpe:8192", corpus), load_tokenizer("bpe:8192", corpus)
    assert a.to_json() == b.to_json()


def test_bpe_trains_on_a_bounded_sample_stated_in_provenance():
    corpus = Corpus.from_texts(random_text(20_000, seed=2).split("<|endoftext|>"))
    stream = tokenize(corpus, "bpe:300", use_cache=False, bpe_sample_chars=20_000)
    sample = stream.provenance["tokenizer"]["bpe_training_sample"]
    assert sample["every_kth_document"] > 1 and sample["complete"] is False
    assert 0 < sample["characters"] <= 20_000


@pytest.mark.parametrize(
    "spec,match",
    [
        ("bpe:100", r"bpe:V needs 260 <= V <= 1,048,576 .*got V=100"),
        ("bpe:10000000000", r"bpe:V needs 260 <= V .*got V=10,000,000,000"),
        ("bpe:lots", r"bpe:V needs an integer vocabulary size V, as in bpe:8192; got 'bpe:lots'"),
    ],
)
def test_bpe_vocab_out_of_range(spec, match):
    with pytest.raises(ValueError, match=match):
        load_tokenizer(spec, Corpus.from_texts(["a"]))


def test_bad_tokenizer_files(tmp_path):
    (tmp_path / "broken.json").write_text("{this is not a tokenizer")
    with pytest.raises(ValueError, match=r"cannot read tokenizer file .*broken.json"):
        load_tokenizer(str(tmp_path / "broken.json"))
    with pytest.raises(FileNotFoundError, match=r"tokenizer file '.*missing.json' does not exist"):
        load_tokenizer(str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="is built from the corpus; pass corpus="):
        load_tokenizer("chars")


def test_pretrained_name_offline_says_how_to_get_it(monkeypatch):
    monkeypatch.setattr(tokenizers, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(
        ValueError,
        match=r"'corpus-stats-tests/nothing' is neither a file nor in the local "
        r"Hugging Face cache.*huggingface-cli download",
    ):
        load_tokenizer("corpus-stats-tests/nothing")


def test_eos_is_created_when_the_tokenizer_has_none(tmp_path):
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    hf = Tokenizer(WordLevel({"[UNK]": 0, "a": 1, "b": 2}, unk_token="[UNK]"))
    hf.pre_tokenizer = Whitespace()
    hf.save(str(tmp_path / "tokenizer.json"))
    stream = tokenize(Corpus.from_texts(["a b", "b"]), str(tmp_path), use_cache=False)
    assert (stream.eos_id, stream.vocab_size) == (3, 4)
    assert stream.tokens.tolist() == [1, 2, 3, 2, 3]
    assert stream.provenance["tokenizer"]["eos_added"] is True


def test_txt_jsonl_parquet_give_the_same_stream(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    docs = random_text(3000, seed=3).split("<|endoftext|>")
    (tmp_path / "c.txt").write_text("<|endoftext|>".join(docs))
    (tmp_path / "c.jsonl").write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    pq.write_table(pa.table({"text": docs}), tmp_path / "c.parquet")
    streams = [tokenize(tmp_path / f"c.{ext}", "bpe:300", use_cache=False) for ext in ("txt", "jsonl", "parquet")]
    for other in streams[1:]:
        np.testing.assert_array_equal(other.tokens, streams[0].tokens)
        np.testing.assert_array_equal(other.doc_offsets, streams[0].doc_offsets)


def test_max_tokens_takes_an_exact_prefix():
    corpus = Corpus.from_texts(DOCS)
    full = tokenize(corpus, "bytes", use_cache=False)
    for n in (1, 5, int(full.doc_offsets[1]), full.n_tokens - 1):
        cut = tokenize(corpus, "bytes", use_cache=False, max_tokens=n)
        assert cut.n_tokens == n
        np.testing.assert_array_equal(cut.tokens, full.tokens[:n])
        expected = full.doc_offsets[full.doc_offsets < n].tolist() + [n]
        assert cut.doc_offsets.tolist() == expected
        assert cut.provenance["truncated"] is True
    whole = tokenize(corpus, "bytes", use_cache=False, max_tokens=10**9)
    assert whole.n_tokens == full.n_tokens and whole.provenance["truncated"] is False
    with pytest.raises(ValueError, match="max_tokens must be a positive integer; got 0"):
        tokenize(corpus, "bytes", max_tokens=0)


def test_empty_corpus_is_an_error_and_writes_nothing(tmp_path):
    (tmp_path / "blank.txt").write_text("  \n<|endoftext|>\n ")
    with pytest.raises(ValueError, match="the corpus has no documents to tokenize"):
        tokenize(tmp_path / "blank.txt", "bytes", cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache" / "streams").iterdir())


def test_cache_hit_is_faster_and_does_not_re_encode(tmp_path, monkeypatch):
    (tmp_path / "c.txt").write_text(random_text(60_000, seed=4))
    calls = []
    original = LoadedTokenizer.encode_batch
    monkeypatch.setattr(LoadedTokenizer, "encode_batch", lambda self, t: calls.append(len(t)) or original(self, t))
    t0 = time.perf_counter()
    first = tokenize(tmp_path / "c.txt", "bpe:500", cache_dir=tmp_path / "cache")
    t1 = time.perf_counter()
    n_calls = len(calls)
    second = tokenize(tmp_path / "c.txt", "bpe:500", cache_dir=tmp_path / "cache")
    t2 = time.perf_counter()
    assert n_calls > 0 and len(calls) == n_calls  # no encoding on the second call
    assert (first.provenance["cache"]["hit"], second.provenance["cache"]["hit"]) == (False, True)
    assert t2 - t1 < (t1 - t0) / 5
    assert isinstance(second.tokens, np.memmap)
    np.testing.assert_array_equal(first.tokens, second.tokens)
    # a different tokenizer or reading option is a different entry
    third = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    assert third.provenance["cache"]["hit"] is False


def test_changed_input_misses_the_cache(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("abc")
    a = tokenize(path, "bytes", cache_dir=tmp_path / "cache")
    path.write_text("abcd")
    b = tokenize(path, "bytes", cache_dir=tmp_path / "cache")
    assert b.provenance["cache"]["hit"] is False and b.n_tokens == a.n_tokens + 1


def test_crash_leaves_no_trusted_cache_entry(tmp_path, monkeypatch):
    (tmp_path / "c.txt").write_text("<|endoftext|>".join(["doc"] * 10))

    def boom(self, texts):
        raise RuntimeError("simulated crash")

    monkeypatch.setattr(LoadedTokenizer, "encode_batch", boom)
    with pytest.raises(RuntimeError, match="simulated crash"):
        tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache" / "streams").iterdir()) == []
    monkeypatch.undo()
    assert tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache").provenance["cache"]["hit"] is False


def test_damaged_cache_entry_is_rebuilt(tmp_path):
    (tmp_path / "c.txt").write_text("hello")
    first = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    path = first.provenance["cache"]["path"]
    del first
    (tmp_path / "cache" / "streams" / path.split("/")[-1] / "meta.json").write_text("{}")
    with pytest.warns(CacheRebuiltWarning, match="unusable and is rebuilt: .* is not a saved token stream|format"):
        again = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    assert again.provenance["cache"]["hit"] is False and again.n_tokens == 6


def _damage_cached_tokens(stream, values) -> None:
    """Overwrite the first token ids of a cached stream on disk, bytes in place (the header is kept)."""
    path = Path(stream.provenance["cache"]["path"]) / "tokens.npy"
    offset = stream.tokens.offset  # start of the data after the .npy header
    raw = np.asarray(values, dtype=stream.tokens.dtype).tobytes()
    with open(path, "r+b") as fh:
        fh.seek(offset)
        fh.write(raw)


@pytest.mark.parametrize(
    "damage, reason",
    [
        ("id >= V", r"checksum of tokens\.npy differs"),
        ("other valid ids", r"checksum of tokens\.npy differs"),
    ],
)
def test_damaged_token_bytes_are_detected_reported_once_and_rebuilt(tmp_path, damage, reason):
    text = "the cat sat on the mat. " * 200
    (tmp_path / "c.txt").write_text(text)
    first = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    expected = np.array(first.tokens)
    assert first.tokens.dtype == np.uint16 and first.vocab_size == 257
    values = [65535, 300] if damage == "id >= V" else [int(expected[1]), int(expected[0])]  # swap two ids
    _damage_cached_tokens(first, values)
    del first
    with pytest.warns(CacheRebuiltWarning, match=reason) as record:
        again = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    assert len(record) == 1  # reported once
    assert again.provenance["cache"]["hit"] is False and "damaged" in again.provenance["cache"]["rebuilt"]
    np.testing.assert_array_equal(again.tokens, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt entry is trusted again, silently
        third = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache")
    assert third.provenance["cache"]["hit"] is True
    np.testing.assert_array_equal(third.tokens, expected)


def test_no_cache_writes_nothing_to_the_cache_dir(tmp_path):
    (tmp_path / "c.txt").write_text("hello")
    stream = tokenize(tmp_path / "c.txt", "bytes", cache_dir=tmp_path / "cache", use_cache=False)
    assert stream.n_tokens == 6 and stream.provenance["cache"]["path"] is None
    assert not (tmp_path / "cache").exists()


def test_provenance_is_complete(tmp_path):
    import hashlib

    (tmp_path / "c.txt").write_text("hello")
    prov = tokenize(tmp_path / "c.txt", "chars", use_cache=False).provenance
    assert prov["sources"][0]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert prov["sources"][0]["size"] == 5
    assert prov["tokenizer"]["spec"] == "chars" and len(prov["tokenizer"]["sha256"]) == 64
    assert set(prov["versions"]) == {"corpus_stats", "tokenizers"}
    assert prov["read_options"]["doc_split"] == "auto"
    json.dumps(prov)


def test_read_options_with_a_corpus_object_is_a_type_error():
    with pytest.raises(TypeError, match=r"reading options \(glob\) apply to inputs, not to a Corpus"):
        tokenize(Corpus.from_texts(["a"]), "bytes", glob="*.md")


@pytest.mark.slow
def test_every_shared_tokenizer_encodes_tinystories():
    corpus = shared_file("corpora/tinystories-train-head.txt")
    for name in ("gpt2", "llama2", "llama3", "mistral-v1"):
        stream = tokenize(corpus, str(TOKENIZERS / name / "tokenizer.json"))
        assert stream.n_tokens > 200_000 and stream.tokens[-1] == stream.eos_id
    assert CORPORA.is_dir()


def tricky_text(rng, n_parts: int) -> str:
    parts = [
        "word",
        "The",
        "'s",
        "'t",
        " ",
        "  ",
        "\n",
        "\n\n",
        " \n",
        "\n ",
        "\t",
        "42",
        "3.14",
        "!?",
        "ünï",
        "✓",
        "🙂",
        "\r\n",
        "<|endoftext|>",
        "-",
        "Lily.",
    ]
    return "".join(rng.choice(parts, size=n_parts))


@pytest.mark.parametrize("name", ["gpt2", "llama3", "tinystories-bpe8192"])
def test_long_documents_encoded_in_pieces_give_identical_ids(monkeypatch, name):
    tok = load_tokenizer(str(shared_file(f"tokenizers/{name}/tokenizer.json")))
    assert tok.info["splittable"] is True
    monkeypatch.setattr(tokenizers, "_PIECE_CHARS", 50)
    rng = np.random.default_rng(5)
    texts = [tricky_text(rng, n) for n in (3, 400, 1000, 2500)]
    ids, lengths = tok.encode_batch(texts)
    expected = [tok.hf.encode(t, add_special_tokens=False).ids for t in texts]
    assert lengths.tolist() == [len(e) for e in expected]
    assert ids.tolist() == [i for e in expected for i in e]


def test_long_documents_pieces_with_a_trained_bpe(monkeypatch):
    rng = np.random.default_rng(6)
    corpus = Corpus.from_texts([tricky_text(rng, 3000) for _ in range(3)])
    tok = load_tokenizer("bpe:300", corpus)
    monkeypatch.setattr(tokenizers, "_PIECE_CHARS", 64)
    ids, _ = tok.encode_batch(list(corpus))
    assert ids.tolist() == [i for t in corpus for i in tok.hf.encode(t, add_special_tokens=False).ids]


def test_sentencepiece_style_tokenizers_are_not_cut():
    tok = load_tokenizer(str(shared_file("tokenizers/llama2/tokenizer.json")))
    assert tok.info["splittable"] is False and tok.eos_token == "</s>" and tok.eos_id == 2


def test_same_content_under_another_name_hits_and_reports_the_new_name(tmp_path):
    (tmp_path / "a.txt").write_text("same words")
    (tmp_path / "b.txt").write_text("same words")
    tokenize(tmp_path / "a.txt", "bytes", cache_dir=tmp_path / "cache")
    hit = tokenize(tmp_path / "b.txt", "bytes", cache_dir=tmp_path / "cache")
    assert hit.provenance["cache"]["hit"] is True
    assert hit.provenance["sources"][0]["name"].endswith("b.txt")


@pytest.mark.slow
def test_peak_memory_is_a_small_multiple_of_the_token_array(tmp_path):
    """3e7 byte tokens: the process never holds the corpus or many copies of the array."""
    import subprocess
    import sys
    import textwrap

    rng = np.random.default_rng(7)
    with open(tmp_path / "big.txt", "w") as fh:
        for _ in range(30):
            fh.write(random_text(150_000, seed=int(rng.integers(1 << 30))) + "<|endoftext|>")
    script = textwrap.dedent(f"""
        import resource, json
        from corpus_stats.text.tokenization import tokenize
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        s = tokenize({str(tmp_path / "big.txt")!r}, "bytes", cache_dir={str(tmp_path / "cache")!r})
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"n": s.n_tokens, "bytes": s.tokens.nbytes, "extra_kib": peak - base}}))
    """)
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True).stdout)
    assert out["n"] > 2e7
    assert out["extra_kib"] * 1024 < 1.5 * out["bytes"]


def test_bpe_with_max_tokens_trains_on_a_prefix_sized_sample(monkeypatch, tmp_path):
    monkeypatch.setattr(tokenization, "_MIN_SAMPLE_FOR_PREFIX", 1000)
    (tmp_path / "c.txt").write_text(random_text(30_000, seed=8))
    stream = tokenize(tmp_path / "c.txt", "bpe:300", use_cache=False, max_tokens=500)
    sample = stream.provenance["tokenizer"]["bpe_training_sample"]
    assert sample["limit_characters"] == 4000 and sample["characters"] <= 4000
    assert stream.n_tokens == 500
    docs = tokenize(tmp_path / "c.txt", "bpe:300", use_cache=False, max_documents=3)
    assert docs.provenance["tokenizer"]["bpe_training_sample"]["every_kth_document"] == 1
    assert docs.n_documents == 3


def test_bpe_sample_limit_inside_one_huge_document_still_trains():
    corpus = Corpus.from_texts([random_text(20_000, seed=9).replace("<|endoftext|>", " ")])
    tok = load_tokenizer("bpe:300", corpus, bpe_sample_chars=5000)
    sample = tok.info["bpe_training_sample"]
    assert (sample["documents"], sample["characters"], sample["complete"]) == (1, 5000, False)
    assert tok.vocab_size > 100  # merges were learnt (a small sample has fewer than V - 2 - alphabet)


def test_tokenizer_directory_without_tokenizer_json_says_so(tmp_path):
    (tmp_path / "tok").mkdir()
    with pytest.raises(FileNotFoundError, match=r"tokenizer directory '.*tok' holds no tokenizer.json"):
        load_tokenizer(str(tmp_path / "tok"))
