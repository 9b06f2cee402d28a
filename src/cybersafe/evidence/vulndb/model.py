"""Vulnerability evidence: every match with its basis and confidence, and the report checks read."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Confidence(StrEnum):
    HIGH = "high"  # purl package key and a version evaluated with the ecosystem's own ordering
    MEDIUM = "medium"  # purl package key, but a version compared with generic ordering or a distro release unknown
    LOW = "low"  # CPE fallback: vendor and product only; expect false positives (anchors.md 2.5)


class VexStatus(StrEnum):
    NOT_AFFECTED = "not_affected"
    AFFECTED = "affected"
    FIXED = "fixed"
    UNDER_INVESTIGATION = "under_investigation"


@dataclass(frozen=True, slots=True)
class VexStatement:
    vulnerability: str
    aliases: frozenset[str]
    products: tuple[str, ...]  # purls (with or without version) or bom-refs
    status: VexStatus
    justification: str | None
    detail: str | None
    source: str  # file the statement came from

    def ids(self) -> frozenset[str]:
        return self.aliases | {self.vulnerability}


@dataclass(frozen=True, slots=True)
class VulnerabilityMatch:
    component_ref: str
    component: str  # name@version
    purl: str | None
    version: str
    vulnerability: str  # the group's id: a CVE when one is known, else the advisory's own id
    aliases: tuple[str, ...]  # every other id of the alias group (GHSA, PYSEC, GO, OSV ...)
    summary: str
    severity: str  # the highest any source states: critical / high / medium / low / none / unknown
    score: float | None  # the highest CVSS base score any source states
    known_exploited: bool
    kev_date_added: str | None
    epss: float | None
    fixed_versions: tuple[str, ...]
    basis: str  # e.g. "purl pkg:pypi/jinja2 + ECOSYSTEM range (PyPI)"
    confidence: Confidence
    first_seen: str | None = None  # when the advisory entered the local database
    sources: tuple[str, ...] = ()  # the advisory records merged into this one vulnerability
    cpe: str | None = None  # the component's CPE, when it has one
    severity_basis: str = ""  # what the severity was read from, per source
    vex_status: VexStatus | None = None
    vex_justification: str | None = None
    vex_source: str | None = None

    @property
    def ids(self) -> frozenset[str]:
        return frozenset((self.vulnerability, *self.aliases))

    @property
    def cve_ids(self) -> tuple[str, ...]:
        return tuple(i for i in (self.vulnerability, *self.aliases) if i.startswith("CVE-"))

    @property
    def suppressed(self) -> bool:
        """A VEX statement says this product is not affected (or the issue is fixed)."""
        return self.vex_status in (VexStatus.NOT_AFFECTED, VexStatus.FIXED)

    @property
    def fix_available(self) -> bool:
        return bool(self.fixed_versions)

    def with_vex(self, statement: VexStatement) -> VulnerabilityMatch:
        return replace(
            self,
            vex_status=statement.status,
            vex_justification=statement.justification or statement.detail,
            vex_source=statement.source,
        )

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "component": self.component,
            "component_ref": self.component_ref,
            "purl": self.purl,
            "vulnerability": self.vulnerability,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "severity": self.severity,
            "score": self.score,
            "severity_basis": self.severity_basis,
            "sources": list(self.sources),
            "known_exploited": self.known_exploited,
            "kev_date_added": self.kev_date_added,
            "epss": self.epss,
            "fixed_versions": list(self.fixed_versions),
            "basis": self.basis,
            "confidence": str(self.confidence),
        }
        if self.vex_status is not None:
            out["vex"] = {
                "status": str(self.vex_status),
                "justification": self.vex_justification,
                "source": self.vex_source,
            }
        return out


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A component that could not be matched, and why (no version, no purl or CPE, unknown ecosystem)."""

    component_ref: str
    component: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"component": self.component, "component_ref": self.component_ref, "reason": self.reason}


@dataclass(frozen=True)
class VulnerabilityReport:
    """What the matcher found for one SBOM (and/or firmware inventory) against one database (evidence item)."""

    source: str  # the SBOM path or "firmware inventory"
    database: str
    osv_imported_at: str | None
    kev_imported_at: str | None
    components_examined: int
    matches: tuple[VulnerabilityMatch, ...]
    unmatched: tuple[Unmatched, ...] = ()
    vex_sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    kev_entries: int = 0  # entries of the CISA KEV catalog in the database
    kev_released: str | None = None  # the catalog's dateReleased (JSON imports; unknown for CSV)

    @property
    def active(self) -> tuple[VulnerabilityMatch, ...]:
        return tuple(m for m in self.matches if not m.suppressed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "database": self.database,
            "osv_imported_at": self.osv_imported_at,
            "kev_imported_at": self.kev_imported_at,
            "components_examined": self.components_examined,
            "matches": [m.as_dict() for m in self.matches],
            "unmatched": [u.as_dict() for u in self.unmatched],
            "vex_sources": list(self.vex_sources),
            "notes": list(self.notes),
            "kev_entries": self.kev_entries,
            "kev_released": self.kev_released,
        }
