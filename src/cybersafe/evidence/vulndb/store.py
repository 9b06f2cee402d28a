"""The local vulnerability database: one SQLite file, imported from OSV (JSON or YAML), CISA KEV and EPSS files.

Layout: ``advisories`` (one row per OSV id, with ``modified`` and the import dates), ``affected`` (one row
per affected package of an advisory, keyed by package key, index on the key), ``aliases``, ``kev``,
``epss`` and ``imports`` (what was imported when); ``meta`` keeps the KEV catalog's version and release date.
OSV records come as JSON (one record or a list), per-ecosystem ``all.zip`` dumps, or YAML as the PyPA
advisory database publishes them (``vulns/<package>/PYSEC-*.yaml``; safe YAML, dates kept as text).
Re-import is incremental and idempotent: a record whose ``modified`` is not newer than the stored one is left
alone. A broken record is recorded as a problem and
skipped; the rest of the file is imported. A file that cannot be read at all (not UTF-8 JSON, nested deeper
than the JSON reader allows, a corrupt gzip stream, a header row that is no CSV) raises ``VulnDbError``
naming the file. A ``.gz`` file is decompressed as a stream and refused beyond ``MAX_GZIP_BYTES`` (a gzip
bomb must not take the machine's memory).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import sqlite3
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from cybersafe import safeio
from cybersafe.errors import InputError, VulnDbError
from cybersafe.evidence.interface import NullProgressReporter, Problem, ProblemSeverity, ProgressReporter
from cybersafe.evidence.vulndb.osv import OsvRecord, OsvRecordError, parse_osv
from cybersafe.yamlio import parse_yaml

ENV_VAR = "CYBERSAFE_VULNDB"
SCHEMA_VERSION = "3"  # 2: ranges stored pre-split (osv.encode_ranges); 3: severity_basis, KEV catalog dates
_BATCH = 5000
_MAX_MEMBER_BYTES = 64 * 1024 * 1024
MAX_GZIP_BYTES = 512 * 1024 * 1024  # decompressed size of one .gz file; the EPSS CSV is ~10 MiB
MAX_FEED_BYTES = 512 * 1024 * 1024  # one JSON, CSV or .gz file as stored (the KEV catalog is ~1.5 MiB)
MAX_ZIP_BYTES = 8 * 1024 * 1024 * 1024  # an OSV all.zip, read member by member
_GZIP_CHUNK = 1024 * 1024

_ADVISORY_QUERY = (
    "SELECT rid, id, modified, published, withdrawn, summary, aliases, severity, score, first_seen, severity_basis"
    " FROM advisories"
)
_OSV_SUFFIXES = (".json", ".yaml", ".yml")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    modified TEXT NOT NULL,
    published TEXT,
    withdrawn TEXT,
    summary TEXT NOT NULL,
    aliases TEXT NOT NULL,
    severity TEXT NOT NULL,
    score REAL,
    source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    severity_basis TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS affected (
    rid INTEGER NOT NULL,
    key TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    scheme TEXT NOT NULL,
    ranges TEXT NOT NULL,
    versions TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_key ON affected (key);
CREATE INDEX IF NOT EXISTS affected_rid ON affected (rid);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT NOT NULL, rid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_alias ON aliases (alias);
CREATE INDEX IF NOT EXISTS aliases_rid ON aliases (rid);
CREATE TABLE IF NOT EXISTS kev (
    cve TEXT PRIMARY KEY,
    vendor TEXT, product TEXT, name TEXT,
    date_added TEXT, due_date TEXT, ransomware TEXT,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS epss (cve TEXT PRIMARY KEY, epss REAL NOT NULL, percentile REAL, score_date TEXT);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    added INTEGER NOT NULL,
    updated INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    skipped INTEGER NOT NULL
);
"""


def default_db_path() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("cybersafe")) / "vulndb.sqlite"


