"""Verify a label: signature, statement, subject digests, validity window.

``check_label`` runs every check it can and returns a ``VerificationReport`` (one ``CheckResult`` per
check), so the CLI can print one line per failed check and later steps (the registry and its transparency
log) can append their own results with ``report.with_checks(...)``. ``verify_label`` is the strict form: it
raises ``VerificationFailed`` naming every failed check.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cybersafe import safeio
from cybersafe.attest.dsse import decode_payload, one_line, verify_envelope
from cybersafe.attest.keys import key_id
from cybersafe.errors import VerificationFailed
from cybersafe.label.issue import record_from_statement
from cybersafe.label.model import LabelRecord


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"  # nothing to check against (no --firmware given); never counts as a pass


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str  # envelope, signature, statement, subjects, issuer, firmware, sbom, validity; registry, log later
    status: CheckStatus
    message: str

    def line(self) -> str:
        return f"{self.name}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"check": self.name, "status": str(self.status), "message": self.message}


@dataclass(frozen=True, slots=True)
class VerificationReport:
    label_id: str | None
    record: LabelRecord | None
    checks: tuple[CheckResult, ...]

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is CheckStatus.FAIL)

    @property
    def ok(self) -> bool:
        """Verified: no check failed and the signature check passed."""
        signed = any(c.name == "signature" and c.status is CheckStatus.PASS for c in self.checks)
        return signed and not self.failures

    def with_checks(self, *more: CheckResult) -> VerificationReport:
        return VerificationReport(self.label_id, self.record, self.checks + more)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.ok,
            "label_id": self.label_id,
            "scheme": self.record.scheme if self.record else None,
            "level": self.record.level if self.record else None,
            "valid_until": self.record.valid_until.isoformat() if self.record else None,
            "support_end": self.record.support_end.isoformat() if self.record else None,
            "checks": [c.as_dict() for c in self.checks],
        }


def sha256_file(path: Path) -> str:
    return safeio.sha256_file(path)[0]


class _Checks:
    """Collects check results; every message is made one line (it may quote the unverified record)."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []

    def add(self, name: str, ok: bool, message: str) -> None:
        self.results.append(CheckResult(name, CheckStatus.PASS if ok else CheckStatus.FAIL, one_line(message)))

    def skip(self, name: str, message: str) -> None:
        self.results.append(CheckResult(name, CheckStatus.SKIPPED, message))

    def report(self, record: LabelRecord | None = None) -> VerificationReport:
        return VerificationReport(record.label_id if record else None, record, tuple(self.results))


def check_label(
    envelope: Any,
    public_key: Ed25519PublicKey | None,
    *,
    firmware: Path | None = None,
    sbom: Path | None = None,
    now: dt.datetime,
) -> VerificationReport:
    """Run every check; never raises for a bad label (only for unreadable --firmware/--sbom files)."""
    checks = _Checks()
    try:
        _body, statement = decode_payload(envelope)
    except VerificationFailed as exc:
        checks.add("envelope", False, _strip(str(exc), "envelope"))
        return checks.report()
    checks.add("envelope", True, "DSSE envelope with an in-toto payload")
    _check_signature(checks, envelope, public_key)
    try:
        record = record_from_statement(statement)
    except VerificationFailed as exc:
        checks.add("statement", False, _strip(str(exc), "statement"))
        return checks.report()
    _check_record(checks, envelope, statement, record, public_key)
    for kind, path in (("firmware", firmware), ("sbom", sbom)):
        _check_artefact(checks, record, kind, path)
    _check_validity(checks, record, now)
    return checks.report(record)


def _check_signature(checks: _Checks, envelope: Any, public_key: Ed25519PublicKey | None) -> None:
    if public_key is None:
        checks.add("signature", False, "not checked: no public key given (--key), so a forgery cannot be told apart")
        return
    kid = key_id(public_key)
    try:
        verify_envelope(envelope, {kid: public_key})
    except VerificationFailed as exc:
        checks.add("signature", False, _strip(str(exc), "signature"))
    else:
        checks.add("signature", True, f"Ed25519 signature verifies with key {kid[:16]}…")


