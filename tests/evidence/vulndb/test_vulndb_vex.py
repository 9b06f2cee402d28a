"""VEX in (OpenVEX, CycloneDX VEX, CSAF VEX) and our OpenVEX out, validated against the vendored schemas."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests._sbom_builders import csaf_vex, openvex_doc, validator

from cybersafe.errors import SbomError
from cybersafe.evidence.vulndb import VexStatus, export_openvex, load_vex, match_components


def _write(tmp_path, name, doc):
    path = tmp_path / name
    path.write_text(json.dumps(doc))
    return path


OPENVEX = openvex_doc(
    [
        {
            "vulnerability": {"name": "CVE-2024-22195"},
            "products": [{"@id": "pkg:pypi/jinja2"}],
            "status": "not_affected",
            "justification": "vulnerable_code_not_in_execute_path",
        },
    ]
)
CDX_VEX = {
    "bomFormat": "CycloneDX",
    "specVersion": "1.5",
    "version": 1,
    "vulnerabilities": [
        {
            "id": "CVE-2021-23337",
            "affects": [{"ref": "lodash"}],
            "analysis": {"state": "not_affected", "justification": "code_not_reachable", "detail": "template() unused"},
        },
    ],
}


def test_vex_fixtures_validate_against_their_schemas():
    validator("openvex-json-schema-0.2.0.json").validate(OPENVEX)
    validator("csaf-2.0-json-schema.json").validate(csaf_vex("CVE-2022-48174", "pkg:generic/busybox@1.36.1"))


@pytest.mark.parametrize(
    ("name", "doc", "vuln", "justification"),
    [
        pytest.param(
            "openvex.json", OPENVEX, "GHSA-h5c8-rqwp-cp95", "vulnerable_code_not_in_execute_path", id="openvex"
        ),
        pytest.param(
            "cdx-vex.json", CDX_VEX, "GHSA-35jh-r3h4-6jhm", "vulnerable_code_not_in_execute_path", id="cyclonedx"
        ),
        pytest.param(
            "csaf.json",
            csaf_vex("CVE-2022-48174", "pkg:generic/busybox@1.36.1"),
            "OSV-2026-1",
            "vulnerable_code_not_in_execute_path",
            id="csaf",
        ),
    ],
)
def test_vex_marks_not_affected_with_justification(tmp_path, db, sbom, name, doc, vuln, justification):
    # Given a VEX statement about one alias of a matched advisory
    statements = load_vex(_write(tmp_path, name, doc))
    # When matching with it
    report = match_components(db, sbom.components, source="bom.json", vex=statements)
    match = next(m for m in report.matches if vuln in m.sources)
    # Then that match is suppressed with the justification, and the others are untouched
    assert match.vex_status is VexStatus.NOT_AFFECTED and match.suppressed
    assert match.vex_justification == justification
    assert len(report.active) == len(report.matches) - 1


def test_openvex_with_other_version_does_not_apply(tmp_path, db, sbom):
    doc = openvex_doc(
        [
            {
                "vulnerability": {"name": "CVE-2024-22195"},
                "products": [{"@id": "pkg:pypi/jinja2@3.0.0"}],
                "status": "not_affected",
                "justification": "component_not_present",
            }
        ]
    )
    report = match_components(db, sbom.components, source="x", vex=load_vex(_write(tmp_path, "v.json", doc)))
    assert not any(m.suppressed for m in report.matches)


BAD_VEX = [
    pytest.param(
        {"@context": "https://openvex.dev/ns/v0.2.0", "statements": [{"status": "not_affected"}]},
        "statements[0].vulnerability: missing or not an object",
        id="openvex-no-vulnerability",
    ),
    pytest.param(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [{"vulnerability": {"name": "X"}, "status": "maybe"}],
        },
        "statements[0].status: unknown status 'maybe'",
        id="openvex-bad-status",
    ),
    pytest.param(
        {
            "@context": "https://openvex.dev/ns/v0.2.0",
            "statements": [{"vulnerability": {"name": "X"}, "status": "not_affected", "products": []}],
        },
        "statements[0]: not_affected needs a justification",
        id="openvex-no-justification",
    ),
    pytest.param(
        {"bomFormat": "CycloneDX", "vulnerabilities": [{"id": "X", "analysis": {"state": "nope"}}]},
        "vulnerabilities[0].analysis.state: unknown state 'nope'",
        id="cdx-bad-state",
    ),
    pytest.param(
        {
            "document": {"csaf_version": "2.0"},
            "vulnerabilities": [{"cve": "CVE-1", "product_status": {"known_not_affected": ["P1"]}}],
        },
        "known_not_affected product 'P1' needs a flag or an impact",
        id="csaf-no-justification",
    ),
    pytest.param({"hello": 1}, "@context: not an OpenVEX, CycloneDX VEX or CSAF VEX document", id="unknown"),
]


@pytest.mark.parametrize(("doc", "message"), BAD_VEX)
def test_malformed_vex_is_one_line_naming_file_and_element(tmp_path, doc, message):
    path = _write(tmp_path, "vex.json", doc)
    with pytest.raises(SbomError) as err:
        load_vex(path)
    assert str(err.value).startswith(str(path)) and message in str(err.value)


def test_vex_not_json(tmp_path):
    path = tmp_path / "v.json"
    path.write_text("{")
    with pytest.raises(SbomError, match=r"v.json:1: not valid JSON"):
        load_vex(path)


def test_our_openvex_validates_and_round_trips(tmp_path, db, sbom):
    # Given a report where one match is declared not affected
    report = match_components(db, sbom.components, source="x", vex=load_vex(_write(tmp_path, "o.json", OPENVEX)))
    when = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    # When exported
    doc = export_openvex(report, author="ACME PSIRT", timestamp=when, product="pkg:generic/acme-cam-fw@1.4.0")
    # Then it validates against OpenVEX 0.2.0, is deterministic, and reads back with the same statuses
    validator("openvex-json-schema-0.2.0.json").validate(doc)
    assert doc == export_openvex(report, author="ACME PSIRT", timestamp=when, product="pkg:generic/acme-cam-fw@1.4.0")
    assert doc["timestamp"] == "2026-03-01T12:00:00Z"
    back = load_vex(_write(tmp_path, "out.json", doc))
    statuses = {ident: st.status for st in back for ident in st.ids()}
    assert statuses["GHSA-h5c8-rqwp-cp95"] is VexStatus.NOT_AFFECTED
    assert statuses["OSV-2026-1"] is VexStatus.AFFECTED
    affected = next(
        s
        for s in doc["statements"]
        if "ALPINE-CVE-2023-45853" in s["vulnerability"].get("aliases", [s["vulnerability"]["name"]])
    )
    assert affected["action_statement"] == "Update zlib@1.2.13-r0 to 1.2.13-r1 or later"
