"""Grouped positions of each left-token range, kept in a temporary file between lags (private).

Counted in several ranges, C(t) needs a range's positions grouped by token at every lag, twice (the
counts, then the shard entries): gathering them means scanning the whole stream once per range and
pass. They do not depend on the lag, so they are gathered once, written to an unnamed temporary file
in the temporary directory (``TMPDIR``; 4 bytes per token, 8 within documents) and read back into
the range's working set, which costs a fraction of a scan. Where the file cannot be written (no
room, no temporary directory) the positions are gathered again each time: same counts, slower.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref

import numpy as np


class PositionCache:
    """Arrays stored by key in one unnamed temporary file (gone when closed or when the process
    ends: nothing is ever read back by a later run)."""

    def __init__(self, n_bytes: int):
        """Raise OSError when the temporary directory lacks ``n_bytes`` free (with a margin)."""
        directory = tempfile.gettempdir()
        if shutil.disk_usage(directory).free < 1.1 * n_bytes + (1 << 28):
            raise OSError(f"{directory} lacks {n_bytes:,} free bytes for the grouped positions")
        self._file = tempfile.TemporaryFile(dir=directory)
        self.close = weakref.finalize(self, self._file.close)  # closed when dropped, or by close()
        self._where: dict = {}
        self._end = 0

    def put(self, key, *arrays: np.ndarray) -> None:
        """Append ``arrays`` under ``key`` (raises OSError, e.g. when the disk is full)."""
        places = []
        for a in arrays:
            _transfer(os.pwrite, self._file.fileno(), a, self._end)
            places.append((self._end, a.nbytes))
            self._end += a.nbytes
        self._where[key] = places

    def get(self, key, *out: np.ndarray) -> None:
        """Read the arrays stored under ``key`` into ``out`` (same sizes)."""
        for (offset, n_bytes), a in zip(self._where[key], out, strict=True):
            if a.nbytes != n_bytes:
                raise ValueError(f"cached array {key!r} holds {n_bytes} bytes, the buffer {a.nbytes}")
            _transfer(_pread_into, self._file.fileno(), a, offset)


def _pread_into(fd: int, view: memoryview, offset: int) -> int:
    return os.preadv(fd, [view], offset)


def _transfer(call, fd: int, a: np.ndarray, offset: int) -> None:
    """``call(fd, view, offset)`` until every byte of ``a`` moved (one system call moves < 2 GiB)."""
    view = memoryview(np.ascontiguousarray(a)).cast("B")
    done = 0
    while done < view.nbytes:
        moved = call(fd, view[done:], offset + done)
        if moved <= 0:
            raise OSError(f"temporary file transfer stopped at byte {done:,} of {view.nbytes:,}")
        done += moved
