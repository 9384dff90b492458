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


@pytest.fixture(autouse=True, scope="session")
def _private_stream_cache(tmp_path_factory):
    """Keep tokenized-stream caches of the test run out of the user's ~/.cache."""
    import os

    old = os.environ.get("CORPUS_STATS_CACHE")
    os.environ["CORPUS_STATS_CACHE"] = str(tmp_path_factory.mktemp("corpus-stats-cache"))
    yield
    if old is None:
        os.environ.pop("CORPUS_STATS_CACHE", None)
    else:
        os.environ["CORPUS_STATS_CACHE"] = old
