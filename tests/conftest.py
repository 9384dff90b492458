"""Shared fixtures: where ../shared lives, and skipping with a stated reason when it is absent."""

from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
TOKENIZERS = SHARED / "tokenizers"
PAPER_TOKENIZER = TOKENIZERS / "tinystories-bpe8192" / "tokenizer.json"


def shared_file(relative: str) -> Path:
    """Path of a file under ../shared, or skip the test saying which file is missing."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/{relative} (reference corpora/tokenizers), which is absent")
    return path
