"""``watch run --scheduler``: the watched SBOMs spread over a Dask cluster, merged into one report.

The client splits the product store into ranges of rows (several per worker, so a slow range does not hold
the run up) and sends each worker the paths of the store and the database, not the SBOMs. A worker opens the
vulnerability database read-only once, keeps it open for every range it gets while the database keeps the
same version, reads its range of the store read-only, matches each SBOM and compares it with its baseline
(evidence/vulndb/watch.py, the same function a local run uses). It returns only the changes (new, resolved,
newly known-exploited, with the CRA Art. 14 clocks) and the baselines that changed; the client writes those
to the store, the one writer. Both files must be readable by every worker at the same path.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cybersafe.errors import CybersafeError, VulnDbError
from cybersafe.evidence.vulndb.store import VulnDb
from cybersafe.evidence.vulndb.watch import ProductStore, WatchOutcome, WatchResult, product_changes
from cybersafe.fleet.cluster import ClusterSpec, describe, open_client

_RANGES_PER_WORKER = 4
_DATABASES: dict[str, tuple[str, VulnDb]] = {}  # per worker process: path -> (version, read-only handle)


def worker_database(path: str, version: str) -> VulnDb:
    """The read-only handle of this worker process, opened on first use and kept while the version holds."""
    cached = _DATABASES.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    if cached is not None:
        cached[1].close()
        del _DATABASES[path]
    db = VulnDb(path, read_only=True)
    found = db.version()
    if found != version:
        db.close()
        raise VulnDbError(f"{path}: the database changed while the watch run was starting (an import running?)")
    _DATABASES[path] = (version, db)
    return db


@dataclass(frozen=True)
class RangeResult:
    outcome: WatchOutcome
    seconds: float  # time this range took on its worker
    worker: str


def match_range(store: str, database: str, version: str, first: int, last: int, aware_at: dt.datetime) -> RangeResult:
    """One range of watched products, on a worker: matched and compared with their baselines."""
    started = time.perf_counter()
    outcome = WatchOutcome()
    with ProductStore(store, read_only=True) as products:
        rows = products.rows_between(first, last)
    try:
        db = worker_database(database, version)
    except CybersafeError as exc:
        outcome.errors.extend(f"{row[0]}: {exc}" for row in rows)
        outcome.products = len(rows)
        return RangeResult(outcome, time.perf_counter() - started, _worker_name())
    with tempfile.TemporaryDirectory(prefix="cybersafe-watch-") as tmp:
        for row in rows:
            outcome.add(product_changes(db, row, aware_at, Path(tmp)))
    return RangeResult(outcome, time.perf_counter() - started, _worker_name())


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "client"


@dataclass
class WatchRun:
    result: WatchResult
    cluster: str
    components: int
    wall_s: float
    worker_s: float  # sum of the ranges' times on their workers

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.result.as_dict(),
            "cluster": self.cluster,
            "components": self.components,
            "wall_s": round(self.wall_s, 3),
        }


def run_watch(
    store: Path,
    database: Path,
    aware_at: dt.datetime,
    spec: ClusterSpec,
    *,
    update: bool = True,
    ranges: int | None = None,
    on_range: Callable[[int, int], None] | None = None,
) -> WatchRun:
    """Every watched SBOM re-matched on the cluster; one report; baselines updated unless ``update`` is False."""
    from distributed import as_completed

    started = time.perf_counter()
    with VulnDb(database, read_only=True) as db:
        version = db.version()
    outcome = WatchOutcome()
    worker_s = 0.0
    with ProductStore(store) as products, open_client(spec) as client:
        where = describe(client, spec)
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        parts = products.rowid_ranges(ranges or workers * _RANGES_PER_WORKER)
        futures = [
            client.submit(
                match_range, str(store.resolve()), str(database.resolve()), version, a, b, aware_at, pure=False
            )
            for a, b in parts
        ]
        for done, future in enumerate(as_completed(futures), 1):  # type: ignore[no-untyped-call]
            part: RangeResult = future.result()
            future.release()
            outcome.add(part.outcome)
            worker_s += part.seconds
            if on_range is not None:
                on_range(done, len(parts))
        if update:
            products.store_baselines(outcome, aware_at)
    outcome.changes.sort(key=lambda c: (c.product, c.kind, str(c.match.get("vulnerability"))))
    result = WatchResult(str(database), outcome.products, tuple(outcome.changes), tuple(sorted(outcome.errors)))
    return WatchRun(result, where, outcome.components, time.perf_counter() - started, worker_s)
