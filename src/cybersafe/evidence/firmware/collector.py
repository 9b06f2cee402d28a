"""The firmware collector: the dossier's firmware artefact -> one FirmwareInventory.

``FirmwareCollector`` is what ``assess`` runs for the dossier's ``artefacts.firmware``; ``scan_image`` is
the same work for ``cybersafe firmware scan``. Both produce one ``FirmwareInventory`` (model.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe import safeio
from cybersafe.errors import InputError, UnpackError
from cybersafe.evidence.firmware.budget import Budget, BudgetName, budget_for
from cybersafe.evidence.firmware.model import FirmwareInventory
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.interface import Artefact, CollectorResult, Problem, ProblemSeverity, ProgressReporter

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier
    from cybersafe.evidence.firmware.unpack import Extraction


_WARNING_KINDS = frozenset({"budget-exceeded", "unknown-format", "extractor-failed", "symlink-escape"})


class FirmwareCollector:
    NAME = "firmware"
    PRODUCES: tuple[type, ...] = (FirmwareInventory,)

    def __init__(self, budget: Budget | None = None, *, extraction: Extraction | None = None) -> None:
        """``extraction``: the image's extraction, already started (``firmware scan`` starts it early)."""
        self.budget = budget or budget_for(BudgetName.STANDARD)
        self.extraction = extraction

    def applies(self, dossier: Dossier) -> bool:
        return dossier.artefacts.firmware is not None

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult:
        relative = dossier.artefacts.firmware
        if relative is None:
            return CollectorResult()
        path = base_dir / relative
        found = safeio.describe(path)
        if found != "a regular file":
            why = "file not found" if found == "not found" else f"not a regular file ({found})"
            raise UnpackError(f"{path}: artefacts.firmware: {why}")
        try:
            inventory = scan_image(path, self.budget, progress, extraction=self.extraction)
        except InputError as exc:
            raise UnpackError(str(exc)) from exc
        return CollectorResult(
            items=(inventory,),
            problems=tuple(
                Problem(
                    source="firmware.unpack",
                    severity=ProblemSeverity.WARNING if p.kind in _WARNING_KINDS else ProblemSeverity.INFO,
                    message=f"{p.kind}: {p.message}",
                    path=p.path,
                )
                for p in inventory.problems
            ),
            artefacts=(Artefact("firmware", path.name, inventory.sha256, inventory.size),),
        )
