"""The SBOM collector: reads ``dossier.artefacts.sbom`` into an ``SbomDocument``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe.evidence.interface import Artefact, CollectorResult, Problem, ProblemSeverity, ProgressReporter
from cybersafe.evidence.sbom.model import SbomDocument
from cybersafe.evidence.sbom.parse import load_sbom

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier


class SbomCollector:
    NAME = "sbom"
    PRODUCES: tuple[type, ...] = (SbomDocument,)

    def applies(self, dossier: Dossier) -> bool:
        return dossier.artefacts.sbom is not None

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        assert dossier.artefacts.sbom is not None
        path = base_dir / dossier.artefacts.sbom
        progress.start("sbom", 1)
        try:
            doc = load_sbom(path)  # SbomError (an EvidenceError, reason bad_input) when unreadable
        finally:
            progress.finish("sbom")
        problems = [Problem("sbom", ProblemSeverity.WARNING, f"left out: {text}", str(path)) for text in doc.problems]
        if not doc.components:
            problems.append(Problem("sbom", ProblemSeverity.WARNING, "the SBOM lists no component", str(path)))
        artefact = Artefact("sbom", path.name, sha256=doc.sha256, size=path.stat().st_size)
        return CollectorResult(items=(doc,), problems=problems, artefacts=(artefact,))
