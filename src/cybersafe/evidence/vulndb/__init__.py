"""Offline vulnerability data: OSV, CISA KEV and EPSS in a local SQLite file; purl-first matching; VEX."""

from __future__ import annotations

from cybersafe.evidence.vulndb.collector import VulnerabilityCollector, components_from_purls
from cybersafe.evidence.vulndb.match import match_components
from cybersafe.evidence.vulndb.model import (
    Confidence,
    Unmatched,
    VexStatement,
    VexStatus,
    VulnerabilityMatch,
    VulnerabilityReport,
)
from cybersafe.evidence.vulndb.store import ImportReport, VulnDb, default_db_path
from cybersafe.evidence.vulndb.vex import export_openvex, load_vex

__all__ = [
    "Confidence",
    "ImportReport",
    "Unmatched",
    "VexStatement",
    "VexStatus",
    "VulnDb",
    "VulnerabilityCollector",
    "VulnerabilityMatch",
    "VulnerabilityReport",
    "components_from_purls",
    "default_db_path",
    "export_openvex",
    "load_vex",
    "match_components",
]
