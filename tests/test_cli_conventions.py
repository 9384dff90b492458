"""Conventions every command shares: exit statuses, help texts, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_stats.cli import EXIT_INTERRUPTED, EXIT_USER_ERROR, cli

ROOT = Path(__file__).resolve().parents[1]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.mark.parametrize(
    "args",
    [
        ["measure", "--shards", "0", "x.txt"],  # click's range check (click alone would exit 2)
        ["measure"],  # missing argument
        ["plot", "--no-such-option", "r.json"],  # unknown option
        ["nosuchcommand"],
        ["measure", "--lags", "1,x", "x.txt"],  # our own check
    ],
)
def test_every_bad_argument_exits_1_with_one_error_line(args, tmp_path):
    res = invoke(*args)
    assert res.exit_code == EXIT_USER_ERROR == 1, res.output
    assert res.output.strip().splitlines()[-1].startswith("Error: ") and "Traceback" not in res.output


def test_help_states_the_exit_statuses_and_bare_command_shows_help():
    res = invoke("--help")
    assert res.exit_code == 0 and "Exit status: 0 success; 1 a user error" in res.output
    assert "130 interrupted" in res.output
    bare = invoke()
    assert bare.exit_code == 0 and "Commands:" in bare.output


def test_help_texts_describe_seed_cache_dir_and_collapse():
    measure = " ".join(invoke("measure", "--help").output.split())
    assert "--seed INTEGER RANGE Seed of every random choice" in measure
    assert "$CORPUS_STATS_CACHE, else $XDG_CACHE_HOME/corpus-stats, else ~/.cache/corpus-stats" in measure
    assert "with the collapse score; implies --plot" in measure
    plot = " ".join(invoke("plot", "--help").output.split())
    assert "--collapse TABLE.csv" in plot and "implies --plot" not in plot and "on measure" not in plot
    for command in ("synth", "demo"):
        text = " ".join(invoke(command, "--help").output.split())
        assert "--seed INTEGER RANGE Seed of" in text, command


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT, a POSIX signal")
def test_ctrl_c_exits_130_in_one_line():
    # `tokenize -` waits on a stdin that stays open; SIGINT is what Ctrl-C sends to the foreground process
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    start = "import sys; from corpus_stats.cli import main; print('ready', file=sys.stderr, flush=True); main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", start, "tokenize", "-", "-t", "bytes", "--no-cache", "--quiet"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        proc.stdin.write(b"some text, never finished")
        proc.stdin.flush()
        assert proc.stderr.readline() == b"ready\n"  # the CLI is imported: Ctrl-C now reaches it
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == EXIT_INTERRUPTED == 130, err
    assert err.decode().strip().splitlines()[-1] == "Interrupted." and b"Traceback" not in err
