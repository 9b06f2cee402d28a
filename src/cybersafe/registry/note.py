"""C2SP signed notes, checkpoints and cosignatures: the tree-head format witnesses and monitors read.

- signed note (https://c2sp.org/signed-note): text, a blank line, then ``— <key name> base64(key ID ||
  signature)`` lines. Ed25519 note signatures (type 0x01) sign the text; key ID = SHA-256(name || 0x0A ||
  0x01 || public key)[:4]. A verifier key ("vkey") is ``<name>+<hex key ID>+base64(0x01 || public key)``.
- checkpoint (https://c2sp.org/tlog-checkpoint): the note text is ``<origin>\\n<tree size>\\n<base64 root
  hash>\\n``; the log signs it with the key named by its origin.
- cosignature (https://c2sp.org/tlog-cosignature, Ed25519, type 0x04): a witness signs ``cosignature/v1\\n
  time <t>\\n`` + the checkpoint text; the signature is the 8-byte big-endian time then the Ed25519
  signature; key ID = SHA-256(name || 0x0A || 0x04 || public key)[:4]. It says: as of time t, this is the
  largest tree head the witness saw for the log, and it is consistent with every earlier one it saw.

Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
COSIGNATURE = 0x04
DASH = "\u2014"
MAX_SIGNATURES = 32
MAX_NOTE_BYTES = 16_384


class NoteError(ValueError):
    """A note, checkpoint, cosignature or verifier key is malformed or does not verify."""


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_hash(name: str, sig_type: int, public: bytes) -> bytes:
    """The 4-byte key ID of a note signer."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name) or any(ord(c) < 0x20 for c in name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


@dataclass(frozen=True)
class Verifier:
    """A note signer a verifier knows: its name, signature type and Ed25519 public key."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_hash(self.name, self.sig_type, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(bytes([self.sig_type]) + self.public).decode()}"

    def public_key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self.public)


def verifier_for(name: str, key: Ed25519PublicKey | Ed25519PrivateKey, sig_type: int = ED25519) -> Verifier:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return Verifier(_check_name(name), sig_type, raw_public(public))


def parse_vkey(text: str) -> Verifier:
    """``name+hexid+base64(type || key)``; the ID must match the key (a typo cannot pin the wrong key)."""
    parts = text.strip().split("+", 2)  # the base64 key may itself contain "+"
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<hex key ID>+<base64 key>")
    name, hex_id, material = parts
    try:
        raw = base64.b64decode(material, validate=True)
        claimed = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError):
        raise NoteError("verifier key: key ID is not hex or key is not base64") from None
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE) or len(claimed) != 4:
        raise NoteError("verifier key: only Ed25519 keys (type 0x01 or 0x04, 32 bytes) are supported")
    verifier = Verifier(_check_name(name), raw[0], raw[1:])
    if verifier.key_id != claimed:
        raise NoteError(f"verifier key: key ID {hex_id} does not match the key")
    return verifier


def checkpoint_text(origin: str, tree_size: int, root_hash: bytes) -> str:
    """The checkpoint note text; the origin doubles as the log's key name, so it follows key-name rules."""
    return f"{_check_name(origin)}\n{tree_size}\n{base64.b64encode(root_hash).decode()}\n"


def sign_line(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """An Ed25519 note signature line (type 0x01) over ``text``."""
    signature = key.sign(text.encode())
    return f"{DASH} {name} {base64.b64encode(key_hash(name, ED25519, raw_public(key.public_key())) + signature).decode()}\n"


def cosign_line(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """An Ed25519 cosignature line (type 0x04) over the checkpoint ``text`` at POSIX time ``timestamp``."""
    message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
    body = struct.pack(">Q", timestamp) + key.sign(message)
    kid = key_hash(name, COSIGNATURE, raw_public(key.public_key()))
    return f"{DASH} {name} {base64.b64encode(kid + body).decode()}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def parse_note(data: str) -> Note:
    """Split a signed note into its text and signature lines (nothing is verified here)."""
    if len(data.encode()) > MAX_NOTE_BYTES:
        raise NoteError("note is too large")
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("note contains control characters")
    if not data.endswith("\n"):
        raise NoteError("note must end with a newline")
    split = data.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, sig_block = data[: split + 1], data[split + 2 :]
    signatures = [parse_signature_line(line) for line in sig_block.splitlines()]
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise NoteError(f"note must carry 1 to {MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


def parse_signature_line(line: str) -> Signature:
    prefix = DASH + " "
    if not line.startswith(prefix):
        raise NoteError("a signature line starts with an em dash and a space")
    name, _, encoded = line[len(prefix) :].partition(" ")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise NoteError("signature is not base64") from None
    if len(raw) < 5:
        raise NoteError("signature is too short")
    return Signature(_check_name(name), raw[:4], raw[4:])


def verify_signature(text: str, signature: Signature, verifier: Verifier) -> int | None:
    """Verify one signature line made by ``verifier``; returns the cosignature time (None for type 0x01).
    Raises NoteError when it does not verify."""
    key = verifier.public_key()
    try:
        if verifier.sig_type == ED25519:
            key.verify(signature.signature, text.encode())
            return None
        if len(signature.signature) != 72:
            raise NoteError(f"cosignature of {verifier.name} has the wrong length")
        (timestamp,) = struct.unpack(">Q", signature.signature[:8])
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
        key.verify(signature.signature[8:], message)
        return int(timestamp)
    except InvalidSignature:
        raise NoteError(f"signature of {verifier.name} does not verify") from None


def signed_by(note: Note, verifier: Verifier) -> int | bool | None:
    """False when ``verifier`` has no signature line on the note; else as ``verify_signature``."""
    for signature in note.signatures:
        if signature.name == verifier.name and signature.key_id == verifier.key_id:
            return verify_signature(note.text, signature, verifier)
    return False


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise NoteError("checkpoint text must have an origin, a tree size and a root hash line")
    size = lines[1]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError("checkpoint tree size is not a decimal number")
    try:
        root = base64.b64decode(lines[2], validate=True)
    except binascii.Error:
        raise NoteError("checkpoint root hash is not base64") from None
    if len(root) != 32:
        raise NoteError("checkpoint root hash is not 32 bytes")
    return Checkpoint(lines[0], int(size), root)