def _check_record(
    checks: _Checks, envelope: Any, statement: dict[str, Any], record: LabelRecord, public_key: Ed25519PublicKey | None
) -> None:
    """The statement names the label, its subjects are the record's, and the record names the signing key."""
    label_id = record.label_id
    if not record.registry_url.endswith(f"/l/{label_id}"):
        checks.add("statement", False, f"registry URL {record.registry_url} does not name label {label_id}")
    else:
        checks.add("statement", True, f"label {label_id}: {record.scheme}@{record.scheme_version}" + _level(record))
    recorded = [(s.name, s.sha256) for s in record.subjects]
    if _statement_subjects(statement) != recorded:
        checks.add("subjects", False, "statement subjects differ from the label record's subjects")
    else:
        checks.add("subjects", True, ", ".join(f"{n} sha256:{d[:12]}…" for n, d in recorded))
    signatures = envelope.get("signatures")
    signer_ids = [s.get("keyid") for s in signatures if isinstance(s, dict)] if isinstance(signatures, list) else []
    if record.issuer.key_id not in signer_ids:
        checks.add("issuer", False, f"record names issuer key {record.issuer.key_id[:16]}…, not the signing key")
    elif len(signatures) != 1:
        # One signature, by the key the record names: what every verifier (the registry's page too) reads.
        checks.add("issuer", False, f"{len(signatures)} signatures: a label carries exactly one, by its issuer's key")
    elif public_key is not None and record.issuer.key_id != key_id(public_key):
        checks.add("issuer", False, f"record names issuer key {record.issuer.key_id[:16]}…, not the given --key")
    else:
        checks.add("issuer", True, f"issued by {record.issuer.name}")


def _check_artefact(checks: _Checks, record: LabelRecord, kind: str, path: Path | None) -> None:
    subject = record.subject(kind)
    if path is None:
        checks.skip(kind, f"no --{kind} file given")
    elif subject is None:
        checks.add(kind, False, f"the label names no {kind}, but {path} was given")
    else:
        actual = sha256_file(path)
        if actual != subject.sha256:
            checks.add(kind, False, f"{path.name} has sha256 {actual[:16]}…, the label names {subject.sha256[:16]}…")
        else:
            checks.add(kind, True, f"{path.name} matches {subject.name}")


def _check_validity(checks: _Checks, record: LabelRecord, now: dt.datetime) -> None:
    today = (now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)).date()
    if record.valid_until > record.support_end:
        checks.add("validity", False, f"valid until {record.valid_until} is after the support end {record.support_end}")
    elif record.valid_until < record.issued:
        checks.add("validity", False, f"valid until {record.valid_until} is before the issue date {record.issued}")
    elif today < record.issued:
        checks.add("validity", False, f"not yet valid: issued {record.issued}, today is {today}")
    elif today > record.valid_until:
        checks.add("validity", False, f"label expired on {record.valid_until} (today is {today})")
    else:
        checks.add(
            "validity",
            True,
            f"valid {record.issued} to {record.valid_until}; security updates until {record.support_end}",
        )


def verify_label(
    envelope: Any,
    public_key: Ed25519PublicKey,
    *,
    firmware: Path | None = None,
    sbom: Path | None = None,
    now: dt.datetime,
) -> VerificationReport:
    """Strict verification: the report when every check passes, else ``VerificationFailed`` naming each failure."""
    report = check_label(envelope, public_key, firmware=firmware, sbom=sbom, now=now)
    if not report.ok:
        raise VerificationFailed("; ".join(c.line() for c in report.failures))
    return report


def _level(record: LabelRecord) -> str:
    return f" level {record.level}" if record.level else ""


def _statement_subjects(statement: dict[str, Any]) -> list[tuple[str, str]] | None:
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return None
    out: list[tuple[str, str]] = []
    for entry in subjects:
        if not isinstance(entry, dict) or not isinstance(entry.get("digest"), dict):
            return None
        out.append((str(entry.get("name")), str(entry["digest"].get("sha256"))))
    return out


def _strip(message: str, prefix: str) -> str:
    """``signature: bad`` -> ``bad`` (the check name is printed in front of it)."""
    head = f"{prefix}: "
    return message[len(head) :] if message.startswith(head) else message