@dataclass
class ImportReport:
    source: str
    kind: str  # osv / kev / epss
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    def skip(self, where: str, message: str) -> None:
        self.skipped += 1
        self.problems.append(Problem("vulndb.import", ProblemSeverity.WARNING, message, where))

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "kind": self.kind,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class DbInfo:
    path: str
    advisories: int
    affected_packages: int
    kev_entries: int
    epss_entries: int
    imports: tuple[dict[str, Any], ...]
    ecosystems: dict[str, int]

    @property
    def last_osv_import(self) -> str | None:
        return next((i["imported_at"] for i in reversed(self.imports) if i["kind"] == "osv"), None)

    @property
    def last_kev_import(self) -> str | None:
        return next((i["imported_at"] for i in reversed(self.imports) if i["kind"] == "kev"), None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "advisories": self.advisories,
            "affected_packages": self.affected_packages,
            "kev_entries": self.kev_entries,
            "epss_entries": self.epss_entries,
            "ecosystems": self.ecosystems,
            "imports": list(self.imports),
        }


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class VulnDb:
    """A handle on the SQLite file. ``create=False`` refuses a missing file instead of making an empty one."""

    def __init__(self, path: str | Path | None = None, *, create: bool = True, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._existing: dict[str, tuple[int, str]] | None = None  # id -> (rid, modified), loaded once
        self._kev: dict[str, dict[str, str]] | None = None  # read-only handles keep the KEV table once read
        self.read_only = read_only
        try:
            safeio.refuse_special(self.path)
        except InputError as exc:
            raise VulnDbError(str(exc)) from None
        if (read_only or not create) and not self.path.is_file():
            raise VulnDbError(f"{self.path}: no vulnerability database here; run `cybersafe vulndb import` first")
        if read_only:
            self._open_read_only()
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path)
            self.conn.executescript(_SCHEMA)
            # A crash mid-import loses at most the current batch; the next import redoes it (idempotent).
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            self.conn.commit()
            found = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        except (OSError, sqlite3.Error) as exc:
            raise VulnDbError(f"{self.path}: cannot open the vulnerability database: {exc}") from exc
        if found != SCHEMA_VERSION:
            self.conn.close()
            raise VulnDbError(
                f"{self.path}: database format {found}, this cybersafe reads {SCHEMA_VERSION}; import into a new file"
            )

    def _open_read_only(self) -> None:
        """Open without writing anything (no schema, no journal change): many processes may share the file."""
        try:
            self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
            self.conn.execute("PRAGMA query_only = 1")
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise VulnDbError(f"{self.path}: cannot open the vulnerability database read-only: {exc}") from exc
        found = row[0] if row else None
        if found != SCHEMA_VERSION:
            self.conn.close()
            raise VulnDbError(
                f"{self.path}: database format {found}, this cybersafe reads {SCHEMA_VERSION}; import into a new file"
            )

    def version(self) -> str:
        """A digest of the import log (every import is logged with its counts): equal versions hold equal data."""
        meta = self.conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
        rows = self.conn.execute(
            "SELECT id, source, kind, imported_at, added, updated, unchanged, skipped FROM imports ORDER BY id"
        ).fetchall()
        text = json.dumps([SCHEMA_VERSION, meta, rows], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> VulnDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- import -------------------------------------------------------------------------------------

    def import_path(
        self, path: str | Path, progress: ProgressReporter | None = None, *, now: str | None = None
    ) -> list[ImportReport]:
        """Import a file or directory; the kind is recognised from the content. Returns one report per source."""
        path = Path(path)
        progress = progress or NullProgressReporter()
        now = now or _now()
        if path.is_dir():
            return self._import_dir(path, progress, now)
        if not path.exists():
            raise VulnDbError(f"{path}: no such file")
        try:
            safeio.refuse_special(path)  # a FIFO or a device is one line, whatever its name says
        except InputError as exc:
            raise VulnDbError(str(exc)) from None
        if path.suffix == ".zip":
            with _open_feed(path, MAX_ZIP_BYTES) as handle:
                try:
                    archive = zipfile.ZipFile(handle)
                except (zipfile.BadZipFile, OSError, ValueError) as exc:  # ValueError: a member name not UTF-8
                    raise VulnDbError(f"{path}: not a readable zip archive: {exc}") from exc
                with archive:
                    return [self._import_osv(str(path), _zip_records(path, archive), progress, now)]
        if path.suffix in (".yaml", ".yml"):  # OSV in YAML, as the PyPA advisory database publishes it
            return [self._import_osv(str(path), _dir_records([path]), progress, now)]
        raw = _read(path)
        text = raw.lstrip()
        if text.startswith((b"{", b"[")):
            return [self._import_json(path, raw, progress, now)]
        first = text.split(b"\n", 2)
        header = b"\n".join(first[:2]).lower()
        if b"cveid" in header and b"vendorproject" in header:
            return [self._import_kev(str(path), _kev_csv(path, raw), now, catalog=(None, None))]
        if b"epss" in header:
            return [self._import_epss(str(path), raw, now)]
        raise VulnDbError(f"{path}: not an OSV record/zip/directory, a KEV catalog (JSON/CSV) or an EPSS CSV")

    def _import_dir(self, path: Path, progress: ProgressReporter, now: str) -> list[ImportReport]:
        reports: list[ImportReport] = []
        osv_files = sorted(p for p in path.rglob("*") if p.suffix in _OSV_SUFFIXES and p.is_file())
        if osv_files:
            reports.append(self._import_osv(str(path), _dir_records(osv_files), progress, now))
        for other in sorted(p for p in path.rglob("*") if p.suffix in (".zip", ".csv", ".gz") and p.is_file()):
            reports.extend(self.import_path(other, progress, now=now))
        if not reports:
            raise VulnDbError(f"{path}: no OSV JSON or YAML, zip, KEV or EPSS file in this directory")
        return reports

    def _import_json(self, path: Path, raw: bytes, progress: ProgressReporter, now: str) -> ImportReport:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise VulnDbError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        except UnicodeDecodeError as exc:
            raise VulnDbError(f"{path}: not valid JSON: not UTF-8 text (byte {exc.start})") from exc
        except RecursionError as exc:
            raise VulnDbError(f"{path}: not readable JSON: nested too deeply") from exc
        if isinstance(data, dict) and isinstance(data.get("vulnerabilities"), list) and "catalogVersion" in data:
            catalog = (_text_or_none(data.get("catalogVersion")), _text_or_none(data.get("dateReleased")))
            return self._import_kev(str(path), _kev_json(data), now, catalog=catalog)
        items = data if isinstance(data, list) else [data]
        return self._import_osv(str(path), ((f"{path}[{i}]", d) for i, d in enumerate(items)), progress, now)

    def _import_osv(
        self,
        source: str,
        records: Iterable[tuple[str, Any]],
        progress: ProgressReporter,
        now: str,
    ) -> ImportReport:
        report = ImportReport(source, "osv")
        if self._existing is None:
            rows = self.conn.execute("SELECT id, rid, modified FROM advisories")
            self._existing = {row[0]: (row[1], row[2]) for row in rows}
        existing = self._existing
        next_rid = (self.conn.execute("SELECT max(rid) FROM advisories").fetchone()[0] or 0) + 1
        batch = _OsvBatch(self.conn, source, now, next_rid, progress)
        progress.start("vulndb import", None)
        for where, data in records:
            record = _changed_record(where, data, existing, report)
            if record is None:
                continue
            known = existing.get(record.id)
            rid = batch.add(record, known[0] if known else None)
            if known is None:
                report.added += 1
            else:
                report.updated += 1
            existing[record.id] = (rid, record.modified)
            if len(batch) >= _BATCH:
                batch.flush()
        batch.flush()
        progress.finish("vulndb import")
        self._log_import(report, now)
        return report

    def _import_kev(
        self,
        source: str,
        rows: Iterator[tuple[str, dict[str, str] | None, str]],
        now: str,
        *,
        catalog: tuple[str | None, str | None],
    ) -> ImportReport:
        """Entries are added or refreshed; the catalog's version and release date (JSON only; the CSV has
        neither) are kept, so a check can say how old the known-exploited list is."""
        report = ImportReport(source, "kev")
        with self.conn:
            for key, value in zip(("kev_catalog_version", "kev_date_released"), catalog, strict=True):
                self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value or ""))
        known = {row[0] for row in self.conn.execute("SELECT cve FROM kev")}
        with self.conn:
            for where, row, message in rows:
                if row is None:
                    report.skip(where, message)
                    continue
                cve = row["cve"]
                if cve in known:
                    report.unchanged += 1
                    self.conn.execute(
                        "UPDATE kev SET vendor=?, product=?, name=?, date_added=?, due_date=?, ransomware=? WHERE cve=?",
                        (
                            row["vendor"],
                            row["product"],
                            row["name"],
                            row["date_added"],
                            row["due_date"],
                            row["ransomware"],
                            cve,
                        ),
                    )
                    continue
                known.add(cve)
                report.added += 1
                self.conn.execute(
                    "INSERT INTO kev VALUES (?,?,?,?,?,?,?,?)",
                    (
                        cve,
                        row["vendor"],
                        row["product"],
                        row["name"],
                        row["date_added"],
                        row["due_date"],
                        row["ransomware"],
                        now,
                    ),
                )
        self._log_import(report, now)
        return report

    def _import_epss(self, source: str, raw: bytes, now: str) -> ImportReport:
        report = ImportReport(source, "epss")
        text = raw.decode("utf-8", errors="replace")
        lines = text.splitlines()
        score_date = None
        skipped_lines = 0
        if lines and lines[0].startswith("#"):
            for part in lines[0].lstrip("#").split(","):
                if part.startswith("score_date:"):
                    score_date = part.split(":", 1)[1][:10]
            lines = lines[1:]
            skipped_lines = 1
        known = {row[0]: row[1] for row in self.conn.execute("SELECT cve, epss FROM epss")}
        rows: list[tuple[str, float, float | None, str | None]] = []
        for line, rec, error in _csv_records(source, lines):
            n = line + skipped_lines
            if rec is None:
                report.skip(f"{source}:{n}", f"skipped EPSS row: {error}")
                continue
            try:
                cve = str(rec["cve"]).strip()
                value = float(rec["epss"])
                pct = float(rec["percentile"]) if rec.get("percentile") else None
                if not cve.startswith("CVE-") or not 0.0 <= value <= 1.0:
                    raise ValueError("not a CVE id with a probability in [0, 1]")
            except (KeyError, ValueError, TypeError) as exc:
                report.skip(f"{source}:{n}", f"skipped EPSS row: {str(exc)[:200]}")
                continue
            if cve in known:
                report.unchanged += 1 if known[cve] == value else 0
                report.updated += 0 if known[cve] == value else 1
            else:
                report.added += 1
            rows.append((cve, value, pct, score_date))
        with self.conn:
            self.conn.executemany("INSERT OR REPLACE INTO epss VALUES (?,?,?,?)", rows)
        self._log_import(report, now)
        return report

    def _log_import(self, report: ImportReport, now: str) -> None:
        with self.conn:
            self.conn.execute(
                "INSERT INTO imports (source, kind, imported_at, added, updated, unchanged, skipped)"
                " VALUES (?,?,?,?,?,?,?)",
                (report.source, report.kind, now, report.added, report.updated, report.unchanged, report.skipped),
            )

    # --- queries ------------------------------------------------------------------------------------

    def last_import(self, kind: str) -> str | None:
        row = self.conn.execute("SELECT max(imported_at) FROM imports WHERE kind = ?", (kind,)).fetchone()
        return str(row[0]) if row and row[0] else None

    def kev_count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM kev").fetchone()[0])

    def kev_catalog(self) -> tuple[str | None, str | None]:
        """(catalog version, date released) of the last KEV catalog imported; None when not known."""
        rows = dict(
            self.conn.execute("SELECT key, value FROM meta WHERE key IN ('kev_catalog_version', 'kev_date_released')")
        )
        return rows.get("kev_catalog_version") or None, rows.get("kev_date_released") or None

    def info(self) -> DbInfo:
        c = self.conn
        imports = tuple(
            dict(zip(("source", "kind", "imported_at", "added", "updated", "unchanged", "skipped"), row, strict=True))
            for row in c.execute(
                "SELECT source, kind, imported_at, added, updated, unchanged, skipped FROM imports ORDER BY id"
            )
        )
        ecosystems: dict[str, int] = dict(
            c.execute(
                "SELECT substr(key, 1, instr(key, '/') - 1), count(*) FROM affected"
                " WHERE key NOT LIKE 'cpe:%' GROUP BY 1"
            ).fetchall()
        )
        cpe_rows = c.execute("SELECT count(*) FROM affected WHERE key LIKE 'cpe:%'").fetchone()[0]
        if cpe_rows:
            ecosystems["cpe"] = cpe_rows
        return DbInfo(
            path=str(self.path),
            advisories=c.execute("SELECT count(*) FROM advisories").fetchone()[0],
            affected_packages=c.execute("SELECT count(*) FROM affected").fetchone()[0],
            kev_entries=c.execute("SELECT count(*) FROM kev").fetchone()[0],
            epss_entries=c.execute("SELECT count(*) FROM epss").fetchone()[0],
            imports=imports,
            ecosystems=ecosystems,
        )

    def affected_for(self, keys: Iterable[str]) -> dict[str, list[tuple[int, str, str, str, str]]]:
        """key -> [(rid, ecosystem, scheme, ranges json, versions json)] for the given package keys."""
        out: dict[str, list[tuple[int, str, str, str, str]]] = {}
        keys = sorted(set(keys))
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for rid, key, eco, scheme, ranges, versions in self.conn.execute(
                f"SELECT rid, key, ecosystem, scheme, ranges, versions FROM affected WHERE key IN ({marks})",  # noqa: S608
                chunk,
            ):
                out.setdefault(key, []).append((rid, eco, scheme, ranges, versions))
        return out

    def advisories(self, rids: Iterable[int]) -> dict[int, dict[str, Any]]:
        out: dict[int, dict[str, Any]] = {}
        rids = sorted(set(rids))
        for start in range(0, len(rids), 500):
            chunk = rids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                _ADVISORY_QUERY + f" WHERE rid IN ({marks})",
                chunk,
            ):
                out[row[0]] = {
                    "id": row[1],
                    "modified": row[2],
                    "published": row[3],
                    "withdrawn": row[4],
                    "summary": row[5],
                    "aliases": tuple(json.loads(row[6])),
                    "severity": row[7],
                    "score": row[8],
                    "first_seen": row[9],
                    "severity_basis": row[10],
                }
        return out

    def kev(self) -> dict[str, dict[str, str]]:
        if self._kev is not None:
            return self._kev
        cols = ("cve", "vendor", "product", "name", "date_added", "due_date", "ransomware", "first_seen")
        found = {
            row[0]: dict(zip(cols, row, strict=True))
            for row in self.conn.execute(f"SELECT {','.join(cols)} FROM kev")  # noqa: S608 - fixed column names
        }
        if self.read_only:  # nothing changes under a read-only handle: read the catalog once per handle
            self._kev = found
        return found

    def epss(self, cves: Iterable[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        cves = sorted(set(cves))
        for start in range(0, len(cves), 500):
            chunk = cves[start : start + 500]
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT cve, epss FROM epss WHERE cve IN ({marks})", chunk).fetchall())  # noqa: S608
        return out


def _changed_record(
    where: str, data: Any, existing: dict[str, tuple[int, str]], report: ImportReport
) -> OsvRecord | None:
    """The parsed record when it is new or newer than the stored one; a broken record is skipped with a problem."""
    if isinstance(data, _Broken):
        report.skip(where, data.message)
        return None
    if isinstance(data, dict):  # cheap look first: an unchanged record is not parsed at all
        ident = data.get("id")
        seen = existing.get(ident) if isinstance(ident, str) else None
        if seen is not None and isinstance(data.get("modified"), str) and seen[1] >= data["modified"]:
            report.unchanged += 1
            return None
    try:
        record = parse_osv(data)
    except OsvRecordError as exc:
        report.skip(where, f"skipped: {exc}")
        return None
    known = existing.get(record.id)
    if known is not None and known[1] >= record.modified:
        report.unchanged += 1
        return None
    return record


class _OsvBatch:
    """The rows of an OSV import not yet written: new and updated advisories, their affected packages and
    aliases. Written in one transaction per batch, so a crash loses at most the current batch."""

    def __init__(self, conn: sqlite3.Connection, source: str, now: str, next_rid: int, progress: ProgressReporter):
        self.conn, self.source, self.now, self.next_rid, self.progress = conn, source, now, next_rid, progress
        self.new: list[tuple[Any, ...]] = []
        self.updated: list[tuple[Any, ...]] = []
        self.affected: list[tuple[Any, ...]] = []
        self.aliases: list[tuple[str, int]] = []
        self.replaced: list[tuple[int]] = []

    def __len__(self) -> int:
        return len(self.new) + len(self.updated)

    def add(self, record: OsvRecord, rid: int | None) -> int:
        """Queue ``record`` (as a new advisory when ``rid`` is None); returns its row id."""
        fields = (
            record.modified,
            record.published,
            record.withdrawn,
            record.summary,
            json.dumps(list(record.aliases)),
            record.severity,
            record.score,
            self.source,
        )
        if rid is None:
            rid = self.next_rid
            self.next_rid += 1
            self.new.append((rid, record.id, *fields, self.now, self.now, record.severity_basis))
        else:
            self.replaced.append((rid,))
            self.updated.append((*fields, self.now, record.severity_basis, rid))
        self.affected.extend((rid, a.key, a.ecosystem, a.scheme, a.ranges, a.versions) for a in record.affected)
        self.aliases.extend((alias, rid) for alias in {record.id, *record.aliases})
        return rid

    def flush(self) -> None:
        conn = self.conn
        with conn:
            if self.replaced:
                conn.executemany("DELETE FROM affected WHERE rid = ?", self.replaced)
                conn.executemany("DELETE FROM aliases WHERE rid = ?", self.replaced)
            conn.executemany("INSERT INTO advisories VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self.new)
            conn.executemany(
                "UPDATE advisories SET modified=?, published=?, withdrawn=?, summary=?, aliases=?, severity=?,"
                " score=?, source=?, updated_at=?, severity_basis=? WHERE rid=?",
                self.updated,
            )
            conn.executemany("INSERT INTO affected VALUES (?,?,?,?,?,?)", self.affected)
            conn.executemany("INSERT INTO aliases VALUES (?,?)", self.aliases)
        self.progress.advance("vulndb import", len(self))
        for rows in (self.new, self.updated, self.affected, self.aliases, self.replaced):
            rows.clear()


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value.isprintable() and len(value) <= 64 else None


class _Broken:
    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message


@contextlib.contextmanager
def _open_feed(path: Path, limit: int) -> Iterator[BinaryIO]:
    """A feed file opened by the safe reader: a FIFO, a device or an oversized file is one VulnDbError."""
    try:
        with safeio.open_regular(path, limit, what="a vulnerability feed file") as handle:
            yield handle
    except InputError as exc:
        raise VulnDbError(str(exc)) from None


def _read(path: Path) -> bytes:
    if path.suffix == ".gz":
        return _gunzip(path)
    try:
        return safeio.read_bytes(path, MAX_FEED_BYTES, what="a vulnerability feed file")
    except InputError as exc:
        raise VulnDbError(str(exc)) from None


def _gunzip(path: Path) -> bytes:
    """Decompress a .gz file as a stream, refusing more than ``MAX_GZIP_BYTES`` bytes of output."""
    limit = MAX_GZIP_BYTES
    chunks: list[bytes] = []
    total = 0
    try:
        with _open_feed(path, MAX_FEED_BYTES) as handle, gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while chunk := stream.read(_GZIP_CHUNK):
                total += len(chunk)
                if total > limit:
                    size = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
                    raise VulnDbError(f"{path}: decompresses to more than {size}, refusing it (a gzip bomb?)")
                chunks.append(chunk)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # not gzip, truncated, a corrupt deflate stream
        raise VulnDbError(f"{path}: not a readable gzip file: {exc}") from exc
    except OSError as exc:
        raise VulnDbError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return b"".join(chunks)


def _csv_records(source: str, lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number, row or None, why not) for each CSV row; an unreadable row (a field over the csv module's
    128 KiB limit, say) is reported and the reader goes on with the next line. A header that is no CSV
    makes the whole file unreadable."""
    reader = csv.DictReader(lines)
    try:
        reader.fieldnames  # noqa: B018 - reads the header row
    except csv.Error as exc:
        raise VulnDbError(f"{source}: the header row is not readable CSV: {exc}") from exc
    failed = 0  # the csv reader does not count a line it raised on: count those here
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            failed += 1
            yield reader.line_num + failed, None, f"not readable CSV: {exc}"
            continue
        failed = 0
        yield reader.line_num, row, ""


def _decode(where: str, raw: bytes) -> tuple[str, Any]:
    try:
        return where, json.loads(raw)
    except RecursionError:
        return where, _Broken("skipped: not readable JSON: nested too deeply")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        return where, _Broken(f"skipped: not valid JSON{f' (line {line})' if line else ''}: {getattr(exc, 'msg', exc)}")


def _decode_yaml(where: str, raw: bytes) -> tuple[str, Any]:
    """An OSV record in YAML: safe YAML only, dates kept as text, alias bombs and deep nesting refused."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return where, _Broken(f"skipped: not UTF-8 text (byte {exc.start})")
    try:
        return where, parse_yaml(text, where).data
    except InputError as exc:
        return where, _Broken(f"skipped: {exc.message}{f' (line {exc.line})' if exc.line else ''}")


def _dir_records(files: list[Path]) -> Iterator[tuple[str, Any]]:
    for file in files:
        try:
            raw = safeio.read_bytes(file, _MAX_MEMBER_BYTES, what="an OSV record file")
        except InputError as exc:
            yield str(file), _Broken(f"skipped: {exc.message}")
            continue
        decode = _decode_yaml if file.suffix in (".yaml", ".yml") else _decode
        where, data = decode(str(file), raw)
        if isinstance(data, list):
            yield from ((f"{file}[{i}]", d) for i, d in enumerate(data))
        else:
            yield where, data


def _zip_records(path: Path, archive: zipfile.ZipFile) -> Iterator[tuple[str, Any]]:
    for info in archive.infolist():
        if info.is_dir() or not info.filename.endswith(_OSV_SUFFIXES):
            continue
        where = f"{path}!{info.filename}"
        if info.file_size > _MAX_MEMBER_BYTES:
            yield where, _Broken(f"skipped: member larger than {_MAX_MEMBER_BYTES} bytes")
            continue
        try:
            raw = archive.read(info)
        except (
            zipfile.BadZipFile,
            OSError,
            ValueError,
            EOFError,
            zlib.error,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            # RuntimeError: an encrypted member; NotImplementedError: an unsupported compression method
            yield where, _Broken(f"skipped: cannot read member: {exc}")
            continue
        yield (_decode_yaml if info.filename.endswith((".yaml", ".yml")) else _decode)(where, raw)


_KEV_FIELDS = {
    "cve": "cveID",
    "vendor": "vendorProject",
    "product": "product",
    "name": "vulnerabilityName",
    "date_added": "dateAdded",
    "due_date": "dueDate",
    "ransomware": "knownRansomwareCampaignUse",
}


def _kev_row(item: Any) -> tuple[dict[str, str] | None, str]:
    if not isinstance(item, dict):
        return None, "skipped KEV entry: not an object"
    cve = item.get("cveID")
    if not isinstance(cve, str) or not cve.startswith("CVE-"):
        return None, "skipped KEV entry: cveID missing or not a CVE id"
    row = {k: str(item.get(v) or "") for k, v in _KEV_FIELDS.items()}
    label = cve if cve.isprintable() else ascii(cve)[1:-1]
    for key, value in row.items():
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate escape: SQLite refuses it
                return None, f"skipped KEV entry {label[:60]}: {_KEV_FIELDS[key]} is not valid Unicode text"
    added = item.get("dateAdded")
    try:
        dt.date.fromisoformat(str(added))
    except ValueError:
        return None, f"skipped KEV entry {label[:60]}: dateAdded {str(added)[:40]!r} is not a date"
    return row, ""


def _kev_json(data: dict[str, Any]) -> Iterator[tuple[str, dict[str, str] | None, str]]:
    for i, item in enumerate(data["vulnerabilities"]):
        row, message = _kev_row(item)
        yield f"vulnerabilities[{i}]", row, message


def _kev_csv(path: Path, raw: bytes) -> Iterator[tuple[str, dict[str, str] | None, str]]:
    for n, item, error in _csv_records(str(path), io.StringIO(raw.decode("utf-8-sig", errors="replace"))):
        if item is None:
            yield f"{path}:{n}", None, f"skipped KEV row: {error}"
            continue
        row, message = _kev_row(item)
        yield f"{path}:{n}", row, message


ProgressFactory = Callable[[], ProgressReporter]
