"""Word sets and hierarchies: the built-in sets and the reading of ``--set FILE``.

A set is an ordered list of words, cyclic or not (months and weekdays wrap around; numbers and years
do not). A hierarchy is a tree of words given as JSON: nested lists (``[["dog", "cat"], ["oak",
"elm"]]``) or objects with named branches (``{"animals": ["dog", "cat"], "trees": ["oak", "elm"]}``).

Set files:

* ``.json``: a list of words (an ordered set), ``{"words": [...], "cyclic": true}``, or a tree;
* anything else: one word per line (blank lines and ``#`` comments skipped); a first comment line
  ``# cyclic`` makes the set cyclic.

Malformed files raise ``ValueError`` naming the file, the line and the reason.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

_MONTHS = "January February March April May June July August September October November December"
BUILTIN_SETS = {
    "months": (_MONTHS.split(), True),
    "weekdays": ("Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(), True),
    "numbers": ("one two three four five six seven eight nine ten".split(), False),
    "years": ([str(y) for y in range(1990, 2020)], False),
}
MIN_SET_SIZE = 3
_WORDS_KEY, _CYCLIC_KEY, _EMPTY = '"words"', '"cyclic"', '""'


@dataclass(frozen=True)
class WordSet:
    """An ordered word set, or the leaves of a tree (then ``tree`` holds the nested structure).

    Attributes
    ----------
    name : str
        Built-in name or file name.
    words : tuple of str
        The words in order (a tree's leaves depth first).
    cyclic : bool
        Whether the order wraps around (index gaps taken mod n).
    tree : list or None
        Nested lists of words (named branches become lists in file order), or None for a plain set.
    branch_names : dict
        Names of the named branches, keyed by their path of child indices (as a tuple).
    """

    name: str
    words: tuple
    cyclic: bool = False
    tree: list | None = None
    branch_names: dict | None = None


def builtin_set(name: str) -> WordSet:
    """A built-in set by name (``months``, ``weekdays``, ``numbers``, ``years``)."""
    if name not in BUILTIN_SETS:
        raise ValueError(f"unknown word set {name!r}: use one of {', '.join(BUILTIN_SETS)} or the path of a set file.")
    words, cyclic = BUILTIN_SETS[name]
    return WordSet(name, tuple(words), cyclic)


def resolve_set(spec: str, cyclic: bool | None = None) -> WordSet:
    """A built-in set name or the path of a set file; ``cyclic`` overrides the set's own setting."""
    path = Path(spec).expanduser()
    if spec in BUILTIN_SETS:
        ws = builtin_set(spec)
    elif path.is_file():
        ws = read_set_file(path)
    elif path.suffix or "/" in spec or "\\" in spec:
        raise FileNotFoundError(f"word-set file {spec!r} does not exist.")
    else:
        ws = builtin_set(spec)  # raises, naming the built-in sets
    if cyclic is not None and ws.tree is None:
        ws = WordSet(ws.name, ws.words, bool(cyclic))
    _check_words(ws, str(path) if path.is_file() else spec, None)
    return ws


def _line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text`` (1 if absent)."""
    at = text.find(needle)
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def _check_words(ws: WordSet, where: str, text: str | None) -> None:
    seen: set = set()
    for w in ws.words:
        if w in seen:
            line = f", line {_line_of(text, json.dumps(w))}" if text is not None else ""
            raise ValueError(f"{where}{line}: the word {w!r} appears twice; each word may appear once.")
        seen.add(w)
    if len(ws.words) < MIN_SET_SIZE:
        raise ValueError(
            f"{where}: a word set needs at least {MIN_SET_SIZE} words to have a shape; got {len(ws.words)} "
            f"({', '.join(ws.words) or 'none'})."
        )


def read_set_file(path) -> WordSet:
    """Read a word set or a tree from ``path`` (see the module docstring)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    if path.suffix.lower() != ".json":
        lines = text.splitlines()
        cyclic = bool(lines) and lines[0].strip().lstrip("#").strip().lower() == "cyclic"
        words = []
        for number, line in enumerate(lines, 1):
            word = line.split("#", 1)[0].strip()
            if not word:
                continue
            if any(c.isspace() for c in word):
                raise ValueError(f"{path}, line {number}: one word per line; got {word!r}.")
            words.append(word)
        ws = WordSet(path.name, tuple(words), cyclic)
        _check_words(ws, str(path), None)
        return ws
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg}).") from None
    if isinstance(data, dict) and "words" in data:
        words, cyclic = data["words"], data.get("cyclic", False)
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            raise ValueError(f"{path}, line {_line_of(text, _WORDS_KEY)}: 'words' must be a list of non-empty strings.")
        if not isinstance(cyclic, bool):
            raise ValueError(f"{path}, line {_line_of(text, _CYCLIC_KEY)}: 'cyclic' must be true or false.")
        ws = WordSet(path.name, tuple(words), cyclic)
    elif isinstance(data, list) and all(isinstance(w, str) for w in data):
        ws = WordSet(path.name, tuple(data), False)
    elif isinstance(data, (list, dict)):
        names: dict = {}
        tree = _parse_tree(data, path, text, (), names)
        ws = WordSet(path.name, tuple(_leaves(tree)), False, tree, names)
    else:
        raise ValueError(f"{path}, line 1: expected a list of words, {{'words': [...]}} or a tree; got {data!r}.")
    _check_words(ws, str(path), text)
    return ws


def _parse_tree(node, path, text, at: tuple, names: dict, key: str | None = None):
    """Validate a JSON tree node (``key``: its name in the parent object); nested lists with word leaves."""
    if isinstance(node, str):
        if not node.strip():
            raise ValueError(f"{path}, line {_line_of(text, _EMPTY)}: empty word in the tree.")
        return node
    if isinstance(node, dict):
        for i, name in enumerate(node):
            names[at + (i,)] = name
        keys, items = list(node), list(node.values())
    elif isinstance(node, list):
        keys, items = [None] * len(node), node
    else:
        raise ValueError(
            f"{path}, line {_line_of(text, json.dumps(node))}: a tree node must be a word, a list or an object; "
            f"got {node!r}."
        )
    if not items:
        if key is not None:
            line = _line_of(text, json.dumps(key))
        else:
            empty = re.search(r"\[\s*\]|\{\s*\}", text)
            line = text.count("\n", 0, empty.start()) + 1 if empty else 1
        raise ValueError(f"{path}, line {line}: empty branch in the tree.")
    return [_parse_tree(c, path, text, at + (i,), names, k) for i, (k, c) in enumerate(zip(keys, items))]


def _leaves(tree) -> list:
    if isinstance(tree, str):
        return [tree]
    return [w for child in tree for w in _leaves(child)]


def internal_nodes(tree) -> list[tuple[tuple, int, list]]:
    """Branching nodes breadth first: (path of child indices, depth, leaves of each child).

    A node whose children are all words is a leaf group (its words are exchangeable): not a split.
    """
    out, queue = [], [((), tree)]
    while queue:
        at, node = queue.pop(0)
        if isinstance(node, str) or all(isinstance(child, str) for child in node):
            continue
        if len(node) >= 2:
            out.append((at, len(at), [_leaves(child) for child in node]))
        queue.extend((at + (i,), child) for i, child in enumerate(node))
    return out
