"""Files and JSON, one rule each: JSON-safe values, dataclass <-> JSON, atomic writes.

* JSON has no NaN or infinity: non-finite floats are written as ``null`` and read back as NaN.
* A file or directory is written next to its target under a temporary name, flushed to disk and
  renamed into place (``os.replace``), so readers see the old version or the new one, never half of
  one. The result gets the permissions the user's umask asks for, as if created directly
  (``tempfile`` alone would leave it private: 0600 files, 0700 directories). A temporary directory
  is named after the process that owns it, so one left by a killed process is removed later.

Depends on numpy and the standard library only, so every layer (the stream included) may use it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import numpy as np

# -- JSON values ----------------------------------------------------------------------------------


def json_safe(value: Any) -> Any:
    """Plain JSON values from numpy scalars/arrays, tuples and paths; NaN and ±inf become ``None``.

    >>> json_safe({"a": np.array([1.0, np.nan]), "b": (np.int64(2), float("inf"))})
    {'a': [1.0, None], 'b': [2, None]}
    """
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy array or scalar
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def finite_or_none(value: Any) -> float | None:
    """``float(value)`` when it is a finite number, else ``None`` (also for ``None`` and non-numbers)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def array_from_json(values: Any, dtype: Any = np.float64) -> np.ndarray | None:
    """Inverse of :func:`json_safe` for an array: nested lists with ``None`` -> array with NaN.

    ``None`` itself stays ``None`` (an optional array that was absent).
    """
    if values is None:
        return None
    if np.dtype(dtype).kind != "f":
        return np.asarray(values, dtype=dtype)
    arr = np.array(values, dtype=object)
    return np.where(np.equal(arr, None), np.nan, arr).astype(dtype)


def dataclass_to_json(obj: Any, exclude: tuple[str, ...] = ()) -> dict:
    """The fields of dataclass instance ``obj`` as a JSON-safe dict (arrays -> lists, NaN -> None)."""
    return {f.name: json_safe(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.name not in exclude}


# -- atomic writes --------------------------------------------------------------------------------


def _umask() -> int:
    """The process umask, read without changing it where the platform allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # no other way to read it: set and restore at once
    os.umask(mask)
    return mask


def _give_umask_mode(path: str | os.PathLike, directory: bool = False) -> None:
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open a temporary sibling of ``path`` for binary writing; on success it replaces ``path``.

    The data are flushed to disk before the rename; on any exception (Ctrl-C included) the temporary
    file is removed and ``path`` is left as it was. Missing parent directories are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _give_umask_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path) as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically (see :func:`atomic_open`)."""
    atomic_write_bytes(path, text.encode("utf-8"))


_TMP_MARK = ".tmp-"  # temporary directories: .<target>.tmp-<host>-<pid>-<random>


def temporary_sibling_dir(path: str | os.PathLike) -> Path:
    """A new empty directory beside ``path`` (same file system, so it can be renamed onto ``path``),
    with the umask's permissions. The caller fills it and calls :func:`replace_dir`.

    Its name says which process owns it (host and pid), so that the leftovers of a process killed
    before it could clean up (SIGKILL, power loss) are recognised and removed by the next writer of
    ``path`` (:func:`remove_stale_temporaries`). They are never mistaken for ``path`` itself.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    owner = f"{socket.gethostname()}-{os.getpid()}-"
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}{_TMP_MARK}{owner}", dir=path.parent))
    _give_umask_mode(tmp, directory=True)
    return tmp


def remove_stale_temporaries(directory: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary directories in ``directory`` (of target ``name``, or of any target) whose
    owner process on this host has exited; returns what was removed.

    A temporary directory of another host, or of a process still running, is left alone.
    """
    directory, removed = Path(directory), []
    prefix = "." if name is None else f".{name}{_TMP_MARK}"
    try:
        entries = [e for e in directory.iterdir() if e.name.startswith(prefix) and _TMP_MARK in e.name]
    except OSError:
        return removed
    host = socket.gethostname()
    for entry in entries:
        owner = entry.name.rsplit(_TMP_MARK, 1)[1].rsplit("-", 2)
        if len(owner) != 3 or owner[0] != host or not owner[1].isdigit() or _alive(int(owner[1])):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def replace_dir(tmp: str | os.PathLike, path: str | os.PathLike, overwrite: bool) -> None:
    """Rename the finished directory ``tmp`` onto ``path``; an existing ``path`` is removed first when
    ``overwrite`` (``FileExistsError`` otherwise, e.g. another writer finished first)."""
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
        shutil.rmtree(path)
    os.replace(tmp, path)
