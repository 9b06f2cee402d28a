"""A read-only database handle (fleet workers share one file): it refuses a missing file, writes nothing, and
its version follows the import log."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests._sbom_builders import osv_corpus, write_osv_zip

from cybersafe.errors import VulnDbError
from cybersafe.evidence.vulndb import VulnDb


def test_read_only_handle_writes_nothing_and_versions_follow_imports(tmp_path: Path) -> None:
    corpus = osv_corpus()
    path = tmp_path / "db.sqlite"
    with VulnDb(path) as db:
        db.import_path(write_osv_zip(tmp_path / "a.zip", corpus[1:]))
    with VulnDb(path, read_only=True) as db:
        first = db.version()
        assert db.version() == first
        with pytest.raises(sqlite3.OperationalError):
            db.conn.execute("DELETE FROM advisories")
    with VulnDb(path) as db:
        db.import_path(write_osv_zip(tmp_path / "b.zip", corpus[:1]))
    with VulnDb(path, read_only=True) as db:
        assert db.version() != first


def test_read_only_handle_refuses_a_missing_or_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(VulnDbError, match="no vulnerability database here"):
        VulnDb(tmp_path / "missing.sqlite", read_only=True)
    assert not (tmp_path / "missing.sqlite").exists()
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(VulnDbError, match="read-only"):
        VulnDb(other, read_only=True)
