"""Planted-geometry generators: the structure they plant is in the stream they write."""

import json

import numpy as np
import pytest

from corpus_stats import synthetic as S


def _gap_cooccurrence(tokens, n_set, window, cyclic):
    """Mean co-occurrence count (within +-window) of set-word pairs per index gap (a slow reference)."""
    pos = np.flatnonzero(tokens < n_set)
    counts = np.zeros((n_set, n_set))
    for shift in range(1, window + 1):
        left = pos[np.searchsorted(pos, pos + shift) < pos.size]
        right = left + shift
        ok = np.isin(right, pos)
        np.add.at(counts, (tokens[left[ok]], tokens[right[ok]]), 1)
    counts = counts + counts.T
    i, j = np.triu_indices(n_set, 1)
    gap = np.abs(i - j)
    if cyclic:
        gap = np.minimum(gap, n_set - gap)
    return np.array([counts[i[gap == g], j[gap == g]].mean() for g in range(1, gap.max() + 1)])


def test_planted_circle_cooccurrence_falls_with_the_circular_gap():
    c = S.planted_circle(400_000, n_words=8, seed=3)
    tokens = c.stream.tokens.astype(np.int64)
    assert c.planted == {"words": [str(i) for i in range(8)], "cyclic": True}
    assert abs(np.mean(tokens < 8) - 0.05) < 0.003
    per_gap = _gap_cooccurrence(tokens, 8, 20, cyclic=True)
    assert np.all(np.diff(per_gap) < 0), per_gap  # gaps 1..4 strictly less frequent


def test_planted_tree_words_follow_the_hidden_leaf():
    c = S.planted_tree(300_000, branching=2, depth=2, words_per_leaf=2, seed=4)
    assert c.planted == {"tree": [[["0", "1"], ["2", "3"]], [["4", "5"], ["6", "7"]]]}
    tokens = c.stream.tokens.astype(np.int64)
    per_gap = _gap_cooccurrence(tokens, 8, 20, cyclic=False)
    # same leaf (gap 1 inside a leaf) > same top branch > across the root
    pos = np.flatnonzero(tokens < 8)
    nxt = tokens[pos[1:]], tokens[pos[:-1]]
    same_leaf = np.mean(nxt[0] // 2 == nxt[1] // 2)
    same_top = np.mean(nxt[0] // 4 == nxt[1] // 4)
    assert same_leaf > 0.5 and same_top > same_leaf and per_gap.size == 7


def test_planted_kinds_are_registered_and_written(tmp_path):
    for kind in ("planted_circle", "planted_tree"):
        corpus = S.make(kind, 5_000, seed=1)
        path = S.write_corpus(corpus, tmp_path / kind)
        assert json.loads((path.parent / "planted.json").read_text()) == corpus.planted
        assert json.loads((path.parent / "synthetic.json").read_text())["planted"] == corpus.planted
    assert S.iid_zipf(100).planted is None


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: S.planted_circle(1000, n_words=2), "n_words must be an integer at least 3; got 2"),
        (lambda: S.planted_circle(1000, coherence=0.0), r"coherence must lie in \(0, inf\); got 0.0"),
        (lambda: S.planted_tree(1000, vocab_size=10), "vocab_size must be an integer at least 18; got 10"),
    ],
)
def test_planted_parameters_are_checked(call, match):
    with pytest.raises(ValueError, match=match):
        call()
