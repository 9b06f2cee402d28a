from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cybersafe.attest.keys import generate_keypair, key_id, load_private_key, load_public_key
from cybersafe.errors import AttestationError, InputError


def test_private_key_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    # Given a umask that would leave new files world-readable
    old = os.umask(0)
    try:
        # When a key pair is generated
        private_path, public_path = generate_keypair(tmp_path, "lab")
    finally:
        os.umask(old)
    # Then only the owner can read the private key; the public key is readable
    assert private_path.name == "lab.key"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(public_path.stat().st_mode) == 0o644
    assert private_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_keys_round_trip_and_key_id_is_sha256_of_raw_public_key(tmp_path: Path) -> None:
    private_path, public_path = generate_keypair(tmp_path)
    private_key = load_private_key(private_path)
    public_key = load_public_key(public_path)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(public_key) == hashlib.sha256(raw).hexdigest() == key_id(private_key)
    assert key_id(load_public_key(public_path.read_text())) == key_id(public_key)
    signature = private_key.sign(b"message")
    public_key.verify(signature, b"message")


def test_generate_refuses_to_overwrite_an_existing_key(tmp_path: Path) -> None:
    generate_keypair(tmp_path, "issuer")
    before = (tmp_path / "issuer.key").read_bytes()
    with pytest.raises(AttestationError, match="already exists"):
        generate_keypair(tmp_path, "issuer")
    assert (tmp_path / "issuer.key").read_bytes() == before


@pytest.mark.parametrize(
    "name",
    [pytest.param("../evil", id="traversal"), pytest.param("", id="empty"), pytest.param("a b", id="space")],
)
def test_bad_key_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="key name"):
        generate_keypair(tmp_path, name)


def test_loading_a_non_ed25519_or_garbage_key_names_the_file(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_path = tmp_path / "ec.key"
    ec_path.write_bytes(
        ec_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(InputError, match=r"ec\.key: not an Ed25519 private key"):
        load_private_key(ec_path)
    pub_path = tmp_path / "ec.pub"
    pub_path.write_bytes(
        ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(InputError, match="not an Ed25519 public key"):
        load_public_key(pub_path)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("hello")
    with pytest.raises(InputError, match=r"garbage\.key: not an unencrypted PEM private key"):
        load_private_key(garbage)
    with pytest.raises(InputError, match="file not found"):
        load_public_key(tmp_path / "missing.pub")
