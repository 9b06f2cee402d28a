"""A CycloneDX 1.6 SBOM of what a firmware image contains (cyclonedx-python-lib).

Each component is listed once and carries its purl, its CPE, its supplier (the package's maintainer, or the
upstream project of a banner-only component), every place it was found (evidence occurrences with the path
inside the image) and how (evidence identity: manifest analysis for package databases, binary analysis for
version banners, with a confidence). The image itself is the BOM's metadata component (type firmware,
SHA-256); its version defaults to its digest and its supplier is whatever the user names.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import uuid
from dataclasses import dataclass
from decimal import Decimal

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.component_evidence import (
    AnalysisTechnique,
    Identity,
    IdentityField,
    Method,
    Occurrence,
)
from cyclonedx.model.component_evidence import ComponentEvidence as ComponentEvidenceModel
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from cybersafe.evidence.firmware.model import Component as FoundComponent
from cybersafe.evidence.firmware.model import ComponentEvidence, Confidence, FirmwareInventory

_CONFIDENCE = {Confidence.HIGH: Decimal("0.9"), Confidence.MEDIUM: Decimal("0.6"), Confidence.LOW: Decimal("0.3")}
_OS_NAMES = frozenset({"linux"})


@dataclass(frozen=True, slots=True)
class ImageIdentity:
    """What the SBOM says the image is: a scan alone knows its file name and digest, the user knows the rest."""

    name: str | None = None  # default: the image's file name
    version: str | None = None  # default: "sha256:<digest>", the image's own identifier
    supplier: str | None = None  # the manufacturer; without it the SBOM lacks NTIA's supplier name


def _method(ev: ComponentEvidence, confidence: Confidence) -> Method:
    technique = AnalysisTechnique.BINARY_ANALYSIS if ev.how_found == "version-banner" else (
        AnalysisTechnique.FILENAME if ev.how_found == "file-name" else AnalysisTechnique.MANIFEST_ANALYSIS
    )  # fmt: skip
    said = f" says {ev.version}" if ev.version and ev.how_found == "version-banner" else ""
    return Method(technique=technique, confidence=_CONFIDENCE[confidence], value=f"{ev.how_found}: {ev.path}{said}")


def _component(found: FoundComponent) -> Component:
    evidence = found.evidence or (ComponentEvidence(found.how_found, found.path, found.version),)
    return Component(
        name=found.name,
        version=found.version,
        type=ComponentType.OPERATING_SYSTEM if found.name in _OS_NAMES else ComponentType.LIBRARY,
        purl=PackageURL.from_string(found.purl),
        cpe=found.cpe,
        bom_ref=found.purl,
        supplier=OrganizationalEntity(name=found.supplier) if found.supplier else None,
        licenses=[
            LicenseExpression(value=lic) if " " in lic else DisjunctiveLicense(name=lic) for lic in found.licenses
        ],
        evidence=ComponentEvidenceModel(
            identity=[
                Identity(
                    field=IdentityField.PURL,
                    confidence=_CONFIDENCE[found.confidence],
                    methods=[_method(e, found.confidence) for e in evidence],
                )
            ],
            occurrences=[Occurrence(location=path) for path in dict.fromkeys(e.path for e in evidence)],
        ),
        properties=[
            Property(name="cybersafe:how-found", value=how) for how in dict.fromkeys(e.how_found for e in evidence)
        ],
    )


def _version() -> str:
    try:
        return importlib.metadata.version("cybersafe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_bom(
    inventory: FirmwareInventory,
    now: dt.datetime | None = None,
    serial: uuid.UUID | None = None,
    identity: ImageIdentity | None = None,
) -> Bom:
    identity = identity or ImageIdentity()
    name, version = identity.name or inventory.image, identity.version or f"sha256:{inventory.sha256}"
    image = Component(
        name=name,
        version=version,
        purl=PackageURL("generic", None, name, version, {"checksum": f"sha256:{inventory.sha256}"}),
        type=ComponentType.FIRMWARE,
        bom_ref=f"firmware:{inventory.sha256}",
        supplier=OrganizationalEntity(name=identity.supplier) if identity.supplier else None,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=inventory.sha256)],
        properties=[Property(name="cybersafe:budget", value=inventory.budget)]
        + [Property(name="cybersafe:not-examined", value=f"{g.area}: {g.reason}") for g in inventory.not_examined],
    )
    components: dict[str, Component] = {}
    for found in inventory.components:
        components.setdefault(found.purl, _component(found))
    bom = Bom(
        serial_number=serial or uuid.uuid4(),
        metadata=BomMetaData(
            timestamp=now or dt.datetime.now(dt.UTC),
            component=image,
            tools=ToolRepository(
                components=[Component(name="cybersafe", version=_version(), type=ComponentType.APPLICATION)]
            ),
            properties=[Property(name="cybersafe:version", value=_version())],
        ),
        components=[components[purl] for purl in sorted(components)],
    )
    for comp in bom.components:
        bom.register_dependency(image, [comp])
    return bom


def to_cyclonedx_json(
    inventory: FirmwareInventory, now: dt.datetime | None = None, identity: ImageIdentity | None = None
) -> str:
    return str(JsonV1Dot6(build_bom(inventory, now, identity=identity)).output_as_string(indent=2))
