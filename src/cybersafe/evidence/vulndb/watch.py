"""Lifecycle: keep the SBOMs of assessed products, re-match them against a fresh database, report changes.

The product store is a small SQLite file (``--store PATH``, CYBERSAFE_PRODUCTS, default
``<user data dir>/cybersafe/products.sqlite``) holding a copy of each product's SBOM, so later edits of the
original file do not change what was assessed, and the matches seen at the last run (the baseline).

For each newly known-exploited vulnerability the CRA Art. 14 deadlines are computed from the time of
awareness: early warning within 24 hours (Art. 14(2)(a)), vulnerability notification within 72 hours
(Art. 14(2)(b)), final report no later than 14 days after a corrective or mitigating measure is available
(Art. 14(2)(c)), and the notification fields are drafted from what the database knows. Art. 14 applies from
the date the CRA catalog gives (``dates.reporting_from``, 11 Sep 2026 under Art. 71(2)): awareness before it
starts no clock, and the change says so.

Only ``watch add`` makes a store: ``list`` and ``run`` refuse a path that holds none (a mistyped ``--store``
would otherwise report "nothing new" night after night), and no command writes into an SQLite file that is
not a product store.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cybersafe import safeio
from cybersafe.errors import CybersafeError, InputError, SbomError, VulnDbError
from cybersafe.evidence.sbom.parse import load_sbom
from cybersafe.evidence.vulndb.match import match_components
from cybersafe.evidence.vulndb.model import VulnerabilityMatch
from cybersafe.evidence.vulndb.store import VulnDb

STORE_ENV_VAR = "CYBERSAFE_PRODUCTS"
EARLY_WARNING = dt.timedelta(hours=24)
NOTIFICATION = dt.timedelta(hours=72)
FINAL_REPORT_AFTER_FIX = dt.timedelta(days=14)
TO_COMPLETE = "to be completed by the manufacturer"
MAX_STORED_SBOM_BYTES = 256 * safeio.MiB


def default_store_path() -> Path:
    env = os.environ.get(STORE_ENV_VAR)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("cybersafe")) / "products.sqlite"


@dataclass(frozen=True, slots=True)
class Art14Deadlines:
    aware_at: dt.datetime
    early_warning_due: dt.datetime
    notification_due: dt.datetime
    final_report_due: dt.datetime | None  # None until a corrective measure is available
    fix_available_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "aware_at": iso(self.aware_at),
            "early_warning_due": iso(self.early_warning_due),
            "notification_due": iso(self.notification_due),
            "final_report_due": iso(self.final_report_due),
            "fix_available_at": iso(self.fix_available_at),
            "basis": "Regulation (EU) 2024/2847 Art. 14(2)(a)-(c)",
        }


@functools.cache
def art14_applies_from() -> dt.datetime:
    """When the CRA's Art. 14 reporting obligations start to apply: the ``reporting_from`` date of the catalog,
    which only the CRA's scheme carries (a test holds it there; no scheme id is spelled in code)."""
    from cybersafe.schemes.catalog import default_catalog

    days = {s.dates.reporting_from for s in default_catalog().schemes.values() if s.dates.reporting_from}
    if len(days) != 1:  # pragma: no cover - the bundled catalog has exactly one
        raise VulnDbError(f"the catalog gives {len(days)} dates from which reporting duties apply, not one")
    return dt.datetime.fromisoformat(days.pop()).replace(tzinfo=dt.UTC)


def art14_not_applicable(aware_at: dt.datetime) -> str | None:
    """Why no Art. 14 clock runs for awareness at ``aware_at``, or None when the obligations apply."""
    start = art14_applies_from()
    if aware_at >= start:
        return None
    return (
        f"CRA Art. 14 reporting applies from {start.date().isoformat()} (Art. 71(2)); "
        f"awareness on {aware_at.date().isoformat()} starts no reporting clock"
    )


def art14_deadlines(aware_at: dt.datetime, fix_available_at: dt.datetime | None) -> Art14Deadlines:
    if aware_at.tzinfo is None:
        raise ValueError("awareness time must be timezone-aware")
    final = None
    if fix_available_at is not None:
        final = max(fix_available_at, aware_at) + FINAL_REPORT_AFTER_FIX
    return Art14Deadlines(aware_at, aware_at + EARLY_WARNING, aware_at + NOTIFICATION, final, fix_available_at)


