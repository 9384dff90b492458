"""Reading inputs into documents: formats, splitting, compression, and one clear error per bad input."""

import bz2
import gzip
import io
import json
import lzma
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_stats.text import hub, inputs, sources
from corpus_stats.text.sources import Corpus, read_corpus

DOCS = ["Once upon a time.\nThe end.", "Second story, with ünïcödé ✓.", "Third"]


def write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def small_chunks(monkeypatch):
    """Read 7 bytes at a time, so separators and UTF-8 sequences straddle chunk boundaries."""
    monkeypatch.setattr(inputs, "CHUNK_BYTES", 7)


@pytest.mark.parametrize("chunked", [False, True])
def test_auto_splits_on_endoftext_strips_and_drops_empty(tmp_path, monkeypatch, chunked):
    if chunked:
        monkeypatch.setattr(inputs, "CHUNK_BYTES", 7)
    text = "<|endoftext|>\n" + "\n<|endoftext|>\n".join(DOCS) + "\n<|endoftext|>\n  \n<|endoftext|>"
    assert list(read_corpus(write(tmp_path / "a.txt", text))) == DOCS


def test_auto_without_separator_is_one_unchanged_document(tmp_path, small_chunks):
    text = "line one\n\nline two\n"
    assert list(read_corpus(write(tmp_path / "a.txt", text))) == [text]
    assert list(read_corpus(tmp_path / "a.txt", doc_split="file")) == [text]


def test_line_blank_line_and_literal_modes(tmp_path, small_chunks):
    path = write(tmp_path / "a.txt", "a b\r\n\nc\n  \n\nd e\nf")
    assert list(read_corpus(path, doc_split="line")) == ["a b", "c", "d e", "f"]
    assert list(read_corpus(path, doc_split="blank-line")) == ["a b", "c", "d e\nf"]
    assert list(read_corpus(path, doc_split="c")) == ["a b", "d e\nf"]


def test_directories_recursive_sorted_with_glob(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path / "b.txt", "B")
    write(tmp_path / "sub" / "a.txt", "A")
    write(tmp_path / "c.md", "C")
    assert list(read_corpus(tmp_path)) == ["B", "A"]
    assert list(read_corpus(tmp_path, glob="*.md")) == ["C"]
    assert list(read_corpus(str(tmp_path / "*.txt"))) == ["B"]
    assert list(read_corpus([tmp_path / "c.md", tmp_path / "b.txt"])) == ["C", "B"]


@pytest.mark.parametrize("suffix,opener", [(".gz", gzip.open), (".xz", lzma.open), (".bz2", bz2.open)])
def test_compressed_text_reads_like_plain(tmp_path, suffix, opener):
    text = "<|endoftext|>".join(DOCS)
    with opener(tmp_path / f"a.txt{suffix}", "wb") as fh:
        fh.write(text.encode())
    assert list(read_corpus(tmp_path / f"a.txt{suffix}")) == DOCS


def test_zstd_text_and_clear_error_without_package(tmp_path, monkeypatch):
    zstandard = pytest.importorskip("zstandard")
    (tmp_path / "a.txt.zst").write_bytes(zstandard.ZstdCompressor().compress("<|endoftext|>".join(DOCS).encode()))
    assert list(read_corpus(tmp_path / "a.txt.zst")) == DOCS
    monkeypatch.setitem(sys.modules, "zstandard", None)
    with pytest.raises(ValueError, match=r"a.txt.zst is zstd-compressed; install the 'zstandard' package"):
        list(read_corpus(tmp_path / "a.txt.zst"))


def test_corrupt_gzip_is_one_clear_error(tmp_path):
    (tmp_path / "a.txt.gz").write_bytes(b"this is not gzip data at all")
    with pytest.raises(ValueError, match=r"cannot read .*a.txt.gz as gzip data"):
        list(read_corpus(tmp_path / "a.txt.gz"))


def test_missing_path_empty_file_and_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"input '.*nope.txt' does not exist"):
        read_corpus(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match=r"no files match the pattern '.*\*.zzz'"):
        read_corpus(str(tmp_path / "*.zzz"))
    write(tmp_path / "empty.txt", "")
    with pytest.raises(ValueError, match=r"input file .*empty.txt is empty"):
        read_corpus(tmp_path / "empty.txt")
    (tmp_path / "d").mkdir()
    write(tmp_path / "d" / "x.md", "text")
    with pytest.raises(ValueError, match=r"directory .*d has no files matching '\*.txt' \(use --glob"):
        read_corpus(tmp_path / "d")
    with pytest.raises(ValueError, match="no inputs given"):
        read_corpus([])


def test_binary_input_names_file_and_offset(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"abc\x00\x01\x02")
    with pytest.raises(ValueError, match=r"bin.txt looks binary \(NUL byte at byte offset 3\)"):
        read_corpus(tmp_path / "bin.txt")


def test_non_utf8_names_file_and_byte_offset_and_can_be_overridden(tmp_path, small_chunks):
    path = tmp_path / "latin.txt"
    path.write_bytes("héllo wörld ".encode() + "café".encode("latin-1"))
    bad = len("héllo wörld ".encode()) + 3  # the latin-1 é
    with pytest.raises(ValueError, match=rf"latin.txt is not valid utf-8 at byte offset {bad} .*--errors replace"):
        list(read_corpus(path))
    assert list(read_corpus(path, errors="replace")) == ["héllo wörld caf\ufffd"]
    assert list(read_corpus(path, encoding="latin-1"))[0].endswith("café")
    with pytest.raises(ValueError, match="unknown encoding or error handler"):
        read_corpus(path, encoding="no-such-codec")


