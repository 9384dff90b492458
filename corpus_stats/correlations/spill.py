"""Arrays that C(t) counted in ranges sets aside in a temporary file instead of counting them again (private).

Counted in several left-token ranges, C(t) holds one range's working set at a time. Two things would
otherwise be made again and again: a range's positions grouped by token (they do not depend on the
lag: gathering them means scanning the whole stream, once per range and count) and a lag's shard
entries (the jackknife and the halves read them after every range has been counted: making them means
counting every range a second time). Both are written to an unnamed temporary file in the temporary
directory (``TMPDIR``) and read back into the range's working set, which costs a fraction of making
them. Where the file cannot be written (no room, no temporary directory, a full disk) they are made
again each time: same counts, slower.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref

import numpy as np

#: Free space a spill file leaves in the temporary directory for everything else.
SPARE_BYTES = 1 << 28


class SpillFile:
    """Arrays stored by key in one unnamed temporary file (gone when closed or when the process
    ends: nothing is ever read back by a later run)."""

    def __init__(self, reserve: int = 0):
        """Raise OSError when the temporary directory lacks ``reserve`` free bytes (with a margin)."""
        self._directory = tempfile.gettempdir()
        self._check_room(reserve)
        self._file = tempfile.TemporaryFile(dir=self._directory)
        self.close = weakref.finalize(self, self._file.close)  # closed when dropped, or by close()
        self._where: dict = {}
        self._end = 0

    def _check_room(self, n_bytes: int) -> None:
        if shutil.disk_usage(self._directory).free < 1.1 * n_bytes + SPARE_BYTES:
            raise OSError(f"{self._directory} lacks {n_bytes:,} free bytes for the arrays set aside")

    def put(self, key, *arrays: np.ndarray) -> None:
        """Append ``arrays`` under ``key`` (raises OSError when the disk is, or would be, full)."""
        self._check_room(sum(a.nbytes for a in arrays))
        places = []
        for a in arrays:
            _transfer(os.pwrite, self._file.fileno(), a, self._end)
            places.append((self._end, a.nbytes))
            self._end += a.nbytes
        self._where[key] = places

    def keep(self, key, *arrays: np.ndarray) -> bool:
        """:meth:`put`; False, with the file closed, when it cannot take them (the caller makes them again)."""
        try:
            self.put(key, *arrays)
            return True
        except OSError:
            self.close()
            return False

    def get(self, key, *out: np.ndarray) -> None:
        """Read the arrays stored under ``key`` into ``out`` (same sizes)."""
        for (offset, n_bytes), a in zip(self._where[key], out, strict=True):
            if a.nbytes != n_bytes:
                raise ValueError(f"stored array {key!r} holds {n_bytes} bytes, the buffer {a.nbytes}")
            _transfer(_pread_into, self._file.fileno(), a, offset)


def open_spill_file(reserve: int = 0) -> SpillFile | None:
    """A new :class:`SpillFile`; None where the temporary directory cannot take one (``reserve`` bytes)."""
    try:
        return SpillFile(reserve)
    except OSError:
        return None


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
