"""Firmware key and certificate checks: embedded private keys, weak keys, expired certificates.

EN 303 645 5.4-1/5.4-3 (secure storage, no hard-coded critical security parameters), 5.5-1 (best-practice
cryptography); CRA Annex I (2)(e)/(f).
"""

from __future__ import annotations

from collections.abc import Sequence

from cybersafe.checks._firmware import conclude, image_facts
from cybersafe.checks.interface import Check, Finding, Location
from cybersafe.evidence.firmware.model import Area, FirmwareInventory
from cybersafe.evidence.interface import Evidence
from cybersafe.verdict import Severity


class PrivateKeyEmbeddedCheck(Check):
    ID = "firmware.private-key-embedded"
    TITLE = "No private key ships in the firmware image"
    SEVERITY = Severity.HIGH
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = (
        "Generate keys on the device at first boot or provision them per device; a key in the image is shared "
        "by every unit and by anyone who downloads the firmware."
    )

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"{'encrypted ' if k.encrypted else ''}{k.algorithm} private key"
                + (f" ({k.bits} bits)" if k.bits else ""),
                locations=[Location(path=k.path, offset=k.offset)],
                facts={"algorithm": k.algorithm, "bits": k.bits, "encrypted": k.encrypted},
                severity=Severity.MEDIUM if k.encrypted else None,
            )
            for k in inv.keys
            if k.kind == "private-key"
        ]
        others = len([k for k in inv.keys if k.kind != "private-key"])
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.KEYS,),
            pass_message=f"scanned {inv.files_examined} files for PEM, DER and dropbear keys; no private key found "
            f"({others} certificates or public keys, which are not secrets)",
            facts=image_facts(inv),
        )


class WeakKeyCheck(Check):
    ID = "firmware.weak-key"
    TITLE = "Keys and certificates use current algorithms and sizes"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = "Use RSA >= 2048 bits, EC >= 224 bits or Ed25519, and SHA-256 or better for signatures."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        failures = [
            self.failed(
                f"{k.kind} {k.algorithm}: {'; '.join(k.weak_reasons)}",
                locations=[Location(path=k.path, offset=k.offset)],
                facts={"kind": k.kind, "algorithm": k.algorithm, "bits": k.bits, "reasons": list(k.weak_reasons)},
            )
            for k in inv.keys
            if k.weak_reasons
        ]
        if not inv.keys and not failures and not inv.gaps(Area.KEYS):
            return [self.not_applicable("no key or certificate found in the image", facts=image_facts(inv))]
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.KEYS,),
            pass_message=f"examined {len(inv.keys)} keys and certificates; none is weak",
            facts={**image_facts(inv), "keys": len(inv.keys)},
        )


class ExpiredCertificateCheck(Check):
    ID = "firmware.expired-certificate"
    TITLE = "No certificate in the image has expired"
    SEVERITY = Severity.MEDIUM
    REQUIRES = (FirmwareInventory,)
    REMEDIATION = "Replace expired certificates and make certificates updatable in the field."

    def run(self, evidence: Evidence) -> Sequence[Finding]:
        inv = evidence.require(FirmwareInventory)
        certs = [k for k in inv.keys if k.kind == "certificate"]
        failures = [
            self.failed(
                f"certificate {c.subject or ''} expired on {c.not_after}" + (" (self-signed)" if c.self_signed else ""),
                locations=[Location(path=c.path, offset=c.offset)],
                facts={"subject": c.subject, "not_after": c.not_after, "self_signed": c.self_signed},
            )
            for c in certs
            if c.expired
        ]
        if not certs and not inv.gaps(Area.KEYS):
            return [self.not_applicable("no certificate found in the image", facts=image_facts(inv))]
        return conclude(
            self,
            inv,
            failures=failures,
            areas=(Area.KEYS,),
            pass_message=f"examined {len(certs)} certificates; none has expired",
            facts={**image_facts(inv), "certificates": len(certs)},
        )


CHECKS: tuple[type[Check], ...] = (PrivateKeyEmbeddedCheck, WeakKeyCheck, ExpiredCertificateCheck)
