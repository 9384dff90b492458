"""``hf:NAME[:CONFIG]`` inputs: Hugging Face datasets, streamed from the Hub or read from the local cache.

Before any download a quick TCP connection asks whether the Hub is reachable (:func:`hub_reachable`,
also used by the tokenizers and the language models), so an offline machine fails in one line that
names the fix.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

from corpus_stats.text.inputs import Source
from corpus_stats.text.records import iter_records, load_datasets


def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub answers a TCP connection within ``timeout`` seconds."""
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("HF_DATASETS_OFFLINE")):
        return False
    host = os.environ.get("HF_ENDPOINT", "https://huggingface.co").split("://")[-1].split("/")[0]
    try:
        with socket.create_connection((host.split(":")[0], 443), timeout=timeout):
            return True
    except OSError:
        return False


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _load_hf(src: Source, opt: dict):
    """The dataset of an ``hf:`` source: streamed from the Hub, or its local copy when offline."""
    name, config = src.name[3:].partition(":")[0], src.compression
    offline = _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("HF_DATASETS_OFFLINE"))
    if not offline and not hub_reachable():
        raise ValueError(
            f"{src.name} needs the Hugging Face Hub, which is unreachable from here; run on a "
            "networked machine, set HF_HUB_OFFLINE=1 to use a copy already in the local "
            "datasets cache, or download the files and pass their paths."
        )
    datasets = load_datasets()
    if offline:  # honour the variables even when datasets was imported before they were set
        datasets.config.HF_HUB_OFFLINE = True
    try:
        # offline: only a fully cached (non-streaming, memory-mapped) copy can be used
        return datasets.load_dataset(name, config, split=opt["split"], streaming=not offline)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        where = "is not in the local datasets cache (offline mode)" if offline else "could not be loaded"
        raise ValueError(f"{src.name} {where}: {reason}") from None


def hf_shard_count(src: Source, opt: dict, wanted: int) -> int:
    """How many contiguous shards an ``hf:`` source is read in: a streamed dataset's own shards (its
    data files), or ``wanted`` pieces of a local (offline) copy."""
    ds = _load_hf(src, opt)
    shards = getattr(ds, "num_shards", None)
    return max(1, int(shards) if shards is not None else min(wanted, len(ds)))


def read_hf(src: Source, opt: dict, shard: tuple[int, int] | None = None) -> Iterator[str]:
    """Documents of an ``hf:`` source, or of its contiguous shard ``shard = (index, count)``."""
    ds = _load_hf(src, opt)
    name = src.name
    if shard is not None:
        index, count = shard
        ds = ds.shard(num_shards=count, index=index, contiguous=True)
        name = f"{src.name} (shard {index + 1} of {count})"
    yield from iter_records(ds, opt["text_field"], name)
