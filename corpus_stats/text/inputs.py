"""One input (:class:`Source`) and its text: bytes read in chunks, decompressed and decoded on the fly.

Shared by the readers of every input kind (plain text in :mod:`~corpus_stats.text.sources`, records
in :mod:`~corpus_stats.text.records`), so a file larger than memory is never read whole.
"""

from __future__ import annotations

import bz2
import codecs
import gzip
import itertools
import lzma
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK_BYTES = 1 << 22  # 4 MiB of bytes per read


@dataclass(frozen=True)
class Source:
    """One input: a file, ``<stdin>`` (spooled to a temporary file), a dataset, or in-memory texts."""

    name: str
    kind: str  # text | jsonl | json | parquet | arrow | hf | memory
    path: str | None = None
    compression: str | None = None
    size: int | None = None
    sha256: str | None = None

    def to_dict(self) -> dict:
        """JSON-safe description for provenance."""
        return {
            "name": self.name,
            "kind": self.kind,
            "compression": self.compression,
            "size": self.size,
            "sha256": self.sha256,
        }


def _open_binary(src: Source):
    if src.compression == "zstd":
        try:
            import zstandard
        except ImportError:
            raise ValueError(
                f"{src.name} is zstd-compressed; install the 'zstandard' package "
                "(pip install 'corpus-stats[zstd]') or decompress it first."
            ) from None
        return zstandard.ZstdDecompressor().stream_reader(open(src.path, "rb"), closefd=True)
    opener = {"gzip": gzip.open, "xz": lzma.open, "bz2": bz2.open}.get(src.compression, open)
    return opener(src.path, "rb")


def read_chunks(src: Source) -> Iterator[bytes]:
    """The input's bytes, decompressed, ``CHUNK_BYTES`` at a time; unreadable data is a ValueError naming it."""
    try:
        with _open_binary(src) as fh:
            while chunk := fh.read(CHUNK_BYTES):
                yield chunk
    except (OSError, EOFError, lzma.LZMAError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"cannot read {src.name} as {src.compression or 'plain'} data: {exc}.") from None
    except Exception as exc:  # zstandard.ZstdError and friends
        if type(exc).__module__.startswith("zstandard"):
            raise ValueError(f"cannot read {src.name} as zstd data: {exc}.") from None
        raise


def check_not_binary(src: Source, encoding: str) -> None:
    """Refuse a text input whose first bytes hold a NUL (binary), unless the encoding is UTF-16/32."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return  # NUL bytes are normal there
    head = next(read_chunks(src), b"")[:8192]
    nul = head.find(b"\x00")
    if nul >= 0:
        raise ValueError(
            f"{src.name} looks binary (NUL byte at byte offset {nul}); "
            "corpus text files must be text (use --encoding if it is UTF-16/32)."
        )


def decode(src: Source, encoding: str, errors: str) -> Iterator[str]:
    """The input's text, decoded incrementally; a decoding error names the byte offset and the fix."""
    decoder = codecs.getincrementaldecoder(encoding)(errors)
    offset = 0
    for raw in itertools.chain(read_chunks(src), [None]):
        pending = len(getattr(decoder, "buffer", b"") or b"")
        try:
            text = decoder.decode(b"", final=True) if raw is None else decoder.decode(raw)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{src.name} is not valid {encoding} at byte offset {offset - pending + exc.start} "
                f"({exc.reason}); pass --encoding to change it or --errors replace to read it anyway."
            ) from None
        if raw is not None:
            offset += len(raw)
        if text:
            yield text
