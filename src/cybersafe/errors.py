"""The one exception tree of cybersafe.

Every error a user can meet is a ``CybersafeError``; the CLI prints ``str(error)`` as one line and exits 2.
Problems met while reading hostile input (a path traversal in a firmware image, a broken record in an
OSV dump) are *recorded* as ``Problem`` values in results, not raised.

::

    CybersafeError
    ├── InputError                  bad user input; names file, line and field
    │   ├── DossierError            dossier YAML: syntax, unknown field, bad date, missing file
    │   ├── CatalogError            scheme catalog / crosswalk / arrangement data
    │   └── PaperworkDataError      a paperwork document kind (render/data/paperwork/*.yaml)
    ├── SchemeError                 scheme look-ups and catalog integrity
    │   ├── UnknownScheme
    │   ├── UnknownRequirement
    │   └── UnknownCheckReference
    ├── EvidenceError               a collector could not produce evidence
    │   ├── UnpackError             firmware could not be unpacked at all
    │   ├── BudgetExceeded          a collector stopped at a budget before producing evidence
    │   ├── SbomError               SBOM / VEX document unreadable
    │   ├── VulnDbError             vulnerability database import / query
    │   └── ProbeError              network probe
    │       ├── ProbeTimeout
    │       └── TargetRefused       target not named explicitly (safety rule)
    ├── RenderError                 report / label rendering
    │   └── InvalidOutput           our own document would fail its published schema (nothing written)
    ├── AttestationError            keys, signing
    │   └── VerificationFailed      signature, digest, validity or log check failed
    ├── RegistryError               registry client / server
    └── FleetError                  batch and distributed runs: a manifest, the Dask cluster
        ├── ManifestError           a batch manifest (also an InputError: names file, line and field)
        └── ClusterUnavailable      no scheduler at the address given, or Dask is not installed
"""

from __future__ import annotations

from pathlib import Path

from cybersafe.verdict import ErrorReason


class CybersafeError(Exception):
    """Root of every error cybersafe raises on purpose."""


class InputError(CybersafeError):
    """Bad input: carries the file, line and field so the user sees one precise line."""

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class DossierError(InputError):
    """The product dossier cannot be read or does not validate."""


class CatalogError(InputError):
    """A scheme catalog, crosswalk or arrangement file is malformed."""


class PaperworkDataError(InputError):
    """A paperwork document kind file is malformed or names a dossier field that does not exist."""


class SchemeError(CybersafeError):
    """A scheme, requirement or check reference cannot be resolved."""


class UnknownScheme(SchemeError):
    pass


class UnknownRequirement(SchemeError):
    pass


class UnknownCheckReference(SchemeError):
    pass


class EvidenceError(CybersafeError):
    """A collector could not produce its evidence; ``reason`` classifies the failure for the attempts it
    turns into errors (bad input, an unreachable device, a budget)."""

    reason: ErrorReason = ErrorReason.BAD_INPUT


class UnpackError(EvidenceError):
    pass


class BudgetExceeded(EvidenceError):
    """A collector stopped at one of its budgets (bytes, files, time) before producing usable evidence."""

    reason = ErrorReason.BUDGET_EXCEEDED


class SbomError(EvidenceError, InputError):
    """An SBOM or VEX document is unreadable; names the file and element."""


class VulnDbError(EvidenceError):
    pass


class ProbeError(EvidenceError):
    pass


class ProbeTimeout(ProbeError):
    reason = ErrorReason.PROBE_UNREACHABLE


class TargetRefused(ProbeError):
    """The probe target was not named explicitly (a range, a name with several addresses)."""


class RenderError(CybersafeError):
    pass


class InvalidOutput(RenderError, InputError):
    """A document we are about to write fails its published schema; names the element, nothing is written."""


class AttestationError(CybersafeError):
    pass


class VerificationFailed(AttestationError):
    """A label or envelope failed verification; the message says which check failed."""


class RegistryError(CybersafeError):
    pass


class FleetError(CybersafeError):
    """A batch or distributed run cannot start: a bad manifest, an output directory in the way."""


class ClusterUnavailable(FleetError):
    """No Dask scheduler answers at the address given, or the ``fleet`` extra (Dask) is not installed."""


class ManifestError(FleetError, InputError):
    """A batch manifest cannot be read or names a product badly."""
