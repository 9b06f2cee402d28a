"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1) signed with Ed25519.

The payload is the canonical JSON of an in-toto Statement v1 (sorted keys, no spaces, UTF-8), so the bytes
signed are reproducible. The signature covers PAE(payloadType, payload), never the bare payload, which
binds the type and rules out confusion between payload kinds.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cybersafe import jsonio
from cybersafe.attest.keys import key_id
from cybersafe.errors import VerificationFailed

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
_ENVELOPE_FIELDS = {"payloadType", "payload", "signatures"}
_URLSAFE = re.compile(r"^[A-Za-z0-9_-]*={0,2}$")


def pae(payload_type: str, body: bytes) -> bytes:
    """DSSE pre-authentication encoding: ``DSSEv1 <len> <type> <len> <body>`` with byte lengths."""
    type_bytes = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(type_bytes), type_bytes, len(body), body)


def sign_statement(statement: dict[str, Any], private_key: Ed25519PrivateKey) -> dict[str, Any]:
    """Wrap ``statement`` in a DSSE envelope with one Ed25519 signature."""
    body = jsonio.canonical(statement)
    signature = private_key.sign(pae(PAYLOAD_TYPE, body))
    return {
        "payloadType": PAYLOAD_TYPE,
        "payload": base64.b64encode(body).decode(),
        "signatures": [{"keyid": key_id(private_key.public_key()), "sig": base64.b64encode(signature).decode()}],
    }


def decode_payload(envelope: Any) -> tuple[bytes, dict[str, Any]]:
    """Check the envelope's shape and decode its payload; (payload bytes, statement). No signature check."""
    if not isinstance(envelope, dict):
        raise VerificationFailed("envelope: not a JSON object")
    missing = sorted(_ENVELOPE_FIELDS - envelope.keys())
    if missing:
        raise VerificationFailed(f"envelope: missing field {missing[0]!r}")
    extra = sorted(envelope.keys() - _ENVELOPE_FIELDS)
    if extra:
        raise VerificationFailed(f"envelope: unexpected field {extra[0]!r}")
    if envelope["payloadType"] != PAYLOAD_TYPE:
        raise VerificationFailed(f"envelope: payloadType is {envelope['payloadType']!r}, expected {PAYLOAD_TYPE!r}")
    body = _b64decode(envelope["payload"], "envelope: payload")
    try:
        statement = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise VerificationFailed("envelope: payload is not JSON") from None
    except RecursionError:
        raise VerificationFailed("envelope: payload is JSON nested too deeply") from None
    if not isinstance(statement, dict):
        raise VerificationFailed("envelope: payload is not a JSON object")
    return body, statement


def verify_envelope(envelope: Any, public_keys: Mapping[str, Ed25519PublicKey]) -> dict[str, Any]:
    """Verify the envelope against the trusted keys (key id -> key); return the statement.

    Passes when at least one signature by a trusted key verifies; raises ``VerificationFailed`` with one
    clear line otherwise (malformed envelope, wrong payloadType, unknown keyid, bad signature).
    """
    body, statement = decode_payload(envelope)
    signatures = envelope["signatures"]
    if not isinstance(signatures, list) or not signatures:
        raise VerificationFailed("envelope: no signatures")
    message = pae(PAYLOAD_TYPE, body)
    unknown: list[str] = []
    bad: list[str] = []
    for index, entry in enumerate(signatures):
        if not isinstance(entry, dict) or not isinstance(entry.get("sig"), str):
            raise VerificationFailed(f"envelope: signatures[{index}] has no 'sig' string")
        keyid = entry.get("keyid") or ""
        if not isinstance(keyid, str):
            raise VerificationFailed(f"envelope: signatures[{index}].keyid is not a string")
        sig = _b64decode(entry["sig"], f"envelope: signatures[{index}].sig")
        # DSSE keyids are hints; an empty one means "try every trusted key".
        candidates = [(keyid, public_keys[keyid])] if keyid in public_keys else []
        if not keyid:
            candidates = list(public_keys.items())
        if not candidates:
            unknown.append(keyid)
            continue
        for _kid, key in candidates:
            try:
                key.verify(sig, message)
            except InvalidSignature:
                continue
            return statement
        bad.append(keyid or "(no keyid)")
    if bad:
        raise VerificationFailed(f"signature: does not verify with key {_short(bad[0])} (payload or signature changed)")
    trusted = ", ".join(_short(k) for k in public_keys) or "none"
    raise VerificationFailed(f"signature: signed by unknown key {_short(unknown[0])} (trusted: {trusted})")


def _short(keyid: str) -> str:
    shown = one_line(keyid)
    return shown[:16] + "…" if len(shown) > 16 else shown


def one_line(text: str) -> str:
    """``text`` safe to echo into a one-line message: each non-printable character escaped as ``repr`` does.

    Printable text (any script, ``…`` included) is unchanged; line breaks of every kind (``\\n``, ``\\r``,
    U+2028, ...), other control and format characters become ``\\n``, ``\\x1b``, ``\\u202e`` and so on.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise VerificationFailed(f"{what} is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        pass
    # DSSE allows URL-safe base64 as well.
    if _URLSAFE.match(value):
        try:
            return base64.urlsafe_b64decode(value)
        except (binascii.Error, ValueError):
            pass
    raise VerificationFailed(f"{what} is not valid base64")
