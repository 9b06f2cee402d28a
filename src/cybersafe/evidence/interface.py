"""Evidence: the facts collectors produce and checks read.

Collectors turn artefacts (dossier, firmware image, SBOM, reachable device) into facts and never decide
verdicts. Evidence items are looked up by their class, ``evidence.get(FirmwareInventory)``, so this
interface knows nothing of the families that plug into it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from cybersafe.verdict import ErrorReason

if TYPE_CHECKING:
    from cybersafe.dossier.model import Dossier

T = TypeVar("T")


class ProblemSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something met while collecting: recorded, shown in reports, never raised (unblob's record_problem)."""

    source: str  # collector or component that met it, e.g. "firmware.unpack"
    severity: ProblemSeverity
    message: str
    path: str | None = None  # file inside the image, document path, or host:port

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source, "severity": str(self.severity), "message": self.message}
        if self.path is not None:
            out["path"] = self.path
        return out


@dataclass(frozen=True, slots=True)
class Artefact:
    """An input artefact and its digest, so a report and a label can name exactly what was tested."""

    kind: str  # dossier / firmware / sbom / device / manual-evidence
    name: str  # file name or host
    sha256: str | None = None
    size: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class EvidenceFailure:
    """A collector failed: checks that need this evidence become error attempts with this reason."""

    reason: ErrorReason
    detail: str


class ProgressReporter(Protocol):
    """Progress goes through this protocol; the core never prints (unblob's ProgressReporter)."""

    def start(self, task: str, total: int | None = None) -> None: ...

    def advance(self, task: str, amount: int = 1, detail: str | None = None) -> None: ...

    def finish(self, task: str) -> None: ...


class NullProgressReporter:
    def start(self, task: str, total: int | None = None) -> None:
        return None

    def advance(self, task: str, amount: int = 1, detail: str | None = None) -> None:
        return None

    def finish(self, task: str) -> None:
        return None


@dataclass
class Evidence:
    """The evidence bundle of one assessment."""

    dossier: Dossier
    base_dir: Path = field(default_factory=Path.cwd)
    as_of: dt.date = field(default_factory=dt.date.today)  # the assessment date, injected by the engine
    items: dict[type, Any] = field(default_factory=dict)
    failures: dict[type, EvidenceFailure] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    artefacts: list[Artefact] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The dossier is evidence too: declaration checks require it like any other kind.
        self.items.setdefault(type(self.dossier), self.dossier)

    def get(self, kind: type[T]) -> T | None:
        item = self.items.get(kind)
        return item if isinstance(item, kind) else None

    def require(self, kind: type[T]) -> T:
        item = self.get(kind)
        if item is None:  # the engine checks REQUIRES first; this guards direct calls
            raise LookupError(f"no {kind.__name__} evidence")
        return item

    def add(self, item: object) -> None:
        self.items[type(item)] = item

    def fail(self, kind: type, reason: ErrorReason, detail: str) -> None:
        self.failures[kind] = EvidenceFailure(reason, detail)

    def failure(self, kind: type) -> EvidenceFailure | None:
        return self.failures.get(kind)

    def kinds(self) -> Iterator[type]:
        return iter(self.items)


@dataclass(frozen=True)
class CollectorResult:
    items: Sequence[object] = ()
    problems: Sequence[Problem] = ()
    artefacts: Sequence[Artefact] = ()


@runtime_checkable
class Collector(Protocol):
    """Turns one artefact of the dossier into evidence items.

    ``applies`` says whether the dossier names the artefact. ``collect`` returns items, problems and
    artefact digests; it raises ``EvidenceError`` only when nothing usable could be produced, and the
    engine then records the failure for every kind in ``PRODUCES``.
    """

    NAME: str
    PRODUCES: tuple[type, ...]

    def applies(self, dossier: Dossier) -> bool: ...

    def collect(self, dossier: Dossier, base_dir: Path, progress: ProgressReporter) -> CollectorResult: ...
