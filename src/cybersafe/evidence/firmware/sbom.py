"""A CycloneDX 1.6 SBOM of what a firmware image contains (cyclonedx-python-lib).

Each component carries its purl, where it was found (evidence occurrences with the path inside the image)
and how (evidence identity: manifest analysis for package databases, binary analysis for version banners,
with a confidence). The image itself is the BOM's metadata component (type firmware, SHA-256).
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import uuid
from collections import defaultdict
from decimal import Decimal

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    ComponentEvidence,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from cybersafe.evidence.firmware.model import Component as FoundComponent
from cybersafe.evidence.firmware.model import Confidence, FirmwareInventory

_CONFIDENCE = {Confidence.HIGH: Decimal("0.9"), Confidence.MEDIUM: Decimal("0.6"), Confidence.LOW: Decimal("0.3")}
_OS_NAMES = frozenset({"linux"})


def _component(purl: str, found: list[FoundComponent]) -> Component:
    first = found[0]
    methods = [
        Method(
            technique=AnalysisTechnique.MANIFEST_ANALYSIS
            if c.how_found != "version-banner"
            else AnalysisTechnique.BINARY_ANALYSIS,
            confidence=_CONFIDENCE[c.confidence],
            value=f"{c.how_found}: {c.path}",
        )
        for c in found
    ]
    best = max(_CONFIDENCE[c.confidence] for c in found)
    return Component(
        name=first.name,
        version=first.version,
        type=ComponentType.OPERATING_SYSTEM if first.name in _OS_NAMES else ComponentType.LIBRARY,
        purl=PackageURL.from_string(purl),
        bom_ref=purl,
        evidence=ComponentEvidence(
            identity=[Identity(field=IdentityField.PURL, confidence=best, methods=methods)],
            occurrences=[Occurrence(location=c.path) for c in found],
        ),
        properties=[Property(name="cybersafe:how-found", value=c.how_found) for c in found],
    )


def _version() -> str:
    try:
        return importlib.metadata.version("cybersafe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_bom(inventory: FirmwareInventory, now: dt.datetime | None = None, serial: uuid.UUID | None = None) -> Bom:
    grouped: dict[str, list[FoundComponent]] = defaultdict(list)
    for comp in inventory.components:
        grouped[comp.purl].append(comp)
    image = Component(
        name=inventory.image,
        type=ComponentType.FIRMWARE,
        bom_ref=f"firmware:{inventory.sha256}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=inventory.sha256)],
        properties=[Property(name="cybersafe:budget", value=inventory.budget)]
        + [Property(name="cybersafe:not-examined", value=f"{g.area}: {g.reason}") for g in inventory.not_examined],
    )
    bom = Bom(
        serial_number=serial or uuid.uuid4(),
        metadata=BomMetaData(
            timestamp=now or dt.datetime.now(dt.UTC),
            component=image,
            properties=[Property(name="cybersafe:version", value=_version())],
        ),
        components=[_component(purl, found) for purl, found in sorted(grouped.items())],
    )
    for comp in bom.components:
        bom.register_dependency(image, [comp])
    return bom


def to_cyclonedx_json(inventory: FirmwareInventory, now: dt.datetime | None = None) -> str:
    return str(JsonV1Dot6(build_bom(inventory, now)).output_as_string(indent=2))