def test_jsonl_records_and_errors(tmp_path):
    lines = [json.dumps({"text": d, "id": i}) for i, d in enumerate(DOCS)]
    path = write(tmp_path / "a.jsonl", "\n".join(lines[:2]) + "\n\n" + lines[2] + "\n")
    assert list(read_corpus(path)) == DOCS
    write(tmp_path / "bad.jsonl", lines[0] + "\n" + lines[1] + "\n{not json\n")
    with pytest.raises(ValueError, match=r"bad.jsonl line 3 is not valid JSON"):
        list(read_corpus(tmp_path / "bad.jsonl"))
    write(tmp_path / "cut.jsonl", lines[0] + '\n{"text": "never closed\n')
    with pytest.raises(
        ValueError, match=r"cut.jsonl line 2 is not valid JSON \(Unterminated string starting at column 10\)\.$"
    ):
        list(read_corpus(tmp_path / "cut.jsonl"))
    with pytest.raises(ValueError, match=r"a.jsonl line 1 has no field 'body'; its fields are: text, id"):
        list(read_corpus(path, text_field="body"))
    with pytest.raises(ValueError, match=r"field 'id' must hold text; got int"):
        list(read_corpus(path, text_field="id"))


def test_json_parquet_arrow_through_datasets(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    write(tmp_path / "a.json", json.dumps([{"text": d} for d in DOCS]))
    assert list(read_corpus(tmp_path / "a.json")) == DOCS
    table = pa.table({"text": DOCS, "n": [1, 2, 3]})
    pq.write_table(table, tmp_path / "a.parquet")
    assert list(read_corpus(tmp_path / "a.parquet")) == DOCS
    with pytest.raises(ValueError, match=r"a.parquet has no field 'body'; its fields are: text, n"):
        list(read_corpus(tmp_path / "a.parquet", text_field="body"))
    with (
        pa.OSFile(str(tmp_path / "a.arrow"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as w,
    ):
        w.write_table(table)
    assert list(read_corpus(tmp_path / "a.arrow")) == DOCS


def test_max_documents_and_from_texts():
    corpus = Corpus.from_texts(["a", "", "b"])
    assert list(corpus) == ["a", "", "b"]
    limited = Corpus(corpus.sources, {"max_documents": 2}, corpus.texts)
    assert list(limited) == ["a", ""]
    with pytest.raises(TypeError, match="documents must be str; got int"):
        Corpus.from_texts(["a", 3])


def test_max_documents_validation(tmp_path):
    path = write(tmp_path / "a.txt", "x\ny\nz")
    assert list(read_corpus(path, doc_split="line", max_documents=2)) == ["x", "y"]
    with pytest.raises(ValueError, match="max_documents must be a positive integer; got 0"):
        read_corpus(path, max_documents=0)


def test_stdin_is_spooled_and_rereadable(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"a<|endoftext|>b")))
    corpus = read_corpus("-")
    assert list(corpus) == ["a", "b"] == list(corpus)
    assert corpus.sources[0].name == "<stdin>"


def test_provenance_has_sizes_and_hashes(tmp_path):
    import hashlib

    path = write(tmp_path / "a.txt", "hello")
    prov = read_corpus(path).provenance()
    assert prov["sources"][0]["size"] == 5
    assert prov["sources"][0]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    assert prov["read_options"]["doc_split"] == "auto"


def test_hf_fails_fast_when_hub_unreachable(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(ValueError, match=r"hf:someone/data needs the Hugging Face Hub, which is unreachable"):
        list(read_corpus("hf:someone/data"))


def test_hf_offline_mode_says_not_cached(monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", datasets.config.HF_HUB_OFFLINE)  # restored after
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        ValueError,
        match=r"hf:corpus-stats-tests/no-such-dataset is not in the local datasets cache",
    ):
        list(read_corpus("hf:corpus-stats-tests/no-such-dataset"))
    with pytest.raises(ValueError, match="hf: inputs need a dataset name"):
        read_corpus("hf:")


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(alphabet="ab \n\t\r<|>endoftx", max_size=200),
    size=st.integers(1, 9),
    mode=st.sampled_from(["line", "blank-line", "<|endoftext|>", "ab", "auto"]),
)
def test_streamed_split_equals_whole_text_split(text, size, mode):
    chunks = [text[i : i + size] for i in range(0, len(text), size)]
    got = list(sources._split(iter(chunks), mode))
    if mode == "auto":
        mode = "<|endoftext|>" if "<|endoftext|>" in text else None
        if mode is None:
            assert got == ([text] if text.strip() else [])
            return
    if mode == "blank-line":
        pieces = sources._BLANK_LINE.split(text)
    else:
        pieces = text.split("\n" if mode == "line" else mode)
    assert got == [p.strip() for p in pieces if p.strip()]


def test_json_lines_in_a_json_file_and_bad_input_types(tmp_path):
    write(tmp_path / "lines.json", "".join(json.dumps({"text": d}) + "\n" for d in DOCS))
    assert list(read_corpus(tmp_path / "lines.json")) == DOCS
    with pytest.raises(TypeError, match="inputs must be a path, glob, '-', 'hf:NAME' or a list of them.*got int"):
        read_corpus(42)
    with pytest.raises(TypeError, match="got list"):
        read_corpus([tmp_path / "lines.json", None])


def test_malformed_json_array_names_the_file(tmp_path):
    pytest.importorskip("pyarrow")
    write(tmp_path / "bad.json", '[{"text": "a"}, {"text": }]')
    with pytest.raises(ValueError, match=r"^cannot read .*bad.json as json: Expected object"):
        list(read_corpus(tmp_path / "bad.json"))