def draft_notification(product: str, product_version: str | None, match: VulnerabilityMatch) -> dict[str, Any]:
    """The Art. 14(2) fields, filled from the database where it knows them, marked where it does not."""
    measures = (
        f"update {match.component} to {', '.join(match.fixed_versions)} or later"
        if match.fixed_versions
        else "no fixed version is known yet"
    )
    return {
        "early_warning": {
            "product": product,
            "product_version": product_version,
            "vulnerability": match.vulnerability,
            "cve": list(match.cve_ids),
            "actively_exploited_evidence": f"listed in CISA KEV since {match.kev_date_added}",
            "suspected_malicious_act": TO_COMPLETE,
            "member_states_where_made_available": TO_COMPLETE,
        },
        "notification": {
            "general_product_information": f"{product} {product_version or ''}".strip()
            + f" contains {match.component}"
            + (f" ({match.purl})" if match.purl else ""),
            "nature_of_exploit_and_vulnerability": match.summary or TO_COMPLETE,
            "severity": match.severity + (f" (CVSS {match.score})" if match.score is not None else ""),
            "corrective_or_mitigating_measures_taken": measures,
            "measures_users_can_take": measures if match.fixed_versions else TO_COMPLETE,
            "sensitivity_of_information": TO_COMPLETE,
        },
        "final_report": {
            "description": f"{match.vulnerability}: {match.summary}".strip(": "),
            "severity_and_impact": match.severity,
            "malicious_actor_information": TO_COMPLETE,
            "security_update_details": measures,
        },
    }


@dataclass(frozen=True, slots=True)
class WatchChange:
    product: str
    kind: str  # new / resolved / newly-known-exploited
    match: dict[str, Any]
    deadlines: Art14Deadlines | None = None
    draft: dict[str, Any] | None = None
    art14_not_applicable: str | None = None  # a known-exploited one seen before Art. 14 applied: why no clock

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"product": self.product, "kind": self.kind, "match": self.match}
        if self.deadlines is not None:
            out["cra_art14_deadlines"] = self.deadlines.as_dict()
        if self.art14_not_applicable is not None:
            out["cra_art14_not_applicable"] = self.art14_not_applicable
        if self.draft is not None:
            out["notification_draft"] = self.draft
        return out


@dataclass(frozen=True, slots=True)
class WatchResult:
    database: str
    products: int
    changes: tuple[WatchChange, ...]
    errors: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "products": self.products,
            "changes": [c.as_dict() for c in self.changes],
            "errors": list(self.errors),
        }


StoredProduct = tuple[str, str, bytes, str | None]  # name, SBOM file name, SBOM bytes, baseline JSON

_STORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    name TEXT PRIMARY KEY,
    sbom_name TEXT NOT NULL,
    sbom BLOB NOT NULL,
    sbom_sha256 TEXT NOT NULL,
    added_at TEXT NOT NULL,
    checked_at TEXT,
    baseline TEXT
);
"""


_STORE_COLUMNS = {"name", "sbom_name", "sbom", "sbom_sha256", "added_at", "checked_at", "baseline"}


class ProductStore:
    """The store at ``path``; ``create``: make it if there is none (``watch add``), else a missing store is an
    error. Either way a file that is another SQLite database (a vulnerability database, say) is refused."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False, create: bool = False) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        if read_only:  # a worker of a distributed run: reads its share of the products, writes nothing
            try:
                self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)
                self.conn.execute("SELECT count(*) FROM products").fetchone()
            except (OSError, RuntimeError, sqlite3.Error) as exc:
                raise VulnDbError(f"{self.path}: cannot read the product store: {exc}") from exc
            return
        try:
            safeio.refuse_special(self.path)
        except InputError as exc:
            raise VulnDbError(str(exc)) from None
        if not create and not self.path.exists():
            raise VulnDbError(
                f"{self.path}: no product store here; add a product with `cybersafe watch add` first "
                "(or give the store's path with --store)"
            )
        try:
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={'rwc' if create else 'rw'}", uri=True)
            self._require_store(create=create)
        except (OSError, RuntimeError, sqlite3.Error) as exc:
            raise VulnDbError(f"{self.path}: cannot open the product store: {exc}") from exc

    def _require_store(self, *, create: bool) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "products" in tables:
            columns = {r[1] for r in self.conn.execute("PRAGMA table_info(products)")}
            if not columns >= _STORE_COLUMNS:
                self.conn.close()
                raise VulnDbError(
                    f"{self.path}: not a cybersafe product store (its products table lacks "
                    f"{', '.join(sorted(_STORE_COLUMNS - columns))})"
                )
            return
        if tables or not create:
            self.conn.close()
            what = "another SQLite database" if tables else "an empty file"
            raise VulnDbError(f"{self.path}: not a cybersafe product store ({what}; no products table)")
        self.conn.executescript(_STORE_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ProductStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, name: str, sbom_path: Path, now: dt.datetime) -> str:
        doc = load_sbom(sbom_path)  # refuse an unreadable SBOM now, not at the next watch run
        raw = safeio.read_bytes(sbom_path, MAX_STORED_SBOM_BYTES, what="a stored SBOM", error=SbomError)
        with self.conn:
            self.conn.execute(
                "INSERT INTO products (name, sbom_name, sbom, sbom_sha256, added_at) VALUES (?,?,?,?,?)"
                " ON CONFLICT(name) DO UPDATE SET sbom_name=excluded.sbom_name, sbom=excluded.sbom,"
                " sbom_sha256=excluded.sbom_sha256, added_at=excluded.added_at, baseline=NULL, checked_at=NULL",
                (name, sbom_path.name, raw, hashlib.sha256(raw).hexdigest(), now.isoformat()),
            )
        return doc.label

    def list(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT name, sbom_name, sbom_sha256, added_at, checked_at, baseline FROM products ORDER BY name"
        )
        return [
            {
                "name": r[0],
                "sbom": r[1],
                "sbom_sha256": r[2],
                "added_at": r[3],
                "checked_at": r[4],
                "known_matches": _known_matches(r[5]),
            }
            for r in rows
        ]

    def run(self, db: VulnDb, aware_at: dt.datetime, *, update: bool = True) -> WatchResult:
        """Re-match every watched SBOM here, one after the other (``fleet.watch`` spreads them over a cluster)."""
        rows = self.conn.execute("SELECT name, sbom_name, sbom, baseline FROM products ORDER BY name").fetchall()
        outcome = WatchOutcome()
        with tempfile.TemporaryDirectory() as tmp:
            for row in rows:
                outcome.add(product_changes(db, row, aware_at, Path(tmp)))
        if update:
            self.store_baselines(outcome, aware_at)
        return WatchResult(str(db.path), len(rows), tuple(outcome.changes), tuple(outcome.errors))

    def store_baselines(self, outcome: WatchOutcome, aware_at: dt.datetime) -> None:
        """Write the matches seen now as the new baselines; the products matched count as checked at ``aware_at``."""
        when = aware_at.isoformat()
        with self.conn:
            self.conn.executemany(
                "UPDATE products SET baseline=? WHERE name=?", ((t, n) for n, t in outcome.baselines.items())
            )
            self.conn.executemany("UPDATE products SET checked_at=? WHERE name=?", ((when, n) for n in outcome.checked))

    def rowid_ranges(self, parts: int) -> Sequence[tuple[int, int]]:
        """The products split into about ``parts`` ranges of rowids of equal size (for workers to read)."""
        rowids = [r[0] for r in self.conn.execute("SELECT rowid FROM products ORDER BY rowid")]
        size = max(1, -(-len(rowids) // max(1, parts)))
        return [(rowids[i], rowids[min(i + size, len(rowids)) - 1]) for i in range(0, len(rowids), size)]

    def rows_between(self, first: int, last: int) -> Sequence[StoredProduct]:
        return self.conn.execute(
            "SELECT name, sbom_name, sbom, baseline FROM products WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
            (first, last),
        ).fetchall()


@dataclass
class WatchOutcome:
    """Changes, errors and new baselines of some watched products, mergeable across workers."""

    changes: list[WatchChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    baselines: dict[str, str] = field(default_factory=dict)  # product -> baseline JSON, only where it changed
    checked: list[str] = field(default_factory=list)  # products matched (an unreadable SBOM is not)
    products: int = 0
    components: int = 0

    def add(self, other: WatchOutcome) -> None:
        self.changes.extend(other.changes)
        self.errors.extend(other.errors)
        self.baselines.update(other.baselines)
        self.checked.extend(other.checked)
        self.products += other.products
        self.components += other.components


def product_changes(db: VulnDb, row: StoredProduct, aware_at: dt.datetime, tmp: Path) -> WatchOutcome:
    """One watched product: its stored SBOM matched now, compared with the matches seen at the last run."""
    name, sbom_name, raw, baseline_text = row
    out = WatchOutcome(products=1)
    copy = tmp / f"sbom-{os.getpid()}{Path(sbom_name).suffix}"  # the stored name may be anything: keep its suffix
    copy.write_bytes(raw)
    try:
        doc = load_sbom(copy)
    except CybersafeError as exc:  # one broken product must not stop the others
        out.errors.append(f"{name}: {str(exc).replace(str(copy), sbom_name)}")
        return out
    finally:
        copy.unlink(missing_ok=True)
    try:
        baseline = _stored_baseline(baseline_text)
    except ValueError as exc:  # a damaged row: this product's error, the others still run; its baseline is kept
        out.errors.append(f"{name}: the stored baseline cannot be read ({exc}); re-add it with `cybersafe watch add`")
        return out
    out.components = len(doc.components)
    out.checked.append(name)
    report = match_components(db, doc.components, source=f"{name} ({sbom_name})")
    current = {f"{m.component_ref}|{m.vulnerability}": m for m in report.matches}
    version = doc.primary.version if doc.primary else None
    earlier = _by_alias(baseline)
    for key, m in current.items():
        before = baseline.get(key) or _earlier(earlier, m)
        if before is not None and key not in baseline:  # the group's id changed (a CVE became known)
            baseline.pop(f"{before['component_ref']}|{before['vulnerability']}", None)
            baseline[key] = before
        change = _change(name, version, m, before, aware_at)
        if change is not None:
            out.changes.append(change)
    out.changes.extend(WatchChange(name, "resolved", before) for key, before in baseline.items() if key not in current)
    stored = {key: _stored_match(m, baseline.get(key), aware_at) for key, m in current.items()}
    text = json.dumps(stored, sort_keys=True)
    if text != baseline_text:
        out.baselines[name] = text
    return out


def _known_matches(text: str | None) -> int | None:
    try:
        return len(_stored_baseline(text)) if text else None
    except ValueError:  # damaged: ``watch run`` names it; the listing shows no count
        return None


def _stored_baseline(text: str | None) -> dict[str, dict[str, Any]]:
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ValueError("not an object of matches")
    return value


def _stored_match(m: VulnerabilityMatch, before: dict[str, Any] | None, aware_at: dt.datetime) -> dict[str, Any]:
    """What the baseline keeps of a match: when it was first seen, and when a fixed version was first known."""
    now = aware_at.isoformat()
    seen = (before or {}).get("seen_at") or now
    return {**m.as_dict(), "seen_at": seen, "fixed_seen_at": _fixed_seen_at(m, before, now)}


def _fixed_seen_at(m: VulnerabilityMatch, before: dict[str, Any] | None, now: str) -> str | None:
    """When a fixed version was first known to this watch: the run that first saw one (for a baseline written
    before ``fixed_seen_at`` was kept, when the match was first seen with one); None while none is known."""
    before = before or {}
    recorded = before.get("fixed_seen_at") or (before.get("seen_at") if before.get("fixed_versions") else None)
    return recorded or (now if m.fixed_versions else None)


def _fix_known_at(m: VulnerabilityMatch, before: dict[str, Any] | None, aware_at: dt.datetime) -> dt.datetime | None:
    """The corrective measure's date for the Art. 14(2)(c) clock, or None while no fixed version is known."""
    if not m.fixed_versions:
        return None
    when = _fixed_seen_at(m, before, aware_at.isoformat())
    try:
        return dt.datetime.fromisoformat(when) if isinstance(when, str) else aware_at
    except ValueError:
        return aware_at


def _change(
    name: str, version: str | None, m: VulnerabilityMatch, before: dict[str, Any] | None, aware_at: dt.datetime
) -> WatchChange | None:
    """The change a match is against its stored one: new, newly known exploited (with the Art. 14 clocks), or none."""
    if before is not None and not (m.known_exploited and not before.get("known_exploited")):
        return None
    kind = "newly-known-exploited" if m.known_exploited else "new"
    deadlines = draft = not_applicable = None
    if m.known_exploited:
        not_applicable = art14_not_applicable(aware_at)
        if not_applicable is None:
            deadlines = art14_deadlines(aware_at, _fix_known_at(m, before, aware_at))
            draft = draft_notification(name, version, m)
    return WatchChange(name, kind, m.as_dict(), deadlines, draft, not_applicable)


def _by_alias(baseline: dict[str, dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """(component ref, any id of the stored vulnerability) -> the stored match."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for stored in baseline.values():
        for ident in (stored.get("vulnerability"), *(stored.get("aliases") or ())):
            if isinstance(ident, str):
                out[(str(stored.get("component_ref")), ident)] = stored
    return out


def _earlier(earlier: dict[tuple[str, str], dict[str, Any]], m: VulnerabilityMatch) -> dict[str, Any] | None:
    """The stored match of the same vulnerability under another id of its alias group, if any."""
    return next((earlier[(m.component_ref, i)] for i in sorted(m.ids) if (m.component_ref, i) in earlier), None)
