"""watch run on a Dask LocalCluster started by the test: the store's SBOMs split over workers, each worker's
read-only database handle opened once, one merged report equal to the one-process run, baselines written by
the client, a broken SBOM an error of its own product."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cybersafe.cli import app
from cybersafe.evidence.vulndb import VulnDb
from cybersafe.evidence.vulndb.watch import ProductStore, WatchChange
from cybersafe.fleet import watch as fleet_watch
from cybersafe.fleet.cluster import ClusterSpec
from cybersafe.fleet.watch import match_range, run_watch
from tests._sbom_builders import kev_catalog, osv_corpus, write_cyclonedx, write_osv_zip
from tests.fleet.fleet_support import EXAMPLE

AWARE = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)  # CRA Art. 14 applies (from 2026-09-11)


@pytest.fixture
def watched(tmp_path: Path) -> tuple[Path, Path]:
    """A database without the jinja2 advisory and KEV entry, and a store of seven products, one unreadable."""
    corpus = osv_corpus()
    bom = write_cyclonedx(tmp_path / "bom.json", "1.6", "json")
    with VulnDb(tmp_path / "db.sqlite") as db, ProductStore(tmp_path / "products.sqlite", create=True) as store:
        db.import_path(write_osv_zip(tmp_path / "old.zip", corpus[1:]))
        for n in range(5):
            store.add(f"Acme Cam {n}", bom, AWARE)
        store.add("Nordlicht SecureCam 2", EXAMPLE / "sbom.cdx.json", AWARE)
        store.add("Broken", bom, AWARE)
        store.conn.execute("UPDATE products SET sbom=? WHERE name='Broken'", (b'{"bomFormat": "CycloneDX", "compo',))
        store.conn.commit()
    return tmp_path / "db.sqlite", tmp_path / "products.sqlite"


def update_database(db_path: Path, tmp: Path) -> None:
    """The jinja2 advisory arrives, and busybox's CVE enters the KEV catalog."""
    with VulnDb(db_path) as db:
        db.import_path(write_osv_zip(tmp / "new.zip", osv_corpus()[:1]))
        (tmp / "kev.json").write_text(json.dumps(kev_catalog([("CVE-2022-48174", "2026-03-01")])))
        db.import_path(tmp / "kev.json")


def key(change: WatchChange) -> str:
    return json.dumps(change.as_dict(), sort_keys=True)


@pytest.mark.slow
def test_distributed_watch_equals_the_one_process_run(
    watched: tuple[Path, Path], scheduler: str, tmp_path: Path
) -> None:
    db_path, store_path = watched
    local_store = tmp_path / "local.sqlite"
    shutil.copyfile(store_path, local_store)
    spec = ClusterSpec(scheduler=scheduler)
    # When both watch the same products, before and after the database update
    with VulnDb(db_path, read_only=True) as db, ProductStore(local_store) as store:
        local_first = store.run(db, AWARE - dt.timedelta(days=30))
    first = run_watch(store_path, db_path, AWARE - dt.timedelta(days=30), spec, ranges=3)
    update_database(db_path, tmp_path)
    with VulnDb(db_path, read_only=True) as db, ProductStore(local_store) as store:
        local_second = store.run(db, AWARE)
    second = run_watch(store_path, db_path, AWARE, spec, ranges=3)
    third = run_watch(store_path, db_path, AWARE + dt.timedelta(hours=1), spec)
    # Then the merged reports are those of one process, change for change
    assert sorted(map(key, first.result.changes)) == sorted(map(key, local_first.changes))
    assert sorted(map(key, second.result.changes)) == sorted(map(key, local_second.changes))
    assert first.result.products == 7 and first.components > 0
    # new, then newly known-exploited with the CRA Art. 14 clocks from the time of awareness
    kinds = {(c.kind, i) for c in second.result.changes for i in (c.match["vulnerability"], *c.match["aliases"])}
    assert ("newly-known-exploited", "OSV-2026-1") in kinds and ("new", "GHSA-h5c8-rqwp-cp95") in kinds
    exploited = next(c for c in second.result.changes if c.kind == "newly-known-exploited")
    assert exploited.deadlines is not None
    assert exploited.deadlines.early_warning_due == AWARE + dt.timedelta(hours=24)
    assert exploited.deadlines.notification_due == AWARE + dt.timedelta(hours=72)
    # the broken SBOM is its product's error, named, and stopped nothing
    assert len(second.result.errors) == 1 and second.result.errors[0].startswith("Broken: ")
    # the baselines the client wrote are those of the one-process run: nothing new on the next night
    assert third.result.changes == ()
    with ProductStore(store_path) as a, ProductStore(local_store) as b:
        assert {r["name"]: r["known_matches"] for r in a.list()} == {r["name"]: r["known_matches"] for r in b.list()}


def test_each_worker_opens_the_database_read_only_once(
    watched: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path, store_path = watched
    before = db_path.stat().st_mtime_ns
    with VulnDb(db_path, read_only=True) as db:
        version = db.version()
    with ProductStore(store_path) as store:
        ranges = store.rowid_ranges(3)
    fleet_watch._DATABASES.clear()
    opened: list[object] = []

    def counting(*args: Any, **kwargs: Any) -> VulnDb:
        handle = VulnDb(*args, **kwargs)
        opened.append(handle)
        return handle

    monkeypatch.setattr(fleet_watch, "VulnDb", counting)
    # When one worker process gets three ranges of the store
    parts = [match_range(str(store_path), str(db_path), version, a, b, AWARE) for a, b in ranges]
    monkeypatch.undo()
    # Then it opened the database once, read-only, and wrote nothing to it
    assert len(opened) == 1 and getattr(opened[0], "read_only", False)
    assert sum(p.outcome.products for p in parts) == 7
    # (SQLite readers of a WAL database share a -shm index file; the write-ahead log stays empty)
    wal = db_path.with_name(db_path.name + "-wal")
    assert db_path.stat().st_mtime_ns == before and (not wal.exists() or wal.stat().st_size == 0)
    # A database that changed version under a range is an error of each of its products, never stale matches
    fleet_watch._DATABASES.clear()
    stale = match_range(str(store_path), str(db_path), "another version", *ranges[0], AWARE)
    assert stale.outcome.errors and all("database changed" in e for e in stale.outcome.errors)
    fleet_watch._DATABASES.clear()


@pytest.mark.slow
def test_cli_watch_run_on_a_scheduler(watched: tuple[Path, Path], scheduler: str) -> None:
    db_path, store_path = watched
    args = ["watch", "run", "--db", str(db_path), "--store", str(store_path), "--scheduler", scheduler]
    result = CliRunner().invoke(app, [*args, "--aware-at", AWARE.isoformat(), "--format", "json"])
    assert result.exit_code == 1, result.output  # new vulnerabilities, and one unreadable SBOM
    data = json.loads(result.stdout)
    assert data["products"] == 7 and data["changes"] and len(data["errors"]) == 1
    table = CliRunner().invoke(app, [*args, "--aware-at", AWARE.isoformat()])
    assert f"on {scheduler}, 2 workers" in table.output
