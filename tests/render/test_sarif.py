"""SARIF 2.1.0: valid against the official schema; one rule per check; results for fail and error only."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft4Validator

from cybersafe.render.sarif import build_sarif
from cybersafe.results import Assessment
from tests.render.helpers import REPORT_NOW, load_schema


@pytest.fixture(scope="module")
def log(sample: Assessment) -> dict[str, Any]:
    return build_sarif(sample, now=REPORT_NOW)


def test_validates_against_sarif_2_1_0(log: dict[str, Any]) -> None:
    schema = load_schema("sarif-schema-2.1.0.json")
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in Draft4Validator(schema).iter_errors(log)]
    assert errors == []


def test_the_validator_does_reject_a_bad_log(log: dict[str, Any]) -> None:
    bad = {**log, "runs": [{**log["runs"][0], "results": [{"ruleId": "x", "level": "severe"}]}]}
    assert list(Draft4Validator(load_schema("sarif-schema-2.1.0.json")).iter_errors(bad))


def test_one_rule_per_check_with_help_and_requirements(log: dict[str, Any], sample: Assessment) -> None:
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [c.check_id for c in sample.checks]
    rule = next(r for r in rules if r["id"] == "firmware.hard-coded-credential")
    assert "provision a unique secret" in rule["help"]["text"]
    assert "etsi-en-303-645@3.1.3:5.4-3" in rule["properties"]["requirements"]


def test_results_only_for_failing_and_errored_findings(log: dict[str, Any], sample: Assessment) -> None:
    results = log["runs"][0]["results"]
    expected = sum(1 for c in sample.checks for f in c.findings if f.verdict in ("fail", "error"))
    assert len(results) == expected
    assert {r["kind"] for r in results} <= {"fail", "review"}
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_locations(log: dict[str, Any]) -> None:
    results = log["runs"][0]["results"]
    physical = [loc["physicalLocation"] for r in results for loc in r.get("locations", []) if "physicalLocation" in loc]
    shadow = next(p for p in physical if p["artifactLocation"]["uri"] == "etc/shadow")
    assert shadow["region"] == {"startLine": 3} and shadow["artifactLocation"]["uriBaseId"] == "FIRMWARE_ROOT"
    relayd = next(p for p in physical if p["artifactLocation"]["uri"] == "usr/bin/relayd" and "region" in p)
    assert relayd["region"] == {"byteOffset": 0x1F4A0}
    logical = [ll for r in results for loc in r.get("locations", []) for ll in loc.get("logicalLocations", [])]
    assert {"name": "192.0.2.10:443", "fullyQualifiedName": "tls://192.0.2.10:443", "kind": "resource"} in logical
    assert any(ll["name"] == "pkg:generic/busybox@1.30.1" for ll in logical)


def test_an_errored_attempt_is_a_notification_not_a_silent_pass(log: dict[str, Any]) -> None:
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    texts = [n["message"]["text"] for n in invocation["toolExecutionNotifications"]]
    assert any(t.startswith("network.ssh-weak-algorithms did not complete (bug)") for t in texts)
