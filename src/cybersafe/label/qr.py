"""The QR code's target: ``<registry URL>/l/<label id>#<envelope digest>`` (DESIGN.md "Outputs").

The fragment after ``#`` never leaves the phone: browsers do not send it to the server. The label page's own
script reads it and checks that the envelope the registry serves hashes to it, so a registry (or a
look-alike) cannot show another label than the one printed on the box without the page saying so.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cybersafe import jsonio
from cybersafe.label.model import LabelRecord


def canonical_envelope(envelope: dict[str, Any]) -> bytes:
    """The DSSE envelope as the registry stores it: payloadType, payload and signatures (keyid, sig), as
    canonical JSON (sorted keys, no spaces, UTF-8). A signature without a key id counts as keyid ""."""
    signatures = envelope.get("signatures")
    shaped = {
        "payloadType": envelope.get("payloadType"),
        "payload": envelope.get("payload"),
        "signatures": [
            {"keyid": s.get("keyid", ""), "sig": s.get("sig")} if isinstance(s, dict) else s
            for s in (signatures if isinstance(signatures, list) else [])
        ],
    }
    return jsonio.canonical(shaped)


def envelope_digest(envelope: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical envelope: the fragment of the QR URL and the ``envelope_sha256`` of
    the label's ``issued`` log entry."""
    return hashlib.sha256(canonical_envelope(envelope)).hexdigest()


def qr_url(record: LabelRecord, envelope: dict[str, Any]) -> str:
    return f"{record.registry_url}#{envelope_digest(envelope)}"
