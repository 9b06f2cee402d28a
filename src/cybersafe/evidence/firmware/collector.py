"""The firmware collector: the dossier's firmware artefact -> one FirmwareInventory.

``FirmwareCollector`` is what ``assess`` runs for the dossier's ``artefacts.firmware``; ``scan_image`` is
the same work for ``cybersafe firmware scan``. Both produce one ``FirmwareInventory`` (model.py).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cybersafe import safeio
from cybersafe.errors import InputError, UnpackError
from cybersafe.evidence.firmware.budget import Budget, BudgetName, budget_for
from cybersafe.evidence.firmware.memo import FileMemo
from cybersafe.evidence.firmware.model import FirmwareInventory, UnpackProblem
from cybersafe.evidence.firmware.scan import scan_image
from cybersafe.evidence.interface import Artefact, CollectorResult, Problem, ProblemSeverity, ProgressReporter

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier
    from cybersafe.evidence.firmware.unpack import Extraction
    from cybersafe.results import Assessment


_WARNING_KINDS = frozenset(
    {"budget-exceeded", "unknown-format", "extractor-failed", "symlink-escape", "decompression-limit", "path-traversal"}
)


class FirmwareCollector:
    NAME = "firmware"
    PRODUCES: tuple[type, ...] = (FirmwareInventory,)

    def __init__(
        self,
        budget: Budget | None = None,
        *,
        extraction: Extraction | None = None,
        memo: FileMemo | None = None,
        hashed: Mapping[Path, concurrent.futures.Future[tuple[str, int]]] | None = None,
    ) -> None:
        """``extraction``: the image's extraction, already started (``firmware scan`` starts it early);
        ``memo``: the per-file facts of a baseline scan (``with_baseline``); ``hashed``: digests of images
        taken already (``digest.image_digest``), by path."""
        self.budget = budget or budget_for(BudgetName.STANDARD)
        self.extraction = extraction
        self.memo = memo
        self.hashed = hashed or {}

    def with_baseline(
        self, baseline: Assessment, hashed: Mapping[Path, concurrent.futures.Future[tuple[str, int]]]
    ) -> FirmwareCollector:
        """This collector, re-analysing only the files the baseline's scan does not know (``memo.py``), and
        taking the image's digest from ``hashed`` when it is there."""
        inputs = baseline.inputs
        memo = FileMemo.from_wire(inputs.firmware_memo, inputs.firmware_files) if inputs is not None else None
        return FirmwareCollector(self.budget, extraction=self.extraction, memo=memo, hashed=hashed)

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
            inventory = scan_image(
                path, self.budget, progress, extraction=self.extraction, memo=self.memo, digesting=self.hashed.get(path)
            )
        except InputError as exc:
            raise UnpackError(str(exc)) from exc
        gaps = unexamined_paths(inventory)
        return CollectorResult(
            items=(inventory,),
            problems=tuple(
                Problem(
                    source="firmware.unpack",
                    severity=problem_severity(p, gaps),
                    message=f"{p.kind}: {p.message}",
                    path=p.path,
                )
                for p in inventory.problems
            ),
            artefacts=(Artefact("firmware", path.name, inventory.sha256, inventory.size),),
        )


def unexamined_paths(inventory: FirmwareInventory) -> set[str]:
    """The paths the inventory records as not examined (its gaps)."""
    return {g.path for g in inventory.not_examined if g.path is not None}


def problem_severity(problem: UnpackProblem, gaps: set[str]) -> ProblemSeverity:
    """A warning when the problem left part of the image unexamined (a failed extraction of the image or of one
    of its top-level parts, a bomb, a budget; ``gaps``: ``unexamined_paths``); information when it did not (a
    misdetected chunk inside a binary of an examined file system, which unblob reports and nothing is missing for)."""
    if problem.kind in _WARNING_KINDS:
        return ProblemSeverity.WARNING
    return ProblemSeverity.WARNING if problem.path is not None and problem.path in gaps else ProblemSeverity.INFO
