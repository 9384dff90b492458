"""`corpus-stats tokenize`: JSON output, cache hits, and one clear line (exit 1, nothing written) per bad input."""

import json

import pytest
from click.testing import CliRunner
from conftest import PAPER_TOKENIZER, shared_file

from corpus_stats.cli import cli


def run(*args, input=None):
    return CliRunner().invoke(cli, ["tokenize", *map(str, args)], input=input)


def run_json(*args, input=None):
    result = run(*args, "--json", input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def assert_one_line_error(result, match, cache_dir=None):
    import re

    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert re.search(match, lines[0]), lines[0]
    assert "Traceback" not in result.output
    if cache_dir is not None:
        streams = cache_dir / "streams"
        assert not streams.exists() or not list(streams.iterdir())


def test_tokenize_json_then_cache_hit(tmp_path, cache_dir):
    (tmp_path / "a.txt").write_text("the cat<|endoftext|>the dog<|endoftext|>a cat")
    first = run_json(tmp_path / "a.txt", "-t", "chars", "--cache-dir", cache_dir, "--top", 3)
    assert (first["n_tokens"], first["n_documents"], first["eos_id"]) == (22, 3, 1)
    assert first["cache"]["hit"] is False and first["tokenizer"]["spec"] == "chars"
    assert first["top_tokens"][0] == {
        "id": first["top_tokens"][0]["id"],
        "token": "t",
        "count": 4,
        "share": 4 / 22,
    }
    second = run_json(tmp_path / "a.txt", "-t", "chars", "--cache-dir", cache_dir)
    assert second["cache"]["hit"] is True and second["n_tokens"] == 22


def test_table_output_and_saved_copy(tmp_path, cache_dir):
    (tmp_path / "a.txt").write_text("x y\nz\n")
    result = run(
        tmp_path / "a.txt",
        "-t",
        "bytes",
        "--doc-split",
        "\\n",
        "--cache-dir",
        cache_dir,
        "-o",
        tmp_path / "copy",
    )
    assert result.exit_code == 0, result.output
    assert "documents  2" in result.output and "eos        256 '<eos>'" in result.output
    from corpus_stats.stream import TokenStream

    assert TokenStream.load(tmp_path / "copy").n_tokens == 6


def test_stdin_max_tokens_and_no_cache(cache_dir):
    out = run_json(
        "-",
        "-t",
        "bytes",
        "--max-tokens",
        4,
        "--no-cache",
        "--cache-dir",
        cache_dir,
        input="hello<|endoftext|>world",
    )
    assert out["n_tokens"] == 4 and out["truncated"] is True and out["cache"]["path"] is None
    assert not cache_dir.exists()


def test_paper_tokenizer_through_the_cli(cache_dir):
    corpus = shared_file("corpora/tinystories-valid-head.txt")
    shared_file("tokenizers/tinystories-bpe8192/tokenizer.json")
    out = run_json(corpus, "-t", PAPER_TOKENIZER, "--cache-dir", cache_dir, "--top", 1)
    assert out["vocab_size"] == 8192 and out["top_tokens"][0]["token"] == "."


def test_help_everywhere():
    assert CliRunner().invoke(cli, ["tokenize", "-h"]).exit_code == 0
    assert "--doc-split" in CliRunner().invoke(cli, ["tokenize", "--help"]).output


@pytest.mark.parametrize(
    "name,setup,args,match",
    [
        ("missing", None, ["nope.txt"], r"input '.*nope.txt' does not exist"),
        (
            "empty",
            lambda d: (d / "e.txt").write_text(""),
            ["e.txt"],
            r"input file .*e.txt is empty",
        ),
        (
            "whitespace",
            lambda d: (d / "w.txt").write_text(" \n "),
            ["w.txt"],
            r"the corpus has no documents",
        ),
        (
            "no-match-dir",
            lambda d: (d / "sub").mkdir() or (d / "sub" / "x.md").write_text("x"),
            ["sub"],
            r"directory .*sub has no files matching '\*.txt'",
        ),
        (
            "binary",
            lambda d: (d / "b.txt").write_bytes(b"\x7fELF\x00\x00"),
            ["b.txt"],
            r"b.txt looks binary \(NUL byte at byte offset 4\)",
        ),
        (
            "non-utf8",
            lambda d: (d / "l.txt").write_bytes(b"caf\xe9 au lait"),
            ["l.txt"],
            r"l.txt is not valid utf-8 at byte offset 3 .*--errors replace",
        ),
        (
            "bad-jsonl",
            lambda d: (d / "j.jsonl").write_text('{"text": "a"}\n{"text": \n'),
            ["j.jsonl"],
            r"j.jsonl line 2 is not valid JSON",
        ),
        (
            "missing-field",
            lambda d: (d / "f.jsonl").write_text('{"body": "a", "id": 1}\n'),
            ["f.jsonl"],
            r"f.jsonl line 1 has no field 'text'; its fields are: body, id \(use --text-field\)",
        ),
        (
            "bad-tokenizer",
            lambda d: ((d / "a.txt").write_text("a"), (d / "t.json").write_text("{]")),
            ["a.txt", "-t", "t.json"],
            r"cannot read tokenizer file .*t.json",
        ),
        (
            "bpe-small",
            lambda d: (d / "a.txt").write_text("a"),
            ["a.txt", "-t", "bpe:100"],
            r"bpe:V needs 260 <= V <= 1,048,576 .*got V=100",
        ),
        (
            "bpe-huge",
            lambda d: (d / "a.txt").write_text("a"),
            ["a.txt", "-t", "bpe:99999999"],
            r"bpe:V needs 260 <= V .*got V=99,999,999",
        ),
    ],
)
def test_bad_inputs_one_line_exit_1_nothing_written(tmp_path, cache_dir, monkeypatch, name, setup, args, match):
    if setup is not None:
        setup(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run(*args, "--cache-dir", cache_dir)
    assert_one_line_error(result, match, cache_dir)


def test_offline_hf_dataset_is_one_line(cache_dir, monkeypatch):
    from corpus_stats.text import hub

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: False)
    result = run("hf:roneneldan/TinyStories", "--cache-dir", cache_dir)
    assert_one_line_error(
        result,
        r"hf:roneneldan/TinyStories needs the Hugging Face Hub, which is unreachable",
        cache_dir,
    )


@pytest.mark.filterwarnings("default::corpus_stats.text.tokenization.CacheRebuiltWarning")
def test_damaged_cache_entry_is_one_warning_line_then_rebuilt(tmp_path, cache_dir):
    import numpy as np

    (tmp_path / "a.txt").write_text("the cat sat on the mat " * 50)
    first = run_json(tmp_path / "a.txt", "-t", "bytes", "--cache-dir", cache_dir)
    tokens = cache_dir / "streams" / first["cache"]["path"].split("/")[-1] / "tokens.npy"
    offset = np.load(tokens, mmap_mode="r").offset
    with open(tokens, "r+b") as fh:  # an id >= V (257) where "t" was: kernels would index out of bounds
        fh.seek(offset)
        fh.write(np.array([60000], np.uint16).tobytes())
    result = run(tmp_path / "a.txt", "-t", "bytes", "--cache-dir", cache_dir)
    assert result.exit_code == 0, result.output
    warning = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "is damaged: the crc32 checksum of tokens.npy differs" in warning[0]
    assert "Traceback" not in result.output and "tokenize.py" not in result.stderr
    assert "the damaged cache entry was rebuilt" in result.stdout
    assert run_json(tmp_path / "a.txt", "-t", "bytes", "--cache-dir", cache_dir)["cache"]["hit"] is True
