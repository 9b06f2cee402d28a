"""Ed25519 key pairs for label issuers.

The private key is a PKCS#8 PEM file created with mode 0600 (never world- or group-readable, never
overwritten); the public key is a SubjectPublicKeyInfo PEM. A key is named by its key id: the hex sha256 of
the raw 32-byte public key, which is what DSSE signatures and label records carry.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from cybersafe import safeio
from cybersafe.errors import AttestationError, InputError

MAX_KEY_BYTES = 64 * safeio.KiB  # an Ed25519 PEM key is under 200 bytes
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def generate_keypair(out_dir: Path, name: str = "issuer") -> tuple[Path, Path]:
    """Write ``<name>.key`` (PKCS#8 PEM, mode 0600) and ``<name>.pub``; return both paths.

    Refuses to overwrite an existing key: losing an issuer key silently would orphan every label it signed.
    """
    if not _NAME.match(name):
        raise InputError("key name must be 1-64 letters, digits, '.', '_' or '-'", field="name")
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path = out_dir / f"{name}.key"
    public_path = out_dir / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise AttestationError(f"{path}: already exists; refusing to overwrite a key")
    private_key = Ed25519PrivateKey.generate()
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # O_EXCL + mode at creation: the secret is never readable by others, not even for an instant.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask may only remove bits; make the mode exact
        os.write(fd, private_pem)
    finally:
        os.close(fd)
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, public_pem)
    finally:
        os.close(fd)
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted PKCS#8 PEM Ed25519 private key."""
    data = _read(path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not an unencrypted PEM private key ({_first_line(exc)})", file=path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", file=path)
    return key


def load_public_key(path_or_pem: Path | str | bytes) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM file, or from PEM text/bytes given directly."""
    where: Path | None = None
    if isinstance(path_or_pem, Path):
        where = path_or_pem
        data = _read(path_or_pem)
    elif isinstance(path_or_pem, str):
        data = path_or_pem.encode()
    else:
        data = path_or_pem
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"not a PEM public key ({_first_line(exc)})", file=where) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", file=where)
    return key


def key_id(public_key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    """Hex sha256 of the raw 32-byte public key."""
    if isinstance(public_key, Ed25519PrivateKey):
        public_key = public_key.public_key()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _read(path: Path) -> bytes:
    return safeio.read_bytes(path, MAX_KEY_BYTES, what="a PEM key file")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
