"""Signed attestations: Ed25519 keys and in-toto Statements in DSSE envelopes.

``keys`` makes, reads and names Ed25519 key pairs; ``dsse`` signs a statement into an envelope and
verifies one. What goes into the statement (the label record) is built by ``cybersafe.label``.
"""

from __future__ import annotations

from cybersafe.attest.dsse import PAYLOAD_TYPE, pae, sign_statement, verify_envelope
from cybersafe.attest.keys import generate_keypair, key_id, load_private_key, load_public_key

__all__ = [
    "PAYLOAD_TYPE",
    "generate_keypair",
    "key_id",
    "load_private_key",
    "load_public_key",
    "pae",
    "sign_statement",
    "verify_envelope",
]
