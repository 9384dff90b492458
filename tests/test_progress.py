"""Progress bars: tqdm on stderr, silent unless enabled; the CLI enables them only on a terminal or --progress."""

import json

from click.testing import CliRunner

from corpus_stats.cli import cli
from corpus_stats.progress import Progress, track


def test_progress_is_silent_unless_enabled(capsys):
    with Progress("counting", total=3) as bar:
        bar.update(note="t=1")
    assert list(track(range(3), "items")) == [0, 1, 2]
    assert capsys.readouterr() == ("", "")


def test_progress_draws_label_steps_and_note_on_stderr(capsys):
    with Progress("counting", total=4, enabled=True) as bar:
        bar.update(3, note="t=16")
    assert bar.done == 3
    assert list(track([5, 6], "items", enabled=True)) == [5, 6]
    out, err = capsys.readouterr()
    assert out == ""
    assert "counting" in err and "3/4" in err and "t=16" in err and "items" in err and "2/2" in err


def test_cli_stderr_quiet_when_not_a_terminal_unless_progress(tmp_path):
    corpus = tmp_path / "notes.txt"
    corpus.write_text("a few words of text\n" * 200)
    args = ["tokenize", str(corpus), "-t", "bytes", "--no-cache", "--json"]
    quiet = CliRunner().invoke(cli, args)  # CliRunner's stderr is not a terminal
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stderr == ""
    assert json.loads(quiet.stdout)["n_tokens"] > 0
    loud = CliRunner().invoke(cli, [*args, "--progress"])
    assert loud.exit_code == 0, loud.output
    assert "tokenize" in loud.stderr and "100%" in loud.stderr
    assert json.loads(loud.stdout)["n_tokens"] == json.loads(quiet.stdout)["n_tokens"]  # stdout: one JSON document
