"""SBOM evidence: one normalised shape for CycloneDX and SPDX documents.

Components keep exactly what the document says (purl, CPE, hashes, supplier, licences); nothing is guessed
here. Dependencies are edges between component references (CycloneDX ``bom-ref``, SPDX ``SPDXID``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ComponentHash:
    alg: str  # normalised upper-case: SHA-256, SHA-512, SHA-1, MD5 ...
    value: str

    def as_dict(self) -> dict[str, str]:
        return {"alg": self.alg, "value": self.value}


@dataclass(frozen=True, slots=True)
class SbomComponent:
    ref: str  # bom-ref or SPDXID; unique inside the document
    name: str
    version: str | None = None
    purl: str | None = None
    cpe: str | None = None
    hashes: tuple[ComponentHash, ...] = ()
    supplier: str | None = None
    author: str | None = None
    licenses: tuple[str, ...] = ()
    kind: str | None = None  # library / application / firmware / operating-system ...
    filename: str | None = None
    group: str | None = None

    @property
    def display(self) -> str:
        version = f"@{self.version}" if self.version else ""
        return f"{self.name}{version}"

    @property
    def identity(self) -> str:
        """A purl when there is one, else the name and version: what a finding points at."""
        return self.purl or self.display

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ref": self.ref, "name": self.name}
        for key in ("version", "purl", "cpe", "supplier", "author", "kind", "filename", "group"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.hashes:
            out["hashes"] = [h.as_dict() for h in self.hashes]
        if self.licenses:
            out["licenses"] = list(self.licenses)
        return out


@dataclass(frozen=True)
class SbomDocument:
    """A manufacturer's SBOM, read and normalised (evidence item)."""

    path: str
    format: str  # cyclonedx / spdx
    spec_version: str  # "1.5" / "2.3"
    encoding: str  # json / xml / tag-value
    sha256: str
    components: tuple[SbomComponent, ...]
    primary: SbomComponent | None = None  # metadata.component / the package the document DESCRIBES
    dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # ref -> refs it depends on
    timestamp: dt.datetime | None = None
    authors: tuple[str, ...] = ()  # SBOM author(s) / SPDX creators (persons and organisations)
    author_contacts: tuple[str, ...] = ()  # e-mail addresses or URLs of the SBOM's creator
    tools: tuple[str, ...] = ()
    serial: str | None = None  # serialNumber / documentNamespace
    problems: tuple[str, ...] = ()  # fields that could not be used and were left out ("components[3].purl: ...")

    @property
    def label(self) -> str:
        return f"{'CycloneDX' if self.format == 'cyclonedx' else 'SPDX'} {self.spec_version} {self.encoding}"

    def all_components(self) -> tuple[SbomComponent, ...]:
        return ((self.primary,) if self.primary is not None else ()) + self.components

    def by_ref(self) -> dict[str, SbomComponent]:
        return {c.ref: c for c in self.all_components()}

    def purls(self) -> list[str]:
        return [c.purl for c in self.components if c.purl]

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "format": self.format,
            "spec_version": self.spec_version,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "components": [c.as_dict() for c in self.components],
            "dependencies": {k: list(v) for k, v in self.dependencies.items()},
        }
        if self.primary is not None:
            out["primary"] = self.primary.as_dict()
        if self.timestamp is not None:
            out["timestamp"] = self.timestamp.isoformat()
        if self.authors:
            out["authors"] = list(self.authors)
        if self.tools:
            out["tools"] = list(self.tools)
        if self.serial:
            out["serial"] = self.serial
        if self.problems:
            out["problems"] = list(self.problems)
        return out
