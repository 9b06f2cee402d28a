"""OSCAL assessment-results: valid against NIST's published schemas, one finding per requirement."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from cybersafe.render.oscal import build_oscal, token
from cybersafe.results import Assessment
from tests.render.helpers import REPORT_NOW, OscalValidator, load_schema

SCHEMAS = ["oscal_assessment-results_schema-v1.1.2.json", "oscal_assessment-results_schema-v1.2.2.json"]


@pytest.fixture(scope="module")
def doc(sample: Assessment) -> dict[str, Any]:
    return build_oscal(sample, now=REPORT_NOW)


@pytest.mark.parametrize(
    "schema_name", [pytest.param(s, id=s.rsplit("-v", 1)[-1].removesuffix(".json")) for s in SCHEMAS]
)
def test_validates_against_the_official_schema(doc: dict[str, Any], schema_name: str) -> None:
    validator = OscalValidator(load_schema(schema_name))
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert errors == []


def test_the_validator_does_reject_a_bad_document(doc: dict[str, Any]) -> None:
    # Given a document whose finding target id is not an OSCAL token (starts with a digit, has a space)
    bad = copy.deepcopy(doc)
    bad["assessment-results"]["results"][0]["findings"][0]["target"]["target-id"] = "5.1 1"
    # Then the schema validation (with \p{L} patterns) rejects it: the positive test above means something
    errors = list(OscalValidator(load_schema(SCHEMAS[0])).iter_errors(bad))
    assert any("does not match" in e.message for e in errors)


def test_one_finding_per_requirement_with_satisfied_status(doc: dict[str, Any], sample: Assessment) -> None:
    result = doc["assessment-results"]["results"][0]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    total = sum(len(s.requirements) for s in sample.schemes)
    assert len(findings) == total
    expected = {"pass": "satisfied", "not_applicable": "satisfied", "fail": "not-satisfied"}
    expected |= {"inconclusive": "not-satisfied", "error": "not-satisfied"}
    for scheme in sample.schemes:
        for req in scheme.requirements:
            status = findings[token(f"{scheme.scheme}_{req.id}")]["target"]["status"]
            assert status["state"] == expected[req.verdict]
            assert status["reason"] == req.verdict


def test_observations_name_methods_and_link_to_findings(doc: dict[str, Any]) -> None:
    result = doc["assessment-results"]["results"][0]
    observations = {o["uuid"]: o for o in result["observations"]}
    by_title = {o["title"].split(":")[0]: o for o in observations.values()}
    assert by_title["firmware.hard-coded-credential"]["methods"] == ["TEST"]
    assert by_title["declaration.support-period"]["methods"] == ["EXAMINE"]
    evidence = by_title["firmware.hard-coded-credential"]["relevant-evidence"]
    assert any("/etc/shadow:3" in e["description"] for e in evidence)
    for finding in result["findings"]:
        for rel in finding.get("related-observations", []):
            assert rel["observation-uuid"] in observations


def test_catalogs_are_named_and_uuids_are_deterministic(doc: dict[str, Any], sample: Assessment) -> None:
    ar = doc["assessment-results"]
    titles = [r["title"] for r in ar["back-matter"]["resources"]]
    for cat in sample.catalogs:
        assert f"cybersafe scheme catalog {cat.scheme}@{cat.version}" in titles
        assert cat.sha256 in ar["local-definitions"]["remarks"]
    again = build_oscal(sample, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert again["assessment-results"]["uuid"] == ar["uuid"]
    assert again["assessment-results"]["metadata"]["last-modified"] == "2030-01-01T00:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("5.1-1", "_5.1-1", id="digit-first"),
        pytest.param("eu-cra_I-2(b)", "eu-cra_I-2_b_", id="parentheses"),
        pytest.param("uk-psti_Schedule 1 para 1", "uk-psti_Schedule_1_para_1", id="spaces"),
        pytest.param("Übersicht", "Übersicht", id="unicode-letter"),
    ],
)
def test_token(text: str, expected: str) -> None:
    assert token(text) == expected
