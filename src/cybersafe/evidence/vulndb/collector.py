"""The vulnerability collector: SBOM + local database (+ VEX) -> ``VulnerabilityReport``.

Applies when the dossier names an SBOM and a database is available (``artefacts.vulndb`` or
CYBERSAFE_VULNDB). It reads the SBOM itself, because a collector sees the dossier, not other evidence.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from packageurl import PackageURL

from cybersafe.errors import VulnDbError
from cybersafe.evidence.interface import CollectorResult, Problem, ProblemSeverity, ProgressReporter
from cybersafe.evidence.sbom.model import SbomComponent
from cybersafe.evidence.sbom.parse import load_sbom
from cybersafe.evidence.vulndb.match import match_components
from cybersafe.evidence.vulndb.model import VexStatement, VulnerabilityReport
from cybersafe.evidence.vulndb.store import ENV_VAR, VulnDb
from cybersafe.evidence.vulndb.vex import load_vex

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier


def components_from_purls(purls: Sequence[str]) -> list[SbomComponent]:
    """Firmware-inventory purls as components, so the matcher can run without an SBOM."""
    out = []
    for i, purl in enumerate(purls):
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            continue
        out.append(SbomComponent(ref=f"inventory-{i}", name=parsed.name, version=parsed.version, purl=purl))
    return out


def _db_path(dossier: Dossier, base_dir: Path) -> Path | None:
    if dossier.artefacts.vulndb:
        return base_dir / dossier.artefacts.vulndb
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else None


class VulnerabilityCollector:
    NAME = "vulnerabilities"
    PRODUCES: tuple[type, ...] = (VulnerabilityReport,)

    def applies(self, dossier: Dossier) -> bool:
        return dossier.artefacts.sbom is not None and (
            dossier.artefacts.vulndb is not None or bool(os.environ.get(ENV_VAR))
        )

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        assert dossier.artefacts.sbom is not None
        path = _db_path(dossier, base_dir)
        if path is None or not path.is_file():
            raise VulnDbError(f"{path}: no vulnerability database here; run `cybersafe vulndb import` first")
        sbom = load_sbom(base_dir / dossier.artefacts.sbom)  # SbomError (reason bad_input) when unreadable
        vex: list[VexStatement] = []
        for name in dossier.artefacts.vex:
            vex.extend(load_vex(base_dir / name))
        progress.start("vulnerability matching", len(sbom.components))
        with VulnDb(path, create=False) as db:
            report = match_components(
                db, sbom.components, source=sbom.path, vex=vex, vex_sources=tuple(dossier.artefacts.vex)
            )
        progress.finish("vulnerability matching")
        problems = [Problem("vulnerabilities", ProblemSeverity.WARNING, note, str(path)) for note in report.notes]
        return CollectorResult(items=(report,), problems=problems)
