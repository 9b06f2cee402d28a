from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersafe.attest.dsse import PAYLOAD_TYPE, pae, sign_statement, verify_envelope
from cybersafe.attest.keys import key_id
from cybersafe.errors import VerificationFailed

KEY = Ed25519PrivateKey.generate()
OTHER = Ed25519PrivateKey.generate()
TRUSTED = {key_id(KEY.public_key()): KEY.public_key()}
STATEMENT: dict[str, Any] = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "firmware:fw.bin", "digest": {"sha256": "ab" * 32}}],
    "predicateType": "https://cybersafe.dev/attestation/label/v1",
    "predicate": {"scheme": "us-ctm", "note": "grüße"},
}


def test_pae_matches_the_dsse_specification_example() -> None:
    # DSSE protocol.md: PAE("http://example.com/HelloWorld", "hello world")
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_sign_then_verify_returns_the_statement() -> None:
    envelope = sign_statement(STATEMENT, KEY)
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert envelope["signatures"][0]["keyid"] == key_id(KEY.public_key())
    assert verify_envelope(envelope, TRUSTED) == STATEMENT
    # the signature is over PAE, not the bare payload
    body = base64.b64decode(envelope["payload"])
    KEY.public_key().verify(base64.b64decode(envelope["signatures"][0]["sig"]), pae(PAYLOAD_TYPE, body))


def _tampered(mutate: Any) -> dict[str, Any]:
    envelope = copy.deepcopy(sign_statement(STATEMENT, KEY))
    mutate(envelope)
    return envelope


def _flip_payload_byte(env: dict[str, Any]) -> None:
    body = bytearray(base64.b64decode(env["payload"]))
    body[body.index(b"us-ctm")] ^= 0x01  # 'u' -> 't': still valid JSON, different meaning
    env["payload"] = base64.b64encode(bytes(body)).decode()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(_flip_payload_byte, "signature: does not verify", id="payload-byte"),
        pytest.param(lambda e: e.update(payloadType="application/json"), "payloadType", id="payload-type"),
        pytest.param(lambda e: e.update(payload="***"), "payload is not valid base64", id="bad-base64"),
        pytest.param(lambda e: e.update(signatures=[]), "no signatures", id="no-signatures"),
        pytest.param(lambda e: e.pop("payload"), "missing field 'payload'", id="missing-payload"),
        pytest.param(lambda e: e.update(extra=1), "unexpected field 'extra'", id="extra-field"),
        pytest.param(lambda e: e["signatures"][0].update(keyid="00" * 32), "unknown key", id="unknown-keyid"),
        pytest.param(lambda e: e["signatures"][0].update(sig="AAAA"), "does not verify", id="bad-signature"),
        pytest.param(
            lambda e: e.update(payload=base64.b64encode(b"[1]").decode()), "not a JSON object", id="not-object"
        ),
    ],
)
def test_any_tampering_fails_with_one_clear_message(mutate: Any, message: str) -> None:
    envelope = _tampered(mutate)
    with pytest.raises(VerificationFailed, match=message) as info:
        verify_envelope(envelope, TRUSTED)
    assert "\n" not in str(info.value)


def test_a_signature_by_another_key_is_not_trusted() -> None:
    envelope = sign_statement(STATEMENT, OTHER)
    with pytest.raises(VerificationFailed, match="signed by unknown key"):
        verify_envelope(envelope, TRUSTED)
    # and a swapped keyid (claiming the trusted key) does not help
    envelope["signatures"][0]["keyid"] = key_id(KEY.public_key())
    with pytest.raises(VerificationFailed, match="does not verify"):
        verify_envelope(envelope, TRUSTED)


def test_payload_is_canonical_json() -> None:
    envelope = sign_statement(STATEMENT, KEY)
    body = base64.b64decode(envelope["payload"]).decode()
    assert body == json.dumps(STATEMENT, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=40, deadline=None)
@given(index=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_flipping_any_payload_bit_breaks_verification(index: int, bit: int) -> None:
    envelope = sign_statement(STATEMENT, KEY)
    body = bytearray(base64.b64decode(envelope["payload"]))
    body[index % len(body)] ^= 1 << bit
    envelope["payload"] = base64.b64encode(bytes(body)).decode()
    with pytest.raises(VerificationFailed):
        verify_envelope(envelope, TRUSTED)
