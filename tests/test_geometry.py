"""Word-set geometry: planted circle and tree recovered exactly; counts, PMI, ablation, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from corpus_stats import synthetic as S
from corpus_stats.cli import cli
from corpus_stats.geometry import WordSet, read_set_file, resolve_set, set_geometry, word_stream
from corpus_stats.geometry.cooccurrence import ablation_keep, count_pairs, pmi, ppmi, row_index
from corpus_stats.geometry.sets import _leaves, internal_nodes
from corpus_stats.text import Corpus


def _as_text(corpus):
    st = corpus.stream
    return Corpus.from_texts([" ".join(map(str, st.document(i).tolist())) for i in range(st.n_documents)])


@pytest.fixture(scope="module")
def circle():
    c = S.planted_circle(150_000, n_words=10, vocab_size=300, seed=5)
    return c, word_stream(_as_text(c))


@pytest.fixture(scope="module")
def tree():
    c = S.planted_tree(150_000, vocab_size=300, seed=6)
    return c, word_stream(_as_text(c))


def test_planted_circle_order_is_recovered_exactly(circle):
    c, ws = circle
    rng = np.random.default_rng(0)
    words = c.planted["words"]
    g = set_geometry(ws, WordSet("c", tuple(words), True), n_frequent=300, dim=20, ablation=False)
    assert g.full.embedding["order_recovered"] and g.full.statistic["order_recovered"]
    assert g.full.embedding["best_frequency"][:2] == [1, 1]  # the circle is the first Fourier mode
    assert g.full.symmetry["r2"] > 0.8 and g.full.symmetry["p_value"] < 0.01
    # the order is read from the geometry, not from the list: a shuffled list is not "recovered"
    shuffled = [words[i] for i in rng.permutation(len(words))]
    g2 = set_geometry(ws, WordSet("s", tuple(shuffled), True), n_frequent=300, dim=20, ablation=False)
    assert not g2.full.embedding["order_recovered"]
    recovered = [shuffled[i] for i in g2.full.embedding["order"]]
    start = recovered.index("0")
    turn = recovered[start:] + recovered[:start]
    assert turn in (words, [words[0]] + words[:0:-1])  # planted order, either direction


def test_planted_tree_top_splits_are_recovered_exactly(tree):
    c, ws = tree
    t = c.planted["tree"]
    g = set_geometry(ws, WordSet("t", tuple(_leaves(t)), False, t), n_frequent=300, dim=20, ablation=False)
    nodes = g.hierarchy["nodes"]
    assert [n["path"] for n in nodes[:3]] == [[], [0], [1]]
    assert nodes[0]["component"] == 1  # the root's split is the leading component
    assert {nodes[1]["component"], nodes[2]["component"]} == {2, 3}  # then the two broad branches
    assert all(n["local"] for n in nodes[:3])


@pytest.mark.parametrize("block_entries", [1 << 25, 8])  # one pass over the text; one row per pass
def test_window_counts_match_a_slow_reference(monkeypatch, block_entries):
    from corpus_stats.geometry import cooccurrence

    monkeypatch.setattr(cooccurrence, "BLOCK_ENTRIES", block_entries)
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(list("abcdefg"), size=n)) + " ." for n in (30, 1, 0, 25)]
    ws = word_stream(Corpus.from_texts([t for t in texts if t.strip()]))
    _, row_of = row_index(ws, 5, [ws.id_of("g")])
    for window in (1, 3):
        m = count_pairs(ws, row_of, window).toarray()
        ref = np.zeros_like(m)
        idx, doc = row_of[ws.ids], ws.doc_id
        for p in range(idx.size):
            for q in range(p + 1, min(idx.size, p + window + 1)):
                if doc[p] == doc[q] and idx[p] >= 0 and idx[q] >= 0:
                    ref[idx[p], idx[q]] += 1
                    ref[idx[q], idx[p]] += 1
        assert np.array_equal(m, ref)
    sent = count_pairs(ws, row_of, "sentence").toarray()
    ref = np.zeros_like(sent)
    for s in np.unique(ws.sentence_id):
        r = row_of[ws.ids[ws.sentence_id == s]]
        r = r[r >= 0]
        c = np.bincount(r, minlength=sent.shape[0]).astype(float)
        ref += np.outer(c, c) - np.diag(c)
    assert np.array_equal(sent, ref)


def test_pmi_of_independent_counts_is_zero():
    p = np.array([0.5, 0.3, 0.2])
    m = pmi(np.outer(p, p) * 1000)
    assert np.allclose(m, 0.0)


def test_sparse_ppmi_is_the_dense_formula_on_pairs_above_the_minimum_count():
    import scipy.sparse as sp

    rng = np.random.default_rng(2)
    c = rng.poisson(3.0, size=(12, 12)).astype(float) * rng.integers(0, 2, size=(12, 12))
    c = c + c.T
    c[3], c[:, 3] = 0.0, 0.0  # a word without co-occurrences: no log(0) warning, no entry
    dense = np.where(c >= 4, np.maximum(pmi(c, 0.75), 0.0), 0.0)
    sparse = ppmi(sp.csr_matrix(c), 0.75, 4)
    assert sparse.nnz == np.count_nonzero(dense) > 0
    assert np.array_equal(sparse.toarray(), dense)


def test_ablation_leaves_no_set_pair(circle):
    c, ws = circle
    ids = [ws.id_of(w) for w in c.planted["words"]]
    _, row_of = row_index(ws, 300, ids)
    rows = row_of[ids]
    keep, removed, total = ablation_keep(ws, ids, 5)
    m = count_pairs(ws, row_of, 5, keep)[rows][:, rows].toarray()
    assert removed > 0 and m.sum() - np.trace(m) == 0
    assert 0 < 1 - keep.mean() < 0.5
    g = set_geometry(ws, WordSet("c", tuple(c.planted["words"]), True), n_frequent=300, dim=20)
    assert g.options["ablation"]["set_pair_counts_left"] == 0.0
    # the planted filler carries no phase: without the set's own co-occurrences the circle is gone
    assert g.ablated.statistic["order_recovered"] is None


def test_word_stream_cache_returns_the_same_words(tmp_path):
    texts = ["A b. C d! E", "", "f b b. A"]  # an empty document: its index is kept
    corpus = Corpus.from_texts(texts)
    first = word_stream(corpus, cache_dir=tmp_path)
    again = word_stream(Corpus.from_texts(texts), cache_dir=tmp_path)
    assert first.info["cache"]["hit"] is False and again.info["cache"]["hit"] is True
    for name in ("ids", "counts", "doc_id", "sentence_id"):
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
        assert getattr(first, name).dtype == getattr(again, name).dtype, name
    assert again.words == first.words and again.doc_id.tolist() == [0] * 7 + [2] * 5
    assert {k: v for k, v in again.info.items() if k != "cache"} == {
        k: v for k, v in first.info.items() if k != "cache"
    }
    # another splitter, another entry; no cache, nothing written
    assert word_stream(corpus, lowercase=True, cache_dir=tmp_path).info["cache"]["hit"] is False
    assert "cache" not in word_stream(corpus, cache_dir=tmp_path / "none", use_cache=False).info
    assert not (tmp_path / "none").exists()
    # a damaged entry is rebuilt, with a warning, never used
    ids = Path(first.info["cache"]["path"]) / "ids.npy"
    ids.write_bytes(ids.read_bytes()[:-4] + b"\x07\x00\x00\x00")
    with pytest.warns(UserWarning, match="cached word stream .* unusable and is rebuilt: the word ids changed"):
        rebuilt = word_stream(corpus, cache_dir=tmp_path)
    assert rebuilt.info["cache"]["hit"] is False and np.array_equal(rebuilt.ids, first.ids)
    assert word_stream(corpus, cache_dir=tmp_path).info["cache"]["hit"] is True


def test_sentences_end_at_punctuation():
    ws = word_stream(Corpus.from_texts(["A b. C d! E", "f"]))
    assert ws.sentence_id.tolist() == [0, 0, 0, 1, 1, 1, 2, 3]


def test_tree_nodes_breadth_first():
    t = {"a": [["x", "y"], ["z", "w"]], "b": ["u", "v"]}
    assert [(p, d) for p, d, _ in internal_nodes(list(t.values()))] == [((), 0), ((0,), 1)]


# -- bad input ---------------------------------------------------------------------------------------


def test_unknown_set_name_and_small_set(tmp_path):
    with pytest.raises(ValueError, match="unknown word set 'monts': use one of months, weekdays"):
        resolve_set("monts")
    (tmp_path / "two.txt").write_text("a\nb\n")
    with pytest.raises(ValueError, match="at least 3 words .* got 2 \\(a, b\\)"):
        resolve_set(str(tmp_path / "two.txt"))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        resolve_set(str(tmp_path / "none.json"))


@pytest.mark.parametrize(
    "text,match",
    [
        ('{"a": ["x", "y"],\n "b": [\n]}', "line 2: empty branch"),
        ('[["x", "y"],\n ["z", 3]]', "line 2: a tree node must be a word"),
        ('[["x", "y"],\n ["z", "x"]]', "line 1: the word 'x' appears twice"),
        ('[["x", "y"],\n ["z" "w"]]', "line 2: invalid JSON"),
    ],
)
def test_malformed_tree_files_name_file_line_and_reason(tmp_path, text, match):
    path = tmp_path / "tree.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=f"tree.json, {match}"):
        read_set_file(path)


def test_set_file_formats(tmp_path):
    (tmp_path / "s.txt").write_text("# cyclic\nnorth\neast # comment\n\nsouth\nwest\n")
    ws = read_set_file(tmp_path / "s.txt")
    assert ws.words == ("north", "east", "south", "west") and ws.cyclic
    (tmp_path / "s.json").write_text('{"words": ["a", "b", "c"], "cyclic": true}')
    assert read_set_file(tmp_path / "s.json").cyclic
    (tmp_path / "t.json").write_text('{"animals": [["dog", "cat"], ["robin", "owl"]], "trees": ["oak", "elm"]}')
    t = read_set_file(tmp_path / "t.json")
    assert t.tree is not None and t.words[:2] == ("dog", "cat") and t.branch_names[(0,)] == "animals"


def test_missing_words_are_named_and_thin_pairs_masked(circle):
    c, ws = circle
    words = ("0", "1", "Smarch", "2", "Octember")
    with pytest.raises(ValueError, match="2 word\\(s\\) of the set never occur in the corpus: Smarch, Octember"):
        set_geometry(ws, WordSet("m", words, False), n_frequent=300, dim=20)
    g = set_geometry(ws, WordSet("m", words, False), n_frequent=300, dim=20, drop_missing=True, min_count=10**4)
    assert g.words == ("0", "1", "2") and "Smarch, Octember" in g.options["notes"][0]
    assert "3 of 3 set pairs co-occur fewer than 10000 times" in g.options["notes"][1]
    assert np.isnan(g.full.pmi).all()
    with pytest.raises(ValueError, match="no pair of the .* counted words co-occurs 1000000 times or more"):
        set_geometry(ws, WordSet("m", words, False), n_frequent=300, dim=20, drop_missing=True, min_count=10**6)


def test_cli_geometry_on_a_planted_circle(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "synth",
            "planted_circle",
            "--tokens",
            "150000",
            "-p",
            "vocab_size=300",
            "-p",
            "n_words=8",
            "-o",
            str(tmp_path / "c"),
        ],
    )
    assert res.exit_code == 0, res.output
    args = ["geometry", str(tmp_path / "c" / "corpus.txt"), "--doc-split", "line", "--no-cache"]
    args += [
        "--set",
        str(tmp_path / "c" / "planted.json"),
        "--vocab",
        "300",
        "--dim",
        "20",
        "--out",
        str(tmp_path / "o"),
    ]
    res = runner.invoke(cli, args + ["--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["full"]["statistic"]["order_recovered"] and (tmp_path / "o" / "geometry-planted.png").is_file()
    res = runner.invoke(cli, args)
    assert res.exit_code == 1 and "already exists; pass --force" in res.output
    res = runner.invoke(cli, args[:-4] + ["--set", "monts", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "unknown word set 'monts'" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, args[:-4] + ["--set", "months", "--out", str(tmp_path / "o2")])
    assert res.exit_code == 1 and "never occur in the corpus: January, February" in res.output
