"""Keys and certificates: PEM blocks found by the byte scanner, DER files, dropbear host keys.

A PEM header alone (a string constant inside libcrypto or dropbear) is nothing: a block counts only when it
parses. A public key or a certificate is never a private-key finding.
"""

from __future__ import annotations

import datetime as dt
import mmap
import re
import struct
from pathlib import PurePosixPath

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from cybersafe.evidence.firmware.model import KeyMaterial

_END = re.compile(rb"-----END [A-Z ]{0,40}-----")
_DER_SUFFIXES = (".der", ".cer", ".crt", ".key", ".p8", ".pk8")
_WEAK_HASHES = ("md5", "sha1", "md2", "md4")


def _describe(key: object) -> tuple[str, int | None, list[str]]:
    weak: list[str] = []
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        bits = key.key_size
        if bits < 2048:
            weak.append(f"RSA key of {bits} bits (< 2048)")
        return "RSA", bits, weak
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        bits = key.curve.key_size
        if bits < 224:
            weak.append(f"EC curve {key.curve.name} of {bits} bits (< 224)")
        return f"EC {key.curve.name}", bits, weak
    if isinstance(key, dsa.DSAPrivateKey | dsa.DSAPublicKey):
        weak.append(f"DSA key ({key.key_size} bits): DSA is deprecated")
        return "DSA", key.key_size, weak
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519", 256, weak
    if isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey):
        return "Ed448", 456, weak
    return "unknown", None, weak


def parse_pem(display: str, data: bytes | mmap.mmap, offset: int, label: str, now: dt.datetime) -> KeyMaterial | None:
    end = _END.search(data, offset, offset + 65536)
    if end is None:
        return None
    block = bytes(data[offset : end.end()])
    try:
        if label == "pem-certificate":
            return _certificate(display, offset, x509.load_pem_x509_certificate(block), now)
        if label == "pem-public-key":
            algorithm, bits, _ = _describe(serialization.load_pem_public_key(block))
            return KeyMaterial(display, offset, "public-key", algorithm, bits)
        if b"ENCRYPTED" in block[:40] or b"Proc-Type: 4,ENCRYPTED" in block:
            return KeyMaterial(display, offset, "private-key", "unknown", None, encrypted=True)
        if b"OPENSSH" in block[:40]:
            private: object = serialization.load_ssh_private_key(block, password=None)
        else:
            private = serialization.load_pem_private_key(block, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:  # a password is needed: an encrypted key
        return KeyMaterial(display, offset, "private-key", "unknown", None, encrypted=True)
    except (ValueError, UnsupportedAlgorithm):
        return None
    algorithm, bits, weak = _describe(private)
    return KeyMaterial(display, offset, "private-key", algorithm, bits, weak_reasons=tuple(weak))


def _certificate(display: str, offset: int, cert: x509.Certificate, now: dt.datetime) -> KeyMaterial:
    try:
        algorithm, bits, weak = _describe(cert.public_key())
    except (ValueError, UnsupportedAlgorithm):
        algorithm, bits, weak = "unknown", None, []
    try:
        hash_alg = cert.signature_hash_algorithm
        sig = hash_alg.name if isinstance(hash_alg, hashes.HashAlgorithm) else "none"
    except UnsupportedAlgorithm:  # a signature OID cryptography does not know
        sig = "unknown"
    if sig.lower() in _WEAK_HASHES:
        weak.append(f"signature hash {sig}")
    not_after = cert.not_valid_after_utc
    return KeyMaterial(
        path=display,
        offset=offset,
        kind="certificate",
        algorithm=algorithm,
        bits=bits,
        weak_reasons=tuple(weak),
        subject=cert.subject.rfc4514_string()[:200],
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=not_after.isoformat(),
        expired=not_after < now,
        self_signed=cert.issuer == cert.subject,
        signature_algorithm=sig,
    )


def is_key_file(rel: str) -> bool:
    name = PurePosixPath(rel).name.lower()
    return name.endswith(_DER_SUFFIXES) or (name.startswith("dropbear_") and name.endswith("_host_key"))


def parse_key_file(rel: str, display: str, data: bytes, now: dt.datetime) -> KeyMaterial | None:
    """DER certificates and keys, dropbear's own host-key format. PEM files are handled by the scanner."""
    if data.startswith(b"-----BEGIN") or len(data) > 1024 * 1024:
        return None
    name = PurePosixPath(rel).name.lower()
    if name.startswith("dropbear_"):
        return _dropbear(display, data)
    try:
        return _certificate(display, 0, x509.load_der_x509_certificate(data), now)
    except ValueError:
        pass
    try:
        private = serialization.load_der_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        return KeyMaterial(display, 0, "private-key", "unknown", None, encrypted=True)
    except (ValueError, UnsupportedAlgorithm):
        return None
    algorithm, bits, weak = _describe(private)
    return KeyMaterial(display, 0, "private-key", algorithm, bits, weak_reasons=tuple(weak))


def _ssh_string(data: bytes, pos: int) -> tuple[bytes, int]:
    (length,) = struct.unpack(">I", data[pos : pos + 4])
    if length > len(data):
        raise ValueError("bad length")
    return data[pos + 4 : pos + 4 + length], pos + 4 + length


def _dropbear(display: str, data: bytes) -> KeyMaterial | None:
    try:
        kind, pos = _ssh_string(data, 0)
        if kind == b"ssh-rsa":
            _e, pos = _ssh_string(data, pos)
            n, _ = _ssh_string(data, pos)
            bits = int.from_bytes(n, "big").bit_length()
            weak = (f"RSA key of {bits} bits (< 2048)",) if bits < 2048 else ()
            return KeyMaterial(display, 0, "private-key", "RSA", bits, weak_reasons=weak)
        if kind == b"ssh-ed25519":
            return KeyMaterial(display, 0, "private-key", "Ed25519", 256)
        if kind.startswith(b"ecdsa-sha2-nistp"):
            bits = int(kind[len(b"ecdsa-sha2-nistp") :])
            return KeyMaterial(display, 0, "private-key", f"EC secp{bits}r1", bits)
        if kind == b"ssh-dss":
            return KeyMaterial(display, 0, "private-key", "DSA", 1024, weak_reasons=("DSA key: DSA is deprecated",))
    except (ValueError, struct.error):
        return None
    return None
