"""Tree-head checks for ``verify_with_registry`` and tests: the JSON tree head's signature, consistency."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cybersafe.registry import merkle
from cybersafe.registry.log import LOG_NAME, sth_message


class LogCheckFailed(ValueError):
    """A tree head signature, inclusion or consistency proof, or log entry does not check out."""


@dataclass(frozen=True)
class TreeHeadView:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    signature: bytes


def parse_tree_head(data: Any) -> TreeHeadView:
    try:
        if data["log"] != LOG_NAME:
            raise LogCheckFailed(f"tree head is from log {data['log']!r}, expected {LOG_NAME!r}")
        return TreeHeadView(
            int(data["tree_size"]),
            bytes.fromhex(data["root_hash"]),
            int(data["timestamp"]),
            base64.b64decode(data["signature"], validate=True),
        )
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, LogCheckFailed):
            raise
        raise LogCheckFailed(f"tree head is malformed ({exc.__class__.__name__})") from None


def check_tree_head(head: TreeHeadView, log_key: Ed25519PublicKey) -> None:
    try:
        log_key.verify(head.signature, sth_message(head.tree_size, head.timestamp_ms, head.root_hash))
    except InvalidSignature:
        raise LogCheckFailed(f"tree head of size {head.tree_size} is not signed by the registry's log key") from None


def decode_path(items: Any) -> list[bytes]:
    try:
        return [bytes.fromhex(h) for h in items]
    except (TypeError, ValueError):
        raise LogCheckFailed("proof hashes are not hex") from None


def check_consistency(old: TreeHeadView, new: TreeHeadView, proof: list[bytes]) -> None:
    if new.tree_size < old.tree_size:
        raise LogCheckFailed(f"the log shrank from {old.tree_size} to {new.tree_size} entries")
    if old.tree_size == 0:
        return
    try:
        merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)
    except merkle.ProofError as exc:
        raise LogCheckFailed(f"tree heads {old.tree_size} -> {new.tree_size}: {exc}") from None
