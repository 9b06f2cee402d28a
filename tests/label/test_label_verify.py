from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from label_fixtures import DATA
from tests.support import NOW

from cybersafe.attest.dsse import sign_statement
from cybersafe.errors import VerificationFailed
from cybersafe.label.model import LabelRecord
from cybersafe.label.verify import CheckResult, CheckStatus, check_label, verify_label

FIRMWARE = DATA / "firmware.bin"
SBOM = DATA / "sbom.cdx.json"
Issued = dict[str, tuple[LabelRecord, dict[str, Any]]]


def _statement(envelope: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))
    return result


def test_a_genuine_label_passes_every_check(issued: Issued, public_key: Ed25519PublicKey) -> None:
    record, envelope = issued["sg-cls"]
    report = verify_label(envelope, public_key, firmware=FIRMWARE, sbom=SBOM, now=NOW)
    assert report.ok
    assert report.label_id == record.label_id
    assert [c.name for c in report.checks] == [
        "envelope", "signature", "statement", "subjects", "issuer", "firmware", "sbom", "validity",
    ]  # fmt: skip
    assert all(c.status is CheckStatus.PASS for c in report.checks)


def test_report_can_be_extended_by_later_steps(issued: Issued, public_key: Ed25519PublicKey) -> None:
    # Given a passing report, When a registry step appends a failure, Then the report no longer verifies
    report = verify_label(issued["us-ctm"][1], public_key, now=NOW)
    extended = report.with_checks(CheckResult("registry", CheckStatus.FAIL, "label revoked on 2027-01-01"))
    assert report.ok
    assert not extended.ok
    assert [c.line() for c in extended.failures] == ["registry: label revoked on 2027-01-01"]
    assert extended.as_dict()["verified"] is False


def _flip_payload_byte(envelope: dict[str, Any], _keys: Any) -> dict[str, Any]:
    tampered = copy.deepcopy(envelope)
    body = bytearray(base64.b64decode(tampered["payload"]))
    position = body.index(b'"level":"2"') + len(b'"level":"')
    body[position] = ord("4")  # claim level 4
    tampered["payload"] = base64.b64encode(bytes(body)).decode()
    return tampered


def _resign_with_other_key(envelope: dict[str, Any], keys: dict[str, Ed25519PrivateKey]) -> dict[str, Any]:
    return sign_statement(_statement(envelope), keys["other"])


def _resigned_subjects_differ(envelope: dict[str, Any], keys: dict[str, Ed25519PrivateKey]) -> dict[str, Any]:
    statement = _statement(envelope)
    statement["subject"][0]["digest"]["sha256"] = "00" * 32
    return sign_statement(statement, keys["issuer"])


def _wrong_predicate_type(envelope: dict[str, Any], keys: dict[str, Ed25519PrivateKey]) -> dict[str, Any]:
    statement = _statement(envelope)
    statement["predicateType"] = "https://slsa.dev/provenance/v1"
    return sign_statement(statement, keys["issuer"])


@pytest.mark.parametrize(
    ("tamper", "verify_kwargs", "failed", "message"),
    [
        pytest.param(_flip_payload_byte, {}, "signature", "does not verify", id="changed-payload-byte"),
        pytest.param(None, {"key": "other"}, "signature", "signed by unknown key", id="swapped-key"),
        pytest.param(_resign_with_other_key, {}, "signature", "signed by unknown key", id="resigned-by-other-key"),
        pytest.param(None, {"firmware": "changed"}, "firmware", "the label names", id="firmware-changed"),
        pytest.param(None, {"sbom": "changed"}, "sbom", "the label names", id="sbom-changed"),
        pytest.param(None, {"now": dt.datetime(2029, 11, 29, tzinfo=dt.UTC)}, "validity", "label expired on 2029-11-28",
                     id="expired"),
        pytest.param(None, {"now": dt.datetime(2026, 11, 28, tzinfo=dt.UTC)}, "validity", "not yet valid",
                     id="not-yet-valid"),
        pytest.param(_resigned_subjects_differ, {}, "subjects", "differ", id="statement-subject-changed"),
        pytest.param(_wrong_predicate_type, {}, "statement", "predicateType", id="wrong-predicate-type"),
        pytest.param(None, {"key": None}, "signature", "no public key given", id="no-key"),
    ],
)  # fmt: skip
def test_tampering_fails_verification_with_a_clear_line(
    issued: Issued,
    private_key: Ed25519PrivateKey,
    public_key: Ed25519PublicKey,
    tmp_path: Path,
    tamper: Any,
    verify_kwargs: dict[str, Any],
    failed: str,
    message: str,
) -> None:
    # Given a genuine level-2 label and an attacker's own key
    other = Ed25519PrivateKey.generate()
    _record, envelope = issued["sg-cls"]
    keys = {"issuer": private_key, "other": other}
    if tamper is not None:
        envelope = tamper(envelope, keys)
    changed = tmp_path / "changed.bin"
    changed.write_bytes(FIRMWARE.read_bytes() + b"\x00")
    key_choice = verify_kwargs.get("key", "issuer")
    key = {"issuer": public_key, "other": other.public_key(), None: None}[key_choice]
    firmware = changed if verify_kwargs.get("firmware") == "changed" else FIRMWARE
    sbom = changed if verify_kwargs.get("sbom") == "changed" else SBOM
    now = verify_kwargs.get("now", NOW)
    # When it is checked
    report = check_label(envelope, key, firmware=firmware, sbom=sbom, now=now)
    # Then it does not verify, and the failed check says why in one line
    assert not report.ok
    lines = [c.line() for c in report.failures]
    assert any(line.startswith(f"{failed}: ") and message in line for line in lines), lines
    assert all("\n" not in line for line in lines)
    if key is not None:
        with pytest.raises(VerificationFailed, match=message):
            verify_label(envelope, key, firmware=firmware, sbom=sbom, now=now)


def test_valid_on_the_last_day_and_expired_the_day_after(issued: Issued, public_key: Ed25519PublicKey) -> None:
    record, envelope = issued["us-ctm"]
    last = dt.datetime.combine(record.valid_until, dt.time(23, 59), tzinfo=dt.UTC)
    assert check_label(envelope, public_key, now=last).ok
    assert not check_label(envelope, public_key, now=last + dt.timedelta(minutes=2)).ok


@pytest.mark.parametrize(
    "envelope",
    [
        pytest.param([], id="not-an-object"),
        pytest.param({"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": []}, id="empty"),
        pytest.param({"payloadType": "x", "payload": "", "signatures": []}, id="wrong-type"),
    ],
)
def test_malformed_envelopes_are_reported_not_raised(envelope: Any, public_key: Ed25519PublicKey) -> None:
    report = check_label(envelope, public_key, now=NOW)
    assert not report.ok
    assert report.failures[0].name in {"envelope", "signature", "statement"}


def test_firmware_given_for_a_label_without_sbom_subject(
    issued: Issued, private_key: Ed25519PrivateKey, public_key: Ed25519PublicKey
) -> None:
    # Given a label whose statement and record name only the firmware, re-signed by the issuer
    statement = _statement(issued["us-ctm"][1])
    statement["subject"] = statement["subject"][:1]
    statement["predicate"]["subjects"] = statement["predicate"]["subjects"][:1]
    envelope = sign_statement(statement, private_key)
    # When an SBOM is offered, Then the sbom check fails rather than passing silently
    report = check_label(envelope, public_key, firmware=FIRMWARE, sbom=SBOM, now=NOW)
    assert [c.line() for c in report.failures] == [f"sbom: the label names no sbom, but {SBOM} was given"]
