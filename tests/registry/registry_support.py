"""Builders for registry tests: label records signed through cybersafe.attest, and role tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cybersafe.attest.dsse import sign_statement
from cybersafe.attest.keys import key_id
from cybersafe.label.model import PREDICATE_TYPE

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_label_id(tag: str = "USCTM") -> str:
    return f"CSL-{tag}-" + "".join(secrets.choice(_CROCKFORD) for _ in range(26))


def public_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def make_record(
    key: Ed25519PrivateKey,
    *,
    issuer_name: str = "Acme Labels",
    issuer_contact: str = "labels@acme.test",
    label_id: str | None = None,
    manufacturer: str = "Widget Co",
    name: str = "Smart Plug",
    model: str = "SP-1",
    scheme: str = "us-ctm",
    issued: dt.date = dt.date(2026, 1, 10),
    valid_until: dt.date = dt.date(2030, 1, 10),
    support_end: dt.date = dt.date(2031, 12, 31),
    lab: str | None = "CyberLAB One",
    registry_url: str = "http://testserver",
    supersedes: str | None = None,
) -> dict[str, Any]:
    label_id = label_id or new_label_id()
    fw = hashlib.sha256(label_id.encode()).hexdigest()
    link = {
        "label_id": supersedes,
        "assessment_sha256": hashlib.sha256(b"assessment" + str(supersedes).encode()).hexdigest(),
        "diff_sha256": hashlib.sha256(b"diff" + label_id.encode()).hexdigest(),
    }
    return ({"supersedes": link} if supersedes else {}) | {
        "schema": "cybersafe/label/v1",
        "label_id": label_id,
        "scheme": scheme,
        "scheme_version": "ir8425-2022",
        "level": None,
        "product": {
            "manufacturer": manufacturer,
            "name": name,
            "model": model,
            "hardware_version": "1.0",
            "firmware_version": "2.3.4",
        },
        "subjects": [{"name": "firmware:plug.bin", "sha256": fw}],
        "assessment_sha256": hashlib.sha256(b"assessment" + label_id.encode()).hexdigest(),
        "verdict_summary": {"status": "meets", "highest_level": None, "counts": {"pass": 40, "fail": 0}},
        "issued": issued.isoformat(),
        "valid_until": valid_until.isoformat(),
        "support_end": support_end.isoformat(),
        "issuer": {"name": issuer_name, "key_id": key_id(key.public_key()), "contact": issuer_contact},
        "lab": lab,
        "registry_url": f"{registry_url}/l/{label_id}",
        "disclosures": {
            "manufacturer": manufacturer,
            "product": name,
            "authorised_on": issued.isoformat(),
            "administrator": f"{issuer_name} <{issuer_contact}>",
            "lab": lab,
            "default_password": "Each unit has a unique password printed under the base; change it in Settings.",
            "secure_configuration": "https://widget.test/secure-setup",
            "updates_automatic": True,
            "update_instructions": "Updates install automatically overnight.",
            "support_end": support_end.isoformat(),
            "sbom_maintained": True,
            "hbom_maintained": False,
            "contact": "security@widget.test",
        },
    }


def make_envelope(record: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": s["name"], "digest": {"sha256": s["sha256"]}} for s in record["subjects"]],
        "predicateType": PREDICATE_TYPE,
        "predicate": record,
    }
    return sign_statement(statement, key)


@dataclass
class Actors:
    """Tokens and keys of everybody in a test registry."""

    admin: str
    issuer: str
    issuer_key: Ed25519PrivateKey
    issuer_name: str
    other_issuer: str
    other_issuer_key: Ed25519PrivateKey
    other_issuer_name: str
    manufacturer: str
    manufacturer_name: str
    other_manufacturer: str
    ids: dict[str, int] = field(default_factory=dict)  # issuer, other_issuer, manufacturer, other_manufacturer
    tokens: dict[str, str | None] = field(default_factory=dict)

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens[role]
        return {} if token is None else {"Authorization": f"Bearer {token}"}

    def envelope(self, **kw: Any) -> dict[str, Any]:
        kw.setdefault("manufacturer", self.manufacturer_name)
        return make_envelope(make_record(self.issuer_key, issuer_name=self.issuer_name, **kw), self.issuer_key)

    def other_envelope(self, **kw: Any) -> dict[str, Any]:
        """A label of the other issuer (Other Labels), by default for its own manufacturer Gadget Ltd."""
        kw.setdefault("manufacturer", "Gadget Ltd")
        kw.setdefault("issuer_contact", "x@other.test")
        record = make_record(self.other_issuer_key, issuer_name=self.other_issuer_name, **kw)
        return make_envelope(record, self.other_issuer_key)
