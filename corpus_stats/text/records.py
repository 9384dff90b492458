"""Record inputs: JSON lines, JSON arrays, parquet and arrow files, one document per record's text field.

Every error names the file and the record (line) and, for a missing field, the fields there are.
``hf:`` datasets (:mod:`~corpus_stats.text.hub`) share the record rules.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

from corpus_stats.text.inputs import Source, decode


def read_records(src: Source, opt: dict) -> Iterator[str]:
    """Documents of a record file (``src.kind`` jsonl, json, parquet or arrow) read with ``opt``."""
    if src.kind == "jsonl" or (src.kind == "json" and not _is_json_array(src)):
        return _iter_jsonl(src, opt)
    return _iter_dataset_file(src, opt)


def _is_json_array(src: Source) -> bool:
    for chunk in decode(src, "utf-8", "replace"):
        stripped = chunk.lstrip()
        if stripped:
            return stripped.startswith("[")
    return False


def _iter_jsonl(src: Source, opt: dict) -> Iterator[str]:
    field_name = opt["text_field"]
    parts: list[str] = []
    lineno = 0
    for chunk in itertools.chain(decode(src, opt["encoding"], opt["errors"]), ["\n"]):
        parts.append(chunk)
        if "\n" not in chunk:
            continue  # a long line: wait for its end without re-splitting
        *complete, rest = "".join(parts).split("\n")
        parts = [rest]
        for line in complete:
            lineno += 1
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                # some messages end in "at" already ("Unterminated string starting at")
                raise ValueError(
                    f"{src.name} line {lineno} is not valid JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})."
                ) from None
            yield _text_of(record, field_name, f"{src.name} line {lineno}")


class _RecordError(ValueError):
    """A record without usable text; the message already names the file and the record."""


def _text_of(record, field_name: str, where: str) -> str:
    if not isinstance(record, dict):
        raise _RecordError(f"{where} is a JSON {type(record).__name__}, not an object with a {field_name!r} field.")
    if field_name not in record:
        fields = ", ".join(map(str, record)) or "none"
        raise _RecordError(f"{where} has no field {field_name!r}; its fields are: {fields} (use --text-field).")
    value = record[field_name]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _RecordError(f"{where}: field {field_name!r} must hold text; got {type(value).__name__}.")
    return value


def load_datasets():
    """The ``datasets`` package, quiet (no progress bars, errors only)."""
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets


def _iter_dataset_file(src: Source, opt: dict) -> Iterator[str]:
    builder = {"json": "json", "parquet": "parquet", "arrow": "arrow"}[src.kind]
    try:
        ds = load_datasets().load_dataset(builder, data_files=src.path, split="train", streaming=True)
        yield from iter_records(ds, opt["text_field"], src.name)
    except _RecordError:
        raise
    except Exception as exc:  # pyarrow / datasets errors carry the reason, not the file's name
        raise ValueError(f"cannot read {src.name} as {src.kind}: {str(exc).splitlines()[0][:300]}") from None


def iter_records(ds, field_name: str, name: str) -> Iterator[str]:
    """The text field of every record of a ``datasets`` dataset; a record without it names itself."""
    features = getattr(ds, "features", None)
    if features is not None and field_name not in features:
        raise _RecordError(
            f"{name} has no field {field_name!r}; its fields are: {', '.join(features)} (use --text-field)."
        )
    for i, record in enumerate(ds):
        yield _text_of(record, field_name, f"{name} record {i}")
