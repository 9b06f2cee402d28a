"""Offline vulnerability data: OSV, CISA KEV and EPSS in a local SQLite file; purl-first matching; VEX.

The names below import their module on first use: a check reading ``model`` does not load the matcher.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cybersafe._lazy import lazy_exports

if TYPE_CHECKING:
    from cybersafe.evidence.vulndb.collector import VulnerabilityCollector as VulnerabilityCollector
    from cybersafe.evidence.vulndb.collector import components_from_purls as components_from_purls
    from cybersafe.evidence.vulndb.match import match_components as match_components
    from cybersafe.evidence.vulndb.model import Confidence as Confidence
    from cybersafe.evidence.vulndb.model import Unmatched as Unmatched
    from cybersafe.evidence.vulndb.model import VexStatement as VexStatement
    from cybersafe.evidence.vulndb.model import VexStatus as VexStatus
    from cybersafe.evidence.vulndb.model import VulnerabilityMatch as VulnerabilityMatch
    from cybersafe.evidence.vulndb.model import VulnerabilityReport as VulnerabilityReport
    from cybersafe.evidence.vulndb.store import ImportReport as ImportReport
    from cybersafe.evidence.vulndb.store import VulnDb as VulnDb
    from cybersafe.evidence.vulndb.store import default_db_path as default_db_path
    from cybersafe.evidence.vulndb.vex import export_openvex as export_openvex
    from cybersafe.evidence.vulndb.vex import load_vex as load_vex

_EXPORTS = {
    "Confidence": "model",
    "ImportReport": "store",
    "Unmatched": "model",
    "VexStatement": "model",
    "VexStatus": "model",
    "VulnDb": "store",
    "VulnerabilityCollector": "collector",
    "VulnerabilityMatch": "model",
    "VulnerabilityReport": "model",
    "components_from_purls": "collector",
    "default_db_path": "store",
    "export_openvex": "vex",
    "load_vex": "vex",
    "match_components": "match",
}
__getattr__ = lazy_exports(__name__, _EXPORTS)
