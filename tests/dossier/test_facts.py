"""Condition facts derived from declarations: an undeclared value is unknown, never false."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support import NOW, dossier

from cybersafe.checks.declarations import HardCodedParametersCheck
from cybersafe.checks.interface import run_check
from cybersafe.dossier.facts import derive_facts
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Verdict

SERIAL = {"name": "device serial identity", "kind": "identity", "per_device_unique": True, "storage": "flash"}


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        pytest.param([SERIAL], None, id="identity-hard-coded-unstated-is-unknown"),
        pytest.param([{**SERIAL, "hard_coded": True}], True, id="hard-coded-identity"),
        pytest.param([{**SERIAL, "hard_coded": False}], False, id="identity-not-hard-coded"),
        pytest.param([SERIAL, {**SERIAL, "name": "mac", "hard_coded": True}], True, id="one-hard-coded-is-enough"),
        pytest.param([{"name": "tls key", "kind": "key", "hard_coded": False}], False, id="no-identity"),
    ],
)
def test_hardcoded_unique_identity_is_unknown_until_declared(
    parameters: list[dict[str, Any]], expected: bool | None
) -> None:
    # Given security parameters with and without hard_coded declared
    d = dossier(declarations={"security_parameters": parameters})
    # When the condition facts are derived
    facts = derive_facts(d)
    # Then an identity whose hard_coded is unstated leaves the fact unknown (5.4-2 inconclusive, never n/a)
    assert facts.get("hardcoded_unique_identity") is expected


def test_a_critical_parameter_whose_hard_coding_is_not_declared_is_inconclusive_not_pass() -> None:
    # Given a critical key whose hard_coded is not stated
    d = dossier(declarations={"security_parameters": [{"name": "cloud key", "kind": "key", "storage": "flash"}]})
    # When the declaration check for 5.4-3 runs
    attempt = run_check(HardCodedParametersCheck(), Evidence(dossier=d, as_of=NOW.date()))
    # Then it is inconclusive and names the parameter
    assert attempt.verdict is Verdict.INCONCLUSIVE
    assert attempt.findings[0].message == (
        "whether these critical parameters are hard-coded is not declared (hard_coded): cloud key"
    )
