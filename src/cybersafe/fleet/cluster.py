"""The Dask cluster a fleet run uses: a ``LocalCluster`` on this machine, or an existing scheduler.

Both go through the same ``distributed.Client``, so ``--scheduler ADDRESS`` runs exactly the code a local run
does. A local cluster has one worker process per core, one thread each: every task (a product's assessment,
a partition of watched SBOMs) runs in a worker process of its own, and a firmware scan starts its unblob
child from there with its own budget. A product that kills its worker (memory) is retried once, then
recorded as failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cybersafe.errors import ClusterUnavailable

_CONNECT_TIMEOUT = "20s"


@dataclass(frozen=True)
class ClusterSpec:
    scheduler: str | None = None  # tcp://host:8786 of a running `dask scheduler`; None: a LocalCluster here
    workers: int | None = None  # local workers; default: one per core
    processes: bool = True  # False: worker threads inside this process (tests, debugging)

    def local_workers(self) -> int:
        return max(1, self.workers or os.cpu_count() or 1)


def _assessment_worker() -> Any:
    from cybersafe.fleet._plugins import AssessmentWorker  # imports distributed: only once a cluster is used

    return AssessmentWorker()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise ClusterUnavailable(
            "this command runs on Dask, which is not installed: pip install 'cybersafe[fleet]'"
        ) from None
    return distributed


@contextlib.contextmanager
def open_client(spec: ClusterSpec) -> Iterator[Any]:
    """A connected ``distributed.Client``; the local cluster (if any) is shut down on exit."""
    distributed = _import_distributed()
    import dask

    # Dask logs every connection at INFO; show its messages only when the user asked for detail (-v).
    asked = logging.getLogger().getEffectiveLevel()
    logging.getLogger("distributed").setLevel(asked if asked <= logging.INFO else logging.ERROR)
    # A task that kills its worker twice is a bad input, not bad luck: record it as failed instead of retrying.
    with dask.config.set({"distributed.scheduler.allowed-failures": 1, "distributed.admin.tick.limit": "30s"}):
        if spec.scheduler is not None:
            try:
                client = distributed.Client(spec.scheduler, timeout=_CONNECT_TIMEOUT)
            except (OSError, TimeoutError) as exc:
                raise ClusterUnavailable(f"no Dask scheduler answers at {spec.scheduler}: {exc}") from None
            with client:
                client.register_plugin(_assessment_worker())
                yield client
            return
        # A local cluster listens on loopback only, its status page on a free port (Dask always serves one).
        cluster = distributed.LocalCluster(
            n_workers=spec.local_workers(),
            threads_per_worker=1,
            processes=spec.processes,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        )
        with cluster, distributed.Client(cluster) as client:
            if spec.processes:
                client.register_plugin(_assessment_worker())
            yield client


def describe(client: Any, spec: ClusterSpec) -> str:
    """``local, 2 workers`` or ``tcp://10.0.0.5:8786, 16 workers``."""
    workers = len(client.scheduler_info().get("workers", {}))
    where = spec.scheduler or ("local" if spec.processes else "local, threads")
    return f"{where}, {workers} worker{'s' if workers != 1 else ''}"
