"""Tests of corpus_stats._io: JSON-safe values, dataclass <-> JSON, atomic writes with the umask's mode."""

from __future__ import annotations

import math
import os
import stat
from dataclasses import dataclass

import numpy as np
import pytest

from corpus_stats._io import (
    array_from_json,
    atomic_write_text,
    dataclass_to_json,
    finite_or_none,
    json_safe,
    replace_dir,
    temporary_sibling_dir,
)
from corpus_stats.stream import TokenStream


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_json_safe_converts_numpy_and_nonfinite():
    out = json_safe({"a": np.float32(1.5), "b": np.array([1.0, np.nan, np.inf]), "c": (np.int64(3),)})
    assert out == {"a": 1.5, "b": [1.0, None, None], "c": [3]}
    assert not any(isinstance(v, float) and math.isnan(v) for v in out["b"] if v is not None)


def test_finite_or_none():
    assert finite_or_none(np.float64(2.5)) == 2.5
    assert [finite_or_none(v) for v in (np.nan, -np.inf, None, "x", [1])] == [None] * 5


def test_dataclass_round_trip_through_json():
    @dataclass(frozen=True)
    class Curve:
        n: np.ndarray
        value: np.ndarray
        replicates: np.ndarray
        valid: np.ndarray

    c = Curve(
        np.arange(3), np.array([0.5, np.nan, np.inf]), np.array([[1.0, np.nan, 2.0]]), np.array([True, False, True])
    )
    doc = dataclass_to_json(c)
    assert doc == {
        "n": [0, 1, 2],
        "value": [0.5, None, None],
        "replicates": [[1.0, None, 2.0]],
        "valid": [True, False, True],
    }
    back = Curve(
        array_from_json(doc["n"], np.int64),
        array_from_json(doc["value"]),
        array_from_json(doc["replicates"]),
        array_from_json(doc["valid"], bool),
    )
    np.testing.assert_array_equal(back.n, c.n)
    np.testing.assert_array_equal(back.value, [0.5, np.nan, np.nan])
    np.testing.assert_array_equal(back.replicates, [[1.0, np.nan, 2.0]])
    assert back.valid.dtype == bool and array_from_json(None) is None


def test_atomic_write_leaves_old_file_on_interrupt(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    path.write_text("old")

    def boom(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_atomic_file_has_the_umask_mode(tmp_path, umask_022):
    path = tmp_path / "sub" / "report.json"
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert _mode(path) == 0o644  # tempfile alone would leave 0600
    os.umask(0o077)
    atomic_write_text(path, "newer")
    assert _mode(path) == 0o600


def test_atomic_directory_has_the_umask_mode(tmp_path, umask_022):
    stream = TokenStream.from_array(np.array([1, 2, 3]), vocab_size=4)
    path = stream.save(tmp_path / "stream")
    assert _mode(path) == 0o755  # tempfile.mkdtemp alone would leave 0700
    assert {_mode(p) for p in path.iterdir()} == {0o644}
    assert [p.name for p in tmp_path.iterdir()] == ["stream"]


def test_replace_dir_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "out"
    target.mkdir()
    (target / "old").write_text("x")
    tmp = temporary_sibling_dir(target)
    (tmp / "new").write_text("y")
    with pytest.raises(FileExistsError, match="already exists"):
        replace_dir(tmp, target, overwrite=False)
    replace_dir(tmp, target, overwrite=True)
    assert [p.name for p in target.iterdir()] == ["new"]
