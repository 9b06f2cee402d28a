"""SBOM in: CycloneDX 1.4-1.6 JSON/XML and SPDX 2.3 JSON/tag-value, written by the real libraries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests._sbom_builders import COMPONENTS, write_cyclonedx, write_spdx

from cybersafe.errors import SbomError
from cybersafe.evidence.sbom import load_sbom, rate_minimum_elements
from cybersafe.evidence.sbom.compare import compare_declared_observed
from cybersafe.evidence.sbom.minimum import BSI, CRA, NTIA

FORMATS = [
    pytest.param("cdx", "1.4", "json", id="cyclonedx-1.4-json"),
    pytest.param("cdx", "1.4", "xml", id="cyclonedx-1.4-xml"),
    pytest.param("cdx", "1.5", "json", id="cyclonedx-1.5-json"),
    pytest.param("cdx", "1.5", "xml", id="cyclonedx-1.5-xml"),
    pytest.param("cdx", "1.6", "json", id="cyclonedx-1.6-json"),
    pytest.param("cdx", "1.6", "xml", id="cyclonedx-1.6-xml"),
    pytest.param("spdx", "2.3", "json", id="spdx-2.3-json"),
    pytest.param("spdx", "2.3", "tag-value", id="spdx-2.3-tag-value"),
]


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], Path]:
    root = tmp_path_factory.mktemp("sboms")
    out = {}
    for spec in ("1.4", "1.5", "1.6"):
        for fmt in ("json", "xml"):
            out[("cdx", spec, fmt)] = write_cyclonedx(root / f"bom-{spec}.{fmt}", spec, fmt)
    out[("spdx", "2.3", "json")] = write_spdx(root / "bom.spdx.json", "json")
    out[("spdx", "2.3", "tag-value")] = write_spdx(root / "bom.spdx", "tag-value")
    return out


@pytest.mark.parametrize(("family", "spec", "fmt"), FORMATS)
def test_every_format_normalises_to_the_same_components(documents, family, spec, fmt):
    # Given a document written by the format's own library; When it is read
    doc = load_sbom(documents[(family, spec, fmt)])
    # Then format and version are recognised and every component keeps purl, CPE, supplier and hashes
    assert doc.format == ("cyclonedx" if family == "cdx" else "spdx")
    assert doc.spec_version == spec
    assert doc.encoding == fmt
    assert doc.primary is not None and doc.primary.name == "acme-cam-fw"
    by_name = {c.name: c for c in doc.components}
    assert set(by_name) == {name for _, name, *_ in COMPONENTS}
    assert by_name["jinja2"].purl == "pkg:pypi/jinja2@3.1.2"
    assert by_name["openssl"].cpe == "cpe:2.3:a:openssl:openssl:1.1.1t:*:*:*:*:*:*:*"
    assert by_name["openssl"].purl is None
    assert by_name["busybox"].supplier == "BusyBox"
    assert by_name["mystery-blob"].version is None
    assert by_name["jinja2"].hashes and by_name["jinja2"].hashes[0].alg in ("SHA-256", "SHA-512")
    # the primary component depends on all seven
    assert len(doc.dependencies[doc.primary.ref]) == len(COMPONENTS)
    assert doc.timestamp is not None and doc.timestamp.year == 2026
    assert doc.authors


def test_minimum_elements_name_what_is_missing(documents):
    # Given the CycloneDX fixture (one component without supplier/version/identifier, no licences)
    rating = rate_minimum_elements(load_sbom(documents[("cdx", "1.5", "json")]))
    ntia = rating.get(NTIA)
    # Then NTIA is not met and names the component and the elements
    assert not ntia.met
    missing = {m.element: m for m in ntia.missing}
    assert "mystery-blob" in missing["supplier name"].components
    assert "mystery-blob" in missing["version of the component"].components
    assert "1 of 8 components have no version" in missing["version of the component"].message
    # BSI wants SHA-512 and licences: CycloneDX fixture has SHA-256 only
    bsi = {m.element for m in rating.get(BSI).missing}
    assert {"hash value of the executable (SHA-512)", "distribution licences", "filename of the component"} <= bsi
    # CRA top-level dependencies are present
    assert rating.get(CRA).met


def test_spdx_components_have_sha512_so_bsi_names_only_the_primary(documents):
    # Given SPDX packages with SHA-512 checksums, except the primary package
    rating = rate_minimum_elements(load_sbom(documents[("spdx", "2.3", "json")]))
    missing = {m.element: m for m in rating.get(BSI).missing}
    # Then only the primary package is named for the missing hash
    assert missing["hash value of the executable (SHA-512)"].components == ("acme-cam-fw@1.4.0",)


def _cdx(tmp_path: Path, **overrides: object) -> Path:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "timestamp": "2026-01-01T00:00:00Z",
            "authors": [{"name": "A", "email": "a@example.com"}],
            "component": {
                "type": "firmware",
                "name": "fw",
                "version": "1",
                "bom-ref": "root",
                "supplier": {"name": "ACME"},
            },
        },
        "components": [
            {
                "type": "library",
                "name": "zlib",
                "version": "1.3",
                "bom-ref": "z",
                "purl": "pkg:generic/zlib@1.3",
                "supplier": {"name": "zlib"},
            }
        ],
        "dependencies": [{"ref": "root", "dependsOn": ["z"]}, {"ref": "z", "dependsOn": []}],
    }
    doc.update(overrides)
    path = tmp_path / "bom.json"
    path.write_text(json.dumps(doc))
    return path


def test_cra_fails_without_a_primary_component(tmp_path):
    # Given an SBOM whose metadata names no product
    path = _cdx(tmp_path, metadata={"timestamp": "2026-01-01T00:00:00Z"}, dependencies=[])
    rating = rate_minimum_elements(load_sbom(path))
    # Then CRA Part II (1) is not met and the message says what is missing
    cra = rating.get(CRA)
    assert not cra.met
    assert cra.missing[0].element == "primary component"
    assert rating.get(NTIA).missing  # no author, no dependency relationships


def test_cra_fails_without_top_level_dependencies(tmp_path):
    path = _cdx(tmp_path, dependencies=[])
    cra = rate_minimum_elements(load_sbom(path)).get(CRA)
    assert not cra.met
    assert "no dependency relationship from the primary component" in cra.missing[0].message


BAD = [
    pytest.param("{not json", "bom.json:1: not valid JSON", id="malformed-json"),
    pytest.param("[1, 2]", "not a CycloneDX (JSON/XML) or SPDX", id="json-array"),
    pytest.param('{"hello": 1}', "bomFormat: neither CycloneDX", id="unknown-json"),
    pytest.param(
        '{"bomFormat": "CycloneDX", "specVersion": "2.0"}',
        "specVersion: CycloneDX specVersion '2.0' is not supported (read: 1.0 to 1.7)",
        id="unknown-cdx-version",
    ),
    pytest.param(
        '{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library"}]}',
        "components[0].name: missing or not a string",
        id="component-without-name",
    ),
    pytest.param(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a",'
        ' "components": [{"type": "library", "name": "b", "version": 3}]}]}',
        "components[0].components[0].version: must be a string",
        id="nested-bad-version",
    ),
    pytest.param('{"spdxVersion": "SPDX-1.2"}', "spdxVersion: SPDX version 'SPDX-1.2' is not supported", id="old-spdx"),
    pytest.param(
        '{"spdxVersion": "SPDX-3.0"}',
        "SPDX version 'SPDX-3.0' is not supported: spdx-tools reads no SPDX 3",
        id="spdx3",
    ),
    pytest.param(
        '{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}',
        "@context: an SPDX 3 JSON-LD document (https://spdx.org/rdf/3.0.1/spdx-context.jsonld) is not read",
        id="spdx3-json-ld",
    ),
    pytest.param(
        '{"spdxVersion": "SPDX-2.3", "packages": [{"name": "x"}]}',
        "packages[0].SPDXID: missing",
        id="spdx-package-without-id",
    ),
    pytest.param(
        '{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "creationInfo": [], "packages": []}',
        "creationInfo: must be an object",
        id="spdx-creation-info-not-an-object",
    ),
    pytest.param("<html/>", "bom: root element 'html' is not a CycloneDX <bom>", id="xml-not-bom"),
    pytest.param(
        "<bom xmlns='http://cyclonedx.org/schema/bom/1.5'><components><component type='library'>"
        "<version>1</version></component></components></bom>",
        "component[0]: missing <name>",
        id="xml-component-without-name",
    ),
    pytest.param(
        "<?xml version='1.0'?><!DOCTYPE bom [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>"
        "<bom xmlns='http://cyclonedx.org/schema/bom/1.5'>&x;</bom>",
        "XML refused",
        id="xml-external-entity",
    ),
    pytest.param("<bom", "not well-formed XML", id="xml-truncated"),
    pytest.param(
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nSPDXID: SPDXRef-DOCUMENT\nPackageName: x\n",
        "bom.json:4: PackageName: package 'x' has no SPDXID",
        id="tag-value-package-without-id",
    ),
    pytest.param(
        "SPDXVersion: SPDX-2.3\nDataLicense: CC0-1.0\nthis line is no tag\n",
        "bom.json:3: not a 'Tag: value' line",
        id="tag-value-stray-line",
    ),
    pytest.param(
        "SPDXVersion: SPDX-2.3\nPackageComment: <text>never closed\n",
        "bom.json:2: <text> opened for PackageComment is never closed",
        id="tag-value-open-text",
    ),
    pytest.param("hello world", "not a CycloneDX (JSON/XML) or SPDX", id="not-an-sbom"),
    # found by fuzzing (tests/fuzz/test_fuzz_sbom.py)
    pytest.param('{"a":' + "[" * 100_000, "bom.json: nested too deeply to read", id="json-nested-100000-deep"),
    pytest.param(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "library", "name": "a",'
        ' "hashes": [{"alg": "SHA-256", "content": 5}]}]}',
        "components[0].hashes[0].content: missing or not a string",
        id="hash-content-a-number",
    ),
    pytest.param(
        '{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"type": "device", "name": "d",'
        ' "hashes": {"alg": "SHA-256"}}}}',
        "metadata.component[0].hashes: must be a list",
        id="hashes-not-a-list",
    ),
    pytest.param(
        '{"spdxVersion": "SPDX-2.3", "packages": [{"SPDXID": "SPDXRef-a", "name": "a", "externalRefs": true}]}',
        "packages[0].externalRefs: must be a list",
        id="spdx-external-refs-not-a-list",
    ),
]


@pytest.mark.parametrize(("content", "expected"), BAD)
def test_bad_sbom_gives_one_line_naming_file_and_element(tmp_path, content, expected):
    # Given a malformed document; When it is read; Then one line names the file and the element
    path = tmp_path / "bom.json"
    path.write_text(content)
    with pytest.raises(SbomError) as err:
        load_sbom(path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(str(path))
    assert expected in text


def test_missing_file(tmp_path):
    with pytest.raises(SbomError, match="file not found"):
        load_sbom(tmp_path / "nope.json")


def test_declared_vs_observed():
    # Given a declared SBOM and what the firmware inventory found
    declared = ["pkg:generic/busybox@1.36.1", "pkg:generic/zlib@1.3", "pkg:pypi/Jinja2@3.1.2", "pkg:generic/gone@1"]
    observed = [
        "pkg:generic/busybox@1.35.0",
        "pkg:generic/zlib@1.3",
        "pkg:pypi/jinja2@3.1.2",
        "pkg:generic/dropbear@2022.83",
        "not a purl",
    ]
    result = compare_declared_observed(declared, observed)
    # Then the undeclared package, the version disagreement and the unparsable input are named
    assert result.undeclared == ("pkg:generic/dropbear@2022.83",)
    assert [(m.package, m.declared, m.observed) for m in result.version_mismatches] == [
        ("pkg:generic/busybox", ("1.36.1",), ("1.35.0",))
    ]
    assert result.matched == 2  # zlib, and jinja2 despite the case difference
    assert result.not_observed == ("pkg:generic/gone@1",)
    assert result.unparsable == ("not a purl",)
    assert not result.consistent


def test_declared_vs_observed_without_versions_is_not_a_mismatch():
    result = compare_declared_observed(["pkg:generic/busybox"], ["pkg:generic/busybox@1.36.1"])
    assert result.consistent and result.matched == 1


def test_missing_elements_name_at_most_a_thousand_components_and_count_all(tmp_path: Path) -> None:
    from cybersafe.evidence.sbom.minimum import LISTED

    components = [{"type": "library", "name": f"lib{i}", "version": "1"} for i in range(LISTED + 500)]
    raw = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": components}
    path = tmp_path / "big.cdx.json"
    path.write_text(json.dumps(raw))
    rating = rate_minimum_elements(load_sbom(path)).get(NTIA)
    supplier = {m.element: m for m in rating.missing}["supplier name"]
    assert supplier.count == LISTED + 500
    assert len(supplier.components) == LISTED
    assert supplier.as_dict()["count"] == LISTED + 500
    assert supplier.message.startswith(f"{LISTED + 500} of {LISTED + 500} components")
