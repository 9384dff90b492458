"""A full disk, Ctrl-C or a killed process while a stream or the cache is written: nothing partial is trusted later.

Every case checks the next run: it neither trusts nor trips over the leftovers, tokenizes again, gets
the stream a clean run gets, and no temporary directory or part is left behind.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

import corpus_stats as cs
from corpus_stats._io import remove_stale_temporaries, temporary_sibling_dir
from corpus_stats.cli import cli
from corpus_stats.execution import SerialExecutor
from corpus_stats.stream import TokenStream
from corpus_stats.stream_writer import TokenStreamWriter


def _corpus(directory, n_files=6, seed=0):
    rng = np.random.default_rng(seed)
    directory.mkdir()
    for i in range(n_files):
        docs = [" ".join(map(str, rng.integers(0, 50, rng.integers(1, 400)))) for _ in range(20)]
        (directory / f"f{i}.txt").write_text("<|endoftext|>".join(docs))
    return str(directory)


class InProcessWorkers(SerialExecutor):
    """Runs the parallel tokenization's part tasks here, one after another (as Dask workers would)."""

    name = "dask"
    n_workers = 2


class _FailingFile:
    """A file whose writes stop after ``budget`` bytes with ``error`` (a disk that fills up, or Ctrl-C)."""

    def __init__(self, fh, budget, error):
        self.fh, self.budget, self.error = fh, budget, error

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self.budget:
            self.fh.write(data[: self.budget])  # part of the bytes reach the disk first
            self.fh.flush()
            raise self.error
        self.budget -= len(data)
        return self.fh.write(data)

    def __getattr__(self, name):
        return getattr(self.fh, name)


def _fail_writes(monkeypatch, error, where="any", budget=3000):
    """Make every TokenStreamWriter (``"part"``: only the workers' parts; ``"final"``: only the one stream)
    fail after ``budget`` bytes of tokens."""
    init = TokenStreamWriter.__init__

    def failing_init(self, path, *args, **kwargs):
        init(self, path, *args, **kwargs)
        is_part = self.path.name.startswith("part-")
        if where == "any" or (where == "part") == is_part:
            self._file = _FailingFile(self._file, budget, error)

    monkeypatch.setattr(TokenStreamWriter, "__init__", failing_init)


def _entries(cache_dir):
    streams = cache_dir / "streams"
    return sorted(p.name for p in streams.iterdir()) if streams.is_dir() else []


def _assert_next_run_rebuilds(inputs, cache_dir, reference, scheduler=None):
    again = cs.tokenize(inputs, "bytes", cache_dir=cache_dir, scheduler=scheduler)
    assert again.provenance["cache"]["hit"] is False  # nothing of the failed run was taken for a stream
    assert again.tokens.tobytes() == reference.tokens.tobytes()
    np.testing.assert_array_equal(again.doc_offsets, reference.doc_offsets)
    assert [e for e in _entries(cache_dir) if e.startswith(".")] == []  # no temporary directory, no part
    assert cs.tokenize(inputs, "bytes", cache_dir=cache_dir).provenance["cache"]["hit"] is True


FAILURES = {
    "disk-full": (OSError(errno.ENOSPC, "No space left on device"), OSError),
    "ctrl-c": (KeyboardInterrupt(), KeyboardInterrupt),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("where", ["single-process", "worker-part", "concatenation"])
def test_a_stream_write_that_fails_midway_leaves_nothing_and_the_next_run_rebuilds(
    tmp_path, monkeypatch, failure, where
):
    inputs = _corpus(tmp_path / "txt")
    reference = cs.tokenize(inputs, "bytes", use_cache=False)
    cache_dir = tmp_path / "cache"
    error, expected = FAILURES[failure]
    scheduler = None if where == "single-process" else InProcessWorkers()
    with monkeypatch.context() as m:
        _fail_writes(m, error, {"single-process": "any", "worker-part": "part", "concatenation": "final"}[where])
        with pytest.raises(expected) as raised:
            cs.tokenize(inputs, "bytes", cache_dir=cache_dir, scheduler=scheduler)
    if failure == "disk-full":
        assert raised.value.errno == errno.ENOSPC
        assert str(raised.value).startswith("no space left on the device while writing the token stream under")
        assert "--cache-dir" in str(raised.value)
    assert _entries(cache_dir) == []
    _assert_next_run_rebuilds(inputs, cache_dir, reference, scheduler)


def test_cli_reports_a_full_disk_in_one_line(tmp_path, monkeypatch):
    inputs = _corpus(tmp_path / "txt")
    _fail_writes(monkeypatch, OSError(errno.ENOSPC, "No space left on device"))
    args = ["tokenize", inputs, "-t", "bytes", "--quiet", "--cache-dir", str(tmp_path / "c")]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.startswith("Error: no space left on the device while writing the token stream under")
    assert len(res.output.strip().splitlines()) == 1


def test_a_save_interrupted_by_ctrl_c_leaves_no_directory(tmp_path, monkeypatch):
    stream = TokenStream.from_array(np.arange(100) % 7, vocab_size=7)
    save = np.save
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return save(*args, **kwargs)

    monkeypatch.setattr(np, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stream.save(tmp_path / "s")
    assert list(tmp_path.iterdir()) == []


_KILLED_WRITER = """
import sys, time
import corpus_stats as cs
from corpus_stats.stream_writer import TokenStreamWriter

append = TokenStreamWriter.append_documents

def append_then_hang(self, tokens, lengths):
    append(self, tokens, lengths)
    self._file.flush()
    open(sys.argv[3], "w").close()  # tell the test: tokens are on disk, kill me now
    time.sleep(600)

TokenStreamWriter.append_documents = append_then_hang
cs.tokenize(sys.argv[1], "bytes", cache_dir=sys.argv[2])
"""


def test_leftovers_of_a_killed_tokenization_are_never_trusted_and_are_removed(tmp_path):
    """SIGKILL runs no cleanup: the half-written temporary directory stays until the next run removes it."""
    inputs = _corpus(tmp_path / "txt")
    reference = cs.tokenize(inputs, "bytes", use_cache=False)
    cache_dir, ready = tmp_path / "cache", tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, inputs, str(cache_dir), str(ready)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.exists(), "the writer never started"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    (left,) = _entries(cache_dir)
    assert left.startswith(".") and f"-{child.pid}-" in left  # a temporary directory, named after its owner
    assert (cache_dir / "streams" / left / "tokens.npy").stat().st_size > 128  # half-written tokens
    _assert_next_run_rebuilds(inputs, cache_dir, reference)


def test_only_temporaries_of_exited_processes_on_this_host_are_removed(tmp_path):
    import socket

    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(done.stdout)
    host = socket.gethostname()
    names = {
        "dead": f".s.tmp-{host}-{dead}-abc",
        "other-host": f".s.tmp-elsewhere-{dead}-abc",
        "no-owner": ".s.tmp-abc",
        "dead-other-target": f".t.tmp-{host}-{dead}-abc",
        "finished": "s",
    }
    for name in names.values():
        (tmp_path / name).mkdir()
    live = temporary_sibling_dir(tmp_path / "s")  # ours: alive; creating it removed the dead one of "s"
    assert not (tmp_path / names["dead"]).exists() and live.exists()
    assert remove_stale_temporaries(tmp_path) == [tmp_path / names["dead-other-target"]]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [names["other-host"], names["no-owner"], names["finished"], live.name]
    )
    assert json.dumps(remove_stale_temporaries(tmp_path / "absent", "s"), default=str) == "[]"
