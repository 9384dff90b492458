"""Every code block of README.md and docs/**/*.md runs, so the examples cannot drift from the code.

Convention (also stated in docs/contributing.md):

* ```python blocks run in order within one page, in one namespace;
* ```bash blocks run line by line with bash (``\\`` continues a line; ``#`` lines are comments);
* both in a fresh temporary directory per page, with a private token cache, the project's code first on
  ``PYTHONPATH`` and ``corpus-stats`` / ``python`` meaning this interpreter;
* the line ``<!-- skip: reason -->`` right before a block skips it (a skip without a reason fails);
* ```text blocks (output shown) and the other data languages below are not run; any other language fails,
  so a typo such as ```py cannot silently turn an example off.

A page whose examples take more than a few seconds says ``<!-- docs-test: slow -->`` once, anywhere in the
page, and runs under ``-m slow``; the README may not (its examples run in the default test run). A page
whose examples need an optional extra says ``<!-- docs-test: requires MODULE -->`` and is skipped, with that
reason, where MODULE is not installed (CI installs the extras, so it runs there).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUN = {"python", "bash"}
NOT_RUN = {"text", "json", "yaml", "toml", "csv"}
SKIP = re.compile(r"^<!--\s*skip\b(?P<rest>.*?)-->\s*$")
SKIP_WITH_REASON = re.compile(r"^:\s*\S")
SLOW_PAGE = "<!-- docs-test: slow -->"
REQUIRES = re.compile(r"<!--\s*docs-test:\s*requires\s+(?P<module>[\w.]+)\s*-->")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>```+)(?P<lang>[^`\s]*)\s*$")
LINE_TIMEOUT_S = 900


@dataclass(frozen=True)
class Block:
    """One fenced code block: its language, code, first line number and skip reason (None = run it)."""

    lang: str
    code: str
    line: int
    skip: str | None


def parse_blocks(text: str, name: str = "<page>") -> list[Block]:
    """Fenced blocks of a Markdown page, with the skip marker that precedes each.

    Raises
    ------
    ValueError
        On a skip marker without a reason, a skip marker not followed by a block, an unclosed fence or a
        block in a language that is neither run nor listed as not run.
    """
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: tuple[str, int] | None = None  # (reason, line) of a skip marker waiting for its block
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        marker = SKIP.match(stripped)
        fence = FENCE.match(lines[i])
        if marker:
            rest = marker.group("rest")
            if not SKIP_WITH_REASON.match(rest):
                raise ValueError(f"{name}:{i + 1}: a skip needs a reason: write <!-- skip: why it cannot run -->")
            pending = (rest.lstrip()[1:].strip(), i + 1)
        elif fence:
            lang, start = fence.group("lang").lower(), i + 1
            close = re.compile(rf"^ {{0,3}}{fence.group('fence')}`*\s*$")
            i += 1
            body = []
            while i < len(lines) and not close.match(lines[i]):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"{name}:{start}: code block never closed")
            if lang not in RUN | NOT_RUN:
                raise ValueError(
                    f"{name}:{start}: code block language {lang or '(none)'!r} is neither run "
                    f"({', '.join(sorted(RUN))}) nor shown as output ({', '.join(sorted(NOT_RUN))})"
                )
            code = textwrap.dedent("\n".join(body)) + "\n"
            blocks.append(Block(lang, code, start, pending[0] if pending else None))
            pending = None
        elif stripped and pending:
            raise ValueError(f"{name}:{pending[1]}: a skip marker must come right before a code block")
        i += 1
    if pending:
        raise ValueError(f"{name}:{pending[1]}: a skip marker must come right before a code block")
    return blocks


def bash_commands(code: str) -> list[str]:
    """The commands of a bash block: one per line, ``\\`` joining lines, blank and ``#`` lines dropped."""
    commands, current = [], ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip() and not current.lstrip().startswith("#"):
            commands.append(current.strip())
        current = ""
    if current.strip():
        commands.append(current.strip())
    return commands


