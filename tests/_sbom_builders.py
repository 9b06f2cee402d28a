"""Builders of real-format SBOM, OSV, KEV, EPSS and VEX fixtures for the sbom/vulndb tests.

CycloneDX documents are written by cyclonedx-python-lib's own outputters and SPDX documents by spdx-tools'
writers, so the fixtures are what real tools emit. OSV/OpenVEX/CSAF fixtures are validated against the
vendored JSON Schemas in /work/shared/schemas (see SCHEMAS).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Any

SCHEMAS = Path("/work/shared/schemas")
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)

# (bom-ref, name, version, purl, cpe, supplier)
COMPONENTS: list[tuple[str, str, str | None, str | None, str | None, str | None]] = [
    ("busybox", "busybox", "1.36.1", "pkg:generic/busybox@1.36.1", None, "BusyBox"),
    ("openssl", "openssl", "1.1.1t", None, "cpe:2.3:a:openssl:openssl:1.1.1t:*:*:*:*:*:*:*", "OpenSSL"),
    ("jinja2", "jinja2", "3.1.2", "pkg:pypi/jinja2@3.1.2", None, "Pallets"),
    ("lodash", "lodash", "4.17.20", "pkg:npm/lodash@4.17.20", None, "lodash"),
    ("libc", "libc6", "2.36-9", "pkg:deb/debian/libc6@2.36-9?distro=debian-12", None, "Debian"),
    ("zlib", "zlib", "1.2.13-r0", "pkg:apk/alpine/zlib@1.2.13-r0", None, "Alpine"),
    ("mystery", "mystery-blob", None, None, None, None),
]


def _bom(spec: str) -> Any:
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.contact import OrganizationalContact, OrganizationalEntity
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.timestamp = WHEN
    bom.metadata.authors.add(OrganizationalContact(name="ACME PSIRT", email="psirt@acme.example"))
    root = Component(
        name="acme-cam-fw",
        version="1.4.0",
        type=ComponentType.FIRMWARE,
        bom_ref="root",
        supplier=OrganizationalEntity(name="ACME"),
    )
    bom.metadata.component = root
    comps = []
    for ref, name, version, purl, cpe, supplier in COMPONENTS:
        comp = Component(
            name=name,
            version=version,
            bom_ref=ref,
            purl=PackageURL.from_string(purl) if purl else None,
            cpe=cpe,
            supplier=OrganizationalEntity(name=supplier) if supplier else None,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content="ab" * 32)],
        )
        bom.components.add(comp)
        comps.append(comp)
    bom.register_dependency(root, comps)
    return bom


def write_cyclonedx(path: Path, spec: str, fmt: str) -> Path:
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    version = {"1.4": SchemaVersion.V1_4, "1.5": SchemaVersion.V1_5, "1.6": SchemaVersion.V1_6}[spec]
    out = make_outputter(_bom(spec), OutputFormat.JSON if fmt == "json" else OutputFormat.XML, version)
    path.write_text(out.output_as_string(indent=2), encoding="utf-8")
    return path


def _spdx_document() -> Any:
    from spdx_tools.spdx.model.actor import Actor, ActorType
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
    from spdx_tools.spdx.model.document import CreationInfo, Document
    from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package
    from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name="acme-cam-fw",
        document_namespace="https://acme.example/spdx/acme-cam-fw-1.4.0",
        creators=[Actor(ActorType.ORGANIZATION, "ACME", "psirt@acme.example"), Actor(ActorType.TOOL, "gen-1.0")],
        created=WHEN.replace(tzinfo=None),
    )
    packages = [
        Package(
            "SPDXRef-root",
            "acme-cam-fw",
            SpdxNoAssertion(),
            version="1.4.0",
            supplier=Actor(ActorType.ORGANIZATION, "ACME"),
            files_analyzed=False,
        )
    ]
    rels = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-root")]
    for ref, name, version, purl, cpe, supplier in COMPONENTS:
        refs = []
        if purl:
            refs.append(ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl))
        if cpe:
            refs.append(ExternalPackageRef(ExternalPackageRefCategory.SECURITY, "cpe23Type", cpe))
        packages.append(
            Package(
                f"SPDXRef-{ref}",
                name,
                SpdxNoAssertion(),
                version=version,
                supplier=Actor(ActorType.ORGANIZATION, supplier) if supplier else None,
                files_analyzed=False,
                checksums=[Checksum(ChecksumAlgorithm.SHA512, "cd" * 64)],
                external_references=refs,
            )
        )
        rels.append(Relationship("SPDXRef-root", RelationshipType.DEPENDS_ON, f"SPDXRef-{ref}"))
    return Document(creation_info=info, packages=packages, relationships=rels)


def write_spdx(path: Path, fmt: str) -> Path:
    from spdx_tools.spdx.writer.json import json_writer
    from spdx_tools.spdx.writer.tagvalue import tagvalue_writer

    doc = _spdx_document()
    if fmt == "json":
        json_writer.write_document_to_file(doc, str(path), validate=True)
    else:
        tagvalue_writer.write_document_to_file(doc, str(path), validate=True)
    return path


# --- OSV -------------------------------------------------------------------------------------------------


def osv(
    ident: str,
    affected: list[dict[str, Any]],
    *,
    aliases: list[str] | None = None,
    modified: str = "2026-01-01T00:00:00Z",
    severity: str | None = None,
    summary: str = "test advisory",
    cvss: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "schema_version": "1.7.5",
        "id": ident,
        "modified": modified,
        "published": "2025-12-01T00:00:00Z",
        "summary": summary,
        "affected": affected,
    }
    if aliases:
        record["aliases"] = aliases
    if severity:
        record["database_specific"] = {"severity": severity}
    if cvss:
        record["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    return record


def pkg(
    ecosystem: str,
    name: str,
    ranges: list[dict[str, Any]] | None = None,
    versions: list[str] | None = None,
    purl: str | None = None,
    cpe: str | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if purl:
        entry["package"]["purl"] = purl
    if ranges is not None:
        entry["ranges"] = ranges
    if versions is not None:
        entry["versions"] = versions
    if cpe:
        entry["database_specific"] = {"cpe": cpe}
    return entry


def rng(kind: str, *events: tuple[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, "events": [{k: v} for k, v in events]}
    if kind == "GIT":
        out["repo"] = "https://git.example/repo"
    return out


CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"


def osv_corpus() -> list[dict[str, Any]]:
    """Every range type and event kind, against the COMPONENTS above."""
    return [
        # ECOSYSTEM introduced/fixed (PyPI): jinja2 3.1.2 < 3.1.3 -> affected, fix 3.1.3
        osv(
            "GHSA-h5c8-rqwp-cp95",
            [pkg("PyPI", "Jinja2", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "3.1.3"))])],
            aliases=["CVE-2024-22195"],
            severity="MODERATE",
        ),
        # SEMVER with last_affected (npm): lodash 4.17.20 <= 4.17.20 -> affected, no fix known
        osv(
            "GHSA-35jh-r3h4-6jhm",
            [pkg("npm", "lodash", [rng("SEMVER", ("introduced", "4.0.0"), ("last_affected", "4.17.20"))])],
            aliases=["CVE-2021-23337"],
            severity="HIGH",
        ),
        # ECOSYSTEM Debian with epoch-less versions and a release suffix: fixed in 2.36-9+deb12u4
        osv(
            "DSA-5514-1",
            [
                pkg("Debian:12", "glibc", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.36-9+deb12u3"))]),
                pkg("Debian:12", "libc6", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.36-9+deb12u3"))]),
            ],
            aliases=["CVE-2023-4911"],
            cvss="CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        ),
        # Alpine, with a limit event and an explicit fixed: zlib 1.2.13-r0 < 1.2.13-r1
        osv(
            "ALPINE-CVE-2023-45853",
            [
                pkg(
                    "Alpine:v3.18",
                    "zlib",
                    [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "1.2.13-r1"), ("limit", "1.3"))],
                )
            ],
            aliases=["CVE-2023-45853"],
            cvss=CRITICAL,
        ),
        # explicit version list + GIT range (not evaluable offline) for a generic purl: busybox 1.36.1 listed
        osv(
            "OSV-2026-1",
            [
                pkg(
                    "OSS-Fuzz",
                    "busybox",
                    [rng("GIT", ("introduced", "0" * 40), ("fixed", "a" * 40))],
                    versions=["1.36.0", "1.36.1"],
                    purl="pkg:generic/busybox",
                )
            ],
            aliases=["CVE-2022-48174"],
            cvss=CRITICAL,
        ),
        # CPE fallback only (OpenSSL has no purl in the SBOM): fixed in 1.1.1u
        osv(
            "CVE-2023-0464",
            [
                {
                    "ranges": [rng("ECOSYSTEM", ("introduced", "1.1.1"), ("fixed", "1.1.1u"))],
                    "database_specific": {"cpe": "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"},
                }
            ],
            cvss="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
        ),
        # not affecting anything here: jinja2 fixed before 3.0
        osv(
            "PYSEC-2019-217",
            [pkg("PyPI", "jinja2", [rng("ECOSYSTEM", ("introduced", "0"), ("fixed", "2.10.1"))])],
            aliases=["CVE-2019-10906"],
            severity="HIGH",
        ),
    ]


def kev_catalog(cves: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "title": "CISA Catalog of Known Exploited Vulnerabilities",
        "catalogVersion": "2026.01.02",
        "dateReleased": "2026-01-02T12:00:00.000Z",
        "count": len(cves),
        "vulnerabilities": [
            {
                "cveID": cve,
                "vendorProject": "Vendor",
                "product": "Product",
                "vulnerabilityName": f"{cve} test",
                "dateAdded": added,
                "shortDescription": "test",
                "requiredAction": "Apply updates per vendor instructions.",
                "dueDate": added,
                "knownRansomwareCampaignUse": "Unknown",
                "notes": "",
                "cwes": [],
            }
            for cve, added in cves
        ],
    }


def write_kev_csv(path: Path, cves: list[tuple[str, str]]) -> Path:
    lines = [
        "cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,"
        "knownRansomwareCampaignUse,notes,cwes"
    ]
    lines += [f'{c},Vendor,Product,"{c} test",{d},test,"Apply updates.",{d},Unknown,,' for c, d in cves]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_osv_zip(path: Path, records: list[dict[str, Any]], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record))
        for name, raw in (extra or {}).items():
            archive.writestr(name, raw)
    return path


def openvex_doc(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://acme.example/vex/1",
        "author": "ACME PSIRT",
        "timestamp": "2026-01-02T00:00:00Z",
        "version": 1,
        "statements": statements,
    }


def csaf_vex(cve: str, purl: str, status: str = "known_not_affected") -> dict[str, Any]:
    return {
        "document": {
            "category": "csaf_vex",
            "csaf_version": "2.0",
            "publisher": {"category": "vendor", "name": "ACME", "namespace": "https://acme.example"},
            "title": "ACME camera VEX",
            "tracking": {
                "current_release_date": "2026-01-02T00:00:00Z",
                "id": "ACME-VEX-2026-001",
                "initial_release_date": "2026-01-02T00:00:00Z",
                "revision_history": [{"date": "2026-01-02T00:00:00Z", "number": "1", "summary": "Initial"}],
                "status": "final",
                "version": "1",
            },
        },
        "product_tree": {
            "branches": [
                {
                    "category": "vendor",
                    "name": "ACME",
                    "branches": [
                        {
                            "category": "product_version",
                            "name": "busybox 1.36.1",
                            "product": {
                                "name": "busybox 1.36.1",
                                "product_id": "CSAFPID-0001",
                                "product_identification_helper": {"purl": purl},
                            },
                        }
                    ],
                }
            ]
        },
        "vulnerabilities": [
            {
                "cve": cve,
                "notes": [{"category": "description", "text": "test"}],
                "product_status": {status: ["CSAFPID-0001"]},
                "flags": [{"label": "vulnerable_code_not_in_execute_path", "product_ids": ["CSAFPID-0001"]}],
                "threats": [
                    {"category": "impact", "details": "The applet is not built.", "product_ids": ["CSAFPID-0001"]}
                ],
            }
        ],
    }


def validator(schema_file: str) -> Any:
    """A jsonschema validator for a vendored schema, with the CSAF -> CVSS refs resolved offline."""
    from jsonschema import Draft202012Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4, DRAFT7

    schema = json.loads((SCHEMAS / schema_file).read_text())
    cvss = {n: json.loads((SCHEMAS / f"cvss-v{n}.json").read_text()) for n in ("2.0", "3.0", "3.1")}
    registry = Registry().with_resources(
        [
            ("https://www.first.org/cvss/cvss-v2.0.json", DRAFT4.create_resource(cvss["2.0"])),
            ("https://www.first.org/cvss/cvss-v3.0.json", DRAFT4.create_resource(cvss["3.0"])),
            ("https://www.first.org/cvss/cvss-v3.1.json", DRAFT7.create_resource(cvss["3.1"])),
        ]
    )
    return Draft202012Validator(schema, registry=registry)
