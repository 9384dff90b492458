"""Where partitions run: in this process (:class:`SerialExecutor`) or on a Dask cluster (:class:`DaskExecutor`).

An executor maps a module-level task function over a list of argument tuples and returns the results
in the order given; the caller merges them in that order, so results never depend on where or in which
order the tasks ran. Tasks receive the stream as a :class:`StreamRef`: the stream itself in process,
or the path of a saved stream that every Dask worker reads (memory-mapped) from a filesystem they all
see. ``distributed`` is imported only when a Dask scheduler is asked for.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from corpus_stats.stream import TokenStream

CONNECT_TIMEOUT_S = 8  # an unreachable scheduler is reported after this long
WORKER_START_TIMEOUT_S = 600  # a LocalCluster's worker processes must have started by then
_LOADED: dict[str, TokenStream] = {}  # per worker process: the stream last loaded from a path


@dataclass(frozen=True)
class StreamRef:
    """What a task gets to find the stream: the stream itself (in process) or a saved stream's path."""

    stream: TokenStream | None = None
    path: str | None = None

    def get(self) -> TokenStream:
        """The stream; loaded memory-mapped once per process from ``path``."""
        if self.stream is not None:
            return self.stream
        if self.path not in _LOADED:
            _LOADED.clear()  # one stream at a time per worker
            _LOADED[self.path] = _load_on_worker(self.path)
        return _LOADED[self.path]


def _load_on_worker(path: str) -> TokenStream:
    try:
        return TokenStream.load(path, mmap=True)
    except (FileNotFoundError, OSError) as exc:
        raise FileNotFoundError(
            f"worker on {socket.gethostname()} cannot read the token stream at {path} ({exc}); every "
            "Dask worker must see the saved stream at the same path (a shared filesystem)."
        ) from None


def _check_readable(path: str) -> str:
    """Run on every worker before any counting: the stream must load there."""
    _load_on_worker(path)
    return socket.gethostname()


def saved_path(stream: TokenStream) -> str | None:
    """Directory of the saved stream behind a memory-mapped ``stream.tokens``, or None."""
    filename = getattr(stream.tokens, "filename", None)
    return None if filename is None else str(Path(filename).parent)


class SerialExecutor:
    """Run every task here, one after another (each task may still use numba's threads)."""

    name = "serial"
    n_workers = 1

    def stream_ref(self, stream: TokenStream) -> StreamRef:
        return StreamRef(stream=stream)

    def map(self, func: Callable, jobs: Sequence[tuple]) -> list:
        return [func(*job) for job in jobs]

    def run_everywhere(self, func: Callable, *args) -> list:
        """``func(*args)`` once per worker (here: once), e.g. a check before any work."""
        return [func(*args)]

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"scheduler": "serial", "n_workers": 1}


class DaskExecutor:
    """Run tasks on a ``dask.distributed`` cluster; workers read the stream from a shared path.

    Parameters
    ----------
    client : distributed.Client
    owns_cluster : bool
        Close the client (and its LocalCluster) on :meth:`close`.
    local : bool
        The workers run on this machine, so an in-memory stream may be saved to a temporary
        directory for them; on a remote cluster the stream must already be a saved one on a shared path.
    """

    name = "dask"

    def __init__(self, client: Any, owns_cluster: bool = False, local: bool = False) -> None:
        self.client, self.owns_cluster, self.local = client, owns_cluster, local
        self._tmp: str | None = None
        self._checked: set[str] = set()

    @property
    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def stream_ref(self, stream: TokenStream) -> StreamRef:
        path = saved_path(stream)
        if path is None:
            if not self.local:
                raise ValueError(
                    "a remote Dask cluster reads the token stream from a path every worker can see: save it "
                    "first (TokenStream.save or corpus-stats tokenize -o) on a shared filesystem and measure that "
                    "directory."
                )
            self._tmp = tempfile.mkdtemp(prefix="corpus-stats-stream-")
            path = str(stream.save(Path(self._tmp) / "stream"))
        if path not in self._checked:
            self.client.run(_check_readable, path)  # every worker, before any counting
            self._checked.add(path)
        return StreamRef(path=path)

    def map(self, func: Callable, jobs: Sequence[tuple]) -> list:
        if not jobs:
            return []
        futures = self.client.map(func, *zip(*jobs), pure=False)
        return self.client.gather(futures)  # in submission order

    def run_everywhere(self, func: Callable, *args) -> list:
        """``func(*args)`` on every worker, e.g. a check before any work (a worker's error is raised here)."""
        return list(self.client.run(func, *args).values())

    def close(self) -> None:
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
        if self.owns_cluster:
            cluster = getattr(self.client, "cluster", None)
            self.client.close()
            if cluster is not None:
                cluster.close()

    def describe(self) -> dict:
        return {"scheduler": str(self.client.scheduler.address), "n_workers": self.n_workers}


def local_cluster_client(n_workers: int, numba_threads: int = 1) -> Any:
    """A ``LocalCluster`` of ``n_workers`` processes with one thread each and numba's thread count set
    in the worker environment before the worker starts (so before numba is imported there)."""
    from distributed import Client, LocalCluster

    env = {"NUMBA_NUM_THREADS": str(numba_threads), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cluster = LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        env=env,
        dashboard_address=None,
        # no dashboard; its HTTP server (health, metrics) on a free port, not 8787, so that two local
        # clusters at once never collide
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=40,
    )
    client = Client(cluster)
    client.wait_for_workers(n_workers, timeout=WORKER_START_TIMEOUT_S)  # all of them before planning
    return client


def get_executor(scheduler: Any = None) -> SerialExecutor | DaskExecutor:
    """An executor from ``scheduler``: None or "serial" (this process), "local:N" (a LocalCluster of N
    worker processes), "tcp://HOST:PORT" (an existing cluster) or a ``distributed.Client``."""
    if scheduler is None or scheduler == "serial":
        return SerialExecutor()
    if isinstance(scheduler, (SerialExecutor, DaskExecutor)):
        return scheduler
    if isinstance(scheduler, str):
        if scheduler.startswith("local:"):
            n = scheduler.partition(":")[2]
            if not n.isdigit() or int(n) < 1:
                raise ValueError(f"scheduler 'local:N' needs a positive number of workers N; got {scheduler!r}.")
            _require_distributed(scheduler)
            return DaskExecutor(local_cluster_client(int(n)), owns_cluster=True, local=True)
        if "://" in scheduler:
            _require_distributed(scheduler)
            from distributed import Client

            try:
                client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
            except (OSError, TimeoutError) as exc:
                raise ValueError(
                    f"cannot reach the Dask scheduler at {scheduler} within {CONNECT_TIMEOUT_S} s ({exc}); start "
                    "it (`dask scheduler`) or check the address."
                ) from None
            return DaskExecutor(client, owns_cluster=True, local=_is_local(scheduler))
        raise ValueError(f"scheduler must be 'serial', 'local:N', 'tcp://HOST:PORT' or a Client; got {scheduler!r}.")
    if type(scheduler).__name__ == "Client" and hasattr(scheduler, "submit"):
        return DaskExecutor(scheduler, owns_cluster=False, local=_is_local(str(scheduler.scheduler.address)))
    raise TypeError(
        f"scheduler must be 'serial', 'local:N', 'tcp://HOST:PORT' or a distributed.Client; got "
        f"{type(scheduler).__name__}."
    )


def _is_local(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1", socket.gethostname()) or address.startswith("inproc://")


def _require_distributed(scheduler: str) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ValueError(
            f"scheduler {scheduler!r} needs dask.distributed: pip install 'corpus-stats[distributed]'."
        ) from None