def pages() -> list[Path]:
    """README.md and every Markdown page of the documentation site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _page_params():
    params = []
    for page in pages():
        slow = SLOW_PAGE in page.read_text(encoding="utf-8")
        marks = [pytest.mark.slow] if slow else []
        params.append(pytest.param(page, id=str(page.relative_to(ROOT)), marks=marks))
    return params


def _environment(tmp: Path) -> dict[str, str]:
    """Environment of a page's commands: this interpreter and this checkout's code, a private cache."""
    bin_dir = tmp / ".bin"
    bin_dir.mkdir()
    commands = {"corpus-stats": f'"{sys.executable}" -m corpus_stats', "python": f'"{sys.executable}"'}
    for name, command in commands.items():
        script = bin_dir / name
        script.write_text(f'#!/usr/bin/env bash\nexec {command} "$@"\n')
        script.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["CORPUS_STATS_CACHE"] = str(tmp / ".cache")
    env["MPLBACKEND"] = "Agg"
    return env


def _run_bash(command: str, cwd: Path, env: dict[str, str], where: str) -> None:
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=LINE_TIMEOUT_S,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{where}: `{command}` exited {result.returncode}\n--- stdout\n{result.stdout[-3000:]}"
            f"\n--- stderr\n{result.stderr[-3000:]}",
            pytrace=False,
        )


@pytest.mark.parametrize("page", _page_params())
def test_code_blocks_run(page, tmp_path, monkeypatch):
    name = str(page.relative_to(ROOT))
    for match in REQUIRES.finditer(page.read_text(encoding="utf-8")):
        pytest.importorskip(match["module"], reason=f"{name} needs {match['module']} (an optional extra)")
    blocks = parse_blocks(page.read_text(encoding="utf-8"), name)
    if page.name == "README.md":
        assert SLOW_PAGE not in page.read_text(encoding="utf-8"), "README examples must run in the default run"
    env = _environment(tmp_path)
    monkeypatch.chdir(tmp_path)
    for key in ("CORPUS_STATS_CACHE", "MPLBACKEND"):
        monkeypatch.setenv(key, env[key])
    namespace: dict = {"__name__": f"docs:{name}"}
    for block in blocks:
        if block.skip is not None or block.lang not in RUN:
            continue
        where = f"{name}:{block.line}"
        if block.lang == "bash":
            for command in bash_commands(block.code):
                _run_bash(command, tmp_path, env, where)
        else:
            exec(compile(block.code, where, "exec"), namespace)  # noqa: S102 - running the docs is the point
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


# --- the collector itself -------------------------------------------------------------------------------------


def test_parse_blocks_languages_order_and_skips():
    page = (
        "text\n```python\nx = 1\n```\n<!-- skip: needs a GPU -->\n```bash\nnvidia-smi\n```\n"
        "```text\noutput\n```\n  ```bash\n  echo a \\\n    b\n  # comment\n\n  echo c\n  ```\n"
    )
    blocks = parse_blocks(page)
    assert [(b.lang, b.line, b.skip) for b in blocks] == [
        ("python", 2, None),
        ("bash", 6, "needs a GPU"),
        ("text", 9, None),
        ("bash", 12, None),
    ]
    assert bash_commands(blocks[3].code) == ["echo a    b", "echo c"]


@pytest.mark.parametrize(
    "page, message",
    [
        ("<!-- skip -->\n```bash\nls\n```\n", "needs a reason"),
        ("<!-- skip:   -->\n```bash\nls\n```\n", "needs a reason"),
        ("<!-- skip: why -->\nprose\n```bash\nls\n```\n", "right before a code block"),
        ("<!-- skip: why -->\n", "right before a code block"),
        ("```py\nx = 1\n```\n", "neither run"),
        ("```\nx = 1\n```\n", "neither run"),
        ("```python\nx = 1\n", "never closed"),
    ],
)
def test_parse_blocks_rejects_bad_markers_and_languages(page, message):
    with pytest.raises(ValueError, match=message):
        parse_blocks(page)


def test_failing_bash_line_fails_the_page(tmp_path):
    env = _environment(tmp_path)
    with pytest.raises(pytest.fail.Exception, match="exited 3"):
        _run_bash("exit 3", tmp_path, env, "page.md:1")
    _run_bash("corpus-stats --version | grep -q corpus-stats", tmp_path, env, "page.md:1")
